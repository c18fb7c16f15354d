// Test support for core/config: plugin schemas with a setting of every type, used instead of
// loading real plugins.
#pragma once

#include <string>
#include <vector>

#include "core/config/config.h"

namespace portico::core::testing {

inline sdk::SettingSpec spec(std::string key, sdk::SettingType type, std::string default_text,
                             std::string min = "", std::string max = "",
                             std::vector<std::string> choices = {}) {
  sdk::SettingSpec s;
  s.key = std::move(key);
  s.type = type;
  s.default_text = std::move(default_text);
  s.help = "Help for " + s.key + ".";
  s.min_text = std::move(min);
  s.max_text = std::move(max);
  s.choices = std::move(choices);
  return s;
}

// "mail": a plugin with one setting of every type and a cross-field check.
inline PluginSchemaInfo mail_plugin() {
  using T = sdk::SettingType;
  PluginSchemaInfo info;
  info.schema.summary = "A test protocol with one setting of every type.";
  info.schema.shared.listeners = {{"127.0.0.1", 1143, sdk::TlsMode::none, "", ""},
                                  {"::1", 1993, sdk::TlsMode::implicit, "", ""}};
  info.schema.shared.command_timeout = "1m";
  info.schema.settings = {
      spec("greeting_delay", T::duration, "0", "0s", "10s"),
      spec("max_message_size", T::size, "25MB", "1KB", "1GB"),
      spec("idle.enabled", T::boolean, "true"),
      spec("submission.port", T::integer, "587", "1", "65535"),
      spec("auth_mechanisms", T::string_list, "[PLAIN, LOGIN]"),
      spec("mode", T::enumeration, "strict", "", "", {"strict", "lenient", "legacy"}),
      spec("mailbox_root", T::path, "mail"),
      spec("realm", T::string, "example.org"),
  };
  info.check = [](const sdk::Settings& s) {
    std::vector<std::string> problems;
    if (s.get_string("mode") == "legacy" && s.get_bool("idle.enabled")) {
      problems.push_back("mode legacy cannot be used with idle.enabled");
    }
    if (s.get_string("realm") == "forbidden") problems.push_back("realm 'forbidden' is reserved");
    return problems;
  };
  return info;
}

// "pop": a plugin with no settings of its own.
inline PluginSchemaInfo pop_plugin() {
  PluginSchemaInfo info;
  info.schema.summary = "Another test protocol.";
  info.schema.shared.listeners = {{"127.0.0.1", 1110, sdk::TlsMode::none, "", ""}};
  info.schema.shared.max_connections = 50;
  return info;
}

inline const PluginSchemas& fake_schemas() {
  static const PluginSchemas schemas{{"mail", mail_plugin()}, {"pop", pop_plugin()}};
  return schemas;
}

}  // namespace portico::core::testing
