// smtp-out — SMTP replies as a client reads them, and the EHLO keywords they carry.
//
// RFC 5321 section 4.2: a reply is one or more lines "NNN-text" ending with "NNN text" (or a bare
// "NNN"), every line with the same code, whose digits are 2-5, 0-5 and 0-9. RFC 2034 / RFC 3463:
// the first line's text may start with an enhanced status code "c.sss.ddd" of the reply's class.
// RFC 5321 section 4.1.1.1: the lines after the first of an EHLO reply are keywords with
// parameters (RFC 1870 SIZE, 2920 PIPELINING, 3030 CHUNKING, 3207 STARTTLS, 3461 DSN, 4954 AUTH,
// 6152 8BITMIME, 6531 SMTPUTF8, 2034 ENHANCEDSTATUSCODES).
//
// Guarantees: pure functions over strings, no I/O. The parser takes one line at a time (with
// its "\r\n", a bare "\n", or none) and answers need_more, complete or malformed; it keeps at
// most kMaxReplyLines lines of at most kMaxReplyLineLength octets each, so no input makes it
// hold more, and once malformed it stays so until reset(). Reply::text() is one line of
// printable ASCII of bounded length, whatever the server sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico::smtpout {

// The most lines one reply may have; a longer reply is malformed.
constexpr std::size_t kMaxReplyLines = 100;
// The longest reply line, terminator included (OutboundRequest::max_line_length).
constexpr std::size_t kMaxReplyLineLength = 8192;
// The longest Reply::text(), in octets (longer texts are cut and end with "...").
constexpr std::size_t kMaxReplyText = 1000;

struct Reply {
  int code = 0;                    // 200..559
  std::vector<std::string> lines;  // each line's text after "NNN-" or "NNN ", no terminator
  std::string status;              // the first line's enhanced status code ("5.1.1"), or ""

  int kind() const { return code / 100; }  // 2, 3, 4 or 5
  // "550 5.1.1 no such user more text": the code, the status, then every line's text with a
  // repeated status removed, joined by spaces; control and non-ASCII octets become '?'.
  std::string text() const;
  // The reply's status, or the generic one of its class ("4.0.0", "5.0.0", "2.0.0").
  std::string status_or_default() const;
};

class ReplyParser {
 public:
  enum class Result { need_more, complete, malformed };

  // One line as the core hands it over. complete: take() holds the reply.
  Result feed(std::string_view line);
  // The reply just completed; the parser then waits for the next one.
  Reply take();
  // Why the input was malformed ("" otherwise).
  const std::string& error() const { return error_; }
  // Forgets a partial or malformed reply.
  void reset();
  // True while some lines of a reply have arrived and its last line has not.
  bool partial() const { return !current_.lines.empty(); }

 private:
  Result fail(std::string why);

  Reply current_;
  Reply done_;
  std::string error_;
};

// What a server's EHLO reply offers.
struct Extensions {
  bool pipelining = false;
  bool size = false;
  std::uint64_t size_limit = 0;  // SIZE n; 0: no fixed limit (or none given)
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  bool chunking = false;
  bool starttls = false;
  bool dsn = false;
  bool enhanced_status_codes = false;
  std::vector<std::string> auth;  // mechanisms, upper case, as offered
};

// The keywords of a 250 reply to EHLO (lines after the first); unknown ones are ignored.
Extensions parse_ehlo(const Reply& reply);

// An RFC 3463 code "c.sss.ddd" at the start of `text` (class 2, 4 or 5, then 1-3 and 1-3
// digits), followed by a space or the end; its length, or 0.
std::size_t enhanced_status_length(std::string_view text);

}  // namespace portico::smtpout
