// Portico core — MIME part offsets (see part_offsets.h).
//
// GMime reports where each leaf's content lies (its content is a substream of the message when
// the parser's stream is persistent) and where each header field begins. It does not report
// where a multipart or a message/rfc822 part ends: that is the line break before its parent's
// next delimiter (RFC 2046 section 5.1.1: the CRLF before a boundary belongs to the boundary),
// the boundary GMime read from Content-Type, looked for line by line from the part's start.
#include "core/store/part_offsets.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <unistd.h>

namespace portico::core::store {

namespace {

// Deepest MIME nesting given offsets: as mime_cache.cpp's BODYSTRUCTURE.
constexpr int kMaxDepth = 32;

using Part = sdk::MessagePart;

bool is_blank_char(char c) {
  return c == ' ' || c == '\t';
}

// Octets of a message in a file, read through a window with pread (never mapped or held whole):
// the few operations of std::string_view the Builder uses.
class FileOctets {
 public:
  FileOctets(int fd, std::size_t size) : fd_(fd), size_(size) {}
  std::size_t size() const { return size_; }
  char operator[](std::size_t i) const { return load(i, 1) ? window_[i - start_] : '\0'; }
  std::size_t find(char c, std::size_t pos) const {
    for (; pos < size_; pos = start_ + window_.size()) {
      if (!load(pos, 1)) break;
      std::size_t at = window_.find(c, pos - start_);
      if (at != std::string::npos) return start_ + at;
    }
    return std::string_view::npos;
  }
  std::size_t find(const std::string& needle, std::size_t pos) const {
    if (needle.empty()) return pos <= size_ ? pos : std::string_view::npos;
    while (pos + needle.size() <= size_) {
      if (!load(pos, needle.size())) break;
      std::size_t at = window_.find(needle, pos - start_);
      if (at != std::string::npos) return start_ + at;
      pos = start_ + window_.size() - needle.size() + 1;  // a match may straddle the windows
    }
    return std::string_view::npos;
  }
  int compare(std::size_t pos, std::size_t n, const char* s) const {
    n = std::min(n, size_ > pos ? size_ - pos : 0);
    if (!load(pos, n)) return 1;
    return std::string_view(window_).substr(pos - start_, n).compare(s);
  }

 private:
  // Makes [pos, pos + n) (n clamped to the file) lie in the window.
  bool load(std::size_t pos, std::size_t n) const {
    if (pos >= size_) return false;
    n = std::min(n, size_ - pos);
    if (pos >= start_ && pos + n <= start_ + window_.size()) return true;
    std::size_t want = std::min(std::max(kWindow, n), size_ - pos);
    window_.resize(want);
    std::size_t got = 0;
    while (got < want) {
      ssize_t r = ::pread(fd_, window_.data() + got, want - got, static_cast<off_t>(pos + got));
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    window_.resize(got);
    start_ = pos;
    return got >= n;
  }
  static constexpr std::size_t kWindow = 64 * 1024;
  int fd_;
  std::size_t size_;
  mutable std::string window_;
  mutable std::size_t start_ = 0;
};

// The offset just past the line that starts at `p` (its LF included).
template <class Octets>
std::size_t next_line(const Octets& msg, std::size_t p) {
  std::size_t nl = msg.find('\n', p);
  return nl == std::string_view::npos ? msg.size() : nl + 1;
}

// The length of the empty line at `p` ("\r\n" or "\n"), or 0.
template <class Octets>
std::size_t blank_line_at(const Octets& msg, std::size_t p) {
  if (p < msg.size() && msg[p] == '\n') return 1;
  if (p + 1 < msg.size() && msg[p] == '\r' && msg[p + 1] == '\n') return 2;
  return 0;
}

// Where a header block that starts at `from` ends, its empty line included (the end of the
// octets when there is none).
template <class Octets>
std::size_t raw_header_end(const Octets& msg, std::size_t from) {
  std::size_t p = from;
  while (p < msg.size()) {
    if (std::size_t blank = blank_line_at(msg, p)) return p + blank;
    p = next_line(msg, p);
  }
  return msg.size();
}

template <class Octets>
class Builder {
 public:
  Builder(const Octets& msg, std::vector<Part>& parts) : msg_(msg), parts_(parts) {}

  // Adds `obj` whose header starts at `hb` and which ends at the latest at `end`; `outer` is the
  // message whose body `obj` is (its header block is shared), or null.
  std::uint32_t add(GMimeObject* obj, GMimeObject* outer, std::size_t hb, std::size_t end,
                    int depth) {
    auto index = static_cast<std::uint32_t>(parts_.size());
    parts_.emplace_back();
    Part n;
    n.header_begin = hb;
    n.transfer_encoding = cte_of(obj);
    n.header_end = std::clamp(header_end(obj, outer, hb), hb, end);
    n.content_end = end;

    if (GMIME_IS_MULTIPART(obj) && depth < kMaxDepth) {
      n.kind = Part::Kind::multipart;
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      // The boundary as the header gives it: g_mime_multipart_get_boundary() would make one up
      // for a multipart without (re-encoding its Content-Type, which with some malformed
      // parameters asks GLib for gigabytes and aborts).
      GMimeContentType* type = g_mime_object_get_content_type(obj);
      const char* b = type ? g_mime_content_type_get_parameter(type, "boundary") : nullptr;
      std::string delimiter = std::string("--") + (b ? b : "");
      std::size_t from = n.header_end;
      int count = g_mime_multipart_get_count(mp);
      for (int i = 0; i < count; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(mp, i);
        std::size_t chb = std::clamp(child_begin(child, from), from, end);
        std::size_t cend = b ? delimiter_before(delimiter, chb, end) : end;
        n.children.push_back(add(child, nullptr, chb, cend, depth + 1));
        from = cend;
      }
    } else if (GMIME_IS_MESSAGE_PART(obj) && depth < kMaxDepth &&
               g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj)) != nullptr) {
      n.kind = Part::Kind::message;
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      GMimeObject* body = g_mime_message_get_mime_part(inner);
      const auto content = static_cast<std::size_t>(n.header_end);
      if (body != nullptr) {
        n.children.push_back(add(body, GMIME_OBJECT(inner), content, end, depth + 1));
      } else {
        // A message without a body part: its header alone.
        std::size_t ihe =
            std::clamp(header_end(GMIME_OBJECT(inner), nullptr, content), content, end);
        Part body_part;
        body_part.header_begin = content;
        body_part.header_end = ihe;
        body_part.content_end = end;
        n.children.push_back(static_cast<std::uint32_t>(parts_.size()));
        parts_.push_back(std::move(body_part));
      }
    } else if (GMIME_IS_PART(obj)) {
      // A leaf: GMime knows where its content lies (a substream of the message).
      GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
      GMimeStream* s = w ? g_mime_data_wrapper_get_stream(w) : nullptr;
      if (s != nullptr && s->bound_start >= 0) {
        auto start = static_cast<std::size_t>(s->bound_start);
        std::size_t stop = s->bound_end < 0 ? end : static_cast<std::size_t>(s->bound_end);
        // GMime leaves the CR of the CRLF before a boundary in an empty part's content; the
        // delimiter found above is authoritative for the end.
        n.content_end = std::clamp(stop, hb, end);
        n.header_end = std::clamp<std::uint64_t>(start, hb, n.content_end);
      }
    }
    parts_[index] = std::move(n);
    return index;
  }

 private:
  // The header offsets GMime recorded for `obj` (and `outer`, which shares its header block).
  static void header_offsets(GMimeObject* obj, std::int64_t& first, std::int64_t& last) {
    GMimeHeaderList* list = obj ? g_mime_object_get_header_list(obj) : nullptr;
    int n = list ? g_mime_header_list_get_count(list) : 0;
    for (int i = 0; i < n; ++i) {
      std::int64_t off = g_mime_header_get_offset(g_mime_header_list_get_header_at(list, i));
      if (off < 0) continue;
      if (first < 0 || off < first) first = off;
      if (off > last) last = off;
    }
  }

  // Where the header block that starts at `hb` ends, its blank line included: after the last
  // field GMime read (with its continuation lines) and the empty line that follows.
  std::size_t header_end(GMimeObject* obj, GMimeObject* outer, std::size_t hb) const {
    std::int64_t first = -1, last = -1;
    header_offsets(obj, first, last);
    header_offsets(outer, first, last);
    std::size_t p = hb;
    if (last >= 0 && static_cast<std::size_t>(last) >= hb &&
        static_cast<std::size_t>(last) < msg_.size()) {
      p = next_line(msg_, static_cast<std::size_t>(last));
      while (p < msg_.size() && is_blank_char(msg_[p]) && blank_line_at(msg_, p) == 0)
        p = next_line(msg_, p);
    }
    return p + blank_line_at(msg_, p);
  }

  // Where a part of a multipart begins (after the delimiter line that precedes it): its first
  // header, or, without one, the empty line before its content.
  std::size_t child_begin(GMimeObject* child, std::size_t from) const {
    std::int64_t first = -1, last = -1;
    header_offsets(child, first, last);
    if (first >= 0) return static_cast<std::size_t>(first);
    if (GMIME_IS_PART(child)) {
      GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(child));
      GMimeStream* s = w ? g_mime_data_wrapper_get_stream(w) : nullptr;
      if (s != nullptr && s->bound_start >= 0) {
        auto start = static_cast<std::size_t>(s->bound_start);
        if (start >= from + 2 && msg_.compare(start - 2, 2, "\r\n") == 0 &&
            (start - 2 == from || msg_[start - 3] == '\n'))
          return start - 2;
        if (start >= from + 1 && msg_[start - 1] == '\n' &&
            (start - 1 == from || msg_[start - 2] == '\n'))
          return start - 1;
        return start;
      }
    }
    return from;
  }

  // The end of a multipart's part that begins at `from`: the line break before the first line in
  // [from, limit) that is the delimiter (or the close delimiter) of that multipart, as GMime
  // recognizes it ("--boundary", optionally "--", then only white space); `limit` if none.
  std::size_t delimiter_before(const std::string& delimiter, std::size_t from,
                               std::size_t limit) const {
    std::size_t pos = from;
    while (pos < limit) {
      pos = msg_.find(delimiter, pos);
      if (pos == std::string_view::npos || pos + delimiter.size() > limit) break;
      if (pos == from || msg_[pos - 1] == '\n') {
        std::size_t q = pos + delimiter.size();
        if (msg_.compare(q, 2, "--") == 0) q += 2;
        while (q < msg_.size() && (is_blank_char(msg_[q]) || msg_[q] == '\r'))
          ++q;
        if (q >= msg_.size() || msg_[q] == '\n') {
          std::size_t end = pos;
          if (end > from && msg_[end - 1] == '\n') --end;
          if (end > from && msg_[end - 1] == '\r') --end;
          return end;
        }
      }
      ++pos;
    }
    return limit;
  }

  static std::string cte_of(GMimeObject* obj) {
    const char* v = g_mime_object_get_header(obj, "Content-Transfer-Encoding");
    std::string out;
    if (v == nullptr) return out;
    for (const char* c = v; *c != 0 && *c != '('; ++c)
      if (!std::isspace(static_cast<unsigned char>(*c)))
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
    return out;
  }

  const Octets& msg_;
  std::vector<Part>& parts_;
};

bool valid(const std::vector<Part>& parts, std::uint64_t size) {
  if (parts.empty()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Part& p = parts[i];
    if (!(p.header_begin <= p.header_end && p.header_end <= p.content_end && p.content_end <= size))
      return false;
    for (std::uint32_t c : p.children)
      if (c <= i || c >= parts.size()) return false;
  }
  return true;
}

template <class Octets>
std::vector<sdk::MessagePart> offsets(const Octets& message, GMimeMessage* parsed) {
  std::vector<Part> parts;
  try {
    GMimeObject* body = parsed ? g_mime_message_get_mime_part(parsed) : nullptr;
    if (body != nullptr) {
      Builder<Octets>(message, parts).add(body, GMIME_OBJECT(parsed), 0, message.size(), 0);
    } else {
      Part n;
      n.header_end = raw_header_end(message, 0);
      n.content_end = message.size();
      parts.push_back(std::move(n));
    }
  } catch (...) {
    parts.clear();
  }
  if (!valid(parts, message.size())) {  // never expected; the whole message as one part then
    parts.assign(1, Part{});
    parts[0].header_end = raw_header_end(message, 0);
    parts[0].content_end = message.size();
  }
  return parts;
}

}  // namespace

std::vector<sdk::MessagePart> part_offsets(std::string_view message, GMimeMessage* parsed) {
  return offsets(message, parsed);
}

std::vector<sdk::MessagePart> part_offsets(int fd, std::uint64_t size, GMimeMessage* parsed) {
  return offsets(FileOctets(fd, static_cast<std::size_t>(size)), parsed);
}

// One line a part: "<kind> <header_begin> <header_end> <content_end> <cte or -> [child...]".
std::string encode_parts(const std::vector<sdk::MessagePart>& parts) {
  std::string out;
  for (const Part& p : parts) {
    out += p.kind == Part::Kind::multipart ? 'm' : p.kind == Part::Kind::message ? 'r' : 'l';
    for (std::uint64_t v : {p.header_begin, p.header_end, p.content_end})
      out += ' ' + std::to_string(v);
    out += ' ' + (p.transfer_encoding.empty() ? std::string("-") : p.transfer_encoding);
    for (std::uint32_t c : p.children)
      out += ' ' + std::to_string(c);
    out += '\n';
  }
  return out;
}

std::optional<std::vector<sdk::MessagePart>> decode_parts(std::string_view text,
                                                          std::uint64_t size) {
  std::vector<Part> parts;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    std::vector<std::string_view> words;
    for (std::size_t at = 0; at <= line.size();) {
      std::size_t sp = std::min(line.find(' ', at), line.size());
      words.push_back(line.substr(at, sp - at));
      at = sp + 1;
    }
    if (words.size() < 5 || words[0].size() != 1) return std::nullopt;
    Part p;
    switch (words[0][0]) {
      case 'l':
        p.kind = Part::Kind::leaf;
        break;
      case 'm':
        p.kind = Part::Kind::multipart;
        break;
      case 'r':
        p.kind = Part::Kind::message;
        break;
      default:
        return std::nullopt;
    }
    auto number = [](std::string_view w, auto& out) {
      auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), out);
      return ec == std::errc() && end == w.data() + w.size() && !w.empty();
    };
    if (!number(words[1], p.header_begin) || !number(words[2], p.header_end) ||
        !number(words[3], p.content_end))
      return std::nullopt;
    if (words[4] != "-") p.transfer_encoding = std::string(words[4]);
    for (std::size_t i = 5; i < words.size(); ++i) {
      std::uint32_t c = 0;
      if (!number(words[i], c)) return std::nullopt;
      p.children.push_back(c);
    }
    parts.push_back(std::move(p));
  }
  if (!valid(parts, size)) return std::nullopt;
  return parts;
}

}  // namespace portico::core::store
