// Fuzz target: the DATA reader. Input is split into LF-terminated lines as the core does; the
// reader must never pass on more than it was given, never pass on a NUL octet, and never end on
// anything but ".\r\n".
#include <cstdint>
#include <string>
#include <string_view>

#include "data.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  std::uint64_t kept = 0;
  portico::smtp::DataReader reader(data[0] * 16, data[1] % 32, [&](std::string_view b) {
    if (b.find('\0') != std::string_view::npos) __builtin_trap();
    kept += b.size();
  });
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos) break;
    const std::string_view line = text.substr(i, nl + 1 - i);
    if (reader.line(line)) {
      if (line != ".\r\n") __builtin_trap();
      break;
    }
    i = nl + 1;
  }
  if (kept > text.size()) __builtin_trap();
  return 0;
}
