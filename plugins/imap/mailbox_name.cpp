// imap — modified UTF-7 mailbox names (RFC 3501 section 5.1.3): printable US-ASCII but "&"
// stands for itself, "&" is "&-", everything else is UTF-16 in base64 with "," for "/" and no
// padding between "&" and "-". See mailbox_name.h for what is refused.
#include "mailbox_name.h"

#include <cstdint>

#include "parser_internal.h"
#include "portico/base64.h"

namespace portico::imap {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

bool printable(unsigned char c) {
  return c >= 0x20 && c <= 0x7e;
}

// A character's value in modified base64 (the SDK's base64 with "," for "/"), -1 for none.
int base64_value(char c) {
  if (c == '/') return -1;
  return sdk::detail::base64_value(c == ',' ? '/' : c);
}

bool high_surrogate(char32_t u) {
  return u >= 0xd800 && u <= 0xdbff;
}

bool low_surrogate(char32_t u) {
  return u >= 0xdc00 && u <= 0xdfff;
}

// The code point of the n-octet UTF-8 sequence at s[0] (n from detail::utf8_length).
char32_t code_point(std::string_view s, std::size_t n) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  if (n == 1) return b(0);
  char32_t cp = b(0) & (0x7fu >> n);
  for (std::size_t i = 1; i < n; ++i)
    cp = (cp << 6) | (b(i) & 0x3fu);
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  const auto put = [&out](char32_t v) { out += static_cast<char>(v); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xc0 | (cp >> 6));
    put(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    put(0xe0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3f));
    put(0x80 | (cp & 0x3f));
  } else {
    put(0xf0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3f));
    put(0x80 | ((cp >> 6) & 0x3f));
    put(0x80 | (cp & 0x3f));
  }
}

// One base64 run of an encoded name: UTF-16 units in, modified base64 characters out.
class Base64Run {
 public:
  explicit Base64Run(std::string& out) : out_(out) {}
  void add(char32_t unit) {
    bits_ = (bits_ << 16) | unit;
    nbits_ += 16;
    while (nbits_ >= 6) {
      nbits_ -= 6;
      out_ += kAlphabet[(bits_ >> nbits_) & 0x3f];
    }
    bits_ &= (1u << nbits_) - 1;
  }
  // The last bits, padded with zeros.
  void finish() {
    if (nbits_ > 0) out_ += kAlphabet[(bits_ << (6 - nbits_)) & 0x3f];
  }

 private:
  std::string& out_;
  std::uint32_t bits_ = 0;  // below 2^nbits_
  unsigned nbits_ = 0;      // below 6 between calls
};

}  // namespace

std::string_view describe(NameError e) {
  switch (e) {
    case NameError::none:
      return "valid";
    case NameError::too_long:
      return "name too long";
    case NameError::eight_bit:
      return "8-bit characters";
    case NameError::control:
      return "control character";
    case NameError::unterminated:
      return "unterminated &-sequence";
    case NameError::bad_base64:
      return "invalid modified base64";
    case NameError::partial_unit:
      return "base64 run not ending on a whole UTF-16 character";
    case NameError::unpaired_surrogate:
      return "unpaired UTF-16 surrogate";
    case NameError::not_canonical:
      return "non-minimal encoding";
  }
  return "invalid";
}

DecodedName decode_mutf7(std::string_view in) {
  DecodedName r;
  const auto fail = [&r](NameError e) {
    r.utf8.clear();
    r.error = e;
    return r;
  };
  if (in.size() > kMaxMailboxNameOctets) return fail(NameError::too_long);
  std::size_t run_end = std::string_view::npos;  // just after the "-" ending the last run
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80) return fail(NameError::eight_bit);
    if (!printable(c)) return fail(NameError::control);
    if (c != '&') {
      r.utf8 += static_cast<char>(c);
      ++i;
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '-') {
      r.utf8 += '&';
      i += 2;
      continue;
    }
    if (i == run_end) return fail(NameError::not_canonical);  // "-&": a null shift
    // The base64 bits not yet making a UTF-16 unit: `nbits` of them, below 16.
    std::uint32_t bits = 0;
    unsigned nbits = 0;
    char32_t high = 0;  // a high surrogate waiting for its low half
    for (++i;; ++i) {
      if (i == in.size()) return fail(NameError::unterminated);
      if (in[i] == '-') break;
      const int v = base64_value(in[i]);
      if (v < 0) return fail(NameError::bad_base64);
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits < 16) continue;
      nbits -= 16;
      const char32_t unit = (bits >> nbits) & 0xffff;
      bits &= (1u << nbits) - 1;
      if (high != 0) {
        if (!low_surrogate(unit)) return fail(NameError::unpaired_surrogate);
        append_utf8(r.utf8, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
        high = 0;
      } else if (high_surrogate(unit)) {
        high = unit;
      } else if (low_surrogate(unit)) {
        return fail(NameError::unpaired_surrogate);
      } else if (unit >= 0x20 && unit <= 0x7e) {  // printable US-ASCII stands for itself
        return fail(NameError::not_canonical);
      } else {
        append_utf8(r.utf8, unit);
      }
    }
    if (high != 0) return fail(NameError::unpaired_surrogate);
    if (nbits >= 6 || bits != 0) return fail(NameError::partial_unit);
    run_end = ++i;
  }
  return r;
}

std::optional<std::string> encode_mutf7(std::string_view in) {
  if (in.size() > kMaxMailboxNameOctets) return std::nullopt;
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (printable(c)) {
      out += static_cast<char>(c);
      if (c == '&') out += '-';
      ++i;
      continue;
    }
    out += '&';
    Base64Run run(out);
    while (i < in.size() && !printable(static_cast<unsigned char>(in[i]))) {
      const std::size_t n = detail::utf8_length(in.substr(i));
      if (n == 0) return std::nullopt;
      char32_t cp = code_point(in.substr(i), n);
      i += n;
      if (cp < 0x10000) {
        run.add(cp);
      } else {
        cp -= 0x10000;
        run.add(0xd800 + (cp >> 10));
        run.add(0xdc00 + (cp & 0x3ff));
      }
    }
    run.finish();
    out += '-';
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = detail::utf8_length(s.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace portico::imap
