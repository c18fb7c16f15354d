// Portico core — where each MIME part of a message lies in its octets (sdk::MessageParts), found
// once when the message is stored and kept with it, so that IMAP's BODY[section]<partial>
// (RFC 9051 section 6.4.5) and BINARY (RFC 3516) read a part's octets alone.
//
// The structure is GMime's (the same parse and the same depth limit as BODYSTRUCTURE in
// mime_cache.cpp, so BODY[n] and BODYSTRUCTURE agree); only the offsets are kept. Guarantees:
// every offset lies within the message and header_begin <= header_end <= content_end for every
// part; children point forward to existing parts; nothing throws; octets that are no message
// get one part (header up to the first empty line, the rest content).
#pragma once

#include <gmime/gmime.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/store.h"

namespace portico::core::store {

// The parts of `message`, which `parsed` was parsed from by a parser with a persistent stream
// over exactly these octets (null: GMime found no message in them).
std::vector<sdk::MessagePart> part_offsets(std::string_view message, GMimeMessage* parsed);
// The same for a message in a file of `size` octets (read through a window, never held whole).
std::vector<sdk::MessagePart> part_offsets(int fd, std::uint64_t size, GMimeMessage* parsed);

// The form kept in the database (one line a part), and back; nullopt for a form that does not
// describe a valid structure for a message of `size` octets (the caller recomputes it).
std::string encode_parts(const std::vector<sdk::MessagePart>& parts);
std::optional<std::vector<sdk::MessagePart>> decode_parts(std::string_view text,
                                                          std::uint64_t size);

}  // namespace portico::core::store
