// Portico core — `portico queue list|show|retry|hold|release|delete|bounce|inject`: the outbound
// queue from the command line. Safe while the server runs: every change goes through the
// queue's per-entry claims, so an entry being delivered is reported busy instead of being
// changed or removed under a worker.
#pragma once

#include <CLI/CLI.hpp>

namespace portico::core::cli {

// Adds the queue commands to `app`; a command's exit code is written to `rc` (0 success,
// 1 runtime failure such as an unknown id or a busy entry, 2 invalid configuration or usage).
void add_queue_commands(CLI::App& app, int& rc);

}  // namespace portico::core::cli
