// ldap — settings (see settings.h).
#include "settings.h"

#include "book.h"

namespace portico::ldap {

using sdk::SettingType;

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return std::string(s);
}

// "example.test: o=Example,c=US" -> {"example.test", "o=Example,c=US"}; empty on error.
std::pair<std::string, std::string> split_base(std::string_view entry) {
  auto colon = entry.find(':');
  if (colon == std::string_view::npos) return {};
  std::string domain = fold(trim(entry.substr(0, colon)));
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  return {domain, trim(entry.substr(colon + 1))};
}

}  // namespace

LdapSettings LdapSettings::from(const sdk::Settings& s) {
  LdapSettings o;
  for (const auto& entry : s.get_list("base_dn")) {
    auto [domain, dn] = split_base(entry);
    if (!domain.empty() && !dn.empty()) o.base_dns[domain] = dn;
  }
  o.allow_anonymous = s.get_bool("allow_anonymous");
  o.all_domains = s.get_string("visible_domains") == "all";
  o.size_limit = s.get_int("size_limit");
  o.time_limit = s.get_duration("time_limit");
  o.allow_plaintext_auth = s.get_bool("allow_plaintext_auth_without_tls");
  o.max_request_size = static_cast<std::size_t>(s.get_size("max_request_size"));
  o.max_outstanding = static_cast<std::size_t>(s.get_int("max_outstanding_requests"));
  return o;
}

std::vector<std::string> check(const sdk::Settings& s) {
  std::vector<std::string> errors;
  for (const auto& entry : s.get_list("base_dn")) {
    auto [domain, dn] = split_base(entry);
    if (domain.empty() || dn.empty()) {
      errors.push_back("ldap.base_dn: \"" + entry + "\" is not \"domain: DN\"");
    } else if (!normalize_dn(dn) || normalize_dn(dn)->empty()) {
      errors.push_back("ldap.base_dn: \"" + dn + "\" is not a valid DN (RFC 4514)");
    }
  }
  return errors;
}

sdk::Schema schema() {
  sdk::Schema s;
  s.summary =
      "LDAPv3 address book of the directory, read-only (RFC 4511), with StartTLS, paged "
      "results, server-side sorting and virtual list views";
  s.shared.listeners = {sdk::ListenerSpec{"127.0.0.1", 3890, sdk::TlsMode::starttls, "", ""}};
  s.shared.banner = "";
  s.shared.command_timeout = "120s";
  s.shared.session_timeout = "300s";
  s.shared.session_timeout_enabled = true;
  s.shared.max_bad_commands = 8;
  s.shared.max_connections = 1000;
  s.shared.max_connections_per_address = 0;

  s.settings.push_back(sdk::make_setting(
      "base_dn", SettingType::string_list, "",
      "The base DN of a domain's address book, as \"domain: DN\" (for example "
      "\"example.test: o=Example Corp,c=US\"). A domain not listed is published under its "
      "dc= components (example.test: dc=example,dc=test). Under the base are ou=people (one "
      "inetOrgPerson per enabled account), ou=aliases and ou=lists."));
  s.settings.push_back(sdk::make_setting(
      "allow_anonymous", SettingType::boolean, "false",
      "Let clients search without binding (anonymous bind, RFC 4513 section 5.1.1). Off, an "
      "anonymous bind is refused with inappropriateAuthentication and a search before a bind "
      "with strongerAuthRequired; only the root DSE can be read. Anonymous clients see every "
      "domain."));
  sdk::SettingSpec visible = sdk::make_setting(
      "visible_domains", SettingType::enumeration, "own",
      "Which address books a bound user sees: \"own\", the domain of their own address; "
      "\"all\", every local domain.");
  visible.choices = {"own", "all"};
  s.settings.push_back(visible);
  sdk::SettingSpec size = sdk::make_setting(
      "size_limit", SettingType::integer, "500",
      "The most entries one search returns (a client's smaller size limit wins); more gives "
      "sizeLimitExceeded. A paged search (RFC 2696) may fetch more, a page at a time.",
      "0", "10000000");
  size.zero_means_unlimited = true;
  s.settings.push_back(size);
  sdk::SettingSpec time = sdk::make_setting(
      "time_limit", SettingType::duration, "60s",
      "The longest one search may run (a client's smaller time limit wins); then it ends with "
      "timeLimitExceeded and the entries found so far.",
      "0s", "1h");
  time.zero_means_unlimited = true;
  s.settings.push_back(time);
  s.settings.push_back(sdk::make_setting(
      "allow_plaintext_auth_without_tls", SettingType::boolean, "false",
      "Accept a simple bind (a password) before TLS. Off, it is refused with "
      "confidentialityRequired until the client has used StartTLS or connected to an "
      "implicit-TLS listener (RFC 4513 section 5.1.2)."));
  s.settings.push_back(sdk::make_setting(
      "max_request_size", SettingType::size, "256KB",
      "The largest LDAP message a client may send. A larger one closes the connection with a "
      "notice of disconnection (protocolError).",
      "1KB", "16MB"));
  s.settings.push_back(sdk::make_setting(
      "max_outstanding_requests", SettingType::integer, "16",
      "How many searches and compares one connection may have running at once (LDAP is "
      "asynchronous); further requests wait to be read until one completes.",
      "1", "1000"));
  return s;
}

}  // namespace portico::ldap
