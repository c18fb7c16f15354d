// Portico core — the filter's edits of a message's header section: fields added on top, fields
// taken out, the Subject replaced (RFC 5322 sections 2.2 and 3.6).
//
// Guarantees: the body is copied octet for octet; only the header section (up to the first
// empty line, looked for in the first kMaxHeaderScan octets) is edited; a header section longer
// than that is left as it is, with the new fields put on top; a field is taken out whole, its
// folded lines with it.
#pragma once

#include <string>
#include <string_view>

#include "core/filter/rspamd.h"
#include "portico/queue.h"

namespace portico::core::filter {

inline constexpr std::size_t kMaxHeaderScan = 256 * 1024;

// The edited header section. `header` is the message's header section including the empty line
// that ends it when `complete`; otherwise the first octets of a message whose end of header
// section was not found (it is then only prefixed with the added fields).
std::string edit_header(std::string_view header, bool complete, const Decision& d);

// Writes the edited message to `out`: from `octets` (a message held in memory) or, when
// `octets` is null, from the file at `path`. Blocking (reads the file): a worker pool only.
sdk::QueueStatus rewrite_message(const Decision& d, const std::string_view* octets,
                                 const std::string& path, sdk::IncomingMessage& out);

}  // namespace portico::core::filter
