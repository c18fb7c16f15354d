// imap — internals of the command parser (parser.cpp, parser_fetch.cpp, parser_search.cpp): a
// cursor over one whole command with the token readers of RFC 9051 section 9 (atoms, astrings,
// quoted strings, literals, numbers, sequence sets of RFC 5182, dates, flags).
//
// Guarantees: a reader never looks past its input; the first failure sets the error text (the
// text of the tagged BAD) and every later call fails too; nesting is bounded by kMaxDepth.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser.h"

namespace portico::imap::detail {

bool is_atom_char(unsigned char c);
bool is_astring_char(unsigned char c);
// The length of the UTF-8 sequence starting at s[0] (1 for ASCII; s not empty), 0 when it is
// malformed (overlong, a surrogate, above U+10FFFF, cut short).
std::size_t utf8_length(std::string_view s);
// Upper-cases ASCII letters.
std::string upper(std::string_view s);
// Days since 1970-01-01 of a date of the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Records the first error; always returns false.
  bool fail(std::string_view message);
  // Replaces the error with a more telling one; always returns false.
  bool fail_as(std::string_view message) {
    error_ = message;
    return false;
  }

  // At the end of the command: only the final CRLF (or LF) is left.
  bool at_end() const;
  // The next octet ('\0' past the input).
  char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  // Consumes c if it is next.
  bool eat(char c);
  // One SP ("missing argument" at the end of the command).
  bool sp();
  // The character c ("expected c").
  bool expect(char c);
  // Only the CRLF is left.
  bool end();

  // Nesting of parentheses, bounded by kMaxDepth.
  bool enter();
  void leave() { --depth_; }

  // 1*ATOM-CHAR. `extra` chars are accepted too (e.g. "]" for astrings, "%*" for list-mailbox).
  bool atom(std::string& out, std::string_view extra = {});
  // An atom, upper-cased (command names, keywords).
  bool keyword(std::string& out);
  // The keyword "NIL" (case-insensitive) is next, followed by a delimiter; consumes it.
  bool nil();
  // The keyword w (upper-case, compared case-insensitively) is next, followed by a character
  // that is not an atom character; consumes it.
  bool take_word(std::string_view w);
  // The next run of letters, digits and dots, upper-cased (fetch attributes, section texts).
  std::string name();
  bool quoted(std::string& out);
  // "{n}" / "{n+}" CRLF and n octets; "~{n}" too when binary is non-null (set to true then).
  bool literal(std::string& out, bool* binary = nullptr, bool allow_nul = false);
  bool string(std::string& out);  // quoted / literal
  bool astring(std::string& out);
  bool list_mailbox(std::string& out);

  bool number32(std::uint32_t& out, bool nonzero);
  // Up to 2^63-1 (number64, mod-sequence-value).
  bool number63(std::uint64_t& out, bool nonzero);
  bool sequence_set(SequenceSet& out, bool allow_special = true);
  // date (d-MMM-yyyy, optionally quoted) -> days since the epoch.
  bool date(std::int64_t& days);
  // "dd-MMM-yyyy hh:mm:ss +zzzz" -> seconds since the epoch.
  bool date_time(std::int64_t& epoch);
  // flag: "\" atom or a keyword atom.
  bool flag(std::string& out);
  // "(" [flag *(SP flag)] ")".
  bool flag_list(std::vector<std::string>& out);
  // Pushes onto a list, failing with "too many items" past kMaxListItems.
  template <typename T>
  bool push(std::vector<T>& list, T value) {
    if (list.size() >= kMaxListItems) return fail("too many items");
    list.push_back(std::move(value));
    return true;
  }

 private:
  bool digits(std::uint64_t& out, std::uint64_t max);

  std::string_view in_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::string error_;
};

// After "FETCH": SP sequence-set SP items [SP modifiers].
bool parse_fetch(Reader& r, Command& c);
// After "SEARCH": [SP RETURN (...)] [SP CHARSET x] 1*(SP search-key).
bool parse_search(Reader& r, Command& c);
bool parse_sort(Reader& r, Command& c);
bool parse_thread(Reader& r, Command& c);

}  // namespace portico::imap::detail
