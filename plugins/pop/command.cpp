// pop — command lines and the command table (see command.h).
#include "command.h"

#include <strings.h>

#include <array>

namespace portico::pop {

namespace {

constexpr std::uint8_t kAuth = state_authorization;
constexpr std::uint8_t kTrans = state_transaction;
constexpr std::uint8_t kBoth = state_authorization | state_transaction;

// name, verb, states, min args, max args, syntax
constexpr std::array<CommandSpec, 15> kCommands{{
    {"USER", Verb::user, kAuth, 1, 1, "USER name"},
    {"PASS", Verb::pass, kAuth, 1, 1, "PASS password"},
    {"APOP", Verb::apop, kAuth, 2, 2, "APOP name digest"},
    {"AUTH", Verb::auth, kAuth, 0, 2, "AUTH mechanism [initial-response]"},
    {"CAPA", Verb::capa, kBoth, 0, 0, "CAPA"},
    {"STLS", Verb::stls, kAuth, 0, 0, "STLS"},
    {"STAT", Verb::stat, kTrans, 0, 0, "STAT"},
    {"LIST", Verb::list, kTrans, 0, 1, "LIST [msg]"},
    {"RETR", Verb::retr, kTrans, 1, 1, "RETR msg"},
    {"DELE", Verb::dele, kTrans, 1, 1, "DELE msg"},
    {"NOOP", Verb::noop, kTrans, 0, 0, "NOOP"},
    {"RSET", Verb::rset, kTrans, 0, 0, "RSET"},
    {"QUIT", Verb::quit, kBoth, 0, 0, "QUIT"},
    {"TOP", Verb::top, kTrans, 2, 2, "TOP msg n"},
    {"UIDL", Verb::uidl, kTrans, 0, 1, "UIDL [msg]"},
}};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

const CommandSpec* find_command(std::string_view keyword) {
  if (keyword.size() < 3 || keyword.size() > kMaxKeyword) return nullptr;
  for (const auto& c : kCommands) {
    if (iequals(keyword, c.name)) return &c;
  }
  return nullptr;
}

std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

CommandLine parse_command(std::string_view line) {
  CommandLine c;
  const std::size_t space = line.find(' ');
  c.keyword = line.substr(0, space);
  c.spec = find_command(c.keyword);
  if (space == std::string_view::npos) return c;
  c.rest = line.substr(space + 1);
  std::string_view args = c.rest;
  while (!args.empty()) {
    while (!args.empty() && args.front() == ' ')
      args.remove_prefix(1);
    if (args.empty()) break;
    const std::size_t end = std::min(args.find(' '), args.size());
    if (c.args.size() == kMaxArguments) {
      c.too_many_args = true;
      break;
    }
    c.args.push_back(args.substr(0, end));
    args.remove_prefix(end);
  }
  return c;
}

std::optional<std::uint32_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  if (v > 0xffffffffu) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

}  // namespace portico::pop
