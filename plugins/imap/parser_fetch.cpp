// imap — FETCH arguments (RFC 9051 section 6.4.5 and 9): the sequence set, the macros ALL, FAST
// and FULL, every fetch-att (BODY[section]<origin.count>, BODY.PEEK, BINARY[.PEEK][part]<..>
// and BINARY.SIZE of RFC 3516, the RFC822 items of RFC 3501, MODSEQ of RFC 7162) and the
// modifiers CHANGEDSINCE and VANISHED (RFC 7162 sections 3.1.4 and 3.2.6).
//
// Guarantees: item lists, section parts and header lists are bounded by kMaxListItems.
#include "parser_internal.h"

namespace portico::imap::detail {

namespace {

using Kind = FetchItem::Kind;

// "[" [section-spec] "]" for BODY, or "[" [section-part] "]" for BINARY.
bool section(Reader& r, Section& s, bool binary) {
  if (!r.eat('[')) return r.fail("invalid section");
  if (r.eat(']')) return true;
  const auto digit = [&] { return r.peek() >= '0' && r.peek() <= '9'; };
  bool dot = false;  // section-part "." section-text
  if (digit()) {
    while (true) {
      std::uint32_t n = 0;
      if (!r.number32(n, true) || !r.push(s.part, n)) return r.fail("invalid section");
      if (!r.eat('.')) break;
      if (!digit()) {
        dot = true;
        break;
      }
    }
    if (!dot) return r.eat(']') || r.fail("invalid section");
  }
  if (binary) return r.fail("invalid section");
  const std::string text = r.name();
  if (text == "HEADER") {
    s.text = Section::Text::header;
  } else if (text == "TEXT") {
    s.text = Section::Text::text;
  } else if (text == "MIME" && !s.part.empty()) {
    s.text = Section::Text::mime;
  } else if (text == "HEADER.FIELDS" || text == "HEADER.FIELDS.NOT") {
    s.text =
        text == "HEADER.FIELDS" ? Section::Text::header_fields : Section::Text::header_fields_not;
    if (!r.eat(' ') || !r.eat('(')) return r.fail("invalid section");
    do {
      std::string field;
      if (!r.astring(field) || !r.push(s.fields, std::move(field))) return false;
    } while (r.eat(' '));
    if (!r.expect(')')) return false;
  } else {
    return r.fail("invalid section");
  }
  if (!r.eat(']')) return r.fail("invalid section");
  return true;
}

// "<" number "." nz-number ">", if present.
bool partial(Reader& r, FetchItem& item) {
  if (!r.eat('<')) return true;
  std::uint32_t origin = 0;
  if (!r.number32(origin, false) || !r.eat('.') || !r.number32(item.partial_count, true) ||
      !r.eat('>')) {
    return r.fail_as("invalid partial");
  }
  item.partial_origin = origin;
  return true;
}

bool push_kinds(Reader& r, std::vector<FetchItem>& items, std::initializer_list<Kind> kinds) {
  for (const Kind k : kinds) {
    FetchItem item;
    item.kind = k;
    if (!r.push(items, std::move(item))) return false;
  }
  return true;
}

// One fetch-att; macros too when `macros`.
bool fetch_att(Reader& r, std::vector<FetchItem>& items, bool macros) {
  if (r.at_end()) return r.fail("missing argument");
  const std::string name = r.name();
  FetchItem item;
  if (macros && name == "ALL") {
    if (!push_kinds(r, items, {Kind::flags, Kind::internaldate, Kind::rfc822_size, Kind::envelope}))
      return false;
  } else if (macros && name == "FAST") {
    if (!push_kinds(r, items, {Kind::flags, Kind::internaldate, Kind::rfc822_size})) return false;
  } else if (macros && name == "FULL") {
    if (!push_kinds(
            r, items,
            {Kind::flags, Kind::internaldate, Kind::rfc822_size, Kind::envelope, Kind::body}))
      return false;
  } else {
    if (name == "UID") {
      item.kind = Kind::uid;
    } else if (name == "FLAGS") {
      item.kind = Kind::flags;
    } else if (name == "INTERNALDATE") {
      item.kind = Kind::internaldate;
    } else if (name == "ENVELOPE") {
      item.kind = Kind::envelope;
    } else if (name == "BODYSTRUCTURE") {
      item.kind = Kind::bodystructure;
    } else if (name == "MODSEQ") {
      item.kind = Kind::modseq;
    } else if (name == "RFC822") {
      item.kind = Kind::rfc822;
    } else if (name == "RFC822.SIZE") {
      item.kind = Kind::rfc822_size;
    } else if (name == "RFC822.HEADER") {
      item.kind = Kind::rfc822_header;
      item.section.text = Section::Text::header;
      item.peek = true;
    } else if (name == "RFC822.TEXT") {
      item.kind = Kind::rfc822_text;
      item.section.text = Section::Text::text;
    } else if (name == "BODY" && r.peek() != '[') {
      item.kind = Kind::body;
    } else if (name == "BODY" || name == "BODY.PEEK") {
      item.kind = Kind::body_section;
      item.peek = name == "BODY.PEEK";
      if (!section(r, item.section, false) || !partial(r, item)) return false;
    } else if (name == "BINARY" || name == "BINARY.PEEK") {
      item.kind = Kind::binary;
      item.peek = name == "BINARY.PEEK";
      if (!section(r, item.section, true) || !partial(r, item)) return false;
    } else if (name == "BINARY.SIZE") {
      item.kind = Kind::binary_size;
      if (!section(r, item.section, true)) return false;
    } else {
      return r.fail("unknown fetch item");
    }
    if (!r.push(items, std::move(item))) return false;
  }
  if (!r.ok()) return false;
  if (!r.at_end() && r.peek() != ' ' && r.peek() != ')') return r.fail("unknown fetch item");
  return true;
}

// [SP "(" fetch-modifier *(SP fetch-modifier) ")"]
bool modifiers(Reader& r, Command& c) {
  if (!r.eat(' ')) return true;
  if (!r.expect('(')) return false;
  do {
    std::string mod;
    if (!r.keyword(mod)) return false;
    if (mod == "CHANGEDSINCE") {
      std::uint64_t n = 0;
      if (!r.sp() || !r.number63(n, true)) return false;
      c.changed_since = n;
    } else if (mod == "VANISHED") {
      c.vanished = true;
    } else {
      return r.fail("unknown FETCH modifier");
    }
  } while (r.eat(' '));
  if (!r.expect(')')) return false;
  if (c.vanished && (!c.uid || !c.changed_since))
    return r.fail("VANISHED needs UID FETCH and CHANGEDSINCE");
  return true;
}

}  // namespace

bool parse_fetch(Reader& r, Command& c) {
  if (!r.sp() || !r.sequence_set(c.set) || !r.sp()) return false;
  if (r.eat('(')) {
    do {
      if (!fetch_att(r, c.items, false)) return false;
    } while (r.eat(' '));
    if (!r.expect(')')) return false;
  } else if (!fetch_att(r, c.items, true)) {
    return false;
  }
  return modifiers(r, c);
}

}  // namespace portico::imap::detail
