// Fuzz target: SMTP replies as smtp-out's client reads them (plugins/smtp-out/reply.cpp), the
// input cut into lines at LF as the core frames them, then the EHLO keywords of every complete
// reply. Traps when a complete reply breaks its bounds (code 200-559, 1 to 100 lines, a text of
// at most 1000 printable octets, an enhanced status of the reply's class) or when a malformed
// parser accepts anything before reset().
#include <cstdint>
#include <string_view>

#include "reply.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;
  using namespace portico::smtpout;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ReplyParser parser;
  while (!input.empty()) {
    const std::size_t lf = input.find('\n');
    const std::size_t end = lf == std::string_view::npos ? input.size() : lf + 1;
    const std::string_view line = input.substr(0, end);
    input.remove_prefix(end);
    switch (parser.feed(line)) {
      case ReplyParser::Result::need_more:
        if (!parser.partial()) __builtin_trap();
        break;
      case ReplyParser::Result::malformed:
        if (parser.error().empty()) __builtin_trap();
        if (parser.feed("250 ok\r\n") != ReplyParser::Result::malformed) __builtin_trap();
        parser.reset();
        break;
      case ReplyParser::Result::complete: {
        const Reply reply = parser.take();
        if (reply.code < 200 || reply.code > 559) __builtin_trap();
        if (reply.lines.empty() || reply.lines.size() > kMaxReplyLines) __builtin_trap();
        if (!reply.status.empty() && reply.status[0] - '0' != reply.kind()) __builtin_trap();
        const std::string text = reply.text();
        if (text.size() > kMaxReplyText) __builtin_trap();
        for (char c : text) {
          if (c < 0x20 || c > 0x7e) __builtin_trap();
        }
        const Extensions ext = parse_ehlo(reply);
        if (ext.auth.size() > 32) __builtin_trap();
        break;
      }
    }
  }
  return 0;
}
