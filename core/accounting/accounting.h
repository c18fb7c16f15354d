// Portico core — connection accounting shared by every protocol.
//
// Live counts per protocol, per listener and per remote address, and the limits that refuse a
// connection over max_connections (per protocol) or max_connections_per_address (per protocol
// and address). A Lease holds one connection's place and gives it back when destroyed, whatever
// ends the connection (close, timeout, exception). Event counters (accepted, refused, bad
// commands, timeouts, TLS failures, plugin errors) live here too, so `portico status` and the
// metrics endpoint read one source. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace portico::core {

enum class Refusal { none, protocol_full, address_full };

// Monotonic event counts of one protocol.
struct ProtocolCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused_busy{0};
  std::atomic<std::uint64_t> refused_address{0};
  std::atomic<std::uint64_t> bad_commands{0};
  std::atomic<std::uint64_t> closed_bad_commands{0};
  std::atomic<std::uint64_t> command_timeouts{0};
  std::atomic<std::uint64_t> session_timeouts{0};
  std::atomic<std::uint64_t> tls_failures{0};
  std::atomic<std::uint64_t> plugin_errors{0};
  std::atomic<std::uint64_t> lines_too_long{0};
};

class ConnectionAccounting {
 public:
  struct Key {
    std::string protocol;
    std::string listener;  // "address:port"
    std::string address;   // remote address
  };

  // One connection's place; releases it when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : owner_(o.owner_), key_(std::move(o.key_)) { o.owner_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }
    void release();
    bool held() const { return owner_ != nullptr; }

   private:
    friend class ConnectionAccounting;
    Lease(ConnectionAccounting* owner, Key key) : owner_(owner), key_(std::move(key)) {}
    ConnectionAccounting* owner_ = nullptr;
    Key key_;
  };

  // Takes a place unless a limit (0 = unlimited) is reached. Counts the outcome.
  Refusal try_acquire(const Key& key, std::int64_t max_connections, std::int64_t max_per_address,
                      Lease& lease);

  struct Snapshot {
    std::map<std::string, std::int64_t> per_protocol;
    std::map<std::string, std::int64_t> per_listener;  // "protocol address:port"
    std::map<std::string, std::map<std::string, std::int64_t>> per_address;  // protocol -> ip
  };
  Snapshot snapshot() const;
  std::int64_t live(const std::string& protocol) const;

  // The counters of one protocol (created on first use; the reference stays valid).
  ProtocolCounters& counters(const std::string& protocol);
  std::map<std::string, const ProtocolCounters*> all_counters() const;

 private:
  void release(const Key& key);

  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t> per_protocol_;
  std::map<std::string, std::int64_t> per_listener_;
  std::map<std::string, std::map<std::string, std::int64_t>> per_address_;
  std::map<std::string, std::unique_ptr<ProtocolCounters>> counters_;
};

}  // namespace portico::core
