// imap — SORT keys and order (see sort.h), RFC 5256 and RFC 5957.
#include "sort.h"

#include <algorithm>

#include "gmime_support.h"

namespace portico::imap {

namespace {

// One item of an IMAP data text as the store writes ENVELOPE: NIL, an atom, a quoted string, a
// literal, or a parenthesized list.
struct Item {
  bool nil = true;
  std::string text;
  std::vector<Item> items;
};

constexpr int kMaxDepth = 4;           // ENVELOPE nests three deep
constexpr std::size_t kMaxItems = 64;  // items kept of a list (the rest read and dropped)

void skip_spaces(std::string_view s, std::size_t& p) {
  while (p < s.size() && s[p] == ' ')
    ++p;
}

bool read_item(std::string_view s, std::size_t& p, Item& out, int depth) {
  skip_spaces(s, p);
  if (p >= s.size() || depth > kMaxDepth) return false;
  const char c = s[p];
  if (c == '(') {
    ++p;
    out.nil = false;
    for (;;) {
      skip_spaces(s, p);
      if (p >= s.size()) return false;
      if (s[p] == ')') {
        ++p;
        return true;
      }
      Item child;
      if (!read_item(s, p, child, depth + 1)) return false;
      if (out.items.size() < kMaxItems) out.items.push_back(std::move(child));
    }
  }
  if (c == '"') {
    for (++p; p < s.size() && s[p] != '"'; ++p) {
      if (s[p] == '\\' && p + 1 < s.size()) ++p;
      out.text += s[p];
    }
    if (p >= s.size()) return false;
    ++p;
    out.nil = false;
    return true;
  }
  if (c == '{') {
    std::size_t close = s.find('}', p);
    if (close == std::string_view::npos || close == p + 1 || close - p > 10) return false;
    std::size_t n = 0;
    for (std::size_t i = p + 1; i < close; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      n = n * 10 + static_cast<std::size_t>(s[i] - '0');
    }
    p = close + 1;
    if (s.substr(p, 2) != "\r\n" || s.size() - (p + 2) < n) return false;
    out.text = std::string(s.substr(p + 2, n));
    p += 2 + n;
    out.nil = false;
    return true;
  }
  std::size_t end = p;
  while (end < s.size() && s[end] != ' ' && s[end] != ')' && s[end] != '(')
    ++end;
  if (end == p) return false;
  std::string_view atom = s.substr(p, end - p);
  p = end;
  out.nil = atom == "NIL";
  if (!out.nil) out.text = std::string(atom);
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = gmime::ascii_lower(c);
  return s;
}

std::string decoded(const std::string& raw) {
  if (raw.empty()) return raw;
  gmime::init();
  char* text = g_mime_utils_header_decode_text(nullptr, raw.c_str());
  std::string out = text ? text : raw;
  g_free(text);
  return out;
}

// The first address of an address list: its mailbox (local part), and its display name or,
// without one, its address (RFC 5957).
void first_address(const Item& list, std::string& mailbox, std::string& display) {
  if (list.items.empty() || list.items[0].items.size() < 4) return;
  const Item& a = list.items[0];
  mailbox = lower(a.items[2].text);
  std::string name = decoded(a.items[0].text);
  display = lower(!name.empty() ? name : a.items[2].text + "@" + a.items[3].text);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && gmime::iequals(s.substr(0, prefix.size()), prefix);
}

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

// "[" *BLOBCHAR "]" *WSP at `p`: the offset after it, or npos.
std::size_t blob_end(std::string_view s, std::size_t p) {
  if (p >= s.size() || s[p] != '[') return std::string_view::npos;
  std::size_t q = p + 1;
  while (q < s.size() && s[q] != '[' && s[q] != ']')
    ++q;
  if (q >= s.size() || s[q] != ']') return std::string_view::npos;
  ++q;
  while (q < s.size() && is_wsp(s[q]))
    ++q;
  return q;
}

// subj-refwd at `p` ("re" / "fw" / "fwd", *WSP, [subj-blob], ":"): the offset after it, or npos.
std::size_t refwd_end(std::string_view s, std::size_t p) {
  std::size_t q;
  if (starts_with_ci(s.substr(p), "fwd"))
    q = p + 3;
  else if (starts_with_ci(s.substr(p), "fw") || starts_with_ci(s.substr(p), "re"))
    q = p + 2;
  else
    return std::string_view::npos;
  while (q < s.size() && is_wsp(s[q]))
    ++q;
  if (std::size_t b = blob_end(s, q); b != std::string_view::npos) q = b;
  if (q >= s.size() || s[q] != ':') return std::string_view::npos;
  return q + 1;
}

void trim(std::string& s) {
  std::size_t a = 0;
  while (a < s.size() && is_wsp(s[a]))
    ++a;
  std::size_t b = s.size();
  while (b > a && is_wsp(s[b - 1]))
    --b;
  s = s.substr(a, b - a);
}

int compare(const SortKeys& a, const SortKeys& b, Command::SortCriterion::Key key) {
  using K = Command::SortCriterion::Key;
  auto three = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (key) {
    case K::arrival:
      return three(a.arrival, b.arrival);
    case K::date:
      return three(a.date, b.date);
    case K::size:
      return three(a.size, b.size);
    case K::subject:
      return a.subject.compare(b.subject);
    case K::from:
      return a.from.compare(b.from);
    case K::to:
      return a.to.compare(b.to);
    case K::cc:
      return a.cc.compare(b.cc);
    case K::display_from:
      return a.display_from.compare(b.display_from);
    case K::display_to:
      return a.display_to.compare(b.display_to);
  }
  return 0;
}

}  // namespace

std::string base_subject(std::string_view subject, bool* reply) {
  bool removed = false;
  // (1) Decoded, every run of white space (folding included) one space.
  std::string s;
  for (char c : decoded(std::string(subject))) {
    const bool space = is_wsp(c) || c == '\r' || c == '\n';
    if (space && (s.empty() || s.back() == ' ')) continue;
    s += space ? ' ' : c;
  }
  trim(s);
  for (int rounds = 0; rounds < 64; ++rounds) {
    // (2) Trailing "(fwd)" and white space.
    for (;;) {
      trim(s);
      if (s.size() >= 5 && gmime::iequals(std::string_view(s).substr(s.size() - 5), "(fwd)")) {
        s.resize(s.size() - 5);
        removed = true;
      } else
        break;
    }
    // (3)-(5) Leading subj-leaders, then a leading blob if something is left after it.
    for (bool changed = true; changed;) {
      changed = false;
      trim(s);
      std::size_t p = 0;
      for (std::size_t b; (b = blob_end(s, p)) != std::string_view::npos;)
        p = b;
      if (std::size_t r = refwd_end(s, p); r != std::string_view::npos) {
        s.erase(0, r);
        changed = removed = true;
        continue;
      }
      if (std::size_t b = blob_end(s, 0); b != std::string_view::npos && b < s.size()) {
        s.erase(0, b);
        changed = true;
      }
    }
    // (6) "[fwd: ... ]" around it all: unwrap and start again.
    if (starts_with_ci(s, "[fwd:") && s.back() == ']') {
      s = s.substr(5, s.size() - 6);
      removed = true;
      continue;
    }
    break;
  }
  if (reply != nullptr) *reply = removed;
  return lower(s);
}

SortKeys sort_keys(const sdk::MessageInfo& info) {
  SortKeys k;
  k.arrival = info.internal_date;
  k.date = info.internal_date;
  k.size = info.size;
  try {
    Item env;
    std::size_t p = 0;
    if (!read_item(info.envelope, p, env, 0) || env.items.size() < 10) return k;
    if (!env.items[0].text.empty()) {
      gmime::init();
      if (GDateTime* d = g_mime_utils_header_decode_date(env.items[0].text.c_str())) {
        k.date = g_date_time_to_unix(d);
        g_date_time_unref(d);
      }
    }
    k.subject = base_subject(env.items[1].text, &k.reply);
    first_address(env.items[2], k.from, k.display_from);
    first_address(env.items[5], k.to, k.display_to);
    std::string unused;
    first_address(env.items[6], k.cc, unused);
    k.in_reply_to = env.items[8].text;
    k.message_id = env.items[9].text;
  } catch (...) {
  }
  return k;
}

void sort_by(const std::vector<Command::SortCriterion>& criteria, const std::vector<SortKeys>& keys,
             std::vector<std::size_t>& order) {
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    for (const auto& c : criteria) {
      int r = compare(keys[a], keys[b], c.key);
      if (c.reverse) r = -r;
      if (r != 0) return r < 0;
    }
    return false;
  });
}

}  // namespace portico::imap
