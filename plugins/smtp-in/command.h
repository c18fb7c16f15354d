// smtp-in — SMTP command lines: verb, arguments, ESMTP parameters (RFC 5321 section 4.1).
//
// Pure functions over one line without its CRLF. Parameters are "KEYWORD[=VALUE]" separated by
// spaces (section 4.1.2 esmtp-param); keywords compare case-insensitively; values are checked
// for the section's character set (UTF-8 is allowed in values under SMTPUTF8, RFC 6531).
// xtext (RFC 3461 section 4) decodes "+XX" hex escapes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::smtp {

enum class Verb {
  helo,
  ehlo,
  mail,
  rcpt,
  data,
  bdat,
  rset,
  noop,
  quit,
  vrfy,
  expn,
  help,
  starttls,
  auth,
  unknown,
};

struct CommandLine {
  Verb verb = Verb::unknown;
  std::string_view args;  // after the verb and one space, trailing spaces removed
};

CommandLine split_command(std::string_view line);

// The verb as Postfix logs it ("HELO", "UNKNOWN" for an unrecognized one).
std::string_view verb_name(Verb verb);

// RFC 2920 section 3.1: the command can only be the last of a group the client sends without
// waiting, because its reply changes what the client may send next (EHLO, DATA, VRFY, EXPN,
// NOOP, QUIT; and HELO and STARTTLS, which RFC 5321 and RFC 3207 section 4.2 treat the same).
bool ends_group(Verb verb);

struct Param {
  std::string keyword;  // upper case
  std::optional<std::string> value;
};

// Parses space-separated ESMTP parameters; nullopt on a syntax error.
std::optional<std::vector<Param>> parse_params(std::string_view text);

// "FROM:" / "TO:" prefix, case-insensitive, with the spaces some clients put after the colon
// (RFC 5321 forbids them; accepting them harms nothing). Returns the rest, or nullopt.
std::optional<std::string_view> after_prefix(std::string_view args, std::string_view prefix);

// RFC 3461 xtext: nullopt when malformed.
std::optional<std::string> xtext_decode(std::string_view text);

// Removes a trailing CRLF or LF.
std::string_view chomp(std::string_view line);

}  // namespace portico::smtp
