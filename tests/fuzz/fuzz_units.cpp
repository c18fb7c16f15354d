// Fuzz target: duration and size parsing; a value that parses must format and parse back to
// the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/config/units.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = portico::core::parse_duration(text)) {
    if (portico::core::parse_duration(portico::core::format_duration(*d)) != d) std::abort();
  }
  if (auto s = portico::core::parse_size(text)) {
    if (portico::core::parse_size(portico::core::format_size(*s)) != s) std::abort();
  }
  return 0;
}
