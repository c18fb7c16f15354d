// throwing_factory.so — a plugin whose constructor throws. The SDK's factory catches it and the
// loader must refuse the plugin with "factory failed: boom in constructor".
#include <stdexcept>

#include "minimal.h"

namespace {

class ThrowingPlugin : public test_plugins::MinimalPlugin {
 public:
  explicit ThrowingPlugin(portico::sdk::Host& host) : MinimalPlugin(host) {
    throw std::runtime_error("boom in constructor");
  }
};

}  // namespace

PORTICO_PLUGIN(ThrowingPlugin, "throwing-factory", "1.0.0");
