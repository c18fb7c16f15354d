// xmpp — elements, serialization and the stream parser over expat (see xml.h; RFC 6120 sections
// 4 and 11, XML 1.0 and Namespaces in XML 1.0).
//
// expat runs in namespace mode with a separator that cannot occur in a namespace URI (expat
// refuses such a URI) nor in a name, so an expanded name splits at that separator. Every limit
// is applied at an exact octet offset of the stream (expat is never given octets past the point
// where a limit would be exceeded), which keeps the outcome independent of how the input is cut.
#include "xml.h"

#include <expat.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

namespace portico::xmpp {

namespace {

constexpr char kSeparator = '\x01';
constexpr std::string_view kXmlnsNs = "http://www.w3.org/2000/xmlns/";
constexpr std::size_t kPiece = 16 * 1024;  // the most expat is given in one XML_Parse call
// Estimated cost, in expat's tables, of a name seen (an element type, an attribute, a prefix):
// a new name costs its length plus about 60-120 octets of entry and hash slot.
constexpr std::size_t kNameEntry = 128;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Length of the prefix free of octets that never occur in UTF-8 (NUL aside, which is no XML
// character either).
std::size_t utf8_prefix(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0 || c >= 0xFE) return i;
  }
  return s.size();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Length of the UTF-8 sequence at s[i] if it encodes an XML Char (U+0080 and above, U+FFFE and
// U+FFFF excluded), 0 otherwise.
std::size_t xml_char_length(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  const unsigned c = at(0);
  auto cont = [&](std::size_t k) { return (at(k) & 0xC0u) == 0x80u; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned c1 = at(1);
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && c1 < 0xA0) return 0;                              // overlong
    if (c == 0xED && c1 > 0x9F) return 0;                              // surrogate
    if (c == 0xEF && c1 == 0xBF && (at(2) & 0xFEu) == 0xBE) return 0;  // U+FFFE, U+FFFF
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned c1 = at(1);
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void append_escaped(std::string& out, std::string_view s, bool attribute) {
  std::size_t run = 0;  // start of the octets not yet copied
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::string_view replacement;
    std::size_t length = 1;
    if (c < 0x80) {
      switch (c) {
        case '&':
          replacement = "&amp;";
          break;
        case '<':
          replacement = "&lt;";
          break;
        case '>':
          replacement = "&gt;";
          break;
        case '"':
          if (attribute) replacement = "&quot;";
          break;
        case '\'':
          if (attribute) replacement = "&apos;";
          break;
        case '\t':
          if (attribute) replacement = "&#9;";
          break;
        case '\n':
          if (attribute) replacement = "&#10;";
          break;
        case '\r':
          replacement = "&#13;";
          break;
        default:
          if (c < 0x20) replacement = kReplacement;
      }
    } else {
      length = xml_char_length(s, i);
      if (length == 0) {
        replacement = kReplacement;
        length = 1;
      }
    }
    if (!replacement.empty()) {
      out.append(s.data() + run, i - run);
      out += replacement;
      run = i + length;
    }
    i += length;
  }
  out.append(s.data() + run, s.size() - run);
}

void append_attribute(std::string& out, const std::string& name, const std::string& value,
                      std::vector<std::string_view>& prefixed) {
  std::string_view n = name;
  if (n.starts_with('{')) {
    const std::size_t close = n.rfind('}');
    if (close == std::string_view::npos || close + 1 == n.size()) return;
    const std::string_view uri = n.substr(1, close - 1);
    const std::string_view local = n.substr(close + 1);
    if (uri == kXmlnsNs) return;
    out += ' ';
    if (uri == kXmlNs) {
      out += "xml:";
    } else if (!uri.empty()) {
      auto it = std::find(prefixed.begin(), prefixed.end(), uri);
      const std::string prefix = "ns" + std::to_string(it - prefixed.begin());
      if (it == prefixed.end()) {
        prefixed.push_back(uri);
        out += "xmlns:" + prefix + "=\"";
        append_escaped(out, uri, true);
        out += "\" ";
      }
      out += prefix;
      out += ':';
    }
    out += local;
  } else {
    if (n.empty() || n == "xmlns" || n.starts_with("xmlns:")) return;
    out += ' ';
    out += n;
  }
  out += "=\"";
  append_escaped(out, value, true);
  out += '"';
}

// Splits an expanded name from expat ("uri<separator>local" or "local").
void split_name(const XML_Char* expanded, std::string& ns, std::string& local) {
  const char* sep = std::strrchr(expanded, kSeparator);
  if (sep == nullptr) {
    ns.clear();
    local = expanded;
  } else {
    ns.assign(expanded, sep);
    local = sep + 1;
  }
}

// An attribute's name as Element keeps it: "local", "xml:local" or "{uri}local".
std::string attribute_name(const XML_Char* expanded) {
  const char* sep = std::strrchr(expanded, kSeparator);
  if (sep == nullptr) return expanded;
  const std::string_view uri(expanded, static_cast<std::size_t>(sep - expanded));
  if (uri == kXmlNs) return "xml:" + std::string(sep + 1);
  std::string out;
  out.reserve(uri.size() + std::strlen(sep + 1) + 2);
  out += '{';
  out += uri;
  out += '}';
  out += sep + 1;
  return out;
}

}  // namespace

// --- Element ---

Element::Element(std::string name, std::string ns) : name(std::move(name)), ns(std::move(ns)) {}

const std::string* Element::attr(std::string_view n) const {
  for (const auto& [key, value] : attrs)
    if (key == n) return &value;
  return nullptr;
}

std::string Element::attr_or(std::string_view n, std::string_view fallback) const {
  const std::string* v = attr(n);
  return v != nullptr ? *v : std::string(fallback);
}

void Element::set_attr(std::string_view n, std::string_view value) {
  for (auto& [key, v] : attrs) {
    if (key == n) {
      v.assign(value);
      return;
    }
  }
  attrs.emplace_back(std::string(n), std::string(value));
}

void Element::remove_attr(std::string_view n) {
  std::erase_if(attrs, [&](const auto& a) { return a.first == n; });
}

const Element* Element::child(std::string_view n, std::string_view namespace_uri) const {
  for (const Element& c : children)
    if (c.name == n && (namespace_uri.empty() || c.ns == namespace_uri)) return &c;
  return nullptr;
}

Element* Element::child(std::string_view n, std::string_view namespace_uri) {
  return const_cast<Element*>(std::as_const(*this).child(n, namespace_uri));
}

Element& Element::add_child(Element c) {
  children.push_back(std::move(c));
  return children.back();
}

Element& Element::add_child(std::string n, std::string namespace_uri) {
  return add_child(Element(std::move(n), std::move(namespace_uri)));
}

std::string Element::all_text() const {
  std::string out = text;
  for (const Element& c : children) {
    out += c.all_text();
    out += c.tail;
  }
  return out;
}

// --- serialization ---

std::string escape_text(std::string_view text) {
  std::string out;
  append_escaped(out, text, false);
  return out;
}

std::string escape_attr(std::string_view value) {
  std::string out;
  append_escaped(out, value, true);
  return out;
}

void append_xml(std::string& out, const Element& e, std::string_view inherited_ns) {
  // The XML namespace cannot be declared as a default namespace: its elements keep the prefix.
  const bool xml_prefixed = e.ns == kXmlNs;
  std::string_view scope = inherited_ns;
  out += '<';
  if (xml_prefixed) out += "xml:";
  out += e.name;
  if (!xml_prefixed && e.ns != inherited_ns) {
    out += " xmlns=\"";
    append_escaped(out, e.ns, true);
    out += '"';
    scope = e.ns;
  }
  std::vector<std::string_view> prefixed;  // namespaces of attributes, in prefix order
  for (const auto& [name, value] : e.attrs)
    append_attribute(out, name, value, prefixed);
  if (e.children.empty() && e.text.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  append_escaped(out, e.text, false);
  for (const Element& c : e.children) {
    append_xml(out, c, scope);
    append_escaped(out, c.tail, false);
  }
  out += "</";
  if (xml_prefixed) out += "xml:";
  out += e.name;
  out += '>';
}

std::string to_xml(const Element& element, std::string_view inherited_ns) {
  std::string out;
  append_xml(out, element, inherited_ns);
  return out;
}

std::string_view xml_error_condition(XmlError error) {
  switch (error) {
    case XmlError::none:
      return "";
    case XmlError::not_well_formed:
      return "not-well-formed";
    case XmlError::restricted_xml:
      return "restricted-xml";
    case XmlError::policy_violation:
      return "policy-violation";
    case XmlError::bad_format:
      return "bad-format";
    case XmlError::invalid_namespace:
      return "invalid-namespace";
    case XmlError::unsupported_encoding:
      return "unsupported-encoding";
  }
  return "not-well-formed";
}

// --- the stream parser ---
//
// Offsets are octets since the stream began (since construction or reset()). Before each call
// of XML_Parse, the octets given are cut so that the current stanza (or the header) and the token
// expat has not finished stay within their limits; a limit is exceeded when there are octets left
// to give and none may be given.
//
// A fresh parser takes over at two points: right after the header (the octets that followed it
// were given under the header's limit, not the stanza limits), and after a stanza once expat's
// tables of names (element types, attribute names and prefixes, kept for the whole document) have
// grown by an estimated max_stanza_bytes. It is first given the stream header again (kept in
// `header_bytes`), so that the namespace declarations in scope are the same, then the octets
// from where the old one stopped. expat's byte index restarts with each parser; `delta`
// converts it to a stream offset.

struct XmlStream::Impl {
  Impl(Handler& h, XmlLimits l) : handler(h), limits(l) {
    memory_limit = limits.max_stanza_memory;
    if (memory_limit == 0)
      memory_limit =
          limits.max_stanza_bytes > SIZE_MAX / 16 ? SIZE_MAX : 16 * limits.max_stanza_bytes;
    parser = create_parser();
  }
  ~Impl() {
    if (parser != nullptr) XML_ParserFree(parser);
  }

  Handler& handler;
  XmlLimits limits;
  std::size_t memory_limit = 0;
  XML_Parser parser = nullptr;

  XmlError error = XmlError::none;
  bool stopped = false;          // stop(), or the stream closed
  bool in_parse = false;         // inside XML_Parse (callbacks may run)
  bool reset_pending = false;    // reset() from a callback
  bool rebuild_pending = false;  // a fresh parser is due at rebuild_at
  bool replaying = false;        // a fresh parser is being given the header again
  bool header_done = false;

  std::size_t depth = 0;                // open elements, the stream element included
  std::uint64_t fed = 0;                // octets given to expat
  std::uint64_t mark = 0;               // where the octets of the current stanza (or header) start
  std::uint64_t last_event_end = 0;     // end of the last event expat reported
  std::uint64_t last_nonspace_end = 0;  // end of the last non-whitespace octet received
  std::int64_t delta = 0;               // stream offset minus expat's byte index
  std::uint64_t rebuild_at = 0;         // where the fresh parser takes over
  std::uint64_t stanza_start = 0;       // where the current stanza's start tag began

  std::string header_bytes;  // the stream header as received, for a fresh parser
  std::size_t header_length = 0;
  std::string content_ns;

  Element stanza;
  std::vector<Element*> open;  // the path from the stanza to the innermost open element
  std::size_t stanza_namespaces = 0;
  std::size_t stanza_memory = 0;
  std::size_t name_tables = 0;  // estimated growth of expat's name tables since it was created

  XML_Parser create_parser() {
    XML_Parser p = XML_ParserCreateNS("UTF-8", kSeparator);
    if (p == nullptr) throw std::bad_alloc();
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, &Impl::on_start, &Impl::on_end);
    XML_SetCharacterDataHandler(p, &Impl::on_text);
    XML_SetStartNamespaceDeclHandler(p, &Impl::on_namespace);
    XML_SetXmlDeclHandler(p, &Impl::on_xml_declaration);
    XML_SetCdataSectionHandler(p, &Impl::on_cdata, &Impl::on_cdata);
    XML_SetStartDoctypeDeclHandler(p, &Impl::on_doctype);
    XML_SetEntityDeclHandler(p, &Impl::on_entity);
    XML_SetCommentHandler(p, &Impl::on_comment);
    XML_SetProcessingInstructionHandler(p, &Impl::on_processing_instruction);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
#if PORTICO_EXPAT_REPARSE_DEFERRAL
    // Callbacks must come as soon as their octets are in (a stanza is answered before the peer
    // sends more); re-scanning is bounded by max_token_bytes instead.
    XML_SetReparseDeferralEnabled(p, XML_FALSE);
#endif
    return p;
  }

  bool halted() const {
    return error != XmlError::none || stopped || reset_pending || rebuild_pending;
  }

  void fail(XmlError e) {
    if (error == XmlError::none) error = e;
    if (in_parse) XML_StopParser(parser, XML_FALSE);
  }

  void halt() {
    if (in_parse) XML_StopParser(parser, XML_FALSE);
  }

  std::uint64_t event_start() const {
    return static_cast<std::uint64_t>(delta + XML_GetCurrentByteIndex(parser));
  }
  std::uint64_t event_end() const {
    return event_start() + static_cast<std::uint64_t>(XML_GetCurrentByteCount(parser));
  }
  void saw_event() {
    if (!replaying) last_event_end = std::max(last_event_end, event_end());
  }

  void clear() {
    error = XmlError::none;
    stopped = reset_pending = rebuild_pending = replaying = header_done = false;
    depth = 0;
    fed = mark = last_event_end = last_nonspace_end = rebuild_at = stanza_start = 0;
    delta = 0;
    header_bytes.clear();
    header_length = 0;
    content_ns.clear();
    stanza = Element();
    open.clear();
    stanza_namespaces = stanza_memory = name_tables = 0;
  }

  void restart() {
    if (parser != nullptr) XML_ParserFree(parser);
    parser = nullptr;
    clear();
    parser = create_parser();
  }

  // Replaces the parser by a fresh one taking over at rebuild_at (the end of the header or of a
  // stanza).
  void rebuild() {
    rebuild_pending = false;
    if (parser != nullptr) XML_ParserFree(parser);
    parser = nullptr;
    parser = create_parser();
    depth = 0;
    delta = static_cast<std::int64_t>(rebuild_at) - static_cast<std::int64_t>(header_bytes.size());
    replaying = true;
    in_parse = true;
    const XML_Status status =
        XML_Parse(parser, header_bytes.data(), static_cast<int>(header_bytes.size()), XML_FALSE);
    in_parse = false;
    replaying = false;
    name_tables = 0;
    if (status != XML_STATUS_OK || depth != 1) fail(XmlError::not_well_formed);  // cannot happen
  }

  static XmlError from_expat(XML_Error code) {
    switch (code) {
      case XML_ERROR_NO_MEMORY:
        return XmlError::policy_violation;
      case XML_ERROR_UNKNOWN_ENCODING:
      case XML_ERROR_INCORRECT_ENCODING:
        return XmlError::unsupported_encoding;
      case XML_ERROR_UNDEFINED_ENTITY:
      case XML_ERROR_RECURSIVE_ENTITY_REF:
      case XML_ERROR_BINARY_ENTITY_REF:
      case XML_ERROR_ATTRIBUTE_EXTERNAL_ENTITY_REF:
      case XML_ERROR_EXTERNAL_ENTITY_HANDLING:
      case XML_ERROR_PARAM_ENTITY_REF:
      case XML_ERROR_ENTITY_DECLARED_IN_PE:
      case XML_ERROR_NOT_STANDALONE:
      case XML_ERROR_AMPLIFICATION_LIMIT_BREACH:
        return XmlError::restricted_xml;
      default:
        return XmlError::not_well_formed;
    }
  }

  // Frees expat's parser between two stanzas of an idle stream; the next feed() builds a fresh
  // one from the header (as rebuild() does). False when the stream is not at such a point.
  bool release() {
    if (parser == nullptr) return true;
    if (in_parse || !header_done || depth != 1 || in_element() || halted() ||
        error != XmlError::none)
      return false;
    XML_ParserFree(parser);
    parser = nullptr;
    rebuild_at = fed;
    return true;
  }

  XmlError feed(std::string_view bytes) {
    if (error != XmlError::none) return error;
    if (stopped) return XmlError::none;
    if (parser == nullptr) {  // released while idle
      rebuild();
      if (error != XmlError::none) return error;
    }
    for (std::size_t i = bytes.size(); i > 0; --i) {
      if (!is_space(bytes[i - 1])) {
        last_nonspace_end = fed + i;
        break;
      }
    }
    std::size_t off = 0;
    while (off < bytes.size()) {
      // Octets of the current stanza (or header), and of the token expat has not finished.
      const std::uint64_t limit = header_done ? limits.max_stanza_bytes : limits.max_header_bytes;
      const std::uint64_t pending = fed - mark;
      const std::uint64_t token = fed - std::max(last_event_end, mark);
      if (pending >= limit || (header_done && token >= limits.max_token_bytes)) {
        fail(XmlError::policy_violation);
        return error;
      }
      std::uint64_t n = std::min<std::uint64_t>(kPiece, bytes.size() - off);
      n = std::min(n, limit - pending);
      if (header_done) n = std::min<std::uint64_t>(n, limits.max_token_bytes - token);
      // NUL, 0xFE and 0xFF never occur in UTF-8. expat would take them, at the start, for a
      // UTF-16 byte order mark or a UTF-16 "<" and switch encodings despite UTF-8 being forced:
      // it is given the octets before the first of them only.
      const std::uint64_t clean = utf8_prefix(bytes.substr(off, n));
      if (clean == 0) {
        fail(header_done ? XmlError::not_well_formed : XmlError::unsupported_encoding);
        return error;
      }
      n = clean;
      if (!header_done) header_bytes.append(bytes.data() + off, n);
      const std::uint64_t start = fed;
      in_parse = true;
      const XML_Status status = XML_Parse(parser, bytes.data() + off, static_cast<int>(n), 0);
      in_parse = false;
      if (header_done && header_bytes.size() > header_length) header_bytes.resize(header_length);
      if (reset_pending) {
        restart();
        return XmlError::none;
      }
      if (error != XmlError::none) return error;
      if (stopped) return XmlError::none;
      if (rebuild_pending) {
        off += rebuild_at - start;
        fed = rebuild_at;
        rebuild();
        if (error != XmlError::none) return error;
        continue;
      }
      if (status != XML_STATUS_OK) {
        fail(from_expat(XML_GetErrorCode(parser)));
        return error;
      }
      fed += n;
      off += n;
    }
    return XmlError::none;
  }

  bool in_element() const {
    if (error != XmlError::none || stopped) return false;
    if (depth >= 2) return true;
    if (depth == 0) return last_nonspace_end > 0;
    return last_nonspace_end > mark;
  }

  // --- expat callbacks ---

  static Impl& self(void* data) {
    return *static_cast<Impl*>(data);
  }

  static void XMLCALL on_xml_declaration(void* data, const XML_Char*, const XML_Char* encoding,
                                         int) {
    Impl& s = self(data);
    if (s.halted()) return;
    s.saw_event();
    if (encoding != nullptr && !iequals(encoding, "UTF-8")) s.fail(XmlError::unsupported_encoding);
  }

  static void XMLCALL on_namespace(void* data, const XML_Char* prefix, const XML_Char* uri) {
    Impl& s = self(data);
    if (s.halted()) return;
    if (s.depth == 0) {
      if (prefix == nullptr) s.content_ns = uri != nullptr ? uri : "";
      return;
    }
    s.name_tables += kNameEntry + (prefix != nullptr ? std::strlen(prefix) : 0);
    if (++s.stanza_namespaces > s.limits.max_namespaces) s.fail(XmlError::policy_violation);
  }

  bool add_memory(std::size_t bytes) {
    stanza_memory += bytes;
    if (stanza_memory <= memory_limit) return true;
    fail(XmlError::policy_violation);
    return false;
  }

  static void XMLCALL on_start(void* data, const XML_Char* name, const XML_Char** atts) {
    Impl& s = self(data);
    if (s.halted()) return;
    if (s.replaying) {
      s.depth = 1;
      return;
    }
    s.saw_event();
    std::size_t count = 0;
    for (const XML_Char** a = atts; *a != nullptr; a += 2)
      ++count;
    if (count > s.limits.max_attributes) return s.fail(XmlError::policy_violation);
    if (s.depth == 0) return s.open_stream(name, atts);
    if (s.depth > s.limits.max_depth) return s.fail(XmlError::policy_violation);

    Element e;
    split_name(name, e.ns, e.name);
    s.name_tables += kNameEntry + std::strlen(name);
    std::size_t memory = sizeof(Element) + e.name.size() + e.ns.size();
    e.attrs.reserve(count);
    for (const XML_Char** a = atts; *a != nullptr; a += 2) {
      e.attrs.emplace_back(attribute_name(a[0]), a[1]);
      memory += sizeof(e.attrs.back()) + e.attrs.back().first.size() + e.attrs.back().second.size();
      s.name_tables += kNameEntry + std::strlen(a[0]);
    }
    if (!s.add_memory(memory)) return;
    if (s.depth == 1) {
      s.stanza_start = s.event_start();
      s.stanza = std::move(e);
      s.open.assign(1, &s.stanza);
    } else {
      // Only the new child's earlier siblings move; none of them is open.
      Element* parent = s.open.back();
      parent->children.push_back(std::move(e));
      s.open.push_back(&parent->children.back());
    }
    ++s.depth;
  }

  void open_stream(const XML_Char* name, const XML_Char** atts) {
    std::string ns, local;
    split_name(name, ns, local);
    if (ns != kStreamNs || local != "stream") return fail(XmlError::invalid_namespace);
    Element header(std::move(local), std::move(ns));
    for (const XML_Char** a = atts; *a != nullptr; a += 2)
      header.attrs.emplace_back(attribute_name(a[0]), a[1]);
    header_done = true;
    header_length = event_end();
    mark = header_length;
    depth = 1;
    stanza_namespaces = 0;
    handler.on_stream_open(header, content_ns);
    // The octets after the header were given to expat under the header's limit: they are given
    // again, to a fresh parser, under the stanza limits.
    if (!halted()) fresh_parser_at(header_length);
  }

  void fresh_parser_at(std::uint64_t offset) {
    rebuild_pending = true;
    rebuild_at = offset;
    halt();
  }

  static void XMLCALL on_end(void* data, const XML_Char*) {
    Impl& s = self(data);
    if (s.halted()) return;
    s.saw_event();
    --s.depth;
    if (s.depth == 0) {
      s.stopped = true;
      s.halt();
      s.handler.on_stream_close();
      return;
    }
    if (s.depth > 1) {
      s.open.pop_back();
      return;
    }
    Element done = std::move(s.stanza);
    s.stanza = Element();
    s.open.clear();
    s.mark = s.event_end();
    s.stanza_namespaces = 0;
    s.stanza_memory = 0;
    if (s.mark - s.stanza_start > s.limits.max_stanza_bytes)  // cannot happen: fed so far only
      return s.fail(XmlError::policy_violation);
    s.handler.on_stanza(std::move(done));
    if (!s.halted() && s.name_tables >= s.limits.max_stanza_bytes) s.fresh_parser_at(s.mark);
  }

  static void XMLCALL on_text(void* data, const XML_Char* text, int length) {
    Impl& s = self(data);
    if (s.halted()) return;
    s.saw_event();
    const std::string_view t(text, static_cast<std::size_t>(length));
    if (s.depth <= 1) {
      if (!std::all_of(t.begin(), t.end(), is_space)) return s.fail(XmlError::bad_format);
      s.mark = s.event_end();  // whitespace between stanzas counts toward nothing
      return;
    }
    if (!s.add_memory(t.size())) return;
    Element* e = s.open.back();
    (e->children.empty() ? e->text : e->children.back().tail).append(t);
  }

  static void XMLCALL on_cdata(void* data) {
    Impl& s = self(data);
    if (s.halted()) return;
    s.saw_event();
  }

  static void XMLCALL on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*,
                                 int) {
    self(data).fail(XmlError::restricted_xml);
  }
  static void XMLCALL on_entity(void* data, const XML_Char*, int, const XML_Char*, int,
                                const XML_Char*, const XML_Char*, const XML_Char*,
                                const XML_Char*) {
    self(data).fail(XmlError::restricted_xml);
  }
  static void XMLCALL on_comment(void* data, const XML_Char*) {
    self(data).fail(XmlError::restricted_xml);
  }
  static void XMLCALL on_processing_instruction(void* data, const XML_Char*, const XML_Char*) {
    self(data).fail(XmlError::restricted_xml);
  }
};

XmlStream::XmlStream(Handler& handler, XmlLimits limits)
    : impl_(std::make_unique<Impl>(handler, limits)) {}

XmlStream::~XmlStream() = default;

XmlError XmlStream::feed(std::string_view bytes) {
  return impl_->feed(bytes);
}

void XmlStream::stop() {
  impl_->stopped = true;
  impl_->halt();
}

void XmlStream::reset() {
  if (impl_->in_parse) {
    impl_->reset_pending = true;
    impl_->halt();
    return;
  }
  impl_->restart();
}

bool XmlStream::release_idle() {
  return impl_->release();
}

bool XmlStream::in_element() const {
  return impl_->in_element();
}

XmlError XmlStream::error() const {
  return impl_->error;
}

}  // namespace portico::xmpp
