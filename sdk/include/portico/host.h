// Portico SDK — the host: the services the core gives every plugin.
//
// One Host lives for the whole process; a plugin keeps the reference its constructor received.
// Every function here is thread-safe. New services are appended at the end of the class so
// that plugins built against an older minor version keep working.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace portico::sdk {

class Auth;              // portico/auth.h
class Directory;         // portico/directory.h
class Dns;               // portico/dns.h
class Filter;            // portico/filter.h
class Queue;             // portico/queue.h
class Reports;           // portico/reports.h
class SaslServer;        // portico/sasl.h
class Session;           // portico/session.h
class SessionContext;    // portico/session.h
class Store;             // portico/store.h
struct OutboundRequest;  // portico/outbound.h

// A pending Host::schedule() call. Destroying it cancels the call if it has not started yet (a
// call already running finishes).
class Scheduled {
 public:
  virtual ~Scheduled() = default;
};

// Opens the session of an outbound connection once it is connected (see Host::connect).
using OutboundSessionFactory = std::function<std::unique_ptr<Session>(SessionContext&)>;
// Told why an outbound connection could not be made (no session was opened).
using OutboundFailure = std::function<void(const std::string& reason)>;

enum class LogLevel { trace, debug, info, warn, error };

// The bounded pools that blocking work runs on (SDK 1.3), each with threads of its own, so that
// a flood of one kind never delays another: the fsyncs that SMTP acknowledgements wait for are
// never queued behind password hashing, DNS look-ups or outbound deliveries.
enum class WorkPool {
  general,   // what post_work() runs: the store, the queue, the directory (durability)
  auth,      // password hashing and SASL steps (CPU-bound)
  dns,       // DNS look-ups (wait on the network)
  delivery,  // outbound delivery: reading spooled messages, routing, writing reports
  filter,    // content filtering (spam checks)
};

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

  // --- ABI 1.1 ---
  // The core's shared services (include their headers to use them); nullptr when this server
  // runs without one. They live as long as the plugin.
  virtual Directory* directory() = 0;
  virtual Auth* auth() = 0;
  virtual Store* store() = 0;
  virtual Queue* queue() = 0;

  // --- ABI 1.2 ---
  // Opens an outbound connection (smtp-out, POP/IMAP retrieval) run by the core exactly like an
  // accepted one: the core resolves the name, connects (trying each address in turn), does TLS
  // as the request says, runs the timers, and once connected calls `open` on the connection's
  // executor for the Session it then drives; the session's on_start() follows at once (after
  // the handshake with implicit TLS). When no session can be opened (no such name, refused,
  // timed out, TLS failure before the session, server stopping), `failed` is called instead,
  // once, on the worker pool. Outbound connections are counted under "<plugin>/out".
  virtual void connect(const OutboundRequest& request, OutboundSessionFactory open,
                       OutboundFailure failed) = 0;
  // Runs fn once on the worker pool after delay, unless the handle is destroyed first.
  virtual std::unique_ptr<Scheduled> schedule(std::chrono::milliseconds delay,
                                              std::function<void()> fn) = 0;
  // The core's caching DNS resolver; nullptr when this process runs without one.
  virtual Dns* dns() = 0;

  // --- ABI 1.3 ---
  // The SASL server exchange (portico/sasl.h): mechanisms, base64, the challenge loop and its
  // work on the worker pool, for every protocol's AUTH. Never nullptr; without an
  // authentication service it offers nothing.
  virtual SaslServer* sasl() = 0;
  // post_work() on a chosen pool.
  virtual void post_work_on(WorkPool pool, std::function<void()> work) = 0;
  // Delivery status notifications (portico/reports.h); nullptr when this process runs without
  // a queue.
  virtual Reports* reports() = 0;

  // --- ABI 1.4 ---
  // The content filter stage (portico/filter.h): spam checks before a message is accepted.
  // Never nullptr in the server; Filter::wants() says whether a message is to be checked.
  virtual Filter* filter() = 0;

 protected:
  ~Host() = default;
};

}  // namespace portico::sdk
