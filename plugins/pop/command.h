// pop — POP3 command lines (RFC 1939 section 3, RFC 2449 section 3) and the command table.
//
// Pure functions over one line without its CRLF. A command is a case-insensitive keyword of
// three or four characters, optionally followed by arguments separated by single spaces (runs
// of spaces are tolerated, trailing spaces ignored). PASS takes the rest of the line verbatim as
// its one argument, since a password may contain spaces (RFC 1939 section 7). The table says, as
// data, in which states each command is legal and how many arguments it takes; the session's
// dispatcher checks both in one place and counts every failure as a bad command.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace portico::pop {

enum class Verb {
  user,
  pass,
  apop,
  auth,
  capa,
  stls,
  stat,
  list,
  retr,
  dele,
  noop,
  rset,
  quit,
  top,
  uidl,
  unknown,
};

// States of RFC 1939 section 3 in which a command is legal (bits). UPDATE is entered only by
// QUIT and reads no command.
enum StateBit : std::uint8_t {
  state_authorization = 1u << 0,
  state_transaction = 1u << 1,
};

struct CommandSpec {
  std::string_view name;
  Verb verb;
  std::uint8_t states;  // StateBit mask
  std::uint8_t min_args;
  std::uint8_t max_args;
  std::string_view syntax;  // shown in the -ERR reply to a syntax error
};

// The table row of a keyword (case-insensitive); nullptr when unknown.
const CommandSpec* find_command(std::string_view keyword);

// Limits of RFC 1939 section 3 and RFC 2449 section 4, relaxed where noted in session.h.
constexpr std::size_t kMaxKeyword = 4;
constexpr std::size_t kMaxArgument = 255;
constexpr std::size_t kMaxArguments = 8;

struct CommandLine {
  std::string_view keyword;  // as sent
  const CommandSpec* spec = nullptr;
  std::vector<std::string_view> args;
  std::string_view rest;  // everything after the keyword and one space (PASS's argument)
  bool too_many_args = false;
};

CommandLine parse_command(std::string_view line);

// A message number or line count: 1-10 ASCII digits, value below 2^32. nullopt otherwise.
std::optional<std::uint32_t> parse_number(std::string_view text);

// Removes a trailing CRLF or LF.
std::string_view chomp(std::string_view line);

}  // namespace portico::pop
