// Portico SDK — base64 (RFC 4648 section 4), for the SASL exchanges of every protocol
// (SMTP AUTH, POP3 AUTH, IMAP AUTHENTICATE carry the mechanism's bytes in base64).
//
// Strict decoding: the length is a multiple of 4, padding only at the end, no white space;
// anything else is nullopt. Header-only, standard C++ only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portico::sdk {

namespace detail {

inline constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace detail

inline std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += detail::kBase64Alphabet[(v >> 18) & 63];
    out += detail::kBase64Alphabet[(v >> 12) & 63];
    out += detail::kBase64Alphabet[(v >> 6) & 63];
    out += detail::kBase64Alphabet[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += detail::kBase64Alphabet[(v >> 18) & 63];
    out += detail::kBase64Alphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? detail::kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

inline std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = detail::base64_value(c)) < 0) {
        return std::nullopt;
      }
    }
    const unsigned n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace portico::sdk
