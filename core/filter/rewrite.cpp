// Portico core — the filter's edits of a message's header section (see rewrite.h).
#include "core/filter/rewrite.h"

#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace portico::core::filter {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The name of the field starting at `field` ("" when the line is not a field).
std::string_view field_name(std::string_view field) {
  const auto colon = field.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view name = field.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
    name.remove_suffix(1);
  return name;
}

// Where the message's header section ends (just after its empty line), or npos.
std::size_t header_end(std::string_view octets) {
  if (octets.substr(0, 2) == "\r\n") return 2;
  const auto at = octets.find("\r\n\r\n");
  return at == std::string_view::npos ? at : at + 4;
}

}  // namespace

std::string edit_header(std::string_view header, bool complete, const Decision& d) {
  std::string out;
  for (const auto& [name, value] : d.add)
    out += format_field(name, value);
  if (!complete) return out.append(header);
  bool subject_done = !d.subject.has_value();
  std::size_t pos = 0;
  while (pos < header.size()) {
    // One field: its first line and every folded line after it.
    std::size_t end = pos;
    do {
      const auto eol = header.find("\r\n", end);
      end = eol == std::string_view::npos ? header.size() : eol + 2;
    } while (end < header.size() && (header[end] == ' ' || header[end] == '\t'));
    std::string_view field = header.substr(pos, end - pos);
    pos = end;
    if (field == "\r\n") {  // the empty line: the end of the header section
      if (!subject_done) out += format_field("Subject", *d.subject);
      subject_done = true;
      out += field;
      continue;
    }
    const std::string_view name = field_name(field);
    if (!name.empty() && d.subject && iequal(name, "Subject")) {
      if (!subject_done) out += format_field("Subject", *d.subject);
      subject_done = true;  // a second Subject field goes too
      continue;
    }
    const bool removed =
        !name.empty() && std::any_of(d.remove.begin(), d.remove.end(),
                                     [&](const std::string& r) { return iequal(name, r); });
    if (!removed) out += field;
  }
  return out;
}

sdk::QueueStatus rewrite_message(const Decision& d, const std::string_view* octets,
                                 const std::string& path, sdk::IncomingMessage& out) {
  if (octets != nullptr) {
    const auto end = header_end(*octets);
    const bool complete = end != std::string_view::npos;
    const std::size_t split = complete ? end : 0;
    if (auto s = out.append(edit_header(octets->substr(0, split), complete, d)); !s.ok()) return s;
    return out.append(octets->substr(split));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {sdk::QueueError::io, "open " + path + ": " + std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::string buffer(64 * 1024, '\0');
  std::string head;  // the octets read while looking for the end of the header section
  bool head_done = false;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return {sdk::QueueError::io, "read " + path + ": " + std::strerror(errno)};
    }
    std::string_view chunk(buffer.data(), static_cast<std::size_t>(n));
    if (!head_done) {
      head.append(chunk);
      const auto end = header_end(head);
      const bool complete = end != std::string::npos;
      if (!complete && n > 0 && head.size() < kMaxHeaderScan) continue;
      head_done = true;
      const std::size_t split = complete ? end : 0;
      std::string_view whole(head);
      if (auto s = out.append(edit_header(whole.substr(0, split), complete, d)); !s.ok()) return s;
      if (auto s = out.append(whole.substr(split)); !s.ok()) return s;
      head.clear();
      head.shrink_to_fit();
    } else if (n > 0) {
      if (auto s = out.append(chunk); !s.ok()) return s;
    }
    if (n == 0) break;
  }
  return {};
}

}  // namespace portico::core::filter
