// Portico core — rspamd's HTTP protocol: the request facts, the reply, and what the server does
// with it.
//
// Follows rspamd's protocol documentation (/checkv2: the message as the body, the envelope and
// connection facts as request header fields; a JSON reply with the action, score, symbols,
// messages.smtp_message, subject and milter.add_headers/remove_headers). JSON is read with
// Boost.JSON. Pure functions, no I/O: unit-tested on replies recorded from rspamd.
//
// Guarantees: a reply that is not JSON, is too deep, or lacks an action is a failure (handled as
// spam_filter.on_failure says), never a pass of unknown meaning; a reply text for the client is
// one line of printable ASCII of at most kMaxReplyText octets; header fields added to a message
// are well formed (field names of RFC 5322 section 3.6.8, values free of CR, LF and NUL, folded
// at whitespace).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/config.h"
#include "portico/filter.h"

namespace portico::core::filter {

inline constexpr std::size_t kMaxReplyText = 200;
inline constexpr std::size_t kMaxReplyBody = 4 * 1024 * 1024;  // of rspamd's JSON
inline constexpr std::size_t kMaxSymbolsListed = 50;           // in X-Spam-Symbols

using HeaderField = std::pair<std::string, std::string>;  // name, unfolded value

// The request header fields that tell rspamd the envelope and the connection.
std::vector<HeaderField> request_fields(const sdk::FilterRequest& request,
                                        const std::string& server_hostname);

struct Symbol {
  std::string name;
  double score = 0;
};

struct Reply {
  std::string action;  // "no action", "add header", "rewrite subject", "greylist", ...
  double score = 0;
  double required = 0;
  std::vector<Symbol> symbols;             // by score, highest first, then by name
  std::string smtp_message;                // messages.smtp_message; may be empty
  std::optional<std::string> subject;      // the rewritten Subject (action rewrite subject)
  std::vector<HeaderField> milter_add;     // milter.add_headers
  std::vector<std::string> milter_remove;  // milter.remove_headers (names)
  bool skipped = false;                    // is_skipped: rspamd did not check it
};

// Parses a /checkv2 reply body; nullopt with `error` set when it is not one.
std::optional<Reply> parse_reply(std::string_view body, std::string& error);

// A /learnspam or /learnham reply: true when it says {"success": true}; else `error` says why
// (rspamd's "error" text when it gave one).
bool learn_succeeded(std::string_view body, std::string& error);

// What becomes of the message.
struct Decision {
  sdk::FilterAction action = sdk::FilterAction::accept;
  std::string reply;                   // reject/tempfail: the words for the client
  std::vector<HeaderField> add;        // header fields put on top of the message
  std::vector<std::string> remove;     // names of header fields taken out (any case)
  std::optional<std::string> subject;  // the new Subject, unencoded
  std::string log;                     // "rspamd: no action, score 1.20/15.00"
  std::string counted_as;              // the metric's outcome: accepted, marked, rejected, ...
  bool checked = true;                 // false: rspamd gave no verdict (see on_failure)
};

// The server's answer to rspamd's reply, by the operator's per-action behaviours.
Decision decide(const Reply& reply, const SpamFilterConfig& config);
// The answer when rspamd could not be asked or gave no usable reply.
Decision on_failure(const std::string& why, const SpamFilterConfig& config);

// `text` made one line of printable ASCII, at most kMaxReplyText octets ("" stays "").
std::string client_text(std::string_view text);
// The field "Name: value\r\n", folded at whitespace before 78 columns where it can be; a value
// holding bytes of 0x80 and up is RFC 2047 encoded (GMime), as any message may carry that.
std::string format_field(std::string_view name, std::string_view value);

}  // namespace portico::core::filter
