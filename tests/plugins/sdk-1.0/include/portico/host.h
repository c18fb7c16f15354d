// Portico SDK — the host: the services the core gives every plugin.
//
// One Host lives for the whole process; a plugin keeps the reference its constructor received.
// Every function here is thread-safe. New services are appended at the end of the class so
// that plugins built against an older minor version keep working.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace portico::sdk {

enum class LogLevel { trace, debug, info, warn, error };

// Who is on the other end of a connection, and where it arrived.
struct ConnectionInfo {
  std::uint64_t id = 0;        // unique in this process
  std::string protocol;        // plugin name
  std::string remote_address;  // textual IPv4/IPv6
  std::uint16_t remote_port = 0;
  std::string local_address;
  std::uint16_t local_port = 0;
  std::string listener;         // "address:port" of the listener
  std::string server_hostname;  // the name the server answers to on this connection
};

class Host {
 public:
  // Writes one line to the server log, tagged with the calling plugin's name.
  virtual void log(LogLevel level, std::string_view message) = 0;
  // The configured server host name (server.hostname).
  virtual std::string hostname() const = 0;
  // The absolute data directory (server.data_dir).
  virtual std::string data_dir() const = 0;
  // Expands #HostName#, #ConnectedIP#, #Time#, #TimeUTC# and #UnixTime# in text for a
  // connection; an unknown #Word# is left as it is.
  virtual std::string render_template(std::string_view text, const ConnectionInfo& conn) const = 0;
  // Runs work on the core's worker pool (never on an I/O thread). Sessions should prefer
  // SessionContext::post_work, which brings the result back on the session's executor.
  virtual void post_work(std::function<void()> work) = 0;

 protected:
  ~Host() = default;
};

}  // namespace portico::sdk
