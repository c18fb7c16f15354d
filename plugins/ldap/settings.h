// ldap — the plugin's settings: the seed's LDAP tab (session timeout 300 s, command timeout
// 120 s, through the shared keys) and what the protocol needs (base DNs, anonymous access,
// which domains a user sees, size and time limits, plaintext binds, request size).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "portico/settings.h"

namespace portico::ldap {

struct LdapSettings {
  std::map<std::string, std::string> base_dns;  // domain -> base DN
  bool allow_anonymous = false;
  bool all_domains = false;  // visible_domains: all
  std::int64_t size_limit = 500;
  std::chrono::milliseconds time_limit{60000};
  bool allow_plaintext_auth = false;
  std::size_t max_request_size = 256 * 1024;
  std::size_t max_outstanding = 16;

  static LdapSettings from(const sdk::Settings& settings);
};

sdk::Schema schema();
// Errors in the base_dn entries ("domain: DN", the DN valid).
std::vector<std::string> check(const sdk::Settings& settings);

}  // namespace portico::ldap
