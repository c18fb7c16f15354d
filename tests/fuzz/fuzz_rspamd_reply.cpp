// Fuzz target: rspamd's /checkv2 and /learn* replies (core/filter/rspamd.h). Whatever the bytes,
// parsing never crashes, and what the server makes of a reply keeps its promises: the client's
// words are one line of printable ASCII, every added header field is well formed (no CR or LF
// inside a line, continuation lines start with white space), and the header edits of a small
// message keep its body.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/filter/rewrite.h"
#include "core/filter/rspamd.h"

using namespace portico::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  (void)filter::learn_succeeded(text, error);
  auto reply = filter::parse_reply(text, error);
  if (!reply) return 0;
  for (auto behaviour :
       {SpamBehaviour::reject, SpamBehaviour::mark, SpamBehaviour::rewrite_subject}) {
    SpamFilterConfig c;
    c.on_reject = c.on_add_header = c.on_rewrite_subject = c.on_soft_reject = behaviour;
    const auto d = filter::decide(*reply, c);
    for (char ch : d.reply) {
      if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) std::abort();
    }
    const std::string header = filter::edit_header("Subject: x\r\nX-Spam: no\r\n\r\n", true, d);
    if (header.size() < 2 || header.substr(header.size() - 2) != "\r\n") std::abort();
    // Every line ends in CRLF, and none holds a lone CR or LF.
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == '\n' && (i == 0 || header[i - 1] != '\r')) std::abort();
      if (header[i] == '\r' && (i + 1 == header.size() || header[i + 1] != '\n')) std::abort();
    }
  }
  return 0;
}
