// Portico SDK test kit — settings through the core's own validator (see
// portico/testkit/settings.h).
#include "portico/testkit/settings.h"

#include <sstream>

#include "core/config/config.h"

namespace portico::testkit {

sdk::Settings settings_for(const sdk::Plugin& plugin, const std::string& name,
                           const std::string& yaml_lines, const std::string& config_dir) {
  core::PluginSchemas schemas;
  schemas[name].schema = plugin.schema();
  std::ostringstream yaml;
  yaml << "server: {data_dir: " << config_dir << "}\nplugins:\n  " << name
       << ":\n    enabled: true\n";
  std::istringstream lines(yaml_lines);
  for (std::string line; std::getline(lines, line);)
    yaml << "    " << line << "\n";
  auto result = core::load_config_text(
      yaml.str(), std::filesystem::path(config_dir) / "test.yaml",
      [&](const core::ServerConfig&) -> const core::PluginSchemas& { return schemas; });
  if (!result.config) {
    std::string errors;
    for (const auto& e : result.errors)
      errors += e.to_string() + "\n";
    throw std::invalid_argument(errors);
  }
  return result.config->plugins.at(name).settings;
}

}  // namespace portico::testkit
