// imap — the command parser (see parser.h): CommandAssembler gathers lines and literals (RFC 9051
// section 4.3, LITERAL+/LITERAL- of RFC 7888, binary literals of RFC 3516) under the size limits;
// parse() reads the tag, the command name and the arguments of every command but FETCH and SEARCH
// (parser_fetch.cpp, parser_search.cpp) with the grammar of RFC 9051 section 9, RFC 3501 and the
// extensions: ENABLE (RFC 5161), ID (RFC 2971), SASL-IR (RFC 4959), CONDSTORE/QRESYNC (RFC 7162),
// LIST-EXTENDED (RFC 5258, 5819), CREATE-SPECIAL-USE (RFC 6154), QUOTA (RFC 9208), COMPRESS
// (RFC 4978), MOVE (RFC 6851), UIDPLUS (RFC 4315).
//
// Guarantees: never throws, never reads past the input, bounds every list and the nesting.
#include <array>
#include <utility>

#include "parser.h"
#include "parser_internal.h"

namespace portico::imap {

using detail::Reader;
using detail::upper;

// --- CommandAssembler -------------------------------------------------------------------------

namespace {

struct Announcement {
  enum class Kind { none, literal, malformed };
  Kind kind = Kind::none;
  std::uint64_t size = 0;
  bool synchronizing = true;
};

// The literal announcement that ends a line (without its terminator), if any.
Announcement announcement(std::string_view line) {
  Announcement a;
  if (line.empty() || line.back() != '}') return a;
  const std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return a;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  if (inner.find_first_of(" \"()") != std::string_view::npos) return a;  // not a literal
  a.kind = Announcement::Kind::malformed;
  if (!inner.empty() && inner.back() == '+') {
    a.synchronizing = false;
    inner.remove_suffix(1);
  }
  if (inner.empty() || inner.size() > 10) return a;
  std::uint64_t v = 0;
  for (const char c : inner) {
    if (c < '0' || c > '9') return a;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xffffffffu) return a;
  a.kind = Announcement::Kind::literal;
  a.size = v;
  return a;
}

std::string_view strip_terminator(std::string_view line) {
  if (line.ends_with("\r\n")) return line.substr(0, line.size() - 2);
  if (line.ends_with('\n')) return line.substr(0, line.size() - 1);
  return line;
}

// The tag at the start of a command, or "" when it is not a valid tag.
std::string read_tag(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && detail::is_astring_char(static_cast<unsigned char>(s[n])) && s[n] != '+')
    ++n;
  if (n == 0 || (n < s.size() && s[n] != ' ' && s[n] != '\r' && s[n] != '\n')) return {};
  return std::string(s.substr(0, n));
}

bool names_append(std::string_view first_line) {
  const std::size_t sp = first_line.find(' ');
  if (sp == std::string_view::npos) return false;
  const std::string_view rest = first_line.substr(sp + 1);
  const std::string_view name = rest.substr(0, rest.find(' '));
  return upper(name) == "APPEND";
}

// The octets of all complete literals in a gathered command.
std::uint64_t literal_octets(std::string_view command) {
  std::uint64_t total = 0;
  std::size_t pos = 0;
  while (pos < command.size()) {
    const std::size_t lf = command.find('\n', pos);
    if (lf == std::string_view::npos) break;
    const Announcement a = announcement(strip_terminator(command.substr(pos, lf + 1 - pos)));
    pos = lf + 1;
    if (a.kind == Announcement::Kind::literal) {
      const std::uint64_t present = std::min<std::uint64_t>(a.size, command.size() - pos);
      total += present;
      pos += static_cast<std::size_t>(present);
    }
  }
  return total;
}

}  // namespace

CommandAssembler::CommandAssembler(std::size_t max_append) : max_append_(max_append) {}

CommandAssembler::Step CommandAssembler::add_line(std::string_view line) {
  Step step;
  const std::string_view body = strip_terminator(line);
  if (command_.empty()) append_ = names_append(body);
  step.append = append_;
  discard_ = 0;
  const Announcement a = announcement(body);
  const auto refuse = [&](Step::Kind kind) {
    step.kind = kind;
    step.tag = read_tag(command_.empty() ? body : std::string_view(command_));
    if (kind == Step::Kind::too_long && a.kind == Announcement::Kind::literal && !a.synchronizing)
      discard_ = a.size;
    return step;
  };

  const std::uint64_t literals = append_ ? literal_octets(command_) : 0;
  const std::uint64_t line_octets = command_.size() - literals;
  if (line_octets + body.size() + 2 > kMaxCommandBytes) return refuse(Step::Kind::too_long);
  if (a.kind == Announcement::Kind::malformed) return refuse(Step::Kind::bad_literal);
  if (a.kind == Announcement::Kind::literal) {
    const bool over = append_
                          ? a.size > max_append_ ||
                                literals + a.size > std::uint64_t{max_append_} + kMaxCommandBytes
                          : command_.size() + body.size() + 2 + a.size > kMaxCommandBytes;
    if (over) return refuse(Step::Kind::too_long);
  }
  command_.append(body);
  command_.append("\r\n");
  if (a.kind == Announcement::Kind::none) return step;
  step.kind = Step::Kind::literal;
  step.size = a.size;
  step.synchronizing = a.synchronizing;
  return step;
}

void CommandAssembler::add_literal(std::string_view bytes) {
  command_.append(bytes);
}

void CommandAssembler::spool_literal() {
  // The command ends with the announcement just added: "{N}\r\n", "{N+}\r\n" (or "~{N}...").
  const std::size_t open = command_.rfind('{');
  if (open == std::string::npos) return;
  command_.replace(open, command_.size() - open, "{0}\r\n");
}

void CommandAssembler::reset() {
  command_.clear();
  discard_ = 0;
  append_ = false;
}

// --- parse() ----------------------------------------------------------------------------------

namespace {

using Name = Command::Name;

constexpr std::array<std::pair<std::string_view, Name>, 35> kNames = {{
    {"CAPABILITY", Name::capability},
    {"NOOP", Name::noop},
    {"LOGOUT", Name::logout},
    {"STARTTLS", Name::starttls},
    {"AUTHENTICATE", Name::authenticate},
    {"LOGIN", Name::login},
    {"ENABLE", Name::enable},
    {"ID", Name::id},
    {"NAMESPACE", Name::namespace_},
    {"SELECT", Name::select},
    {"EXAMINE", Name::examine},
    {"CREATE", Name::create},
    {"DELETE", Name::delete_},
    {"RENAME", Name::rename},
    {"SUBSCRIBE", Name::subscribe},
    {"UNSUBSCRIBE", Name::unsubscribe},
    {"LIST", Name::list},
    {"LSUB", Name::lsub},
    {"STATUS", Name::status},
    {"APPEND", Name::append},
    {"IDLE", Name::idle},
    {"CHECK", Name::check},
    {"CLOSE", Name::close},
    {"UNSELECT", Name::unselect},
    {"EXPUNGE", Name::expunge},
    {"SEARCH", Name::search},
    {"SORT", Name::sort},
    {"THREAD", Name::thread},
    {"FETCH", Name::fetch},
    {"STORE", Name::store},
    {"COPY", Name::copy},
    {"MOVE", Name::move},
    {"GETQUOTA", Name::getquota},
    {"GETQUOTAROOT", Name::getquotaroot},
    {"COMPRESS", Name::compress},
}};

bool one_of(std::string_view word, std::initializer_list<std::string_view> words) {
  for (const auto w : words) {
    if (word == w) return true;
  }
  return false;
}

// "(" status-att *(SP status-att) ")", upper-cased.
bool status_items(Reader& r, std::vector<std::string>& out) {
  if (!r.expect('(')) return false;
  do {
    std::string item;
    if (!r.keyword(item)) return false;
    if (!one_of(item, {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "RECENT",
                       "HIGHESTMODSEQ"}))
      return r.fail("unknown status item");
    if (!r.push(out, std::move(item))) return false;
  } while (r.eat(' '));
  return r.expect(')');
}

// SELECT/EXAMINE: [SP "(" select-param *(SP select-param) ")"].
bool select_params(Reader& r, Command& c) {
  if (!r.eat(' ')) return true;
  if (!r.expect('(')) return false;
  do {
    std::string param;
    if (!r.keyword(param)) return false;
    if (param == "CONDSTORE") {
      c.condstore = true;
    } else if (param == "QRESYNC") {
      c.qresync = true;
      if (!r.sp() || !r.expect('(') || !r.number32(c.qresync_uidvalidity, true) || !r.sp() ||
          !r.number63(c.qresync_modseq, true))
        return false;
      bool more = r.eat(' ');
      if (more && r.peek() != '(') {
        SequenceSet known;
        if (!r.sequence_set(known, false)) return false;
        c.qresync_known_uids = std::move(known);
        more = r.eat(' ');
      }
      if (more) {
        std::pair<SequenceSet, SequenceSet> match;
        if (!r.expect('(') || !r.sequence_set(match.first, false) || !r.sp() ||
            !r.sequence_set(match.second, false) || !r.expect(')'))
          return false;
        c.qresync_seq_match = std::move(match);
      }
      if (!r.expect(')')) return false;
    } else {
      return r.fail("unknown SELECT parameter");
    }
  } while (r.eat(' '));
  return r.expect(')');
}

// CREATE: [SP "(" USE SP "(" [use-attr *(SP use-attr)] ")" ")"].
bool create_params(Reader& r, Command& c) {
  if (!r.eat(' ')) return true;
  if (!r.expect('(')) return false;
  do {
    std::string param;
    if (!r.keyword(param)) return false;
    if (param != "USE") return r.fail("unknown CREATE parameter");
    if (!r.sp() || !r.expect('(')) return false;
    if (r.eat(')')) continue;
    do {
      std::string attr;
      if (!r.flag(attr)) return false;
      if (attr.front() != '\\') return r.fail("invalid special-use attribute");
      if (!r.push(c.use, std::move(attr))) return false;
    } while (r.eat(' '));
    if (!r.expect(')')) return false;
  } while (r.eat(' '));
  return r.expect(')');
}

// LIST [SP (options)] SP reference SP (pattern / "(" patterns ")") [SP RETURN (options)].
bool list(Reader& r, Command& c) {
  if (!r.sp()) return false;
  if (r.eat('(')) {
    if (!r.eat(')')) {
      do {
        std::string opt;
        if (!r.keyword(opt)) return false;
        if (!one_of(opt, {"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"}))
          return r.fail("unknown LIST selection option");
        if (!r.push(c.select_options, std::move(opt))) return false;
      } while (r.eat(' '));
      if (!r.expect(')')) return false;
    }
    bool base = false, recursive = false;
    for (const auto& o : c.select_options)
      (o == "RECURSIVEMATCH" ? recursive : base) = true;
    if (recursive && !base) return r.fail("RECURSIVEMATCH needs another selection option");
    if (!r.sp()) return false;
  }
  if (!r.astring(c.reference) || !r.sp()) return false;
  if (r.eat('(')) {
    do {
      std::string pattern;
      if (!r.list_mailbox(pattern) || !r.push(c.patterns, std::move(pattern))) return false;
    } while (r.eat(' '));
    if (!r.expect(')')) return false;
  } else {
    std::string pattern;
    if (!r.list_mailbox(pattern)) return false;
    c.patterns.push_back(std::move(pattern));
  }
  if (!r.eat(' ')) return true;
  std::string word;
  if (!r.keyword(word)) return false;
  if (word != "RETURN") return r.fail("expected RETURN");
  if (!r.sp() || !r.expect('(')) return false;
  if (r.eat(')')) return true;
  do {
    std::string opt;
    if (!r.keyword(opt)) return false;
    if (opt == "STATUS") {
      if (!r.sp() || !status_items(r, c.status_items)) return false;
    } else if (!one_of(opt, {"SUBSCRIBED", "CHILDREN", "SPECIAL-USE"})) {
      return r.fail("unknown LIST return option");
    }
    if (!r.push(c.return_options, std::move(opt))) return false;
  } while (r.eat(' '));
  return r.expect(')');
}

bool id(Reader& r, Command& c) {
  if (!r.sp()) return false;
  if (r.nil()) return true;
  if (!r.expect('(')) return false;
  if (r.eat(')')) return true;
  do {
    std::pair<std::string, std::string> param;
    if (!r.string(param.first) || !r.sp()) return false;
    if (!r.nil() && !r.string(param.second)) return false;
    if (!r.push(c.id_params, std::move(param))) return false;
  } while (r.eat(' '));
  return r.expect(')');
}

bool authenticate(Reader& r, Command& c) {
  if (!r.sp() || !r.keyword(c.mechanism)) return false;
  if (!r.eat(' ')) return true;
  if (r.eat('=')) {
    c.initial_response = std::string();
    return true;
  }
  std::string response;
  std::size_t pad = 0;
  while (!r.at_end() && r.peek() != ' ') {
    const char ch = r.peek();
    const bool b64 = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
    if (ch == '=' ? ++pad > 2 : (!b64 || pad > 0)) return r.fail("invalid base64");
    response += ch;
    r.eat(ch);
  }
  if (response.empty() || response.size() % 4 != 0) return r.fail("invalid base64");
  c.initial_response = std::move(response);
  return true;
}

bool append(Reader& r, Command& c) {
  if (!r.sp() || !r.astring(c.mailbox) || !r.sp()) return false;
  if (r.peek() == '(') {
    if (!r.flag_list(c.flags) || !r.sp()) return false;
  }
  if (r.peek() == '"') {
    std::int64_t when = 0;
    if (!r.date_time(when) || !r.sp()) return false;
    c.internal_date = when;
  }
  if (r.peek() != '{' && r.peek() != '~') return r.fail("expected literal");
  bool binary = false;
  return r.literal(c.message, &binary, true);
}

bool store(Reader& r, Command& c) {
  if (!r.sp() || !r.sequence_set(c.set) || !r.sp()) return false;
  if (r.eat('(')) {
    do {
      std::string mod;
      if (!r.keyword(mod)) return false;
      if (mod != "UNCHANGEDSINCE") return r.fail("unknown STORE modifier");
      std::uint64_t n = 0;
      if (!r.sp() || !r.number63(n, false)) return false;
      c.unchanged_since = n;
    } while (r.eat(' '));
    if (!r.expect(')') || !r.sp()) return false;
  }
  std::string item;
  if (!r.keyword(item)) return false;
  std::string_view it = item;
  if (it.ends_with(".SILENT")) {
    c.silent = true;
    it.remove_suffix(7);
  }
  if (it == "+FLAGS") {
    c.store_op = Command::StoreOp::add;
  } else if (it == "-FLAGS") {
    c.store_op = Command::StoreOp::remove;
  } else if (it == "FLAGS") {
    c.store_op = Command::StoreOp::replace;
  } else {
    return r.fail("unknown STORE item");
  }
  if (!r.sp()) return false;
  if (r.peek() == '(') return r.flag_list(c.flags);
  do {
    std::string f;
    if (!r.flag(f) || !r.push(c.flags, std::move(f))) return false;
  } while (r.eat(' '));
  return true;
}

bool arguments(Reader& r, Command& c) {
  switch (c.name) {
    case Name::capability:
    case Name::noop:
    case Name::logout:
    case Name::starttls:
    case Name::namespace_:
    case Name::idle:
    case Name::check:
    case Name::close:
    case Name::unselect:
      return true;
    case Name::expunge:
      return !c.uid || (r.sp() && r.sequence_set(c.set));
    case Name::authenticate:
      return authenticate(r, c);
    case Name::login:
      return r.sp() && r.astring(c.user) && r.sp() && r.astring(c.password);
    case Name::enable:
      do {
        std::string cap;
        if (!r.sp() || !r.keyword(cap) || !r.push(c.capabilities, std::move(cap))) return false;
      } while (r.peek() == ' ');
      return true;
    case Name::id:
      return id(r, c);
    case Name::select:
    case Name::examine:
      return r.sp() && r.astring(c.mailbox) && select_params(r, c);
    case Name::create:
      return r.sp() && r.astring(c.mailbox) && create_params(r, c);
    case Name::delete_:
    case Name::subscribe:
    case Name::unsubscribe:
    case Name::getquota:
    case Name::getquotaroot:
      return r.sp() && r.astring(c.mailbox);
    case Name::rename:
      return r.sp() && r.astring(c.mailbox) && r.sp() && r.astring(c.mailbox2);
    case Name::list:
      return list(r, c);
    case Name::lsub: {
      std::string pattern;
      if (!r.sp() || !r.astring(c.reference) || !r.sp() || !r.list_mailbox(pattern)) return false;
      c.patterns.push_back(std::move(pattern));
      return true;
    }
    case Name::status:
      return r.sp() && r.astring(c.mailbox) && r.sp() && status_items(r, c.status_items);
    case Name::append:
      return append(r, c);
    case Name::search:
      return detail::parse_search(r, c);
    case Name::sort:
      return detail::parse_sort(r, c);
    case Name::thread:
      return detail::parse_thread(r, c);
    case Name::fetch:
      return detail::parse_fetch(r, c);
    case Name::store:
      return store(r, c);
    case Name::copy:
    case Name::move:
      return r.sp() && r.sequence_set(c.set) && r.sp() && r.astring(c.mailbox);
    case Name::compress:
      if (!r.sp() || !r.keyword(c.mechanism)) return false;
      return c.mechanism == "DEFLATE" || r.fail("unknown compression mechanism");
  }
  return r.fail("unknown command");
}

}  // namespace

ParseResult parse(std::string_view command) {
  ParseResult result;
  result.tag = "*";
  Reader r(command);
  if (r.at_end()) {
    result.error = "empty command";
    return result;
  }
  const std::string tag = read_tag(command);
  if (tag.empty()) {
    result.error = "invalid tag";
    return result;
  }
  result.tag = tag;
  for (std::size_t i = 0; i < tag.size(); ++i)
    r.eat(tag[i]);

  Command c;
  c.tag = tag;
  std::string word;
  if (r.at_end()) {
    result.error = "missing command";
    return result;
  }
  if (!r.sp() || !r.keyword(word)) {
    result.error = r.error() == "missing argument" ? "missing command" : "unknown command";
    return result;
  }
  if (word == "UID") {
    c.uid = true;
    if (!r.sp() || !r.keyword(word)) {
      result.error = r.error() == "missing argument" ? "missing command" : "unknown command";
      return result;
    }
    if (!one_of(word, {"FETCH", "STORE", "COPY", "MOVE", "SEARCH", "SORT", "THREAD", "EXPUNGE"})) {
      result.error = "unknown UID command";
      return result;
    }
  }
  bool known = false;
  for (const auto& [text, name] : kNames) {
    if (text == word) {
      c.name = name;
      known = true;
    }
  }
  if (!known) {
    result.error = "unknown command";
    return result;
  }
  if (!arguments(r, c) || !r.end()) {
    result.error = r.error().empty() ? "syntax error" : r.error();
    return result;
  }
  result.command = std::move(c);
  return result;
}

}  // namespace portico::imap
