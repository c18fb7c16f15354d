// Fuzz target: the configuration loader (YAML through yaml-cpp, then the validator) with a
// schema holding every setting type. Must never crash, hang or leak; errors are fine.
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config.h"

namespace {

portico::sdk::SettingSpec spec(std::string key, portico::sdk::SettingType type, std::string def,
                               std::string min = "", std::string max = "",
                               std::vector<std::string> choices = {}) {
  portico::sdk::SettingSpec s;
  s.key = std::move(key);
  s.type = type;
  s.default_text = std::move(def);
  s.help = "fuzzed";
  s.min_text = std::move(min);
  s.max_text = std::move(max);
  s.choices = std::move(choices);
  return s;
}

const portico::core::PluginSchemas& schemas() {
  static const portico::core::PluginSchemas s = [] {
    using portico::sdk::SettingType;
    portico::core::PluginSchemaInfo info;
    info.schema.summary = "fuzz";
    info.schema.shared.listeners = {{"127.0.0.1", 1, portico::sdk::TlsMode::none, "", ""}};
    info.schema.settings = {
        spec("flag", SettingType::boolean, "false"),
        spec("count", SettingType::integer, "3", "0", "100"),
        spec("wait", SettingType::duration, "5m", "1s", "1h"),
        spec("size", SettingType::size, "25MB", "0", "1GB"),
        spec("name", SettingType::string, "x"),
        spec("mode", SettingType::enumeration, "a", "", "", {"a", "b"}),
        spec("list", SettingType::string_list, ""),
        spec("where", SettingType::path, ""),
        spec("sub.port", SettingType::integer, "1", "1", "65535"),
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
