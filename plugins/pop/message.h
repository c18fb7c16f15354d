// pop — a message as it goes on the wire in a RETR or TOP reply (RFC 1939 sections 3, 7, 11).
//
// DotStuffer turns message octets, given in pieces split anywhere, into the body of a multi-line
// response: every line that begins with "." gets one more "." (byte-stuffing), bare LF and bare
// CR become CRLF so that the client sees only CRLF line ends, and finish() closes the response
// with CRLF (when the message does not end with one) and the terminating ".\r\n". The output
// never depends on where the input was split. top_length() finds how much of a message TOP
// sends: the header, the blank line after it, and the first n lines of the body.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::pop {

class DotStuffer {
 public:
  // Appends the stuffed form of `piece` to `out`.
  void stuff(std::string_view piece, std::string& out);
  // Appends the end of the response ("\r\n" if needed, then ".\r\n") to `out`.
  void finish(std::string& out);

 private:
  bool line_start_ = true;
  bool pending_cr_ = false;  // a CR whose LF may come in the next piece
};

// TOP over a message given in pieces: take() says how many leading octets of each piece belong
// to the reply, the same cut top_length() makes on the whole message.
class TopScanner {
 public:
  explicit TopScanner(std::uint64_t body_lines) : lines_left_(body_lines) {}
  std::size_t take(std::string_view piece);
  bool done() const { return done_; }

 private:
  std::uint64_t lines_left_;
  bool in_header_ = true;
  bool line_start_ = true;
  bool cr_only_ = false;  // the header line so far is a lone CR
  bool done_ = false;
};

// The number of leading octets of `message` that TOP msg n sends: the header up to and
// including the empty line that ends it, then at most `body_lines` lines of the body (a line
// ending with LF, or the unterminated last line). A message without an empty line is all header.
std::size_t top_length(std::string_view message, std::uint64_t body_lines);

}  // namespace portico::pop
