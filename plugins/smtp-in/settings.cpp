// smtp-in — settings (see settings.h).
#include "settings.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

namespace portico::smtp {

using sdk::SettingType;

std::optional<Network> Network::parse(const std::string& text) {
  Network n;
  std::string addr = text;
  int prefix = -1;
  if (const auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    const std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    prefix = std::stoi(p);
  }
  if (inet_pton(AF_INET, addr.c_str(), n.bytes) == 1) {
    n.family = AF_INET;
    n.prefix = prefix < 0 ? 32 : prefix;
    if (n.prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, addr.c_str(), n.bytes) == 1) {
    n.family = AF_INET6;
    n.prefix = prefix < 0 ? 128 : prefix;
    if (n.prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return n;
}

bool Network::contains(const std::string& address) const {
  unsigned char b[16] = {};
  int family = AF_INET;
  if (inet_pton(AF_INET, address.c_str(), b) != 1) {
    if (inet_pton(AF_INET6, address.c_str(), b) != 1) return false;
    family = AF_INET6;
  }
  if (family != this->family) return false;
  const int full = prefix / 8;
  if (std::memcmp(b, bytes, static_cast<std::size_t>(full)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (b[full] & mask) == (bytes[full] & mask);
}

std::string listener_name(const sdk::ListenerSpec& l) {
  if (l.address.find(':') != std::string::npos) {
    return "[" + l.address + "]:" + std::to_string(l.port);
  }
  return l.address + ":" + std::to_string(l.port);
}

SmtpSettings SmtpSettings::from(const sdk::Settings& s) {
  SmtpSettings o;
  const std::string& relay = s.get_string("allow_relay");
  o.allow_relay = relay == "anyone"          ? RelayPolicy::anyone
                  : relay == "local_domains" ? RelayPolicy::local_domains
                  : relay == "local_users"   ? RelayPolicy::local_users
                                             : RelayPolicy::nobody;
  for (const auto& text : s.get_list("relay_whitelist")) {
    if (auto n = Network::parse(text)) o.relay_whitelist.push_back(*n);
  }
  o.max_hop_count = s.get_int("max_hop_count");
  o.max_message_size = s.get_size("max_message_size");
  o.max_bad_recipients = s.get_int("max_bad_recipients");
  o.submission_enabled = s.get_bool("submission.enabled");
  o.submission.address = s.get_string("submission.address");
  o.submission.port = static_cast<std::uint16_t>(s.get_int("submission.port"));
  o.submission.tls = sdk::TlsMode::starttls;
  o.submissions_enabled = s.get_bool("submissions.enabled");
  o.submissions.address = s.get_string("submissions.address");
  o.submissions.port = static_cast<std::uint16_t>(s.get_int("submissions.port"));
  o.submissions.tls = sdk::TlsMode::implicit;
  o.enable_vrfy = s.get_bool("enable_vrfy");
  o.enable_expn = s.get_bool("enable_expn");
  o.auth_bypasses_relay_rules = s.get_bool("auth_bypasses_relay_rules");
  o.require_auth_for_local_delivery = s.get_bool("require_auth_for_local_delivery");
  o.disable_auth_login = s.get_bool("disable_auth_login");
  o.omit_received_for_authenticated = s.get_bool("omit_received_for_authenticated");
  o.allow_plaintext_auth = s.get_bool("allow_plaintext_auth_without_tls");
  o.forbid_unauth_pipelining = s.get_bool("forbid_unauth_pipelining");
  o.postmaster = s.get_string("postmaster");
  return o;
}

std::vector<std::string> check(const sdk::Settings& s) {
  std::vector<std::string> errors;
  for (const auto& text : s.get_list("relay_whitelist")) {
    if (!Network::parse(text)) {
      errors.push_back("relay_whitelist: \"" + text +
                       "\" is not an IP address or network (use 192.0.2.7, 192.0.2.0/24 or "
                       "2001:db8::/32)");
    }
  }
  unsigned char b[16];
  for (const char* key : {"submission.address", "submissions.address"}) {
    const std::string& a = s.get_string(key);
    if (inet_pton(AF_INET, a.c_str(), b) != 1 && inet_pton(AF_INET6, a.c_str(), b) != 1) {
      errors.push_back(std::string(key) + ": \"" + a + "\" is not an IP address");
    }
  }
  if (const std::string& p = s.get_string("postmaster"); !p.empty()) {
    const auto at = p.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == p.size() ||
        p.find_first_of(" <>\t\r\n") != std::string::npos) {
      errors.push_back("postmaster: \"" + p + "\" is not an address (use admin@example.com)");
    }
  }
  return errors;
}

sdk::Schema schema() {
  sdk::Schema s;
  s.summary = "ESMTP server (RFC 5321): mail in from other servers and from users (submission)";
  s.shared.listeners = {sdk::ListenerSpec{"127.0.0.1", 2525, sdk::TlsMode::starttls, "", ""}};
  s.shared.banner = "#HostName# ESMTP Portico";
  s.shared.command_timeout = "120s";
  s.shared.session_timeout = "15m";
  s.shared.session_timeout_enabled = true;
  s.shared.max_bad_commands = 8;
  s.shared.max_connections = 1000;
  s.shared.max_connections_per_address = 0;

  sdk::SettingSpec relay = sdk::make_setting(
      "allow_relay", SettingType::enumeration, "nobody",
      "Who may send through this server to domains that are not local. nobody: only "
      "authenticated users (and relay_whitelist); local_users: also a sender (MAIL FROM) that is "
      "a local account; local_domains: also a sender whose domain is local; anyone: an open "
      "relay (do not use on the Internet). local_users and local_domains trust the sender "
      "address the client states.");
  relay.choices = {"nobody", "local_users", "local_domains", "anyone"};
  s.settings.push_back(relay);
  s.settings.push_back(
      sdk::make_setting("relay_whitelist", SettingType::string_list, "",
                        "Client addresses and networks (192.0.2.7, 192.0.2.0/24, "
                        "2001:db8::/32) that may always relay, without authentication."));
  s.settings.push_back(
      sdk::make_setting("max_hop_count", SettingType::integer, "20",
                        "A message that already carries more Received: header fields than "
                        "this has looped: it is refused with 554 5.4.6.",
                        "1", "1000"));
  auto size = sdk::make_setting(
      "max_message_size", SettingType::size, "0",
      "The largest message accepted, announced with SIZE (RFC 1870) and enforced "
      "while the message arrives; a larger one is refused with 552 5.3.4. 0 means "
      "unlimited.");
  size.zero_means_unlimited = true;
  s.settings.push_back(size);
  auto bad_rcpt =
      sdk::make_setting("max_bad_recipients", SettingType::integer, "20",
                        "After this many recipients refused as unknown local users in one "
                        "session, the session ends with 421 (against address harvesting). 0 "
                        "means unlimited.",
                        "0", "100000");
  bad_rcpt.zero_means_unlimited = true;
  s.settings.push_back(bad_rcpt);
  s.settings.push_back(
      sdk::make_setting("submission.enabled", SettingType::boolean, "false",
                        "Listen on the submission port (RFC 6409, STARTTLS), where every "
                        "message needs SMTP authentication whatever its domain."));
  s.settings.push_back(sdk::make_setting("submission.address", SettingType::string, "127.0.0.1",
                                         "IP address of the submission listener."));
  s.settings.push_back(sdk::make_setting("submission.port", SettingType::integer, "5870",
                                         "Port of the submission listener (587 in production).",
                                         "1", "65535"));
  s.settings.push_back(sdk::make_setting("submissions.enabled", SettingType::boolean, "false",
                                         "Listen for submission over implicit TLS (RFC 8314); like "
                                         "submission, every message needs authentication."));
  s.settings.push_back(sdk::make_setting("submissions.address", SettingType::string, "127.0.0.1",
                                         "IP address of the implicit-TLS submission listener."));
  s.settings.push_back(sdk::make_setting(
      "submissions.port", SettingType::integer, "4650",
      "Port of the implicit-TLS submission listener (465 in production).", "1", "65535"));
  s.settings.push_back(
      sdk::make_setting("enable_vrfy", SettingType::boolean, "false",
                        "Answer VRFY with whether an address exists here. Off, VRFY gets "
                        "502; on, it helps address harvesting."));
  s.settings.push_back(
      sdk::make_setting("enable_expn", SettingType::boolean, "false",
                        "Answer EXPN with the members of a distribution list. Off, EXPN "
                        "gets 502; on, it discloses the list."));
  s.settings.push_back(
      sdk::make_setting("auth_bypasses_relay_rules", SettingType::boolean, "true",
                        "An authenticated session may relay whatever allow_relay says."));
  s.settings.push_back(
      sdk::make_setting("require_auth_for_local_delivery", SettingType::boolean, "false",
                        "Mail whose sender is in a local domain and whose recipient is local "
                        "must be authenticated (530 5.7.0 otherwise): stops outsiders "
                        "forging local senders."));
  s.settings.push_back(sdk::make_setting("disable_auth_login", SettingType::boolean, "false",
                                         "Do not offer the AUTH LOGIN mechanism."));
  s.settings.push_back(
      sdk::make_setting("omit_received_for_authenticated", SettingType::boolean, "false",
                        "Do not add the Received: header field to messages from "
                        "authenticated sessions (hides the submitting user's address)."));
  s.settings.push_back(
      sdk::make_setting("allow_plaintext_auth_without_tls", SettingType::boolean, "false",
                        "Offer PLAIN and LOGIN before TLS. Off, the password never crosses "
                        "the network in the clear."));
  s.settings.push_back(sdk::make_setting(
      "forbid_unauth_pipelining", SettingType::boolean, "true",
      "Answer 554 5.5.0 and disconnect a client that does not wait for the server where SMTP "
      "says it must: one that talks before the greeting; without PIPELINING (before EHLO, or "
      "after HELO), one that sends a command before the reply to the one before; with it, one "
      "that sends more before the reply to EHLO, DATA, VRFY, EXPN, NOOP or QUIT (RFC 2920 "
      "section 3.1). Like Postfix's smtpd_forbid_unauth_pipelining: mail servers and mail "
      "programs wait, spam software often does not. Off, such clients are served."));
  s.settings.push_back(sdk::make_setting(
      "postmaster", SettingType::string, "",
      "Where mail for postmaster goes when the directory has no account, alias or list of "
      "that name: a bare RCPT TO:<Postmaster> and postmaster@ any local domain are always "
      "accepted (RFC 5321 section 4.5.1). An address: an account, alias or list here, or an "
      "address elsewhere to forward it to. Empty: postmaster@ the server's host name "
      "(server.hostname); when the directory has nothing of that name either, the mail is "
      "still accepted and kept in the store under it, and shows in its INBOX once the account "
      "is created (portico user add postmaster@<host name>)."));
  return s;
}

}  // namespace portico::smtp
