// imap — the small pieces of response syntax the session's files share (RFC 9051 section 9):
// quoted strings and literals, atoms, flag lists, date-time, sequence sets, and the matching of
// LIST patterns ("*" and "%", RFC 9051 section 6.3.9).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "session.h"

namespace portico::imap {

namespace {

bool atom_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string quote(std::string_view s, bool utf8) {
  bool literal = false;
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == 0 || (c >= 0x80 && !utf8)) literal = true;
  if (literal) return "{" + std::to_string(s.size()) + "}\r\n" + std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string astring(std::string_view s, bool utf8) {
  if (!s.empty() && std::all_of(s.begin(), s.end(),
                                [](char c) { return atom_char(static_cast<unsigned char>(c)); }))
    return std::string(s);
  return quote(s, utf8);
}

std::string flags_text(const sdk::Flags& f, bool recent) {
  std::string out = "(";
  auto add = [&out](std::string_view name) {
    if (out.size() > 1) out += ' ';
    out += name;
  };
  if (f.system & sdk::flag_answered) add("\\Answered");
  if (f.system & sdk::flag_flagged) add("\\Flagged");
  if (f.system & sdk::flag_deleted) add("\\Deleted");
  if (f.system & sdk::flag_seen) add("\\Seen");
  if (f.system & sdk::flag_draft) add("\\Draft");
  if (recent) add("\\Recent");
  for (const auto& k : f.keywords)
    add(k);
  out += ')';
  return out;
}

sdk::Flags flags_of(const std::vector<std::string>& names) {
  sdk::Flags f;
  for (const auto& n : names) {
    if (iequals(n, "\\Seen"))
      f.system |= sdk::flag_seen;
    else if (iequals(n, "\\Answered"))
      f.system |= sdk::flag_answered;
    else if (iequals(n, "\\Flagged"))
      f.system |= sdk::flag_flagged;
    else if (iequals(n, "\\Deleted"))
      f.system |= sdk::flag_deleted;
    else if (iequals(n, "\\Draft"))
      f.system |= sdk::flag_draft;
    else if (n.empty() || n[0] == '\\')
      continue;  // \Recent and unknown system flags
    else
      f.keywords.push_back(n);
  }
  std::sort(f.keywords.begin(), f.keywords.end());
  f.keywords.erase(std::unique(f.keywords.begin(), f.keywords.end()), f.keywords.end());
  return f;
}

std::string imap_date(std::int64_t epoch_seconds) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string store_mailbox(std::string_view imap_name) {
  if (iequals(imap_name, "INBOX")) return "INBOX";
  if (imap_name.size() > 6 && iequals(imap_name.substr(0, 6), "INBOX/"))
    return "INBOX" + std::string(imap_name.substr(5));
  return std::string(imap_name);
}

bool list_match(std::string_view pattern, std::string_view name, char delimiter) {
  // Iterative wildcard match: "*" matches anything, "%" anything but the delimiter.
  std::size_t p = 0, n = 0, star_p = std::string_view::npos, star_n = 0;
  bool star_any = false;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '*' || pattern[p] == '%')) {
      star_any = pattern[p] == '*';
      star_p = p++;
      star_n = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star_p != std::string_view::npos && (star_any || name[star_n] != delimiter)) {
      p = star_p + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && (pattern[p] == '*' || pattern[p] == '%'))
    ++p;
  return p == pattern.size();
}

sdk::UidSet as_ranges(const std::vector<std::uint32_t>& sorted) {
  sdk::UidSet out;
  for (std::uint32_t u : sorted) {
    if (!out.empty() && out.back().last + 1 == u)
      out.back().last = u;
    else
      out.push_back({u, u});
  }
  return out;
}

std::string seq_set_text(const std::vector<std::uint32_t>& numbers) {
  std::string out;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1)
      ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(numbers[i]);
    if (j > i) out += ':' + std::to_string(numbers[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace portico::imap
