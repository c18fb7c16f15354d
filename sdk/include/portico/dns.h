// Portico SDK — the core's DNS resolver (RFC 1035; MX per RFC 5321 section 5.1).
//
// Answers come from the core's caching resolver (libunbound, honouring each record's TTL),
// which uses the system's configured name servers and /etc/hosts. Every call may block on the
// network: call it from the worker pool, never from an I/O thread. Thread-safe; never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico::sdk {

enum class DnsStatus {
  ok,                 // records found
  no_such_name,       // NXDOMAIN: the name does not exist
  no_data,            // the name exists, without records of this type
  temporary_failure,  // SERVFAIL, timeout, no resolver: try later
};

struct MxRecord {
  std::uint16_t preference = 0;
  std::string exchange;  // without the trailing dot; "" for a null MX (RFC 7505)
};

struct DnsAddresses {
  DnsStatus status = DnsStatus::temporary_failure;
  std::vector<std::string> addresses;  // textual IPv6 first, then IPv4, as found
  std::string error;                   // why, when status is temporary_failure
};

struct DnsMx {
  DnsStatus status = DnsStatus::temporary_failure;
  std::vector<MxRecord> records;  // sorted by preference (ties in the order received)
  bool secure = false;            // DNSSEC-validated (when a trust anchor is configured)
  std::string error;
};

class Dns {
 public:
  // A and AAAA records of `name` (an IP literal is returned as it is).
  virtual DnsAddresses addresses(std::string_view name) = 0;
  // MX records of `domain`.
  virtual DnsMx mx(std::string_view domain) = 0;

  // --- ABI 1.3 ---
  // The same questions asked of the name servers every time, bypassing the cache (for an
  // operator who turned DNS caching off).
  virtual DnsAddresses addresses_uncached(std::string_view name) = 0;
  virtual DnsMx mx_uncached(std::string_view domain) = 0;

 protected:
  ~Dns() = default;
};

}  // namespace portico::sdk
