// Portico core — `portico domain|user|alias|list|retrieval ...`: managing the account directory.
#pragma once

#include <CLI/CLI.hpp>

namespace portico::core::cli {

// Adds the directory commands to `app`; a command's exit code is written to `rc`.
void add_directory_commands(CLI::App& app, int& rc);

}  // namespace portico::core::cli
