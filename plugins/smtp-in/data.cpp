// smtp-in — message content (see data.h).
#include "data.h"

#include <strings.h>

namespace portico::smtp {

namespace {

// Enough of a header line to recognise "Received:".
constexpr std::size_t kHeaderNameProbe = 9;

}  // namespace

void MessageMeter::header_line_done() {
  if (header_start_.size() >= kHeaderNameProbe &&
      strncasecmp(header_start_.data(), "Received:", kHeaderNameProbe) == 0) {
    ++hops_;
    if (max_hops_ >= 0 && hops_ > max_hops_) refuse(Verdict::too_many_hops);
  }
  header_start_.clear();
}

bool MessageMeter::feed(std::string_view bytes) {
  size_ += bytes.size();
  if (max_size_ != 0 && size_ > max_size_) refuse(Verdict::too_big);
  if (bytes.find('\0') != std::string_view::npos) refuse(Verdict::nul);
  for (std::size_t i = 0; in_headers_ && i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (line_start_) {
      line_start_ = false;
      if (c == '\r' || c == '\n') {
        in_headers_ = false;  // the empty line ends the header section
        break;
      }
    }
    if (c == '\n') {
      header_line_done();
      line_start_ = true;
    } else if (header_start_.size() < kHeaderNameProbe) {
      header_start_ += c;
    }
  }
  return verdict_ == Verdict::ok;
}

bool DataReader::line(std::string_view line) {
  // Every line arrives LF-terminated; anything but CRLF is a bare LF.
  const bool crlf = line.size() >= 2 && line[line.size() - 2] == '\r';
  if (crlf && line.size() == 3 && line[0] == '.') return true;
  if (!crlf) meter_.refuse(Verdict::bare_lf);
  const std::string_view body = line.substr(0, line.size() - (crlf ? 2 : 1));
  if (body.find('\r') != std::string_view::npos) meter_.refuse(Verdict::bare_cr);
  std::string_view kept = line;
  if (!kept.empty() && kept[0] == '.') kept.remove_prefix(1);  // dot stuffing
  const bool ok = meter_.feed(kept);
  if (ok) sink_(kept);
  return false;
}

}  // namespace portico::smtp
