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

std::size_t TopScanner::take(std::string_view piece) {
  if (done_) return 0;
  for (std::size_t i = 0; i < piece.size(); ++i) {
    const char c = piece[i];
    if (!in_header_) {
      if (c == '\n' && lines_left_-- <= 1) {
        done_ = true;
        return i + 1;
      }
      continue;
    }
    // The header ends at the first empty line (LF or CRLF directly after a line end, or at the
    // very start).
    if (c == '\n') {
      if (line_start_ || cr_only_) {
        in_header_ = false;
        if (lines_left_ == 0) {
          done_ = true;
          return i + 1;
        }
      }
      line_start_ = true;
      cr_only_ = false;
      continue;
    }
    cr_only_ = line_start_ && c == '\r';
    line_start_ = false;
  }
  return piece.size();
}

std::size_t top_length(std::string_view message, std::uint64_t body_lines) {
  return TopScanner(body_lines).take(message);
}

}  // namespace portico::pop
