// smtp-in — the settings of the seed's "SMTP In" tab, declared for the core and read back typed.
//
// Every setting has the seed's meaning and default (session timeout 15 minutes with its enabled
// switch, command timeout 120 s, max bad commands 8, max connections 1000, max hop count 20,
// max message size 0 = unlimited, max bad recipients 20, VRFY and EXPN off), plus where mail
// for postmaster goes (RFC 5321 section 4.5.1) and whether clients that do not wait for replies
// are refused (on, as in Postfix 3.9); see schema() for the help text
// `portico plugins describe smtp-in` prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "portico/settings.h"

namespace portico::smtp {

enum class RelayPolicy { nobody, local_users, local_domains, anyone };

// An IPv4 or IPv6 network ("192.0.2.0/24", "2001:db8::/32", or one address).
struct Network {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};
  int prefix = 0;
  static std::optional<Network> parse(const std::string& text);
  bool contains(const std::string& address) const;
};

struct SmtpSettings {
  RelayPolicy allow_relay = RelayPolicy::nobody;
  std::vector<Network> relay_whitelist;
  std::int64_t max_hop_count = 20;
  std::uint64_t max_message_size = 0;
  std::int64_t max_bad_recipients = 20;
  bool submission_enabled = false;
  sdk::ListenerSpec submission;
  bool submissions_enabled = false;
  sdk::ListenerSpec submissions;
  bool enable_vrfy = false;
  bool enable_expn = false;
  bool auth_bypasses_relay_rules = true;
  bool require_auth_for_local_delivery = false;
  bool disable_auth_login = false;
  bool omit_received_for_authenticated = false;
  bool allow_plaintext_auth = false;
  // Refuse a client that sends before the greeting or before a reply it must wait for (RFC
  // 2920 section 3.1; Postfix's smtpd_forbid_unauth_pipelining).
  bool forbid_unauth_pipelining = true;
  // Who receives mail for postmaster when no account, alias or list of that name exists
  // (RFC 5321 section 4.5.1); empty: postmaster@ the server's host name.
  std::string postmaster;

  static SmtpSettings from(const sdk::Settings& s);
};

sdk::Schema schema();
// Cross-field and format checks, one message per problem.
std::vector<std::string> check(const sdk::Settings& s);
// "address:port" as the core names listeners ("[::1]:587" for IPv6).
std::string listener_name(const sdk::ListenerSpec& l);

}  // namespace portico::smtp
