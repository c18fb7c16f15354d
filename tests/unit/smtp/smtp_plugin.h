// Test helper of the smtp-in tests: the real smtp-in plugin, loaded from the build's plugin
// folder for a test host, as the core loads it.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "core/plugins/loader.h"
#include "portico/plugin.h"

namespace portico::testing {

// Throws when smtp-in.so is not in PORTICO_PLUGIN_DIR.
inline std::shared_ptr<sdk::Plugin> load_smtp_in(sdk::Host& host) {
  auto scan = core::load_plugins(PORTICO_PLUGIN_DIR,
                                 [&](const std::string&) -> sdk::Host& { return host; });
  for (auto& p : scan.loaded) {
    if (p.name == "smtp-in") return p.instance;
  }
  throw std::runtime_error("smtp-in.so not found in " PORTICO_PLUGIN_DIR);
}

}  // namespace portico::testing
