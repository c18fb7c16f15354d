// imap — the client side's reading of server responses (see retrieval_response.h).
#include "retrieval_response.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace portico::imap::client {

namespace {

// The longest Message-ID kept (RFC 5322 lines are at most 998 octets; folded ones may be more).
constexpr std::size_t kMaxMessageId = 2048;

std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool digits_only(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

template <typename T>
std::optional<T> number(std::string_view s) {
  if (!digits_only(s)) return std::nullopt;
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The next space-separated token of `s`, consumed.
std::string_view token(std::string_view& s) {
  const auto space = s.find(' ');
  std::string_view t = s.substr(0, space);
  s = space == std::string_view::npos ? std::string_view() : s.substr(space + 1);
  return t;
}

bool iequal_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Response parse_response(std::string_view line) {
  line = chomp(line);
  Response r;
  if (line.empty()) return r;
  if (line[0] == '+') {
    r.kind = Response::Kind::continuation;
    line.remove_prefix(1);
    if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
    r.text = line;
    return r;
  }
  std::string_view rest = line;
  const std::string_view first = token(rest);
  if (first.empty()) return r;
  if (first == "*") {
    r.kind = Response::Kind::untagged;
    std::string_view word = token(rest);
    if (auto n = number<std::uint64_t>(word)) {
      r.number = n;
      word = token(rest);
    }
    if (word.empty()) return Response{};
    r.name = upper(word);
    r.text = rest;
    return r;
  }
  // A tag: any atom but "*" and "+" (RFC 9051 section 9, tag).
  for (char c : first) {
    if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '"' ||
        c == '\\') {
      return r;
    }
  }
  const std::string_view status = token(rest);
  if (status.empty()) return r;
  r.kind = Response::Kind::tagged;
  r.tag = first;
  r.name = upper(status);
  r.text = rest;
  return r;
}

std::optional<std::uint64_t> trailing_literal(std::string_view line) {
  line = chomp(line);
  if (line.size() < 3 || line.back() != '}') return std::nullopt;
  const auto open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);  // LITERAL+ form
  if (!digits_only(digits)) return std::nullopt;
  if (auto n = number<std::uint64_t>(digits)) return n;
  return std::numeric_limits<std::uint64_t>::max();
}

std::optional<ResponseCode> response_code(std::string_view text) {
  if (text.empty() || text[0] != '[') return std::nullopt;
  const auto close = text.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view inside = text.substr(1, close - 1);
  ResponseCode code;
  code.name = upper(token(inside));
  code.args = inside;
  return code;
}

std::unordered_set<std::string> parse_capabilities(std::string_view list) {
  std::unordered_set<std::string> out;
  while (!list.empty()) {
    const std::string_view t = token(list);
    if (!t.empty()) out.insert(upper(t));
  }
  return out;
}

bool parse_search(std::string_view text, std::vector<std::uint32_t>& out, std::size_t max) {
  while (!text.empty()) {
    const std::string_view t = token(text);
    if (t.empty()) continue;
    if (t[0] == '(') break;  // "(MODSEQ n)" of CONDSTORE: nothing more of use
    auto uid = number<std::uint32_t>(t);
    if (!uid || *uid == 0) return false;
    if (out.size() >= max) return false;
    out.push_back(*uid);
  }
  return true;
}

FetchItem fetch_item_before_literal(std::string_view line) {
  line = chomp(line);
  const auto open = line.rfind('{');
  if (open == std::string_view::npos) return FetchItem::other;
  std::string_view before = line.substr(0, open);
  if (!before.empty() && before.back() == '~') before.remove_suffix(1);
  if (before.empty() || before.back() != ' ') return FetchItem::other;
  before.remove_suffix(1);
  // The item's name: back to the space that is not inside brackets.
  int depth = 0;
  std::size_t start = before.size();
  while (start > 0) {
    const char c = before[start - 1];
    if (c == ']' || c == ')') ++depth;
    if (c == '[' || c == '(') {
      if (depth == 0) break;  // the FETCH's own "("
      --depth;
    }
    if (c == ' ' && depth == 0) break;
    --start;
  }
  std::string_view item = before.substr(start);
  if (auto partial = item.rfind('<'); partial != std::string_view::npos && item.back() == '>') {
    item = item.substr(0, partial);  // BODY[]<0>
  }
  const std::string name = upper(item);
  if (name == "BODY[]" || name == "BINARY[]") return FetchItem::body;
  if (iequal_prefix(name, "BODY[HEADER")) return FetchItem::header;
  return FetchItem::other;
}

std::optional<std::uint32_t> fetch_uid(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s[0] == '(') s.remove_prefix(1);
  while (!s.empty()) {
    const std::string_view t = token(s);
    if (upper(t) == "UID") {
      std::string_view value = token(s);
      while (!value.empty() && value.back() == ')')
        value.remove_suffix(1);
      return number<std::uint32_t>(value);
    }
    if (t.find('[') != std::string_view::npos || t.find('{') != std::string_view::npos) break;
  }
  return std::nullopt;
}

std::string message_id(std::string_view header) {
  std::size_t at = 0;
  while (at < header.size()) {
    const auto end = header.find('\n', at);
    const std::string_view line =
        header.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    at = end == std::string_view::npos ? header.size() : end + 1;
    if (!iequal_prefix(line, "MESSAGE-ID:")) continue;
    std::string value(line.substr(11));
    // Folded continuation lines belong to the field (RFC 5322 section 2.2.3).
    while (at < header.size() && (header[at] == ' ' || header[at] == '\t')) {
      const auto next = header.find('\n', at);
      value +=
          header.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at);
      at = next == std::string_view::npos ? header.size() : next + 1;
      if (value.size() > kMaxMessageId) return {};
    }
    std::string out;
    for (char c : value) {
      if (c != '\r' && c != '\n' && c != ' ' && c != '\t') out += c;
    }
    return out.size() > kMaxMessageId ? std::string() : out;
  }
  return {};
}

std::string printable(std::string_view text) {
  text = chomp(text);
  std::string out;
  for (char c : text.substr(0, 200))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::vector<std::string> compose(std::string_view tag, std::string_view verb,
                                 const std::vector<std::string>& args) {
  std::vector<std::string> pieces;
  std::string piece = std::string(tag) + " " + std::string(verb);
  for (const auto& arg : args) {
    const bool quotable =
        std::all_of(arg.begin(), arg.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    if (quotable) {
      piece += " \"";
      for (char c : arg) {
        if (c == '"' || c == '\\') piece += '\\';
        piece += c;
      }
      piece += '"';
    } else {
      piece += " {" + std::to_string(arg.size()) + "}\r\n";
      pieces.push_back(std::move(piece));
      piece = arg;
    }
  }
  piece += "\r\n";
  pieces.push_back(std::move(piece));
  return pieces;
}

std::vector<std::string> uid_sets(std::vector<std::uint32_t> uids, std::size_t max_chars) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  std::vector<std::string> out;
  std::string set;
  for (std::size_t i = 0; i < uids.size();) {
    std::size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1)
      ++j;
    std::string range = std::to_string(uids[i]);
    if (j > i) range += ":" + std::to_string(uids[j]);
    if (!set.empty() && set.size() + 1 + range.size() > max_chars) {
      out.push_back(std::move(set));
      set.clear();
    }
    if (!set.empty()) set += ',';
    set += range;
    i = j + 1;
  }
  if (!set.empty()) out.push_back(std::move(set));
  return out;
}

}  // namespace portico::imap::client
