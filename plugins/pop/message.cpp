// pop — byte-stuffing and TOP (see message.h).
#include "message.h"

namespace portico::pop {

void DotStuffer::stuff(std::string_view piece, std::string& out) {
  out.reserve(out.size() + piece.size() + piece.size() / 64 + 4);
  for (const char c : piece) {
    if (pending_cr_) {
      pending_cr_ = false;
      out += "\r\n";
      line_start_ = true;
      if (c == '\n') continue;  // the CR's own LF
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    if (c == '\n') {
      out += "\r\n";
      line_start_ = true;
      continue;
    }
    if (line_start_ && c == '.') out += '.';
    line_start_ = false;
    out += c;
  }
}

void DotStuffer::finish(std::string& out) {
  if (pending_cr_) {
    pending_cr_ = false;
    out += "\r\n";
    line_start_ = true;
  }
  if (!line_start_) out += "\r\n";
  out += ".\r\n";
  line_start_ = true;
}

std::size_t top_length(std::string_view message, std::uint64_t body_lines) {
  // The header ends at the first empty line (LF or CRLF directly after a line end, or at the
  // very start).
  std::size_t pos = 0;
  bool found = false;
  while (pos < message.size()) {
    const std::size_t eol = message.find('\n', pos);
    if (eol == std::string_view::npos) return message.size();
    const std::size_t length = eol - pos;
    pos = eol + 1;
    if (length == 0 || (length == 1 && message[eol - 1] == '\r')) {
      found = true;
      break;
    }
  }
  if (!found) return message.size();
  for (std::uint64_t n = 0; n < body_lines && pos < message.size(); ++n) {
    const std::size_t eol = message.find('\n', pos);
    if (eol == std::string_view::npos) return message.size();
    pos = eol + 1;
  }
  return pos;
}

}  // namespace portico::pop
