// imap — COMPRESS=DEFLATE (RFC 4978): the command; the compression itself is the core's
// (SessionContext::start_compression, SDK 1.6).
//
// Guarantees: the tagged OK is written before compression starts, so it goes uncompressed, and
// everything after it, both ways, is compressed (RFC 4978 section 3); a second COMPRESS is
// refused with NO [COMPRESSIONACTIVE] (section 4). An unknown mechanism is a BAD from the parser,
// and the command is allowed only once logged in (authenticated and selected states), by the
// session's state table.
#include "session.h"

namespace portico::imap {

void ImapSession::do_compress(const Command& c) {
  if (compressed_) return no(c, "[COMPRESSIONACTIVE] DEFLATE active");
  // Other sessions' changes are told after the next command, not here: nothing may follow the
  // OK uncompressed.
  ok(c, "DEFLATE active");
  if (!ctx_.start_compression()) {
    // Not reached on a running connection (only a closing one refuses); the client, told OK,
    // would send compressed data the session could not read.
    ctx_.log(sdk::LogLevel::error, "COMPRESS: the connection refused to start compression");
    ctx_.close();
    return;
  }
  compressed_ = true;
}

}  // namespace portico::imap
