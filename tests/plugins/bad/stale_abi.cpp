// stale_abi.so — a descriptor from a future ABI major (PORTICO_ABI_MAJOR + 1). The loader must
// refuse it naming both ABI versions, without calling create().
#include "minimal.h"

namespace {
const char* const no_dependencies[] = {nullptr};
}  // namespace

extern "C" PORTICO_EXPORT const portico_plugin_descriptor PORTICO_DESCRIPTOR_SYMBOL = {
    sizeof(portico_plugin_descriptor),
    PORTICO_ABI_MAJOR + 1,
    0,
    PORTICO_BUILD_SIGNATURE,
    "stale-abi",
    "1.0.0",
    no_dependencies,
    &portico::sdk::detail::create_plugin<test_plugins::MinimalPlugin>,
    &portico::sdk::detail::destroy_plugin,
    {}};
