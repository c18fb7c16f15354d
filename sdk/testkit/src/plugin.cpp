// Portico SDK test kit — plugins from their descriptors (see portico/testkit/plugin.h).
#include "portico/testkit/plugin.h"

#include <string>

namespace portico::testkit {

std::shared_ptr<sdk::Plugin> create_plugin(const portico_plugin_descriptor& d, sdk::Host& host) {
  if (d.struct_size < sizeof(portico_plugin_descriptor))
    throw std::runtime_error("descriptor too small: " + std::to_string(d.struct_size) + " bytes");
  if (d.abi_major != PORTICO_ABI_MAJOR || d.abi_minor > PORTICO_ABI_MINOR) {
    throw std::runtime_error("plugin built for SDK " + std::to_string(d.abi_major) + "." +
                             std::to_string(d.abi_minor) + ", the test kit is " +
                             std::to_string(PORTICO_ABI_MAJOR) + "." +
                             std::to_string(PORTICO_ABI_MINOR));
  }
  if (d.create == nullptr || d.destroy == nullptr)
    throw std::runtime_error("descriptor without create or destroy");
  char error[512] = {};
  void* made = d.create(&host, error, sizeof error);
  if (made == nullptr) {
    throw std::runtime_error(std::string("the plugin's factory failed: ") +
                             (error[0] != '\0' ? error : "no reason given"));
  }
  auto destroy = d.destroy;
  return std::shared_ptr<sdk::Plugin>(static_cast<sdk::Plugin*>(made),
                                      [destroy](sdk::Plugin* p) { destroy(p); });
}

}  // namespace portico::testkit
