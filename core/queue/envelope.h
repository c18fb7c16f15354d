// Portico core — the queue's envelope file: a text format an operator can read, and its parser.
//
// One "key: value" a line, LF-terminated, first line "portico-envelope: 1" (the format version),
// last line "end". Values are percent-escaped: '%', every byte below 0x20 and 0x7f become %XX
// (so a value never holds a line break); other bytes, UTF-8 included, are written as they are.
// Recipients are blocks: a "recipient:" line followed by its "notify:", "orcpt:", "state:" and
// "reply:" lines. Example:
//
//   portico-envelope: 1
//   sender: alice@example.org
//   ret: hdrs
//   ...
//   recipient: bob@example.net
//   notify: failure,delay
//   orcpt: rfc822;bob@example.net
//   state: pending
//   reply:
//   end
//
// The parser takes untrusted bytes (a file that may have been edited or damaged): it enforces
// kMaxEnvelopeSize and kMaxRecipients, rejects unknown keys, duplicates, bad numbers and a
// missing "end" with a message naming the line, and never throws or crashes.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "portico/queue.h"

namespace portico::core::queue {

inline constexpr int kEnvelopeVersion = 1;
// Largest envelope file accepted; far above what kMaxRecipients recipients need in practice.
inline constexpr std::size_t kMaxEnvelopeSize = 8 * 1024 * 1024;
// Most recipients in one entry (RFC 5321 requires at least 100 per message).
inline constexpr std::size_t kMaxRecipients = 50000;

// The deliverer's notes of an entry (sdk::Queue::set_note), by name: "note.NAME: value" lines.
using Notes = std::map<std::string, std::string, std::less<>>;
// A note's name: 1 to 64 of letters, digits, '-' and '_'.
bool valid_note_name(std::string_view name);

std::string format_envelope(const sdk::Envelope& envelope, const Notes& notes = {});

struct EnvelopeParse {
  std::optional<sdk::Envelope> envelope;          // set on success
  Notes notes;                                    // with the envelope
  sdk::QueueError error = sdk::QueueError::none;  // damaged or too_new on failure
  std::string message;                            // "line N: ..." on failure
};
EnvelopeParse parse_envelope(std::string_view text);

// Percent-escaping of one value (exposed for tests).
std::string escape_value(std::string_view value);
std::optional<std::string> unescape_value(std::string_view value);

// NOTIFY bits as "success,failure,delay" / "never" / "" and back (nullopt when malformed).
std::string format_notify(std::uint32_t notify);
std::optional<std::uint32_t> parse_notify(std::string_view text);

const char* state_name(sdk::RecipientState state);
// RET as the envelope writes it: "full", "hdrs", or "" when unspecified (RFC 3461).
const char* ret_name(sdk::DsnRet ret);

}  // namespace portico::core::queue
