// Portico SDK — durations and sizes as operators write them, parsed and printed one way for the
// core's settings validator and for any plugin that reads such texts itself (a list of
// durations, say).
//
// Durations: an integer followed by ms, s, m, h or d ("250ms", "120s", "5m"); a bare 0 is zero.
// Sizes: an integer optionally followed by B, KB, MB, GB or TB (1024-based, case-insensitive;
// "25MB"); a bare integer is bytes. Parsing is strict and total — ASCII digits, then a unit,
// nothing else (no sign, fraction, space or empty text) — and a value that does not fit is
// refused rather than wrapped. Formatting picks the largest unit that divides the value
// exactly, so format(parse(x)) reads back to the same value. Header-only, standard C++ only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace portico::sdk {

namespace detail {

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

// Largest first: formatting takes the first exact divisor.
inline constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

inline constexpr std::array<Unit, 5> kSizeUnits{{
    {"TB", 1ULL << 40},
    {"GB", 1ULL << 30},
    {"MB", 1ULL << 20},
    {"KB", 1ULL << 10},
    {"B", 1},
}};

inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

inline char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

inline bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  }
  return true;
}

// Splits "123abc" into its leading digits and the rest; nullopt if there are no digits or the
// number does not fit 64 bits.
struct Split {
  std::uint64_t count;
  std::string_view unit;
};

inline std::optional<Split> split_number(std::string_view text) {
  std::size_t i = 0;
  std::uint64_t count = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  while (i < text.size() && is_digit(text[i])) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (count > (kMax - digit) / 10) return std::nullopt;
    count = count * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;
  return Split{count, text.substr(i)};
}

inline std::optional<std::uint64_t> scaled(std::uint64_t count, std::uint64_t factor,
                                           std::uint64_t max) {
  if (count > max / factor) return std::nullopt;
  return count * factor;
}

}  // namespace detail

inline std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto split = detail::split_number(text);
  if (!split) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (split->unit.empty()) {
    // A bare number is ambiguous (seconds? milliseconds?) except zero.
    if (split->count != 0) return std::nullopt;
    return std::chrono::milliseconds(0);
  }
  for (const detail::Unit& unit : detail::kDurationUnits) {
    if (split->unit != unit.name) continue;
    const auto ms = detail::scaled(split->count, unit.factor, kMax);
    if (!ms) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
  }
  return std::nullopt;
}

inline std::optional<std::uint64_t> parse_size(std::string_view text) {
  const auto split = detail::split_number(text);
  if (!split) return std::nullopt;
  if (split->unit.empty()) return split->count;
  for (const detail::Unit& unit : detail::kSizeUnits) {
    if (!detail::equals_ignoring_case(split->unit, unit.name)) continue;
    return detail::scaled(split->count, unit.factor, std::numeric_limits<std::uint64_t>::max());
  }
  return std::nullopt;
}

inline std::string format_duration(std::chrono::milliseconds d) {
  const std::int64_t ms = d.count();
  if (ms == 0) return "0";
  // Work on the magnitude as unsigned so that the minimum value does not overflow.
  const std::uint64_t magnitude =
      ms < 0 ? static_cast<std::uint64_t>(-(ms + 1)) + 1 : static_cast<std::uint64_t>(ms);
  const std::string sign = ms < 0 ? "-" : "";
  for (const detail::Unit& unit : detail::kDurationUnits) {
    if (magnitude % unit.factor == 0) {
      return sign + std::to_string(magnitude / unit.factor) + std::string(unit.name);
    }
  }
  return sign + std::to_string(magnitude) + "ms";
}

inline std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0";
  for (const detail::Unit& unit : detail::kSizeUnits) {
    if (unit.factor > 1 && bytes % unit.factor == 0) {
      return std::to_string(bytes / unit.factor) + std::string(unit.name);
    }
  }
  return std::to_string(bytes);  // a bare number is bytes
}

}  // namespace portico::sdk
