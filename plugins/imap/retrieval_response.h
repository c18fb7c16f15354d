// imap — the client side's reading of server responses and writing of command arguments, for
// IMAP retrieval (retrieval_session.h). Pure functions over bytes, no I/O.
//
// RFC 9051 section 7 (and RFC 3501 section 7) from the client's side: a response line is
// tagged ("a1 OK ..."), untagged ("* ...", "* 3 FETCH ...") or a continuation request ("+ ...");
// a line may end with a literal's announcement ("{123}", or "~{123}" for literal8) whose octets
// follow, after which the same response goes on in the next line. Response codes are read from
// "[...]" at the start of a status text. Every number is bounded (no overflow), every list
// bounded by its caller's limit; what the client does not know is reported as such, never
// trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace portico::imap::client {

struct Response {
  enum class Kind { invalid, tagged, untagged, continuation };
  Kind kind = Kind::invalid;
  std::string tag;                      // tagged only
  std::optional<std::uint64_t> number;  // "* 3 FETCH": 3
  std::string name;  // upper-case: OK, NO, BAD, BYE, PREAUTH, CAPABILITY, SEARCH, FETCH…
  std::string text;  // what follows the name, without the line's end
};

// One response line (its terminator included or not).
Response parse_response(std::string_view line);

// The size of the literal announced at the end of the line ("{n}" or "~{n}", then CRLF or LF),
// or nullopt. A number too large for 64 bits comes back as UINT64_MAX.
std::optional<std::uint64_t> trailing_literal(std::string_view line);

// "[UIDVALIDITY 42] text" → {"UIDVALIDITY", "42"}; nullopt without a code.
struct ResponseCode {
  std::string name;  // upper-case
  std::string args;
};
std::optional<ResponseCode> response_code(std::string_view text);

// The capability names of a CAPABILITY response or code, upper-case.
std::unordered_set<std::string> parse_capabilities(std::string_view list);

// The UIDs of a SEARCH response ("1 5 9"); false when a token is not a UID or more than `max`.
bool parse_search(std::string_view text, std::vector<std::uint32_t>& out, std::size_t max);

// Which data item a literal of a FETCH response carries, judged by the text before it.
enum class FetchItem { other, body, header };
FetchItem fetch_item_before_literal(std::string_view line);
// The UID a FETCH response's text names ("(UID 7 ..."), if any.
std::optional<std::uint32_t> fetch_uid(std::string_view text);

// The Message-ID field's value in a message header (unfolded, trimmed), or "".
std::string message_id(std::string_view header);

// The server's text for an error message: printable, bounded.
std::string printable(std::string_view text);

// A command as the pieces sent one after the other: every piece but the last ends with a
// synchronizing literal's announcement, and the next goes only after the server's "+".
// `args` are astrings: quoted when printable ASCII, else a literal.
std::vector<std::string> compose(std::string_view tag, std::string_view verb,
                                 const std::vector<std::string>& args);

// UID sets ("1:3,7") for the UIDs given, ascending, each at most `max_chars` long.
std::vector<std::string> uid_sets(std::vector<std::uint32_t> uids, std::size_t max_chars);

}  // namespace portico::imap::client
