// wrong_signature.so — a descriptor whose build signature names another compiler and standard
// library. The loader must refuse it as not binary compatible, quoting both signatures.
#include "minimal.h"

namespace {
const char* const no_dependencies[] = {nullptr};
}  // namespace

extern "C" PORTICO_EXPORT const portico_plugin_descriptor PORTICO_DESCRIPTOR_SYMBOL = {
    sizeof(portico_plugin_descriptor),
    PORTICO_ABI_MAJOR,
    PORTICO_ABI_MINOR,
    "gcc-1;other",
    "wrong-signature",
    "1.0.0",
    no_dependencies,
    &portico::sdk::detail::create_plugin<test_plugins::MinimalPlugin>,
    &portico::sdk::detail::destroy_plugin,
    {}};
