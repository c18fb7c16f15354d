// Portico core — the command-line commands (serve, check-config, plugins, status, reload).
// Each returns the process exit code: 0 success, 1 runtime failure, 2 invalid configuration
// or usage.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/config/config.h"

namespace portico::core::cli {

int serve(const std::filesystem::path& config);
// plugin_dir, when not empty, replaces the configuration's server.plugin_dir.
int check_config(const std::filesystem::path& config, const std::filesystem::path& plugin_dir);
// `config` or `plugin_dir` may be empty; the built-in plugin folder is the last resort.
int plugins_list(const std::filesystem::path& config, const std::filesystem::path& plugin_dir);
int plugins_describe(const std::string& name, const std::filesystem::path& config,
                     const std::filesystem::path& plugin_dir);
int plugins_schema(const std::filesystem::path& config, const std::filesystem::path& plugin_dir);
int status(const std::filesystem::path& config, bool json);
int reload(const std::filesystem::path& config);

// For administration commands that work on the data directory (usable while the server runs):
// the validated configuration, or nullopt after printing its errors to stderr.
std::optional<Config> load_config_or_report(const std::filesystem::path& config);

}  // namespace portico::core::cli
