// Portico SDK test kit — a plugin's settings as the core would hand them over.
//
// settings_for() validates a plugin's section exactly as `portico check-config` and the server
// do (the core's own validator: types, units, bounds, choices, unknown keys with "did you
// mean"), from YAML lines written as in the plugin's section of the configuration file, and
// returns every key, the shared ones (enabled, listeners, banner, timeouts, limits) included,
// with the plugin's own defaults where the lines say nothing.
#pragma once

#include <stdexcept>
#include <string>

#include "portico/plugin.h"

namespace portico::testkit {

// `yaml_lines`, e.g. "max_bad_commands: 3\nenable_vrfy: true", as they would stand indented
// under plugins.<name> in the file. Relative paths resolve against `config_dir`. Throws
// std::invalid_argument with the validator's messages, one a line, when they do not validate.
sdk::Settings settings_for(const sdk::Plugin& plugin, const std::string& name,
                           const std::string& yaml_lines = "",
                           const std::string& config_dir = "/tmp");

}  // namespace portico::testkit
