// imap — SORT (RFC 5256, with DISPLAYFROM and DISPLAYTO of RFC 5957): the sort keys of a
// message, from the ENVELOPE the store cached at delivery and the message's metadata, and the
// order they give.
//
// Keys: ARRIVAL the internal date; DATE the Date header in UTC (the internal date when it is
// missing or unreadable); SIZE RFC822.SIZE; SUBJECT the base subject of section 2.1 (encoded
// words decoded, "Re:", "Fwd:", "[list]" leaders and "(fwd)" trailers removed, white space
// folded), compared case-insensitively (ASCII); FROM, TO, CC the mailbox (local part) of the
// first address; DISPLAYFROM, DISPLAYTO its display name, else its address. Messages equal
// by every key keep mailbox order. Guarantees: any ENVELOPE text (even damaged) gives keys;
// nothing throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parser.h"
#include "portico/store.h"

namespace portico::imap {

struct SortKeys {
  std::int64_t arrival = 0;
  std::int64_t date = 0;
  std::uint64_t size = 0;
  std::string subject, from, to, cc, display_from, display_to;  // folded for comparison
  std::string message_id, in_reply_to;  // as the ENVELOPE gives them (THREAD)
  bool reply = false;                   // the subject had a reply or forward leader (THREAD)
};

// The keys of one message (`info` fetched with its MIME summary).
SortKeys sort_keys(const sdk::MessageInfo& info);

// RFC 5256 section 2.1's base subject of a subject as it stands in the header (RFC 2047
// encoded words are decoded first); `reply` (if given) tells whether a "Re:"/"Fwd:" leader, a
// "(fwd)" trailer or a "[fwd: ...]" wrapper was removed (what THREAD calls a reply or forward).
std::string base_subject(std::string_view subject, bool* reply = nullptr);

// Orders `order` (indexes into `keys`, in mailbox order) by `criteria`.
void sort_by(const std::vector<Command::SortCriterion>& criteria, const std::vector<SortKeys>& keys,
             std::vector<std::size_t>& order);

}  // namespace portico::imap
