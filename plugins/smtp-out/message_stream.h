// smtp-out — a spooled message as it goes out: read in pieces, put in canonical form, and
// dot-stuffed for DATA.
//
// RFC 5321 section 4.5.2: a line of the message that starts with "." gets one more "." before
// it (DATA only; BDAT, RFC 3030, sends the octets as they are), and the data ends with
// CRLF "." CRLF, a CRLF first when the message does not end with one. Section 2.3.8: lines end
// in CRLF, so a bare LF in the spool file goes out as CRLF (in both modes, so that a BDAT chunk
// and DATA carry the same message). A line and a CRLF may span pieces: the encoder keeps what it
// needs (at the start of a line? a CR just before?) from one piece to the next.
//
// MessageReader reads the file in pieces of at most kPieceSize octets; it blocks on the disk and
// is used on the delivery pool only, one call at a time.
#pragma once

#include <cstddef>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace portico::smtpout {

// The most octets read from the spool file at once.
constexpr std::size_t kPieceSize = 64 * 1024;

class DataEncoder {
 public:
  explicit DataEncoder(bool dot_stuff) : dot_stuff_(dot_stuff) {}
  // Appends `piece`, encoded, to `out`.
  void encode(std::string_view piece, std::string& out);
  // Appends the end of the message to `out`: a CRLF when the message does not end with one,
  // then "." CRLF when dot-stuffing (DATA).
  void finish(std::string& out);

 private:
  bool dot_stuff_;
  bool line_start_ = true;  // the next octet starts a line
  bool after_cr_ = false;   // the last octet was a CR
  bool empty_ = true;       // nothing encoded yet
};

// One piece of the message file.
struct Piece {
  std::string data;
  bool last = false;  // the file ends after it
  std::string error;  // the file could not be read (data then empty)
};

class MessageReader {
 public:
  explicit MessageReader(std::string path) : path_(std::move(path)) {}
  ~MessageReader();
  MessageReader(const MessageReader&) = delete;
  MessageReader& operator=(const MessageReader&) = delete;
  // The next piece (opening the file at the first call). Blocking: delivery pool only.
  Piece next();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
};

}  // namespace portico::smtpout
