// imap — mailbox names on the wire: modified UTF-7 (RFC 3501 section 5.1.3, RFC 9051 section
// 5.1.3) to and from the store's UTF-8 names, and the UTF-8 check for clients that use UTF-8
// names (ENABLE UTF8=ACCEPT of RFC 6855, ENABLE IMAP4rev2 of RFC 9051).
//
// Guarantees: decoding accepts only the one canonical modified UTF-7 form of a name (printable
// US-ASCII never base64-encoded, no null shifts, base64 runs that end on a whole UTF-16 unit
// with zero padding bits, surrogates in pairs), so a name has exactly one wire form and
// encode(decode(x)) == x for every x decoded; both directions refuse input above
// kMaxMailboxNameOctets and are linear in their input; neither throws.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace portico::imap {

// The longest name either direction converts, in octets of its input: above any name the store
// keeps (512 octets) in either form; the command parser's kMaxCommandBytes bounds it before.
inline constexpr std::size_t kMaxMailboxNameOctets = 4096;

// Why a modified UTF-7 name was refused.
enum class NameError {
  none,
  too_long,            // above kMaxMailboxNameOctets
  eight_bit,           // an octet above 0x7f (UTF-8 needs ENABLE UTF8=ACCEPT)
  control,             // a control character not base64-encoded
  unterminated,        // "&" without its closing "-"
  bad_base64,          // a character outside modified base64 in a "&...-" run
  partial_unit,        // a run that does not end on a whole UTF-16 unit, or nonzero padding
  unpaired_surrogate,  // a UTF-16 surrogate without its other half
  not_canonical,       // printable US-ASCII base64-encoded, or a null shift ("-&" in a run)
};

// A short English description of `e` ("unterminated &-sequence"), for a reply text.
std::string_view describe(NameError e);

struct DecodedName {
  std::string utf8;  // the name in UTF-8, when error is none
  NameError error = NameError::none;
};

// Modified UTF-7 -> UTF-8 ("&ZeVnLIqe-" -> "日本語", "&-" -> "&").
DecodedName decode_mutf7(std::string_view mutf7);
// UTF-8 -> modified UTF-7; nullopt when `utf8` is not valid UTF-8 or is too long.
std::optional<std::string> encode_mutf7(std::string_view utf8);
// Whether `s` is valid UTF-8 (RFC 3629: no overlong forms, surrogates or values above
// U+10FFFF).
bool valid_utf8(std::string_view s);

}  // namespace portico::imap
