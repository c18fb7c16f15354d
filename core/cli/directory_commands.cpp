// Portico core — directory commands (see directory_commands.h).
#include "core/cli/directory_commands.h"

namespace portico::core::cli {

void add_directory_commands(CLI::App& /*app*/, int& /*rc*/) {}

}  // namespace portico::core::cli
