// imap — THREAD (RFC 5256 section 3): ORDEREDSUBJECT (messages grouped by base subject, each
// group in sent-date order under its first message) and REFERENCES (the threads the
// References and In-Reply-To fields describe, after Jamie Zawinski's algorithm as the RFC gives
// it: containers by Message-ID, linked along each message's references without making loops,
// empty containers pruned, root threads of the same base subject gathered, siblings and threads
// in sent-date order), and the response's parenthesized form.
//
// Guarantees: any header content gives a result holding every message exactly once; memory is
// linear in the messages and their references (at most kMaxReferences kept a message); nothing
// recurses deeper than kMaxThreadDepth (a deeper chain is cut there and hangs below it flat).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace portico::imap {

inline constexpr std::size_t kMaxReferences = 100;
inline constexpr std::size_t kMaxThreadDepth = 64;

// What threading needs of one message.
struct ThreadInput {
  std::uint32_t number = 0;             // what the response names it by (sequence number or UID)
  std::int64_t date = 0;                // the sent date (SORT's DATE key)
  std::string subject;                  // the base subject
  bool reply = false;                   // its subject had a reply or forward leader
  std::string message_id;               // without <>; "" when absent
  std::vector<std::string> references;  // the References field's ids, else In-Reply-To's first
};

// The message ids in a References or In-Reply-To field ("<a@b> <c@d>" -> {"a@b", "c@d"}).
std::vector<std::string> message_ids(std::string_view field, std::size_t max = kMaxReferences);

// The unfolded value of a header field in a header block, or "" ("References" and the like).
std::string header_value(std::string_view header, std::string_view name);

enum class ThreadAlgorithm { orderedsubject, references };

// The THREAD response's data ("(1)(2 3 (4)(5))"), messages given in mailbox order.
std::string thread(ThreadAlgorithm algorithm, const std::vector<ThreadInput>& messages);

}  // namespace portico::imap
