// smtp-in — RFC 5321 section 4.1.2 paths and mailboxes, with RFC 6531 (SMTPUTF8) UTF-8.
//
// Parses "<local@domain>", "<>" (the null reverse-path), source routes ("<@a,@b:u@d>", accepted
// and ignored as section 4.1.1.3 allows), quoted local parts ("\"a b\"@d"), domains and address
// literals ("[192.0.2.1]", "[IPv6:2001:db8::1]"). Enforces the section 4.5.3.1 limits: local
// part 64 octets, domain 255, path 256. Non-ASCII is accepted only when utf8 is allowed, and
// then only as well-formed UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portico::smtp {

struct Mailbox {
  std::string local;   // as written (quoted local parts keep their quotes)
  std::string domain;  // a domain, or an address literal with its brackets
  bool null() const { return local.empty() && domain.empty(); }
  bool has_non_ascii() const;
  // "local@domain", or "" for the null path.
  std::string address() const { return null() ? std::string() : local + "@" + domain; }
};

enum class PathError {
  none,
  syntax,      // not a path at all
  too_long,    // over a section 4.5.3.1 limit
  needs_utf8,  // non-ASCII without SMTPUTF8
  bad_utf8,    // malformed UTF-8
};

struct PathResult {
  PathError error = PathError::none;
  Mailbox mailbox;
  std::size_t consumed = 0;  // bytes of the input the path took, ">" included
};

// Parses a path at the start of text. allow_null: "<>" is valid (reverse-path).
// allow_bare_postmaster: "<Postmaster>" (any case) is valid without a domain (section 4.5.1),
// and comes back with an empty domain.
PathResult parse_path(std::string_view text, bool allow_null, bool allow_bare_postmaster,
                      bool utf8);

// True for a well-formed domain (RFC 5321 Domain, RFC 6531 U-labels when utf8).
bool valid_domain(std::string_view domain, bool utf8);

// Lower-cases ASCII letters (domains compare case-insensitively; RFC 5321 section 2.4).
std::string ascii_lower(std::string_view s);

}  // namespace portico::smtp
