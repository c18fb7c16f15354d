// Portico SDK test kit — a plugin made from its descriptor, as the core makes it.
//
// A plugin's tests can link the plugin's sources and use the descriptor that PORTICO_PLUGIN
// exports (`portico_plugin`): create_plugin() checks that it is one this test kit's SDK can run
// (same ABI major, a minor not newer, a factory and a destructor), calls its factory with the
// host, and returns the plugin, destroyed through the descriptor's destroy() like in the core.
#pragma once

#include <memory>
#include <stdexcept>

#include "portico/plugin.h"

namespace portico::testkit {

// Throws std::runtime_error with the reason (a wrong descriptor, or the factory's message).
std::shared_ptr<sdk::Plugin> create_plugin(const portico_plugin_descriptor& descriptor,
                                           sdk::Host& host);

}  // namespace portico::testkit
