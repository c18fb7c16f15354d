// Portico core — the DNS resolver every plugin shares (sdk::Dns), on libunbound.
//
// One libunbound context for the process: its cache honours each record's TTL (RFC 1035
// section 3.2.1; RFC 2308 for negative answers), it forwards to the configured name servers
// (server.dns_servers) or those of /etc/resolv.conf (or resolves from the root when there are
// none) and answers from /etc/hosts first. A second context, whose cache keeps nothing (every
// TTL capped at 0), answers the *_uncached questions. Each context is set up at its first
// look-up (a server that resolves nothing, such as one serving only POP or IMAP, carries
// neither libunbound's state nor the pages its set-up touches). Blocking calls from many worker
// threads share the context and its cache. IP literals are answered without a lookup. RFC 5321
// section 5.1: MX answers are sorted by preference.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "portico/dns.h"

struct ub_ctx;

namespace portico::core {

class DnsResolver final : public sdk::Dns {
 public:
  // `servers`: "address" or "address@port" each; empty: resolv.conf. Never throws: a context
  // that cannot be set up answers temporary_failure with the reason.
  explicit DnsResolver(const std::vector<std::string>& servers = {});
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  sdk::DnsAddresses addresses(std::string_view name) override;
  sdk::DnsMx mx(std::string_view domain) override;
  sdk::DnsAddresses addresses_uncached(std::string_view name) override;
  sdk::DnsMx mx_uncached(std::string_view domain) override;

  struct Context {
    std::once_flag once;
    ub_ctx* ctx = nullptr;
    std::string setup_error;  // why it could not be set up as configured (logged once)
  };

 private:
  // The context, set up by whichever thread asks first.
  const Context& context(bool cached);

  std::vector<std::string> servers_;
  Context cached_;
  Context uncached_;
};

// True for an IPv4 or IPv6 address literal (optionally in [brackets]); `out` gets it bare.
bool ip_literal(std::string_view text, std::string* out = nullptr);

}  // namespace portico::core
