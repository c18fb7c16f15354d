// Fuzz target: POP3 command lines (keyword, arguments, numbers), base64 of AUTH exchanges, and
// the message writer (byte-stuffing split at an input-chosen point, TOP's extent). Traps when
// an invariant breaks: stuffed output ends with ".\r\n", holds only CRLF line ends and no line
// but the last is a lone "."; both splits give the same bytes; base64 re-encodes to the same
// bytes; TOP's cut is the same over the whole message and over it in two pieces.
#include <cstdint>
#include <string>
#include <string_view>

#include "command.h"
#include "message.h"
#include "portico/base64.h"
#include "session.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace portico::pop;

  const CommandLine c = parse_command(chomp(input));
  if (c.spec != nullptr && c.keyword.size() > kMaxKeyword) __builtin_trap();
  for (const auto arg : c.args) {
    if (arg.empty() || arg.find(' ') != std::string_view::npos) __builtin_trap();
    (void)parse_number(arg);
    if (auto decoded = portico::sdk::base64_decode(arg)) {
      if (portico::sdk::base64_decode(portico::sdk::base64_encode(*decoded)) != decoded)
        __builtin_trap();
    }
  }

  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  std::string whole;
  std::string split;
  DotStuffer a;
  a.stuff(input, whole);
  a.finish(whole);
  DotStuffer b;
  b.stuff(input.substr(0, cut), split);
  b.stuff(input.substr(cut), split);
  b.finish(split);
  if (whole != split) __builtin_trap();
  if (whole.size() < 3 || whole.compare(whole.size() - 3, 3, ".\r\n") != 0) __builtin_trap();
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (whole[i] == '\n' && (i == 0 || whole[i - 1] != '\r')) __builtin_trap();
    if (whole[i] == '\r' && (i + 1 >= whole.size() || whole[i + 1] != '\n')) __builtin_trap();
  }
  const std::size_t terminator = whole.size() - 3;
  for (std::size_t at = 0; at < terminator; at = whole.find('\n', at) + 1) {
    if (whole.compare(at, 3, ".\r\n") == 0) __builtin_trap();
    if (whole.find('\n', at) == std::string::npos) break;
  }

  const std::size_t top = top_length(input, cut);
  if (top > size) __builtin_trap();
  // TOP of a streamed message cuts at the same place wherever the pieces split.
  TopScanner scan(cut);
  std::size_t streamed = scan.take(input.substr(0, cut));
  if (!scan.done()) streamed += scan.take(input.substr(cut));
  if (streamed != top) __builtin_trap();
  return 0;
}
