// imap — SEARCH arguments: the RETURN options of ESEARCH (RFC 4731, SAVE of RFC 5182), CHARSET
// (UTF-8 and US-ASCII; others get "[BADCHARSET (UTF-8)]"), and every search-key of RFC 9051
// section 6.4.4 and RFC 3501 (NEW, OLD, RECENT, ...), MODSEQ of RFC 7162, sequence sets as keys,
// parenthesized lists, NOT and OR.
//
// Guarantees: the keys of one command are bounded by kMaxListItems and their nesting (lists, NOT,
// OR) by kMaxDepth, so recursion is bounded too.
#include <algorithm>
#include <array>
#include <utility>

#include "parser_internal.h"

namespace portico::imap::detail {

namespace {

using Kind = SearchKey::Kind;

enum class Arg { none, text, keyword, date, number, header, set };

struct KeySpec {
  std::string_view name;
  Kind kind;
  Arg arg;
};

constexpr std::array<KeySpec, 36> kKeys = {{
    {"ALL", Kind::all, Arg::none},
    {"ANSWERED", Kind::answered, Arg::none},
    {"DELETED", Kind::deleted, Arg::none},
    {"DRAFT", Kind::draft, Arg::none},
    {"FLAGGED", Kind::flagged, Arg::none},
    {"SEEN", Kind::seen, Arg::none},
    {"RECENT", Kind::recent, Arg::none},
    {"NEW", Kind::new_, Arg::none},
    {"OLD", Kind::old, Arg::none},
    {"UNANSWERED", Kind::unanswered, Arg::none},
    {"UNDELETED", Kind::undeleted, Arg::none},
    {"UNDRAFT", Kind::undraft, Arg::none},
    {"UNFLAGGED", Kind::unflagged, Arg::none},
    {"UNSEEN", Kind::unseen, Arg::none},
    {"KEYWORD", Kind::keyword, Arg::keyword},
    {"UNKEYWORD", Kind::unkeyword, Arg::keyword},
    {"BEFORE", Kind::before, Arg::date},
    {"ON", Kind::on, Arg::date},
    {"SINCE", Kind::since, Arg::date},
    {"SENTBEFORE", Kind::sentbefore, Arg::date},
    {"SENTON", Kind::senton, Arg::date},
    {"SENTSINCE", Kind::sentsince, Arg::date},
    {"LARGER", Kind::larger, Arg::number},
    {"SMALLER", Kind::smaller, Arg::number},
    {"HEADER", Kind::header, Arg::header},
    {"BCC", Kind::bcc, Arg::text},
    {"CC", Kind::cc, Arg::text},
    {"FROM", Kind::from, Arg::text},
    {"SUBJECT", Kind::subject, Arg::text},
    {"TO", Kind::to, Arg::text},
    {"BODY", Kind::body, Arg::text},
    {"TEXT", Kind::text, Arg::text},
    {"UID", Kind::uid, Arg::set},
    {"NOT", Kind::not_, Arg::none},
    {"OR", Kind::or_, Arg::none},
    {"MODSEQ", Kind::modseq, Arg::none},
}};

class KeyReader {
 public:
  explicit KeyReader(Reader& r) : r_(r) {}

  bool key(SearchKey& out) {
    if (++count_ > kMaxListItems) return r_.fail("too many items");
    if (r_.at_end()) return r_.fail("missing argument");
    const char c = r_.peek();
    if (c == '(') {
      if (!r_.enter()) return false;
      r_.eat('(');
      out.kind = Kind::and_;
      if (!list(out.children, ')')) return false;
      r_.leave();
      return true;
    }
    if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
      out.kind = Kind::sequence;
      return r_.sequence_set(out.set);
    }
    std::string word;
    if (!r_.keyword(word)) return false;
    const KeySpec* spec = nullptr;
    for (const auto& k : kKeys) {
      if (k.name == word) spec = &k;
    }
    if (spec == nullptr) return r_.fail("unknown search key");
    out.kind = spec->kind;
    if (out.kind == Kind::not_ || out.kind == Kind::or_) {
      if (!r_.enter()) return false;
      out.children.resize(out.kind == Kind::or_ ? 2 : 1);
      for (auto& child : out.children) {
        if (!r_.sp() || !key(child)) return false;
      }
      r_.leave();
      return true;
    }
    if (out.kind == Kind::modseq) return modseq(out);
    switch (spec->arg) {
      case Arg::none:
        return true;
      case Arg::text:
        return r_.sp() && r_.astring(out.text);
      case Arg::keyword:
        if (!r_.sp()) return false;
        if (r_.peek() == '\\') return r_.fail("invalid keyword");
        return r_.atom(out.text);
      case Arg::date:
        return r_.sp() && r_.date(out.date);
      case Arg::number:
        return r_.sp() && r_.number63(out.number, false);
      case Arg::header:
        return r_.sp() && r_.astring(out.field) && r_.sp() && r_.astring(out.text);
      case Arg::set:
        return r_.sp() && r_.sequence_set(out.set);
    }
    return false;
  }

  // key *(SP key) up to `close` (')' or the end of the command).
  bool list(std::vector<SearchKey>& keys, char close) {
    while (true) {
      SearchKey k;
      if (!key(k)) return false;
      keys.push_back(std::move(k));
      if (close == ')' ? r_.eat(')') : r_.at_end()) return true;
      if (!r_.sp()) return false;
    }
  }

 private:
  // MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer
  bool modseq(SearchKey& out) {
    if (!r_.sp()) return false;
    if (r_.peek() == '"') {
      std::string entry, type;
      if (!r_.quoted(entry) || !r_.sp() || !r_.keyword(type)) return false;
      if (!entry.starts_with("/flags/")) return r_.fail("invalid MODSEQ entry name");
      if (type != "PRIV" && type != "SHARED" && type != "ALL")
        return r_.fail("invalid MODSEQ entry type");
      if (!r_.sp()) return false;
    }
    return r_.number63(out.number, false);
  }

  Reader& r_;
  std::size_t count_ = 0;
};

// A charset argument: UTF-8 and US-ASCII (its subset) only, else NO [BADCHARSET].
bool charset(Reader& r, Command& c) {
  std::string name;
  if (!r.astring(name)) return false;
  c.charset = upper(name);
  if (c.charset != "UTF-8" && c.charset != "US-ASCII")
    return r.fail("[BADCHARSET (UTF-8)] unsupported charset");
  return true;
}

}  // namespace

bool parse_search(Reader& r, Command& c) {
  if (!r.sp()) return false;
  if (r.take_word("RETURN")) {
    c.esearch = true;
    if (!r.sp() || !r.expect('(')) return false;
    if (!r.eat(')')) {
      do {
        std::string opt;
        if (!r.keyword(opt)) return false;
        if (opt != "MIN" && opt != "MAX" && opt != "ALL" && opt != "COUNT" && opt != "SAVE")
          return r.fail("unknown RETURN option");
        if (!r.push(c.search_return, std::move(opt))) return false;
      } while (r.eat(' '));
      if (!r.expect(')')) return false;
    }
    if (!r.sp()) return false;
  }
  if (r.take_word("CHARSET")) {
    if (!r.sp() || !charset(r, c) || !r.sp()) return false;
  }
  c.search.kind = Kind::and_;
  KeyReader keys(r);
  return keys.list(c.search.children, '\0');
}

// SORT SP "(" [REVERSE SP] key *(SP [REVERSE SP] key) ")" SP charset SP search-keys.
bool parse_sort(Reader& r, Command& c) {
  using Key = Command::SortCriterion::Key;
  static constexpr std::pair<std::string_view, Key> keys[] = {{"ARRIVAL", Key::arrival},
                                                              {"CC", Key::cc},
                                                              {"DATE", Key::date},
                                                              {"FROM", Key::from},
                                                              {"SIZE", Key::size},
                                                              {"SUBJECT", Key::subject},
                                                              {"TO", Key::to},
                                                              {"DISPLAYFROM", Key::display_from},
                                                              {"DISPLAYTO", Key::display_to}};
  if (!r.sp() || !r.expect('(')) return false;
  do {
    Command::SortCriterion criterion;
    std::string word;
    if (!r.keyword(word)) return false;
    if (word == "REVERSE") {
      criterion.reverse = true;
      if (!r.sp() || !r.keyword(word)) return false;
    }
    const auto* found = std::find_if(std::begin(keys), std::end(keys),
                                     [&word](const auto& k) { return k.first == word; });
    if (found == std::end(keys)) return r.fail("unknown sort key");
    criterion.key = found->second;
    if (c.sort.size() >= kMaxListItems) return r.fail("too many sort keys");
    c.sort.push_back(criterion);
  } while (r.eat(' '));
  if (!r.expect(')') || !r.sp() || !charset(r, c) || !r.sp()) return false;
  c.search.kind = Kind::and_;
  KeyReader search_keys(r);
  return search_keys.list(c.search.children, '\0');
}

// THREAD SP algorithm SP charset SP search-keys.
bool parse_thread(Reader& r, Command& c) {
  if (!r.sp() || !r.keyword(c.thread_algorithm)) return false;
  if (c.thread_algorithm != "ORDEREDSUBJECT" && c.thread_algorithm != "REFERENCES")
    return r.fail("unknown threading algorithm");
  if (!r.sp() || !charset(r, c) || !r.sp()) return false;
  c.search.kind = Kind::and_;
  KeyReader search_keys(r);
  return search_keys.list(c.search.children, '\0');
}

}  // namespace portico::imap::detail
