// xmpp — JIDs (see jid.h).
#include "jid.h"

#include <cstdint>

namespace portico::xmpp {

namespace {

constexpr std::size_t kMaxPart = 1023;

std::string fold(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool has_control_or_space(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // the sequence is cut short
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
      return false;
    i += n + 1;
  }
  return true;
}

std::optional<Jid> parse_jid(std::string_view text) {
  if (text.empty() || !valid_utf8(text)) return std::nullopt;
  Jid jid;
  std::string_view rest = text;
  // The resourcepart is everything after the first "/" (it may itself hold "/" and "@").
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    jid.resource = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (jid.resource.empty() || jid.resource.size() > kMaxPart) return std::nullopt;
    for (unsigned char c : jid.resource)
      if (c < 0x20 || c == 0x7f) return std::nullopt;
  }
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    std::string_view local = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (local.empty() || local.size() > kMaxPart || has_control_or_space(local))
      return std::nullopt;
    for (char c : local)
      if (c == '"' || c == '&' || c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' ||
          c == '@')
        return std::nullopt;
    jid.local = fold(local);
  }
  if (!rest.empty() && rest.back() == '.') rest.remove_suffix(1);
  if (rest.empty() || rest.size() > kMaxPart || has_control_or_space(rest)) return std::nullopt;
  for (char c : rest)
    if (c == '@' || c == '/' || c == '"' || c == '<' || c == '>' || c == '&' || c == '\'')
      return std::nullopt;
  jid.domain = fold(rest);
  return jid;
}

std::string bare_of(std::string_view text) {
  auto jid = parse_jid(text);
  return jid ? jid->bare() : std::string(text);
}

}  // namespace portico::xmpp
