// Portico SDK — the plugin interface and the macro that exports a plugin.
//
// A plugin is one shared library with one class deriving from portico::sdk::Plugin, exported by
//   PORTICO_PLUGIN(MyPlugin, "name", "1.0.0")              or, with dependencies,
//   PORTICO_PLUGIN(MyPlugin, "name", "1.0.0", "other")
// The class is constructed with the Host. Nothing a plugin throws escapes its factory: the
// macro's factory catches it and the core refuses the plugin with the message.
#pragma once

#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "portico/abi.h"
#include "portico/host.h"
#include "portico/session.h"
#include "portico/settings.h"
#include "portico/web.h"

namespace portico::sdk {

// What the core needs to know of a protocol to run its connections. Replies are complete,
// including their line ending; #Variables# in them are expanded like the banner.
struct ProtocolTraits {
  std::size_t max_line_length = 1024;       // terminator included
  std::string busy_reply;                   // over max_connections
  std::string busy_address_reply;           // over max_connections_per_address ("" = busy_reply)
  std::string too_many_bad_commands_reply;  // at max_bad_commands
  std::string command_timeout_reply;
  std::string session_timeout_reply;
  std::string shutdown_reply;  // the server is stopping
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  // The settings this plugin accepts, with defaults (see settings.h).
  virtual Schema schema() const = 0;
  // Rules across several settings; each string is one error. Called on validated values.
  virtual std::vector<std::string> check(const Settings& settings) const {
    (void)settings;
    return {};
  }
  virtual ProtocolTraits traits() const = 0;
  // Called before the first connection and after each reload, with validated values.
  virtual void configure(const Settings& settings) { (void)settings; }
  // A new connection on one of this protocol's listeners. The context outlives the session.
  virtual std::unique_ptr<Session> open_session(SessionContext& context) = 0;
  // Called once when the server stops the plugin (shutdown, or disabled by a reload), after its
  // listeners are closed.
  virtual void stop() {}

  // --- ABI 1.1 ---
  // Listeners the plugin's own settings add to the shared `listeners` key (for example the SMTP
  // submission port). Called after configure(), with the same settings.
  virtual std::vector<ListenerSpec> extra_listeners(const Settings& settings) const {
    (void)settings;
    return {};
  }

  // --- ABI 1.9 ---
  // WebSocket listeners of this protocol (portico/web.h): their sessions get messages instead
  // of lines. Called after configure(), with the same settings.
  virtual std::vector<WebSocketListener> websocket_listeners(const Settings& settings) const {
    (void)settings;
    return {};
  }
};

namespace detail {

inline void copy_error(char* out, std::size_t size, const char* text) noexcept {
  if (out == nullptr || size == 0) return;
  std::size_t n = std::strlen(text);
  if (n >= size) n = size - 1;
  std::memcpy(out, text, n);
  out[n] = '\0';
}

template <typename PluginClass>
void* create_plugin(void* host, char* error, std::size_t error_size) noexcept {
  try {
    Plugin* plugin = new PluginClass(*static_cast<Host*>(host));
    return static_cast<void*>(plugin);
  } catch (const std::exception& e) {
    copy_error(error, error_size, e.what());
  } catch (...) {
    copy_error(error, error_size, "unknown exception");
  }
  return nullptr;
}

inline void destroy_plugin(void* plugin) noexcept {
  delete static_cast<Plugin*>(plugin);
}

}  // namespace detail
}  // namespace portico::sdk

#define PORTICO_PLUGIN(PluginClass, NAME, VERSION, ...)                                           \
  static const char* const portico_plugin_dependencies_[] = {__VA_ARGS__ __VA_OPT__(, ) nullptr}; \
  extern "C" PORTICO_EXPORT const portico_plugin_descriptor PORTICO_DESCRIPTOR_SYMBOL = {         \
      sizeof(portico_plugin_descriptor),                                                          \
      PORTICO_ABI_MAJOR,                                                                          \
      PORTICO_ABI_MINOR,                                                                          \
      PORTICO_BUILD_SIGNATURE,                                                                    \
      NAME,                                                                                       \
      VERSION,                                                                                    \
      portico_plugin_dependencies_,                                                               \
      &::portico::sdk::detail::create_plugin<PluginClass>,                                        \
      &::portico::sdk::detail::destroy_plugin,                                                    \
      {}}
