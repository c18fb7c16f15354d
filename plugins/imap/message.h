// imap — what FETCH and SEARCH read from a message's octets: the sections of RFC 9051 section
// 6.4.5 (BODY[1.2.HEADER.FIELDS (From)] and the like, with MIME part numbers), BINARY[] of RFC
// 3516 (the content with its transfer encoding undone), and the search keys that look inside a
// message (HEADER, FROM/TO/CC/BCC/SUBJECT, BODY, TEXT, SENTBEFORE/SENTON/SENTSINCE).
//
// Sections resolve to octet ranges through the part offsets the store keeps with each message
// (sdk::MessageParts, found by GMime when the message was stored), so a FETCH reads just the
// octets it sends. Sections are the octets as stored, byte for byte, except HEADER.FIELDS(.NOT),
// picked from the header. Guarantees: never throws on any input; a section that does not exist
// is reported as such (the FETCH reply then carries an empty string, as Dovecot and Cyrus do).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parser.h"
#include "portico/store.h"

namespace portico::imap {

// A run of a message's octets, [begin, end).
struct OctetRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::uint64_t size() const { return end > begin ? end - begin : 0; }
};

// Part numbers (RFC 9051 section 6.4.5) resolved against the store's part offsets.
class PartMap {
 public:
  explicit PartMap(sdk::MessageParts parts) : parts_(std::move(parts)) {}

  // Where the octets of BODY[section] lie, before any <partial>; for HEADER.FIELDS(.NOT), the
  // header block they are picked from (section_octets() picks them). nullopt when the part does
  // not exist. A non-multipart message has part 1 (its body); HEADER/TEXT/HEADER.FIELDS of a
  // part number apply only to message/rfc822 parts; MIME is the part's own header.
  std::optional<OctetRange> section(const Section& section) const;

  struct Binary {
    enum class Status { ok, no_part, unknown_cte };
    Status status = Status::ok;
    OctetRange content;  // the part's content, still encoded
    std::string encoding;
  };
  // BINARY[part]: where that part's content lies and its Content-Transfer-Encoding; unknown_cte
  // for an encoding decode() does not know (the reply is NO [UNKNOWN-CTE]).
  Binary binary(const Section& section) const;

 private:
  std::optional<std::size_t> resolve(const std::vector<std::uint32_t>& part) const;
  sdk::MessageParts parts_;
};

// Whether BODY[section] is its range's octets as they are (not picked from a header block).
bool plain_range(const Section& section);

// BODY[section] from the octets of the range PartMap::section() gave.
std::string section_octets(const Section& section, std::string range_octets);

// A part's content with `encoding` (base64, quoted-printable, 7bit, 8bit, binary, "") undone;
// nullopt for any other encoding.
std::optional<std::string> decode(std::string_view content, const std::string& encoding);

// What a search key needs of each message beyond sdk::MessageInfo.
bool needs_octets(const SearchKey& key);

// One message as SEARCH sees it.
struct SearchSubject {
  std::uint32_t seq = 0;  // its message sequence number
  const sdk::MessageInfo* info = nullptr;
  bool recent = false;                     // \Recent in this session
  std::optional<std::string_view> octets;  // the message, when needs_octets()
};

// The numbers "*" stands for in this mailbox (the largest sequence number and UID).
struct SearchBounds {
  std::uint32_t max_seq = 0;
  std::uint32_t max_uid = 0;
};

// Whether `subject` matches `key` (RFC 9051 section 6.4.4): flags and keywords, dates (internal
// date in UTC days; SENT* from the Date header, its own zone dropped as the RFC says), sizes,
// sequence and UID sets, and substring keys, case-insensitive, on header values decoded
// (RFC 2047) and on the text parts' decoded contents (BODY, and TEXT, which also looks at the
// header). MODSEQ compares info->modseq. A "$" set never reaches here (the session resolves it).
bool matches(const SearchKey& key, const SearchSubject& subject, const SearchBounds& bounds);

}  // namespace portico::imap
