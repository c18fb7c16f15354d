// smtp-in — command lines (see command.h).
#include "command.h"

#include <strings.h>

#include <array>
#include <utility>

namespace portico::smtp {

namespace {

constexpr std::array<std::pair<std::string_view, Verb>, 14> kVerbs{{
    {"HELO", Verb::helo},
    {"EHLO", Verb::ehlo},
    {"MAIL", Verb::mail},
    {"RCPT", Verb::rcpt},
    {"DATA", Verb::data},
    {"BDAT", Verb::bdat},
    {"RSET", Verb::rset},
    {"NOOP", Verb::noop},
    {"QUIT", Verb::quit},
    {"VRFY", Verb::vrfy},
    {"EXPN", Verb::expn},
    {"HELP", Verb::help},
    {"STARTTLS", Verb::starttls},
    {"AUTH", Verb::auth},
}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // xtext hex is upper case (RFC 3461 section 4)
}

}  // namespace

std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

CommandLine split_command(std::string_view line) {
  CommandLine c;
  const std::size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  for (const auto& [name, v] : kVerbs) {
    if (iequals(verb, name)) {
      c.verb = v;
      break;
    }
  }
  if (space != std::string_view::npos) {
    std::string_view args = line.substr(space + 1);
    while (!args.empty() && args.back() == ' ')
      args.remove_suffix(1);
    c.args = args;
  }
  return c;
}

std::string_view verb_name(Verb verb) {
  for (const auto& [name, v] : kVerbs) {
    if (v == verb) return name;
  }
  return "UNKNOWN";
}

bool ends_group(Verb verb) {
  switch (verb) {
    case Verb::helo:
    case Verb::ehlo:
    case Verb::data:
    case Verb::vrfy:
    case Verb::expn:
    case Verb::noop:
    case Verb::quit:
    case Verb::starttls:
      return true;
    default:
      return false;
  }
}

std::optional<std::vector<Param>> parse_params(std::string_view text) {
  std::vector<Param> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', i), text.size());
    const std::string_view item = text.substr(i, end - i);
    i = end;
    const std::size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    if (key.empty()) return std::nullopt;
    Param p;
    for (std::size_t k = 0; k < key.size(); ++k) {
      const auto c = static_cast<unsigned char>(key[k]);
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && !(k > 0 && c == '-')) return std::nullopt;
      p.keyword += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    if (eq != std::string_view::npos) {
      const std::string_view value = item.substr(eq + 1);
      if (value.empty()) return std::nullopt;
      for (unsigned char c : value) {
        if (c < 33 || c == '=' || c == 127) return std::nullopt;  // esmtp-value
      }
      p.value = std::string(value);
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::optional<std::string_view> after_prefix(std::string_view args, std::string_view prefix) {
  if (args.size() < prefix.size() || !iequals(args.substr(0, prefix.size()), prefix)) {
    return std::nullopt;
  }
  args.remove_prefix(prefix.size());
  while (!args.empty() && args.front() == ' ')
    args.remove_prefix(1);
  return args;
}

std::optional<std::string> xtext_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '+') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c >= 33 && c <= 126 && c != '=') {
      out += static_cast<char>(c);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace portico::smtp
