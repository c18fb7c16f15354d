// Portico core — `portico store check|import|export ...`: the mail store from the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace portico::core::cli {

// Adds the store commands to `app`; a command's exit code is written to `rc`.
void add_store_commands(CLI::App& app, int& rc);

}  // namespace portico::core::cli
