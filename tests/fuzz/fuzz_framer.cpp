// Fuzz target: the session input framer. The first byte chooses the maximum line length and
// the rest is fed in pieces whose sizes come from the input; lines must never exceed the
// maximum, and the bytes buffered never exceed it plus one piece.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/net/framer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_line = 1 + data[0];
  const std::size_t piece = 1 + data[1] % 64;
  portico::core::InputFramer f(max_line);
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  for (std::size_t i = 0; i < input.size(); i += piece) {
    f.append(input.substr(i, piece));
    for (;;) {
      const auto item = f.next();
      if (item.kind == portico::core::InputFramer::Kind::none) break;
      if (item.kind == portico::core::InputFramer::Kind::line) {
        if (item.data.size() > max_line || item.data.back() != '\n') std::abort();
        if (item.data.size() > 1 && item.data[0] == '#') f.read_bytes(item.data.size() * 3);
      }
    }
    f.compact();
    if (f.buffered() > max_line + piece) std::abort();
  }
  return 0;
}
