// Portico core — finding and loading plugin libraries with Boost.DLL.
//
// Every regular file named *.so in the plugin folder is a candidate. The descriptor is checked
// (check_descriptor) before anything in the library is called; dependencies must be loaded
// first (load order follows them); the factory runs last. A refused library is reported with its
// file and the reason and never stops the others. Objects created by a plugin hold a reference
// to its library, so the code they run stays mapped while they live.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "portico/abi.h"
#include "portico/plugin.h"

namespace portico::core {

// The loaded library, opaque outside loader.cpp (keeps Boost.DLL out of other headers).
class PluginLibrary;

struct LoadedPlugin {
  std::string name;
  std::string version;
  std::uint16_t abi_minor = 0;  // the SDK minor version the plugin was built with
  std::filesystem::path path;
  std::vector<std::string> dependencies;
  std::shared_ptr<PluginLibrary> library;
  std::shared_ptr<sdk::Plugin> instance;  // destroyed through the plugin; holds `library`
};

struct RefusedPlugin {
  std::filesystem::path path;
  std::string reason;  // one line: what is wrong, with both versions when they differ
};

struct PluginScan {
  std::vector<LoadedPlugin> loaded;  // in dependency order
  std::vector<RefusedPlugin> refused;
};

// nullopt if the descriptor may be trusted; otherwise why not.
std::optional<std::string> check_descriptor(const portico_plugin_descriptor& d);

// Loads every plugin in `dir` but those named in `present` (loaded before; they satisfy
// dependencies). host_for(name) gives the Host handed to that plugin's factory.
PluginScan load_plugins(const std::filesystem::path& dir,
                        const std::function<sdk::Host&(const std::string& name)>& host_for,
                        const std::set<std::string>& present = {});

// Loads only the plugins named in `wanted` and those they depend on, leaving out the names in
// `present` (loaded before; they satisfy dependencies). A plugin named N is looked for in N.so
// first; only a name not found that way makes every other file in `dir` be opened. Files of
// plugins nobody wants are never opened then: their libraries and what those pull in (and their
// constructors) stay out of the process. A wanted name found nowhere is not refused here: the
// configuration says it is not installed.
PluginScan load_plugins(const std::filesystem::path& dir,
                        const std::function<sdk::Host&(const std::string& name)>& host_for,
                        const std::set<std::string>& wanted, const std::set<std::string>& present);

// Keeps a plugin's library loaded as long as `object` lives: returns a shared_ptr that owns
// `object` (deleted with `deleter`) and a reference to the library.
template <typename T, typename Deleter>
std::shared_ptr<T> hold_library(T* object, Deleter deleter, std::shared_ptr<PluginLibrary> lib) {
  return std::shared_ptr<T>(object, [deleter, lib](T* p) mutable { deleter(p); });
}

}  // namespace portico::core
