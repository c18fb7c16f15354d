// Portico core — what the store caches of a message at delivery, parsed once with GMime 3:
// the IMAP ENVELOPE, BODYSTRUCTURE and BODY (RFC 3501 section 7.4.2, in IMAP syntax ready to
// send) and the decoded header fields indexed for SEARCH (RFC 2047 encoded words decoded to
// UTF-8), and where each MIME part lies in the octets (part_offsets.h). IMAP FETCH and SEARCH
// read these and never parse a message again.
//
// Any input gives a result: octets that are not a message summarize as one text/plain part.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/store.h"

namespace portico::core::store {

struct MimeSummary {
  std::string envelope;
  std::string bodystructure;
  std::string body;
  // (lowercase field name, decoded value), in header order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<sdk::MessagePart> parts;  // see part_offsets.h
};

MimeSummary summarize_message(std::string_view message);
// The same for a message in a file, mapped into memory (its pages are the page cache's, never a
// copy on the heap).
MimeSummary summarize_file(const std::string& path);

// Initialises GMime once for the process (every user of GMime in the core calls it first).
void init_gmime();

}  // namespace portico::core::store
