// smtp-out — reading and encoding the outgoing message (see message_stream.h).
#include "message_stream.h"

#include <cerrno>
#include <cstring>

namespace portico::smtpout {

void DataEncoder::encode(std::string_view piece, std::string& out) {
  out.reserve(out.size() + piece.size() + piece.size() / 64 + 8);
  for (char c : piece) {
    if (c == '\n' && !after_cr_) out += '\r';  // a bare LF ends a line as CRLF
    if (line_start_ && dot_stuff_ && c == '.') out += '.';
    out += c;
    after_cr_ = c == '\r';
    line_start_ = c == '\n';
  }
  if (!piece.empty()) empty_ = false;
}

void DataEncoder::finish(std::string& out) {
  if (!empty_ && !line_start_) {
    // A CR at the very end is the start of the missing CRLF.
    out += after_cr_ ? "\n" : "\r\n";
  }
  if (dot_stuff_) out += ".\r\n";
  line_start_ = true;
  after_cr_ = false;
}

MessageReader::~MessageReader() {
  if (file_ != nullptr) std::fclose(file_);
}

Piece MessageReader::next() {
  Piece piece;
  if (failed_) {
    piece.error = "the message could not be read";
    return piece;
  }
  if (file_ == nullptr) {
    file_ = std::fopen(path_.c_str(), "rb");
    if (file_ == nullptr) {
      failed_ = true;
      piece.error = "cannot open " + path_ + ": " + std::strerror(errno);
      return piece;
    }
  }
  piece.data.resize(kPieceSize);
  const std::size_t n = std::fread(piece.data.data(), 1, kPieceSize, file_);
  piece.data.resize(n);
  if (std::ferror(file_)) {
    failed_ = true;
    piece.data.clear();
    piece.error = "cannot read " + path_ + ": " + std::strerror(errno);
    return piece;
  }
  if (n < kPieceSize) {
    piece.last = true;
  } else {
    const int c = std::fgetc(file_);
    if (c == EOF) {
      piece.last = !std::ferror(file_);
      if (!piece.last) {
        failed_ = true;
        piece.data.clear();
        piece.error = "cannot read " + path_;
      }
    } else {
      std::ungetc(c, file_);
    }
  }
  return piece;
}

}  // namespace portico::smtpout
