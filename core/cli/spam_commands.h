// Portico core — `portico spam learn --spam|--ham FILE` and `portico spam check FILE`: rspamd,
// as the server's spam filter stage uses it (server.spam_filter.*), from the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace portico::core::cli {

// Adds the spam commands to `app`; a command's exit code is written to `rc` (0 success, 1 rspamd
// refused or could not be reached, 2 invalid configuration, usage or unreadable file).
void add_spam_commands(CLI::App& app, int& rc);

}  // namespace portico::core::cli
