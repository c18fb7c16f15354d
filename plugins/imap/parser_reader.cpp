// imap — token readers of the command parser (see parser_internal.h): RFC 9051 section 9 atoms,
// astrings, quoted strings (UTF-8 allowed, validated), literals (RFC 7888 "{n+}", RFC 3516
// "~{n}"), numbers, sequence sets with "*" and "$" (RFC 5182), dates and date-times, flags.
//
// Guarantees: no read past the input; numbers are checked for overflow; literal sizes against
// the octets actually present.
#include <array>
#include <cstring>

#include "parser_internal.h"

namespace portico::imap::detail {

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Whether `rest` starts a quoted string or a literal: "{", or RFC 3516's "~{" (a "~" alone is
// an atom's, as in "~peter/mail").
bool string_ahead(std::string_view rest) {
  return !rest.empty() &&
         (rest[0] == '"' || rest[0] == '{' || (rest[0] == '~' && rest.substr(1, 1) == "{"));
}

}  // namespace

std::size_t utf8_length(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xc0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (s.size() < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xe0 && b(1) < 0xa0) return 0;  // overlong
    if (c == 0xed && b(1) > 0x9f) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (s.size() < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xf0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xf4 && b(1) > 0x8f) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool is_atom_char(unsigned char c) {
  if (c <= 0x1f || c >= 0x7f) return false;
  return std::strchr("(){ %*\"\\]", c) == nullptr;
}

bool is_astring_char(unsigned char c) {
  return is_atom_char(c) || c == ']';
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  // Count from 0000-03-01 so that the leap day ends the year; 146097 days per 400 years.
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Reader::fail(std::string_view message) {
  if (error_.empty()) error_ = message;
  return false;
}

bool Reader::at_end() const {
  const std::string_view rest = in_.substr(pos_);
  return rest.empty() || rest == "\r\n" || rest == "\n";
}

bool Reader::eat(char c) {
  if (!ok() || pos_ >= in_.size() || in_[pos_] != c) return false;
  ++pos_;
  return true;
}

bool Reader::sp() {
  if (!ok()) return false;
  if (at_end()) return fail("missing argument");
  if (!eat(' ')) return fail("expected space");
  return true;
}

bool Reader::expect(char c) {
  if (!ok()) return false;
  if (eat(c)) return true;
  if (at_end()) return fail("missing argument");
  return fail(std::string("expected ") + c);
}

bool Reader::end() {
  if (!ok()) return false;
  if (!at_end()) return fail("unexpected characters after command");
  pos_ = in_.size();
  return true;
}

bool Reader::enter() {
  if (!ok()) return false;
  if (depth_ >= kMaxDepth) return fail("nesting too deep");
  ++depth_;
  return true;
}

bool Reader::atom(std::string& out, std::string_view extra) {
  if (!ok()) return false;
  const std::size_t start = pos_;
  while (pos_ < in_.size()) {
    const auto c = static_cast<unsigned char>(in_[pos_]);
    if (!is_atom_char(c) && extra.find(static_cast<char>(c)) == std::string_view::npos) break;
    ++pos_;
  }
  if (pos_ == start) return fail(at_end() ? "missing argument" : "invalid atom");
  out.assign(in_.substr(start, pos_ - start));
  return true;
}

bool Reader::keyword(std::string& out) {
  if (!atom(out)) return false;
  out = upper(out);
  return true;
}

bool Reader::nil() {
  return take_word("NIL");
}

bool Reader::take_word(std::string_view w) {
  if (!ok() || in_.size() - pos_ < w.size()) return false;
  if (upper(in_.substr(pos_, w.size())) != w) return false;
  const std::size_t after = pos_ + w.size();
  if (after < in_.size() && is_astring_char(static_cast<unsigned char>(in_[after]))) return false;
  pos_ = after;
  return true;
}

std::string Reader::name() {
  const std::size_t start = pos_;
  while (ok() && pos_ < in_.size()) {
    const char c = in_[pos_];
    if (!is_digit(c) && c != '.' && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) break;
    ++pos_;
  }
  return upper(in_.substr(start, pos_ - start));
}

bool Reader::quoted(std::string& out) {
  if (!ok()) return false;
  if (!eat('"')) return fail("invalid string");
  out.clear();
  while (pos_ < in_.size()) {
    const char c = in_[pos_];
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c == '\\') {
      if (pos_ + 1 >= in_.size() || (in_[pos_ + 1] != '"' && in_[pos_ + 1] != '\\'))
        return fail("invalid quoted string");
      out += in_[pos_ + 1];
      pos_ += 2;
      continue;
    }
    if (c == '\r' || c == '\n' || c == '\0') return fail("invalid quoted string");
    const std::size_t n = utf8_length(in_.substr(pos_));
    if (n == 0) return fail("invalid UTF-8 in quoted string");
    out.append(in_.substr(pos_, n));
    pos_ += n;
  }
  return fail("unterminated quoted string");
}

bool Reader::digits(std::uint64_t& out, std::uint64_t max) {
  if (!ok()) return false;
  if (pos_ >= in_.size() || !is_digit(in_[pos_]))
    return fail(at_end() ? "missing argument" : "invalid number");
  std::uint64_t v = 0;
  while (pos_ < in_.size() && is_digit(in_[pos_])) {
    const auto d = static_cast<std::uint64_t>(in_[pos_] - '0');
    if (v > (max - d) / 10) return fail("number out of range");
    v = v * 10 + d;
    ++pos_;
  }
  out = v;
  return true;
}

bool Reader::number32(std::uint32_t& out, bool nonzero) {
  std::uint64_t v = 0;
  if (!digits(v, 0xffffffffu)) return false;
  if (nonzero && v == 0) return fail("invalid number");
  out = static_cast<std::uint32_t>(v);
  return true;
}

bool Reader::number63(std::uint64_t& out, bool nonzero) {
  if (!digits(out, 0x7fffffffffffffffull)) return false;
  if (nonzero && out == 0) return fail("invalid number");
  return true;
}

bool Reader::literal(std::string& out, bool* binary, bool allow_nul) {
  if (!ok()) return false;
  bool is_binary = false;
  if (eat('~')) {
    if (binary == nullptr) return fail("binary literal not allowed here");
    is_binary = true;
  }
  if (!eat('{')) return fail("invalid literal");
  std::uint64_t size = 0;
  if (pos_ >= in_.size() || !is_digit(in_[pos_])) return fail("invalid literal");
  if (!digits(size, 0xffffffffu)) {
    error_ = "invalid literal";
    return false;
  }
  eat('+');
  if (!eat('}')) return fail("invalid literal");
  eat('\r');
  if (!eat('\n')) return fail("invalid literal");
  if (size > in_.size() - pos_) return fail("truncated literal");
  const std::string_view body = in_.substr(pos_, size);
  if (!allow_nul && !is_binary && body.find('\0') != std::string_view::npos)
    return fail("NUL in literal");
  out.assign(body);
  pos_ += size;
  if (binary != nullptr) *binary = is_binary;
  return true;
}

bool Reader::string(std::string& out) {
  if (!ok()) return false;
  if (at_end()) return fail("missing argument");
  if (peek() == '"') return quoted(out);
  if (peek() == '{' || peek() == '~') return literal(out);
  return fail("invalid string");
}

bool Reader::astring(std::string& out) {
  if (!ok()) return false;
  if (at_end()) return fail("missing argument");
  if (string_ahead(in_.substr(pos_))) return string(out);
  if (!is_astring_char(static_cast<unsigned char>(peek()))) return fail("invalid string");
  return atom(out, "]");
}

bool Reader::list_mailbox(std::string& out) {
  if (!ok()) return false;
  if (at_end()) return fail("missing argument");
  if (string_ahead(in_.substr(pos_))) return string(out);
  return atom(out, "]%*");
}

bool Reader::sequence_set(SequenceSet& out, bool allow_special) {
  if (!ok()) return false;
  if (at_end()) return fail("missing argument");
  out = SequenceSet{};
  const auto seq_number = [&](std::uint32_t& n) {
    if (eat('*')) {
      if (!allow_special) return fail("invalid sequence set");
      n = kStar;
      return true;
    }
    if (pos_ >= in_.size() || !is_digit(in_[pos_])) return fail("invalid sequence set");
    if (!number32(n, true)) {
      error_ = "invalid sequence set";
      return false;
    }
    return true;
  };
  while (true) {
    if (eat('$')) {
      if (!allow_special) return fail("invalid sequence set");
      out.saved = true;
    } else {
      SeqRange range;
      if (!seq_number(range.first)) return false;
      range.last = range.first;
      if (eat(':') && !seq_number(range.last)) return false;
      if (out.ranges.size() >= kMaxListItems) return fail("too many items");
      out.ranges.push_back(range);
    }
    if (!eat(',')) break;
  }
  const char next = peek();
  if (!at_end() && next != ' ' && next != ')') return fail("invalid sequence set");
  return true;
}

bool Reader::date(std::int64_t& days) {
  if (!ok()) return false;
  if (at_end()) return fail("missing argument");
  const bool quoted = eat('"');
  const auto bad = [&] {
    error_.clear();
    return fail("invalid date");
  };
  std::uint64_t day = 0, year = 0;
  const std::size_t day_start = pos_;
  if (!digits(day, 99) || pos_ - day_start > 2 || !eat('-')) return bad();
  if (in_.size() - pos_ < 4) return bad();
  const std::string month = upper(in_.substr(pos_, 3));
  unsigned m = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == month) m = i + 1;
  }
  pos_ += 3;
  if (m == 0 || !eat('-')) return bad();
  const std::size_t year_start = pos_;
  if (!digits(year, 9999) || pos_ - year_start != 4) return bad();
  if (quoted && !eat('"')) return bad();
  if (day < 1 || day > days_in_month(static_cast<std::int64_t>(year), m)) return bad();
  days = days_from_civil(static_cast<std::int64_t>(year), m, static_cast<unsigned>(day));
  return true;
}

bool Reader::date_time(std::int64_t& epoch) {
  if (!ok()) return false;
  const auto bad = [&] {
    error_.clear();
    return fail("invalid date-time");
  };
  // DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
  if (!eat('"')) return bad();
  eat(' ');  // date-day-fixed: SP DIGIT / 2DIGIT
  std::int64_t days = 0;
  if (!date(days)) return bad();
  const auto two = [&](std::uint64_t& v, std::uint64_t max) {
    if (in_.size() - pos_ < 2 || !is_digit(in_[pos_]) || !is_digit(in_[pos_ + 1])) return false;
    v = static_cast<std::uint64_t>((in_[pos_] - '0') * 10 + (in_[pos_ + 1] - '0'));
    pos_ += 2;
    return v <= max;
  };
  std::uint64_t h = 0, mi = 0, s = 0, zh = 0, zm = 0;
  if (!eat(' ') || !two(h, 23) || !eat(':') || !two(mi, 59) || !eat(':') || !two(s, 60) ||
      !eat(' '))
    return bad();
  const bool minus = eat('-');
  if (!minus && !eat('+')) return bad();
  if (!two(zh, 99) || !two(zm, 59) || !eat('"')) return bad();
  const auto zone = static_cast<std::int64_t>(zh * 3600 + zm * 60);
  epoch = days * 86400 + static_cast<std::int64_t>(h * 3600 + mi * 60 + s) + (minus ? zone : -zone);
  return true;
}

bool Reader::flag(std::string& out) {
  if (!ok()) return false;
  if (at_end()) return fail("missing argument");
  const bool system = eat('\\');
  std::string name;
  if (!atom(name)) {
    error_.clear();
    return fail("invalid flag");
  }
  out = system ? "\\" + name : name;
  return true;
}

bool Reader::flag_list(std::vector<std::string>& out) {
  if (!expect('(')) return false;
  out.clear();
  if (eat(')')) return true;
  do {
    std::string f;
    if (!flag(f) || !push(out, std::move(f))) return false;
  } while (eat(' '));
  return expect(')');
}

}  // namespace portico::imap::detail
