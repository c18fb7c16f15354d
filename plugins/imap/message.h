// imap — what FETCH and SEARCH read from a message's octets: the sections of RFC 9051 section
// 6.4.5 (BODY[1.2.HEADER.FIELDS (From)] and the like, with MIME part numbers), BINARY[] of RFC
// 3516 (the content with its transfer encoding undone), and the search keys that look inside a
// message (HEADER, FROM/TO/CC/BCC/SUBJECT, BODY, TEXT, SENTBEFORE/SENTON/SENTSINCE).
//
// The MIME structure is GMime's (parsed once per message into a PartMap of octet offsets), never
// a hand-written boundary scanner. Sections are the octets as stored, byte for byte, cut at those
// offsets. Guarantees: never throws on any input; a section that does not exist is reported as
// such (the FETCH reply then carries an empty string, as Dovecot and Cyrus do).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "parser.h"
#include "portico/store.h"

namespace portico::imap {

// The parsed structure of one message: where each MIME part's header and content begin and end
// in the octets. Built once, then asked for any number of sections.
class PartMap {
 public:
  // `message` must outlive the PartMap (the offsets refer into it).
  explicit PartMap(std::string_view message);
  ~PartMap();
  PartMap(const PartMap&) = delete;
  PartMap& operator=(const PartMap&) = delete;

  // The octets of BODY[section] (before any <partial>), or nullopt when the part does not
  // exist. Part numbering per RFC 9051 section 6.4.5: a non-multipart message has part 1 (its
  // body); HEADER/TEXT/HEADER.FIELDS of a part number apply only to message/rfc822 parts; MIME
  // is the part's own header.
  std::optional<std::string> section(const Section& section) const;

  struct Binary {
    enum class Status { ok, no_part, unknown_cte };
    Status status = Status::ok;
    std::string octets;
  };
  // BINARY[part]: the content of that part with its Content-Transfer-Encoding (base64,
  // quoted-printable, 7bit, 8bit, binary) undone; unknown_cte for any other encoding (the reply
  // is NO [UNKNOWN-CTE]).
  Binary binary(const Section& section) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// BODY[], BODY[HEADER], BODY[TEXT] and BODY[HEADER.FIELDS (...)] of the message itself (a
// section without a part number), cut at the first empty line without parsing the MIME
// structure: what PartMap::section() gives for those, for a fraction of the cost. nullopt for
// MIME (which needs a part number).
std::optional<std::string> top_level_section(std::string_view message, const Section& section);

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
