// Portico core — store commands (see store_commands.h).
#include "core/cli/store_commands.h"

namespace portico::core::cli {

void add_store_commands(CLI::App& /*app*/, int& /*rc*/) {}

}  // namespace portico::core::cli
