// Fuzz target: the configuration loader (YAML through yaml-cpp, then the validator) with a
// schema holding every setting type. Must never crash, hang or leak; errors are fine.
#include <cstdint>
#include <string>

#include "core/config/config.h"

namespace {

const portico::core::PluginSchemas& schemas() {
  static const portico::core::PluginSchemas s = [] {
    using portico::sdk::SettingType;
    portico::core::PluginSchemaInfo info;
    info.schema.summary = "fuzz";
    info.schema.shared.listeners = {{"127.0.0.1", 1, portico::sdk::TlsMode::none, "", ""}};
    info.schema.settings = {
        {"flag", SettingType::boolean, "false", "a flag"},
        {"count", SettingType::integer, "3", "a count", "0", "100"},
        {"wait", SettingType::duration, "5m", "a wait", "1s", "1h"},
        {"size", SettingType::size, "25MB", "a size", "0", "1GB"},
        {"name", SettingType::string, "x", "a name"},
        {"mode", SettingType::enumeration, "a", "a mode", "", "", {"a", "b"}},
        {"list", SettingType::string_list, "", "a list"},
        {"where", SettingType::path, "", "a path"},
        {"sub.port", SettingType::integer, "1", "nested", "1", "65535"},
    };
    portico::core::PluginSchemas m;
    m.emplace("fuzzproto", std::move(info));
    return m;
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;  // the loader's inputs are files an operator writes
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto result = portico::core::load_config_text(
      text, "/tmp/fuzz.yaml",
      [](const portico::core::ServerConfig&) -> const portico::core::PluginSchemas& {
        return schemas();
      });
  for (const auto& e : result.errors)
    (void)e.to_string();
  return 0;
}
