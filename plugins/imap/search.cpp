// imap — SEARCH keys on one message (see message.h), RFC 9051 section 6.4.4 (with MODSEQ of
// RFC 7162): flags and keywords, dates, sizes, sequence and UID sets, and the keys that read the
// message: HEADER, FROM/TO/CC/BCC/SUBJECT, SENTBEFORE/SENTON/SENTSINCE, BODY and TEXT.
//
// Substring keys compare case-insensitively after folding both sides with GLib's simple case
// mappings (lower(upper(c)) per code point, which matches Unicode simple case folding except
// for rare letters such as the Turkish dotless i). Header values are unfolded and RFC 2047
// decoded by GMime (address fields also as GMime reformats the parsed list). BODY reads the
// text/* parts (nested message/rfc822 ones included): each one through GMime's transfer
// decoding and charset (to UTF-8) filters, in chunks, so a message of tens of MB is searched
// in bounded memory, one part at a time.
//
// Guarantees: never throws (a failure inside counts as "does not match"); a key needing the
// octets does not match when they were not supplied.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <mutex>

#include "gmime_support.h"
#include "message.h"

namespace portico::imap {

namespace {

using gmime::kMaxDepth;                    // MIME nesting searched
constexpr std::size_t kChunk = 64 * 1024;  // bytes read from a part at a time

struct GFree {
  void operator()(gpointer p) const { g_free(p); }
};
using GString_ = std::unique_ptr<char, GFree>;

using gmime::ascii_lower;
using gmime::BorrowedStream;
using gmime::GPtr;
using gmime::iequals;
constexpr auto init_gmime = gmime::init;

// --- case folding and substring search ---------------------------------------------------------

// Appends `in` case-folded to `out`; bytes that are not UTF-8 are copied as they are.
void fold_append(std::string_view in, std::string& out) {
  std::size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out += ascii_lower(static_cast<char>(c));
      ++i;
      continue;
    }
    gunichar u = g_utf8_get_char_validated(in.data() + i, static_cast<gssize>(in.size() - i));
    if (u == static_cast<gunichar>(-1) || u == static_cast<gunichar>(-2)) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const char* next = g_utf8_next_char(in.data() + i);
    i = static_cast<std::size_t>(next - in.data());
    char buf[8];
    gint n = g_unichar_to_utf8(g_unichar_tolower(g_unichar_toupper(u)), buf);
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  fold_append(s, out);
  return out;
}

// The length of the longest prefix of `s` that does not end inside a UTF-8 sequence.
std::size_t complete_prefix(std::string_view s) {
  std::size_t n = s.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    auto c = static_cast<unsigned char>(s[n - back]);
    if (c < 0x80) return n;
    if (c >= 0xC0) {  // a lead byte: complete when its sequence fits
      std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      return need > back ? n - back : n;
    }
  }
  return n;
}

// Looks for a folded needle in text fed in pieces, keeping only what a match could span.
class Matcher {
 public:
  explicit Matcher(const std::string& folded_needle)
      : needle_(folded_needle), found_(folded_needle.empty()) {}
  bool found() const { return found_; }
  void feed(std::string_view piece) {
    if (found_) return;
    pending_.append(piece);
    std::size_t complete = complete_prefix(pending_);
    fold_append(std::string_view(pending_).substr(0, complete), window_);
    pending_.erase(0, complete);
    check();
  }
  // The end of one text: what is pending is folded, and nothing carries over to the next.
  void finish() {
    if (!found_) {
      fold_append(pending_, window_);
      check();
    }
    pending_.clear();
    window_.clear();
  }

 private:
  void check() {
    if (window_.find(needle_) != std::string::npos) {
      found_ = true;
    } else if (window_.size() >= needle_.size()) {
      window_.erase(0, window_.size() - (needle_.size() - 1));
    }
  }
  const std::string& needle_;
  bool found_;
  std::string pending_;
  std::string window_;
};

bool contains_folded(std::string_view haystack, const std::string& folded_needle) {
  return fold(haystack).find(folded_needle) != std::string::npos;
}

// --- the message header ------------------------------------------------------------------------

struct Field {
  std::string name;       // as written
  std::string value;      // unfolded, RFC 2047 decoded, trimmed
  std::string addresses;  // address fields: the list as GMime reformats it (decoded), else ""
  std::string raw;        // unfolded, undecoded (for the Date)
};

bool is_address_field(std::string_view name) {
  for (const char* f : {"from", "to", "cc", "bcc", "sender", "reply-to", "resent-from", "resent-to",
                        "resent-cc", "resent-bcc", "resent-sender"})
    if (iequals(name, f)) return true;
  return false;
}

std::string trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return std::string(s);
}

std::size_t blank_line_at(std::string_view msg, std::size_t p) {
  if (p < msg.size() && msg[p] == '\n') return 1;
  if (p + 1 < msg.size() && msg[p] == '\r' && msg[p + 1] == '\n') return 2;
  return 0;
}

std::size_t next_line(std::string_view msg, std::size_t p) {
  std::size_t nl = msg.find('\n', p);
  return nl == std::string_view::npos ? msg.size() : nl + 1;
}

// The fields of the message header (up to the first empty line), in order.
std::vector<Field> read_header(std::string_view msg) {
  std::vector<Field> out;
  std::size_t p = 0;
  while (p < msg.size() && blank_line_at(msg, p) == 0) {
    std::size_t start = p;
    p = next_line(msg, p);
    while (p < msg.size() && (msg[p] == ' ' || msg[p] == '\t') && blank_line_at(msg, p) == 0)
      p = next_line(msg, p);
    std::string_view line = msg.substr(start, p - start);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    Field f;
    f.name = trim(line.substr(0, colon));
    std::string raw(line.substr(colon + 1));
    GString_ unfolded(g_mime_utils_header_unfold(raw.c_str()));
    f.raw = trim(unfolded ? unfolded.get() : raw.c_str());
    GString_ decoded(g_mime_utils_header_decode_text(nullptr, f.raw.c_str()));
    f.value = trim(decoded ? decoded.get() : f.raw.c_str());
    if (is_address_field(f.name)) {
      GPtr<InternetAddressList> list(internet_address_list_parse(nullptr, f.raw.c_str()));
      if (list) {
        GString_ s(internet_address_list_to_string(list.get(), nullptr, FALSE));
        if (s) f.addresses = s.get();
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

// Days since 1970-01-01 of a civil date.
std::int64_t days_from_civil(int y, int m, int d) {
  using namespace std::chrono;
  return sys_days{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}}
      .time_since_epoch()
      .count();
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool in_set(std::uint32_t n, const SequenceSet& set, std::uint32_t max) {
  for (const SeqRange& r : set.ranges) {
    std::uint32_t a = r.first == kStar ? max : r.first;
    std::uint32_t b = r.last == kStar ? max : r.last;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

bool has_keyword(const sdk::Flags& flags, std::string_view keyword) {
  static const std::pair<const char*, std::uint32_t> system[] = {{"\\Seen", sdk::flag_seen},
                                                                 {"\\Answered", sdk::flag_answered},
                                                                 {"\\Flagged", sdk::flag_flagged},
                                                                 {"\\Deleted", sdk::flag_deleted},
                                                                 {"\\Draft", sdk::flag_draft}};
  for (const auto& [name, bit] : system)
    if (iequals(keyword, name)) return (flags.system & bit) != 0;
  return std::any_of(flags.keywords.begin(), flags.keywords.end(),
                     [&](const std::string& k) { return iequals(k, keyword); });
}

// --- evaluation ------------------------------------------------------------------------------

class Evaluator {
 public:
  Evaluator(const SearchSubject& subject, const SearchBounds& bounds)
      : s_(subject), bounds_(bounds), info_(subject.info ? *subject.info : empty_info_) {}

  bool eval(const SearchKey& key, std::size_t depth) {
    using K = SearchKey::Kind;
    if (depth > 4 * kMaxDepth) return false;
    const std::uint32_t sys = info_.flags.system;
    switch (key.kind) {
      case K::all:
        return true;
      case K::and_:
        for (const SearchKey& c : key.children)
          if (!eval(c, depth + 1)) return false;
        return true;
      case K::or_:
        for (const SearchKey& c : key.children)
          if (eval(c, depth + 1)) return true;
        return false;
      case K::not_:
        return key.children.empty() ? false : !eval(key.children[0], depth + 1);
      case K::answered:
        return (sys & sdk::flag_answered) != 0;
      case K::deleted:
        return (sys & sdk::flag_deleted) != 0;
      case K::draft:
        return (sys & sdk::flag_draft) != 0;
      case K::flagged:
        return (sys & sdk::flag_flagged) != 0;
      case K::seen:
        return (sys & sdk::flag_seen) != 0;
      case K::recent:
        return s_.recent;
      case K::new_:
        return s_.recent && (sys & sdk::flag_seen) == 0;
      case K::old:
        return !s_.recent;
      case K::unanswered:
        return (sys & sdk::flag_answered) == 0;
      case K::undeleted:
        return (sys & sdk::flag_deleted) == 0;
      case K::undraft:
        return (sys & sdk::flag_draft) == 0;
      case K::unflagged:
        return (sys & sdk::flag_flagged) == 0;
      case K::unseen:
        return (sys & sdk::flag_seen) == 0;
      case K::keyword:
        return has_keyword(info_.flags, key.text);
      case K::unkeyword:
        return !has_keyword(info_.flags, key.text);
      case K::before:
        return internal_day() < key.date;
      case K::on:
        return internal_day() == key.date;
      case K::since:
        return internal_day() >= key.date;
      case K::sentbefore: {
        auto d = sent_day();
        return d && *d < key.date;
      }
      case K::senton: {
        auto d = sent_day();
        return d && *d == key.date;
      }
      case K::sentsince: {
        auto d = sent_day();
        return d && *d >= key.date;
      }
      case K::larger:
        return info_.size > key.number;
      case K::smaller:
        return info_.size < key.number;
      case K::header:
        return header_has(key.field, key.text);
      case K::bcc:
        return header_has("Bcc", key.text);
      case K::cc:
        return header_has("Cc", key.text);
      case K::from:
        return header_has("From", key.text);
      case K::subject:
        return header_has("Subject", key.text);
      case K::to:
        return header_has("To", key.text);
      case K::body:
        return s_.octets.has_value() && body_has(fold(key.text));
      case K::text:
        return text_has(key.text);
      case K::uid:
        return in_set(info_.uid, key.set, bounds_.max_uid);
      case K::sequence:
        return in_set(s_.seq, key.set, bounds_.max_seq);
      case K::modseq:
        return info_.modseq >= key.number;
    }
    return false;
  }

 private:
  std::int64_t internal_day() const { return floor_div(info_.internal_date, 86400); }

  const std::vector<Field>* fields() {
    if (!s_.octets) return nullptr;
    if (!fields_) {
      init_gmime();
      fields_ = read_header(*s_.octets);
    }
    return &*fields_;
  }

  // The day of the Date header in its own zone (RFC 9051: "disregarding time and timezone").
  std::optional<std::int64_t> sent_day() {
    const auto* fs = fields();
    if (fs == nullptr) return std::nullopt;
    for (const Field& f : *fs) {
      if (!iequals(f.name, "Date")) continue;
      GDateTime* dt = g_mime_utils_header_decode_date(f.raw.c_str());
      if (dt == nullptr) return std::nullopt;
      int y = 0, m = 0, d = 0;
      g_date_time_get_ymd(dt, &y, &m, &d);
      g_date_time_unref(dt);
      return days_from_civil(y, m, d);
    }
    return std::nullopt;
  }

  bool field_matches(const Field& f, const std::string& folded) {
    return folded.empty() || contains_folded(f.value, folded) ||
           (!f.addresses.empty() && contains_folded(f.addresses, folded));
  }

  bool header_has(std::string_view name, const std::string& text) {
    const auto* fs = fields();
    if (fs == nullptr) return false;
    std::string folded = fold(text);
    return std::any_of(fs->begin(), fs->end(), [&](const Field& f) {
      return iequals(f.name, name) && field_matches(f, folded);
    });
  }

  bool text_has(const std::string& text) {
    const auto* fs = fields();
    if (fs == nullptr) return false;
    std::string folded = fold(text);
    for (const Field& f : *fs) {
      if (contains_folded(f.name + ": " + f.value, folded) ||
          (!f.addresses.empty() && contains_folded(f.addresses, folded)))
        return true;
    }
    return body_has(folded);
  }

  bool body_has(const std::string& folded) {
    if (folded.empty()) return true;
    init_gmime();
    BorrowedStream stream(*s_.octets);
    GPtr<GMimeMessage> msg;
    {
      GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
      g_mime_parser_set_persist_stream(parser.get(), TRUE);
      msg.reset(g_mime_parser_construct_message(parser.get(), nullptr));
    }
    if (!msg) return false;
    Matcher matcher(folded);
    search_part(g_mime_message_get_mime_part(msg.get()), matcher, 0);
    return matcher.found();
  }

  // Feeds the decoded text of every text/* part under `obj` to `matcher`, until it matches.
  void search_part(GMimeObject* obj, Matcher& matcher, int depth) {
    if (obj == nullptr || matcher.found() || depth > kMaxDepth) return;
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n && !matcher.found(); ++i)
        search_part(g_mime_multipart_get_part(mp, i), matcher, depth + 1);
      return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner != nullptr) search_part(g_mime_message_get_mime_part(inner), matcher, depth + 1);
      return;
    }
    if (!GMIME_IS_PART(obj)) return;
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (ct != nullptr && !g_mime_content_type_is_type(ct, "text", "*")) return;
    GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
    GMimeStream* content = w ? g_mime_data_wrapper_get_stream(w) : nullptr;
    if (content == nullptr) return;

    GPtr<GMimeStream> source(
        g_mime_stream_substream(content, content->bound_start, content->bound_end));
    if (!source) return;
    GPtr<GMimeStream> filtered(g_mime_stream_filter_new(source.get()));
    auto* fs = GMIME_STREAM_FILTER(filtered.get());
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(GMIME_PART(obj));
    if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
        enc == GMIME_CONTENT_ENCODING_UUENCODE) {
      GPtr<GMimeFilter> decoder(g_mime_filter_basic_new(enc, FALSE));
      g_mime_stream_filter_add(fs, decoder.get());
    }
    const char* charset = g_mime_object_get_content_type_parameter(obj, "charset");
    if (charset != nullptr && !iequals(charset, "utf-8") && !iequals(charset, "us-ascii")) {
      GPtr<GMimeFilter> convert(g_mime_filter_charset_new(charset, "UTF-8"));
      if (convert) g_mime_stream_filter_add(fs, convert.get());
    }
    std::string buf(kChunk, '\0');
    for (int idle = 0; idle < 4 && !matcher.found();) {
      ssize_t n = g_mime_stream_read(filtered.get(), buf.data(), buf.size());
      if (n < 0) break;
      if (n == 0) {
        if (g_mime_stream_eos(filtered.get())) break;
        ++idle;
        continue;
      }
      idle = 0;
      matcher.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    matcher.finish();
  }

  static inline const sdk::MessageInfo empty_info_{};
  const SearchSubject& s_;
  const SearchBounds& bounds_;
  const sdk::MessageInfo& info_;
  std::optional<std::vector<Field>> fields_;
};

}  // namespace

bool needs_octets(const SearchKey& key) {
  using K = SearchKey::Kind;
  switch (key.kind) {
    case K::header:
    case K::bcc:
    case K::cc:
    case K::from:
    case K::subject:
    case K::to:
    case K::body:
    case K::text:
    case K::sentbefore:
    case K::senton:
    case K::sentsince:
      return true;
    case K::and_:
    case K::or_:
    case K::not_:
      return std::any_of(key.children.begin(), key.children.end(),
                         [](const SearchKey& c) { return needs_octets(c); });
    default:
      return false;
  }
}

bool matches(const SearchKey& key, const SearchSubject& subject, const SearchBounds& bounds) {
  try {
    Evaluator e(subject, bounds);
    return e.eval(key, 0);
  } catch (...) {
    return false;
  }
}

}  // namespace portico::imap
