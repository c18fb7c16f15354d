// Unit tests of core/config/units: duration and size parsing and formatting, table-driven.
#include "core/config/units.h"

#include <gtest/gtest.h>

#include <limits>

namespace portico::core {
namespace {

using std::chrono::milliseconds;

struct DurationCase {
  const char* text;
  std::optional<std::int64_t> ms;  // nullopt: refused
};

TEST(ParseDuration, Table) {
  const DurationCase cases[] = {
      {"0", 0},
      {"0s", 0},
      {"0ms", 0},
      {"250ms", 250},
      {"1s", 1000},
      {"90s", 90'000},
      {"5m", 300'000},
      {"2h", 7'200'000},
      {"1d", 86'400'000},
      {"7d", 604'800'000},
      {"007s", 7000},
      {"9223372036854775807ms", std::numeric_limits<std::int64_t>::max()},
      {"106751991167d", 106751991167LL * 86400000},
      // Refused: empty, bare numbers other than 0, unknown or miscased units, signs, fractions,
      // spaces, overflow.
      {"", std::nullopt},
      {"s", std::nullopt},
      {"30", std::nullopt},
      {"5x", std::nullopt},
      {"5S", std::nullopt},
      {"5M", std::nullopt},
      {"5 m", std::nullopt},
      {" 5m", std::nullopt},
      {"5m ", std::nullopt},
      {"-5s", std::nullopt},
      {"+5s", std::nullopt},
      {"1.5h", std::nullopt},
      {"5mm", std::nullopt},
      {"1h30m", std::nullopt},
      {"9223372036854775808ms", std::nullopt},
      {"106751991168d", std::nullopt},
      {"99999999999999999999999s", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto got = parse_duration(c.text);
    ASSERT_EQ(got.has_value(), c.ms.has_value());
    if (got) {
      EXPECT_EQ(got->count(), *c.ms);
    }
  }
}

struct SizeCase {
  const char* text;
  std::optional<std::uint64_t> bytes;
};

TEST(ParseSize, Table) {
  const SizeCase cases[] = {
      {"0", 0},
      {"512", 512},
      {"512B", 512},
      {"512b", 512},
      {"64KB", 64 * 1024},
      {"64kb", 64 * 1024},
      {"64Kb", 64 * 1024},
      {"25MB", 25ULL << 20},
      {"1GB", 1ULL << 30},
      {"2TB", 2ULL << 40},
      {"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
      {"16777215TB", 16777215ULL << 40},
      {"", std::nullopt},
      {"MB", std::nullopt},
      {"25 MB", std::nullopt},
      {"25M", std::nullopt},
      {"25MiB", std::nullopt},
      {"25PB", std::nullopt},
      {"-1", std::nullopt},
      {"1.5MB", std::nullopt},
      {"18446744073709551616", std::nullopt},
      {"16777216TB", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto got = parse_size(c.text);
    ASSERT_EQ(got.has_value(), c.bytes.has_value());
    if (got) {
      EXPECT_EQ(*got, *c.bytes);
    }
  }
}

TEST(FormatDuration, ShortestExactSpelling) {
  const std::pair<std::int64_t, const char*> cases[] = {
      {0, "0"},           {1, "1ms"},         {999, "999ms"},      {1000, "1s"},
      {1500, "1500ms"},   {90'000, "90s"},    {300'000, "5m"},     {3'600'000, "1h"},
      {5'400'000, "90m"}, {86'400'000, "1d"}, {90'000'000, "25h"}, {-300'000, "-5m"},
  };
  for (const auto& [ms, text] : cases) {
    EXPECT_EQ(format_duration(milliseconds(ms)), text) << ms;
  }
  EXPECT_EQ(format_duration(milliseconds(std::numeric_limits<std::int64_t>::min())),
            "-9223372036854775808ms");
}

TEST(FormatSize, ShortestExactSpelling) {
  const std::pair<std::uint64_t, const char*> cases[] = {
      {0, "0"},
      {1, "1"},
      {1023, "1023"},
      {1024, "1KB"},
      {1536, "1536"},
      {26214400, "25MB"},
      {1ULL << 30, "1GB"},
      {3ULL << 40, "3TB"},
      {1025ULL << 30, "1025GB"},
  };
  for (const auto& [bytes, text] : cases) {
    EXPECT_EQ(format_size(bytes), text) << bytes;
  }
}

TEST(Units, FormatThenParseRoundTrips) {
  for (std::int64_t ms : std::initializer_list<std::int64_t>{
           0, 1LL, 999LL, 1000LL, 61'000LL, 300'000LL, 86'400'000LL * 365,
           std::numeric_limits<std::int64_t>::max()}) {
    const auto text = format_duration(milliseconds(ms));
    const auto back = parse_duration(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(back->count(), ms) << text;
  }
  for (std::uint64_t bytes :
       std::initializer_list<std::uint64_t>{0, 1ULL, 1023ULL, 1024ULL, 1ULL << 20, 5ULL << 40,
                                            std::numeric_limits<std::uint64_t>::max()}) {
    const auto text = format_size(bytes);
    const auto back = parse_size(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, bytes) << text;
  }
}

}  // namespace
}  // namespace portico::core
