// imap — the sections of a message (see message.h): BODY[section] of RFC 9051 section 6.4.5 and
// BINARY[part] of RFC 3516, cut from the message octets as stored.
//
// GMime 3 parses the message once (over the caller's octets, no copy, with a persistent stream so
// that every leaf's content is a substream whose bounds are offsets into the message); the
// PartMap keeps only offsets: for each MIME part where its header begins, where its content
// begins (after the blank line) and where it ends (before the CRLF that belongs to the next
// boundary, RFC 2046 section 5.1.1). Part numbers follow core/store/mime_cache.cpp, so BODY[n]
// and BODYSTRUCTURE agree (same tree, same depth limit). GMime does not report where a multipart
// or message/rfc822 part ends; that end is the start of the line of its parent's next delimiter
// (the boundary GMime read from Content-Type), looked up line by line from the part's start.
//
// Guarantees: sections are the stored octets byte for byte (never re-serialized), except that
// HEADER.FIELDS(.NOT) adds the terminating blank line as CRLF; nothing throws; a part that does
// not exist gives nullopt (Binary::Status::no_part).
#include "message.h"

#include "gmime_support.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <mutex>

namespace portico::imap {

namespace {

using gmime::BorrowedStream;
using gmime::GPtr;
using gmime::iequals;
using gmime::kMaxDepth;
constexpr auto lower = gmime::ascii_lower;
constexpr auto init_gmime = gmime::init;

bool is_blank_char(char c) {
  return c == ' ' || c == '\t';
}

// One MIME part: header [header_begin, header_end) (the blank line included), content
// [header_end, content_end).
struct Node {
  enum class Kind { leaf, multipart, message };
  Kind kind = Kind::leaf;
  std::size_t header_begin = 0;
  std::size_t header_end = 0;
  std::size_t content_end = 0;
  std::string cte;                    // Content-Transfer-Encoding, lower-case, "" when absent
  std::vector<std::size_t> children;  // multipart: its parts; message: the encapsulated body
};

// The offset just past the line that starts at `p` (its LF included).
std::size_t next_line(std::string_view msg, std::size_t p) {
  std::size_t nl = msg.find('\n', p);
  return nl == std::string_view::npos ? msg.size() : nl + 1;
}

// The length of the empty line at `p` ("\r\n" or "\n"), or 0.
std::size_t blank_line_at(std::string_view msg, std::size_t p) {
  if (p < msg.size() && msg[p] == '\n') return 1;
  if (p + 1 < msg.size() && msg[p] == '\r' && msg[p + 1] == '\n') return 2;
  return 0;
}

class Builder {
 public:
  Builder(std::string_view msg, std::vector<Node>& nodes) : msg_(msg), nodes_(nodes) {}

  // Adds `obj` whose header starts at `hb` and which ends at the latest at `end`; `outer` is the
  // message whose body `obj` is (its header block is shared), or null.
  std::size_t add(GMimeObject* obj, GMimeObject* outer, std::size_t hb, std::size_t end,
                  int depth) {
    std::size_t index = nodes_.size();
    nodes_.emplace_back();
    Node n;
    n.header_begin = hb;
    n.cte = cte_of(obj);
    n.header_end = std::clamp(header_end(obj, outer, hb), hb, end);
    n.content_end = end;

    if (GMIME_IS_MULTIPART(obj) && depth < kMaxDepth) {
      n.kind = Node::Kind::multipart;
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      const char* b = g_mime_multipart_get_boundary(mp);
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
      n.kind = Node::Kind::message;
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      GMimeObject* body = g_mime_message_get_mime_part(inner);
      if (body != nullptr) {
        n.children.push_back(add(body, GMIME_OBJECT(inner), n.header_end, end, depth + 1));
      } else {
        // A message without a body part: its header alone.
        std::size_t ihe =
            std::clamp(header_end(GMIME_OBJECT(inner), nullptr, n.header_end), n.header_end, end);
        Node body_node;
        body_node.header_begin = n.header_end;
        body_node.header_end = ihe;
        body_node.content_end = end;
        n.children.push_back(nodes_.size());
        nodes_.push_back(std::move(body_node));
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
        n.header_end = std::clamp(start, hb, n.content_end);
      }
    }
    nodes_[index] = std::move(n);
    return index;
  }

  // The header end of a message without a body part (or that GMime could not read).
  std::size_t raw_header_end(std::size_t from) const {
    std::size_t p = from;
    while (p < msg_.size()) {
      if (std::size_t blank = blank_line_at(msg_, p)) return p + blank;
      p = next_line(msg_, p);
    }
    return msg_.size();
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
      if (!std::isspace(static_cast<unsigned char>(*c))) out += lower(*c);
    return out;
  }

  std::string_view msg_;
  std::vector<Node>& nodes_;
};

// The fields of a header block named (or, with `keep_named` false, not named) in `names`, in
// message order with their continuation lines, and the blank line that ends a header.
std::string header_fields(std::string_view block, const std::vector<std::string>& names,
                          bool keep_named) {
  std::string out;
  std::size_t p = 0;
  while (p < block.size() && blank_line_at(block, p) == 0) {
    std::size_t start = p;
    p = next_line(block, p);
    while (p < block.size() && is_blank_char(block[p]) && blank_line_at(block, p) == 0)
      p = next_line(block, p);
    std::string_view field = block.substr(start, p - start);
    std::size_t colon = field.find(':');
    std::string_view name = field.substr(0, colon == std::string_view::npos ? 0 : colon);
    while (!name.empty() && is_blank_char(name.back()))
      name.remove_suffix(1);
    bool named =
        !name.empty() && std::any_of(names.begin(), names.end(),
                                     [&](const std::string& n) { return iequals(n, name); });
    if (named != keep_named) continue;
    out.append(field);
    if (field.empty() || field.back() != '\n') out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::optional<std::string> header_section(std::string_view block, const Section& section) {
  switch (section.text) {
    case Section::Text::header:
      return std::string(block);
    case Section::Text::header_fields:
      return header_fields(block, section.fields, true);
    case Section::Text::header_fields_not:
      return header_fields(block, section.fields, false);
    default:
      return std::nullopt;
  }
}

// `content` with its transfer encoding undone by GMime's decoding filter.
std::string decode(std::string_view content, GMimeContentEncoding encoding) {
  std::string out;
  BorrowedStream source(content);
  GPtr<GMimeStream> filtered(g_mime_stream_filter_new(source.get()));
  GPtr<GMimeFilter> filter(g_mime_filter_basic_new(encoding, FALSE));
  g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), filter.get());
  char buf[16384];
  for (int idle = 0; idle < 4;) {
    ssize_t n = g_mime_stream_read(filtered.get(), buf, sizeof buf);
    if (n < 0) break;
    if (n == 0) {
      if (g_mime_stream_eos(filtered.get())) break;
      ++idle;
      continue;
    }
    idle = 0;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

struct PartMap::Impl {
  std::string_view message;
  std::vector<Node> nodes;  // nodes[0]: the message's body, whose header is the message header

  // The node of a part number (RFC 9051 section 6.4.5), or nullopt.
  std::optional<std::size_t> resolve(const std::vector<std::uint32_t>& part) const {
    if (nodes.empty() || part.empty()) return std::nullopt;
    std::size_t cur = 0;
    for (std::size_t i = 0; i < part.size(); ++i) {
      std::uint32_t k = part[i];
      if (k == 0) return std::nullopt;
      std::size_t body;  // the body of the message whose parts `k` numbers
      if (i == 0) {
        body = 0;
      } else if (nodes[cur].kind == Node::Kind::message && !nodes[cur].children.empty()) {
        body = nodes[cur].children[0];
      } else if (nodes[cur].kind == Node::Kind::multipart) {
        if (k > nodes[cur].children.size()) return std::nullopt;
        cur = nodes[cur].children[k - 1];
        continue;
      } else {
        return std::nullopt;
      }
      const Node& b = nodes[body];
      if (b.kind == Node::Kind::multipart) {
        if (k > b.children.size()) return std::nullopt;
        cur = b.children[k - 1];
      } else if (k == 1) {
        cur = body;
      } else {
        return std::nullopt;
      }
    }
    return cur;
  }

  std::string_view slice(std::size_t begin, std::size_t end) const {
    return message.substr(begin, end > begin ? end - begin : 0);
  }
};

PartMap::PartMap(std::string_view message) : impl_(std::make_unique<Impl>()) {
  impl_->message = message;
  auto& nodes = impl_->nodes;
  try {
    init_gmime();
    Builder builder(message, nodes);
    BorrowedStream stream(message);
    GPtr<GMimeMessage> msg;
    {
      GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
      g_mime_parser_set_persist_stream(parser.get(), TRUE);
      msg.reset(g_mime_parser_construct_message(parser.get(), nullptr));
    }
    GMimeObject* body = msg ? g_mime_message_get_mime_part(msg.get()) : nullptr;
    if (body != nullptr) {
      builder.add(body, GMIME_OBJECT(msg.get()), 0, message.size(), 0);
    } else {
      Node n;
      n.header_end = builder.raw_header_end(0);
      n.content_end = message.size();
      nodes.push_back(std::move(n));
    }
  } catch (...) {
    nodes.clear();
  }
}

PartMap::~PartMap() = default;

std::optional<std::string> PartMap::section(const Section& section) const {
  try {
    const Impl& m = *impl_;
    if (m.nodes.empty()) return std::nullopt;
    if (section.part.empty()) {
      const Node& root = m.nodes[0];
      switch (section.text) {
        case Section::Text::none:
          return std::string(m.message);
        case Section::Text::text:
          return std::string(m.slice(root.header_end, m.message.size()));
        case Section::Text::mime:
          return std::nullopt;
        default:
          return header_section(m.slice(0, root.header_end), section);
      }
    }
    auto index = m.resolve(section.part);
    if (!index) return std::nullopt;
    const Node& n = m.nodes[*index];
    switch (section.text) {
      case Section::Text::none:
        return std::string(m.slice(n.header_end, n.content_end));
      case Section::Text::mime:
        return std::string(m.slice(n.header_begin, n.header_end));
      default:
        break;
    }
    // HEADER, TEXT, HEADER.FIELDS: of the message a message/rfc822 part holds.
    if (n.kind != Node::Kind::message || n.children.empty()) return std::nullopt;
    const Node& body = m.nodes[n.children[0]];
    if (section.text == Section::Text::text)
      return std::string(m.slice(body.header_end, n.content_end));
    return header_section(m.slice(body.header_begin, body.header_end), section);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<std::string> top_level_section(std::string_view message, const Section& section) {
  try {
    // The header ends with the first empty line (RFC 5322 section 2.1), which belongs to it.
    std::size_t header_end = message.size();
    if (message.substr(0, 2) == "\r\n") {
      header_end = 2;
    } else if (!message.empty() && message[0] == '\n') {
      header_end = 1;
    } else {
      for (std::size_t at = message.find('\n'); at != std::string_view::npos;
           at = message.find('\n', at + 1)) {
        std::string_view next = message.substr(at + 1);
        if (next.substr(0, 2) == "\r\n") {
          header_end = at + 3;
          break;
        }
        if (!next.empty() && next[0] == '\n') {
          header_end = at + 2;
          break;
        }
      }
    }
    switch (section.text) {
      case Section::Text::none:
        return std::string(message);
      case Section::Text::text:
        return std::string(message.substr(header_end));
      case Section::Text::mime:
        return std::nullopt;
      default:
        return header_section(message.substr(0, header_end), section);
    }
  } catch (...) {
    return std::nullopt;
  }
}

PartMap::Binary PartMap::binary(const Section& section) const {
  Binary out;
  try {
    const Impl& m = *impl_;
    if (section.text != Section::Text::none) {
      out.status = Binary::Status::no_part;
      return out;
    }
    if (section.part.empty()) {
      out.octets = std::string(m.message);
      return out;
    }
    auto index = m.resolve(section.part);
    if (!index) {
      out.status = Binary::Status::no_part;
      return out;
    }
    const Node& n = m.nodes[*index];
    std::string_view content = m.slice(n.header_end, n.content_end);
    if (n.cte.empty() || n.cte == "7bit" || n.cte == "8bit" || n.cte == "binary") {
      out.octets = std::string(content);
    } else if (n.cte == "base64") {
      init_gmime();
      out.octets = decode(content, GMIME_CONTENT_ENCODING_BASE64);
    } else if (n.cte == "quoted-printable") {
      init_gmime();
      out.octets = decode(content, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    } else {
      out.status = Binary::Status::unknown_cte;
    }
  } catch (...) {
    out = Binary{};
    out.status = Binary::Status::no_part;
  }
  return out;
}

}  // namespace portico::imap
