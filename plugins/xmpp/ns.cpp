// xmpp — stanza and stream errors, timestamps and ids (see ns.h).
#include "ns.h"

#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <system_error>

namespace portico::xmpp {

namespace {

std::string_view type_name(ErrorType t) {
  switch (t) {
    case ErrorType::auth:
      return "auth";
    case ErrorType::cancel:
      return "cancel";
    case ErrorType::continue_:
      return "continue";
    case ErrorType::modify:
      return "modify";
    case ErrorType::wait:
      return "wait";
  }
  return "cancel";
}

int digits(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

Element stanza_error(const Element& stanza, std::string_view from, ErrorType type,
                     std::string_view condition, std::string_view text) {
  Element reply(stanza.name, stanza.ns);
  if (const auto* id = stanza.attr("id")) reply.set_attr("id", *id);
  const std::string* to = stanza.attr("to");
  reply.set_attr("from", to != nullptr ? std::string_view(*to) : from);
  if (const auto* f = stanza.attr("from")) reply.set_attr("to", *f);
  reply.set_attr("type", "error");
  Element& error = reply.add_child("error", std::string(stanza.ns));
  error.set_attr("type", type_name(type));
  error.add_child(std::string(condition), std::string(kStanzaErrorNs));
  if (!text.empty()) error.add_child("text", std::string(kStanzaErrorNs)).text = std::string(text);
  return reply;
}

std::string stream_error_xml(std::string_view condition, std::string_view text) {
  std::string out = "<stream:error><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
  if (!text.empty()) {
    out += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>";
    out += escape_text(text);
    out += "</text>";
  }
  out += "</stream:error>";
  return out;
}

std::string xmpp_time(std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::int64_t parse_xmpp_time(std::string_view s) {
  // CCYY-MM-DDThh:mm:ss[.sss]TZD
  int year = digits(s, 0, 4), mon = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), min = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 ||
      min > 59 || sec < 0 || sec > 60 || s.size() < 20 || s[4] != '-' || s[7] != '-' ||
      s[10] != 'T' || s[13] != ':' || s[16] != ':')
    return -1;
  std::size_t i = 19;
  int ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int scale = 100;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ms += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  std::int64_t offset = 0;
  if (i < s.size() && s[i] == 'Z' && i + 1 == s.size()) {
    offset = 0;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = digits(s, i + 1, 2), om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0) return -1;
    offset = (oh * 60 + om) * 60;
    if (s[i] == '-') offset = -offset;
  } else {
    return -1;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::int64_t t = static_cast<std::int64_t>(timegm(&tm)) - offset;
  return t * 1000 + ms;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Fills `out` from the kernel's random source (getrandom(2) blocks only before the pool is
// seeded at boot).
void random_bytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<std::size_t>(r);
  }
}

// 12 octets as 16 characters of a 64-character alphabet, 6 bits each, most significant first.
std::string encode12(const unsigned char (&bytes)[12], const char* alphabet) {
  std::string out;
  out.reserve(16);
  for (std::size_t i = 0; i < 12; i += 3) {
    const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int k = 3; k >= 0; --k)
      out.push_back(alphabet[(v >> (6 * k)) & 63]);
  }
  return out;
}

}  // namespace

std::string archive_id(std::int64_t unix_ms) {
  static constexpr char kOrdered[] =
      "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";  // ASCII order
  unsigned char bytes[12];
  const auto t = static_cast<std::uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i)
    bytes[i] = static_cast<unsigned char>(t >> (8 * (5 - i)));
  random_bytes(bytes + 6, 6);
  return encode12(bytes, kOrdered);
}

std::string random_id() {
  static constexpr char kBase64Url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char bytes[12];
  random_bytes(bytes, sizeof bytes);
  return encode12(bytes, kBase64Url);
}

}  // namespace portico::xmpp
