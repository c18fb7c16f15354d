// Portico core — durations and sizes as operators write them.
//
// Durations: an integer followed by ms, s, m, h or d ("250ms", "120s", "5m"); a bare 0 is zero.
// Sizes: an integer optionally followed by B, KB, MB, GB or TB (1024-based, case-insensitive;
// "25MB"); a bare integer is bytes. Overflow, negatives, fractions and unknown units fail.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::core {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<std::uint64_t> parse_size(std::string_view text);
// The shortest exact spelling: 300000ms -> "5m", 26214400 -> "25MB".
std::string format_duration(std::chrono::milliseconds d);
std::string format_size(std::uint64_t bytes);

}  // namespace portico::core
