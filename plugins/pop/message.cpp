// pop — byte-stuffing and TOP (see message.h).
#include "message.h"

#include <cstring>

namespace portico::pop {

void DotStuffer::stuff(std::string_view piece, std::string& out) {
  const char* p = piece.data();
  const char* const end = p + piece.size();
  out.reserve(out.size() + piece.size() + piece.size() / 64 + 4);
  if (pending_cr_ && p != end) {
    pending_cr_ = false;
    out += "\r\n";
    line_start_ = true;
    if (*p == '\n') ++p;  // the CR's own LF
  }
  // A line at a time: find its LF, then any CR before it; copy the octets between in one go.
  while (p != end) {
    if (line_start_ && *p == '.') out += '.';
    const char* lf =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = lf != nullptr ? lf : end;
    const char* cr =
        static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(stop - p)));
    if (cr == nullptr) {
      out.append(p, stop);
      if (lf == nullptr) {
        line_start_ = false;  // p != end: at least one octet went out
        return;
      }
      p = lf + 1;  // a bare LF
    } else {
      out.append(p, cr);
      if (cr + 1 == end) {  // its LF may come in the next piece
        pending_cr_ = true;
        return;
      }
      p = cr[1] == '\n' ? cr + 2 : cr + 1;  // CRLF, or a bare CR
    }
    out += "\r\n";
    line_start_ = true;
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
