// smtp-in — paths and mailboxes (see address.h).
#include "address.h"

#include <arpa/inet.h>

#include <cstring>

namespace portico::smtp {

namespace {

constexpr std::size_t kMaxLocal = 64;    // RFC 5321 section 4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;  // section 4.5.3.1.2
constexpr std::size_t kMaxPath = 256;    // section 4.5.3.1.3, "<" and ">" included

bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

// RFC 5322 atext.
bool is_atext(unsigned char c) {
  return is_alpha(c) || is_digit(c) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

// Length of the well-formed UTF-8 sequence starting at s[i] (non-ASCII lead), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

struct Scan {
  std::string_view s;
  std::size_t i = 0;
  bool utf8 = false;
  PathError error = PathError::none;

  bool at_end() const { return i >= s.size(); }
  unsigned char peek() const { return at_end() ? 0 : static_cast<unsigned char>(s[i]); }
  bool take(char c) {
    if (peek() != static_cast<unsigned char>(c)) return false;
    ++i;
    return true;
  }
  // Consumes one UTF-8 sequence if allowed; records why not otherwise.
  bool take_utf8() {
    if (peek() < 0x80) return false;
    if (!utf8) {
      error = PathError::needs_utf8;
      return false;
    }
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      error = PathError::bad_utf8;
      return false;
    }
    i += n;
    return true;
  }
};

bool atom(Scan& sc) {
  const std::size_t start = sc.i;
  while (!sc.at_end()) {
    if (is_atext(sc.peek())) {
      ++sc.i;
    } else if (!sc.take_utf8()) {
      break;
    }
  }
  return sc.i > start && sc.error == PathError::none;
}

bool dot_string(Scan& sc) {
  if (!atom(sc)) return false;
  while (sc.peek() == '.') {
    ++sc.i;
    if (!atom(sc)) return false;
  }
  return true;
}

bool quoted_string(Scan& sc) {
  if (!sc.take('"')) return false;
  while (!sc.at_end()) {
    const unsigned char c = sc.peek();
    if (c == '"') {
      ++sc.i;
      return true;
    }
    if (c == '\\') {
      ++sc.i;
      const unsigned char q = sc.peek();
      if (q < 32 || q > 126) return false;
      ++sc.i;
    } else if (c >= 32 && c <= 126) {
      ++sc.i;
    } else if (!sc.take_utf8()) {
      return false;
    }
  }
  return false;
}

bool sub_domain(Scan& sc) {
  const std::size_t start = sc.i;
  while (!sc.at_end()) {
    const unsigned char c = sc.peek();
    if (is_alpha(c) || is_digit(c) || c == '-') {
      ++sc.i;
    } else if (!sc.take_utf8()) {
      break;
    }
  }
  if (sc.i == start || sc.error != PathError::none) return false;
  return sc.s[start] != '-' && sc.s[sc.i - 1] != '-';
}

bool domain(Scan& sc) {
  if (!sub_domain(sc)) return false;
  while (sc.peek() == '.') {
    ++sc.i;
    if (!sub_domain(sc)) return false;
  }
  return true;
}

bool address_literal(Scan& sc) {
  if (!sc.take('[')) return false;
  const std::size_t start = sc.i;
  while (!sc.at_end() && sc.peek() != ']') {
    const unsigned char c = sc.peek();
    if (c < 33 || c > 126 || c == '[' || c == '\\') return false;
    ++sc.i;
  }
  if (!sc.take(']')) return false;
  const std::string inner(sc.s.substr(start, sc.i - 1 - start));
  unsigned char buf[16];
  if (inner.rfind("IPv6:", 0) == 0) return inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1;
  if (inet_pton(AF_INET, inner.c_str(), buf) == 1) return true;
  // General-address-literal: Standardized-tag ":" 1*dcontent.
  const std::size_t colon = inner.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == inner.size()) return false;
  for (std::size_t k = 0; k < colon; ++k) {
    const auto c = static_cast<unsigned char>(inner[k]);
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

bool Mailbox::has_non_ascii() const {
  for (unsigned char c : local) {
    if (c >= 0x80) return true;
  }
  for (unsigned char c : domain) {
    if (c >= 0x80) return true;
  }
  return false;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool valid_domain(std::string_view d, bool utf8) {
  Scan sc{d, 0, utf8};
  return d.size() <= kMaxDomain && domain(sc) && sc.at_end();
}

PathResult parse_path(std::string_view text, bool allow_null, bool allow_bare_postmaster,
                      bool utf8) {
  PathResult r;
  Scan sc{text, 0, utf8};
  auto fail = [&](PathError e) {
    r.error = sc.error != PathError::none ? sc.error : e;
    return r;
  };
  if (!sc.take('<')) return fail(PathError::syntax);
  if (sc.take('>')) {
    if (!allow_null) return fail(PathError::syntax);
    r.consumed = sc.i;
    return r;
  }
  // A-d-l ":" — a source route, ignored.
  if (sc.peek() == '@') {
    do {
      if (!sc.take('@') || !domain(sc)) return fail(PathError::syntax);
    } while (sc.take(','));
    if (!sc.take(':')) return fail(PathError::syntax);
  }
  const std::size_t local_start = sc.i;
  const bool quoted = sc.peek() == '"';
  if (!(quoted ? quoted_string(sc) : dot_string(sc))) return fail(PathError::syntax);
  r.mailbox.local = std::string(text.substr(local_start, sc.i - local_start));
  if (allow_bare_postmaster && sc.peek() == '>' && ascii_lower(r.mailbox.local) == "postmaster") {
    ++sc.i;
    r.consumed = sc.i;
    return r;
  }
  if (!sc.take('@')) return fail(PathError::syntax);
  const std::size_t domain_start = sc.i;
  if (!(sc.peek() == '[' ? address_literal(sc) : domain(sc))) return fail(PathError::syntax);
  r.mailbox.domain = std::string(text.substr(domain_start, sc.i - domain_start));
  if (!sc.take('>')) return fail(PathError::syntax);
  r.consumed = sc.i;
  if (r.mailbox.local.size() > kMaxLocal || r.mailbox.domain.size() > kMaxDomain ||
      r.consumed > kMaxPath) {
    r.error = PathError::too_long;
  }
  return r;
}

}  // namespace portico::smtp
