// imap — the sections of a message (see message.h): BODY[section] of RFC 9051 section 6.4.5 and
// BINARY[part] of RFC 3516, as octet ranges of the message as stored.
//
// Part numbers resolve through the store's part offsets (sdk::MessageParts: for each MIME part
// where its header begins, where its content begins, after the blank line, and where it ends,
// before the CRLF that belongs to the next boundary, RFC 2046 section 5.1.1). Part numbers
// follow the store's BODYSTRUCTURE (same tree, same depth limit), so BODY[n] and BODYSTRUCTURE
// agree.
//
// Guarantees: sections are the stored octets byte for byte (never re-serialized), except that
// HEADER.FIELDS(.NOT) adds the terminating blank line as CRLF; nothing throws; a part that does
// not exist gives nullopt (Binary::Status::no_part).
#include "message.h"

#include <algorithm>

#include "gmime_support.h"

namespace portico::imap {

namespace {

using gmime::BorrowedStream;
using gmime::GPtr;
using gmime::iequals;
constexpr auto init_gmime = gmime::init;

bool is_blank_char(char c) {
  return c == ' ' || c == '\t';
}

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

// `content` decoded by GMime's filter for `encoding`.
std::string decode_with(std::string_view content, GMimeContentEncoding encoding) {
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

bool is_header_text(Section::Text t) {
  return t == Section::Text::header || t == Section::Text::header_fields ||
         t == Section::Text::header_fields_not;
}

}  // namespace

std::optional<std::size_t> PartMap::resolve(const std::vector<std::uint32_t>& part) const {
  const auto& nodes = parts_.parts;
  using Kind = sdk::MessagePart::Kind;
  if (nodes.empty() || part.empty()) return std::nullopt;
  std::size_t cur = 0;
  for (std::size_t i = 0; i < part.size(); ++i) {
    std::uint32_t k = part[i];
    if (k == 0) return std::nullopt;
    std::size_t body;  // the body of the message whose parts `k` numbers
    if (i == 0) {
      body = 0;
    } else if (nodes[cur].kind == Kind::message && !nodes[cur].children.empty()) {
      body = nodes[cur].children[0];
    } else if (nodes[cur].kind == Kind::multipart) {
      if (k > nodes[cur].children.size()) return std::nullopt;
      cur = nodes[cur].children[k - 1];
      continue;
    } else {
      return std::nullopt;
    }
    const auto& b = nodes[body];
    if (b.kind == Kind::multipart) {
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

std::optional<OctetRange> PartMap::section(const Section& section) const {
  const auto& nodes = parts_.parts;
  if (section.part.empty() && section.text == Section::Text::none)
    return OctetRange{0, parts_.size};
  if (nodes.empty()) return std::nullopt;
  if (section.part.empty()) {
    const auto& root = nodes[0];
    if (section.text == Section::Text::text) return OctetRange{root.header_end, parts_.size};
    if (is_header_text(section.text)) return OctetRange{0, root.header_end};
    return std::nullopt;  // MIME needs a part number
  }
  auto index = resolve(section.part);
  if (!index) return std::nullopt;
  const auto& n = nodes[*index];
  if (section.text == Section::Text::none) return OctetRange{n.header_end, n.content_end};
  if (section.text == Section::Text::mime) return OctetRange{n.header_begin, n.header_end};
  // HEADER, TEXT, HEADER.FIELDS: of the message a message/rfc822 part holds.
  if (n.kind != sdk::MessagePart::Kind::message || n.children.empty()) return std::nullopt;
  const auto& body = nodes[n.children[0]];
  if (section.text == Section::Text::text) return OctetRange{body.header_end, n.content_end};
  return OctetRange{body.header_begin, body.header_end};
}

PartMap::Binary PartMap::binary(const Section& section) const {
  Binary out;
  if (section.text != Section::Text::none) {
    out.status = Binary::Status::no_part;
    return out;
  }
  if (section.part.empty()) {
    out.content = OctetRange{0, parts_.size};
    return out;
  }
  auto index = resolve(section.part);
  if (!index) {
    out.status = Binary::Status::no_part;
    return out;
  }
  const auto& n = parts_.parts[*index];
  out.content = OctetRange{n.header_end, n.content_end};
  out.encoding = n.transfer_encoding;
  if (!decode("", out.encoding)) out.status = Binary::Status::unknown_cte;
  return out;
}

bool plain_range(const Section& section) {
  return section.text != Section::Text::header_fields &&
         section.text != Section::Text::header_fields_not;
}

std::string section_octets(const Section& section, std::string range_octets) {
  try {
    if (plain_range(section)) return range_octets;
    return header_fields(range_octets, section.fields,
                         section.text == Section::Text::header_fields);
  } catch (...) {
    return {};
  }
}

std::optional<std::string> decode(std::string_view content, const std::string& encoding) {
  try {
    if (encoding.empty() || encoding == "7bit" || encoding == "8bit" || encoding == "binary")
      return std::string(content);
    if (encoding == "base64") {
      init_gmime();
      return decode_with(content, GMIME_CONTENT_ENCODING_BASE64);
    }
    if (encoding == "quoted-printable") {
      init_gmime();
      return decode_with(content, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    }
  } catch (...) {
    return std::string();
  }
  return std::nullopt;
}

}  // namespace portico::imap
