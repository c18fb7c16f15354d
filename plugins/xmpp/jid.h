// xmpp — JIDs (RFC 7622): localpart@domainpart/resourcepart, parsed and compared.
//
// Normalization is the subset of RFC 7622's PRECIS profiles that ASCII needs: the localpart and
// domainpart are case-folded (ASCII letters; other octets compare exactly), a trailing dot of
// the domain is dropped, the resourcepart is kept as it is. Refused: empty or over-long parts
// (1023 octets each), invalid UTF-8, control characters and spaces, and the characters RFC 7622
// section 3.3.1 forbids in a localpart (" & ' / : < > @).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portico::xmpp {

struct Jid {
  std::string local;
  std::string domain;
  std::string resource;

  std::string bare() const { return local.empty() ? domain : local + "@" + domain; }
  std::string full() const { return resource.empty() ? bare() : bare() + "/" + resource; }
  bool is_bare() const { return resource.empty(); }
  friend bool operator==(const Jid&, const Jid&) = default;
};

std::optional<Jid> parse_jid(std::string_view text);
// The bare JID of an account address ("alice@example.test"), normalized.
std::string bare_of(std::string_view text);
// True when `text` is valid UTF-8 without C0 controls other than tab, CR and LF (XML's Char).
bool valid_utf8(std::string_view text);

}  // namespace portico::xmpp
