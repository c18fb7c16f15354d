// Portico SDK test kit — golden transcripts (see portico/testkit/golden.h).
#include "portico/testkit/golden.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace portico::testkit {

namespace fs = std::filesystem;

namespace {

std::string escaped(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace

bool update_requested() {
  const char* v = std::getenv("PORTICO_UPDATE_GOLDEN");
  return v != nullptr && std::string_view(v) == "1";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string describe_difference(std::string_view expected, std::string_view actual) {
  if (expected == actual) return {};
  const auto mismatch =
      std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end());
  const std::size_t at = static_cast<std::size_t>(mismatch.first - expected.begin());
  const std::size_t line_start = expected.substr(0, at).rfind('\n');
  const std::size_t from = line_start == std::string_view::npos ? 0 : line_start + 1;
  const std::size_t line = 1 + std::count(expected.begin(), expected.begin() + at, '\n');
  constexpr std::size_t kShow = 160;
  return "differs at byte " + std::to_string(at) + " (line " + std::to_string(line) +
         "): expected \"" + escaped(expected.substr(from), kShow) + "\", got \"" +
         escaped(actual.substr(std::min(from, actual.size())), kShow) + "\"" +
         (actual.size() < expected.size() && at == actual.size() ? " (output ends early)" : "");
}

TranscriptReport check_transcripts(const fs::path& dir, const TranscriptRunner& run,
                                   bool write_missing) {
  TranscriptReport report;
  std::vector<fs::path> inputs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".in") inputs.push_back(entry.path());
  }
  std::sort(inputs.begin(), inputs.end());
  for (const auto& in : inputs) {
    ++report.transcripts;
    fs::path ref = in;
    ref.replace_extension(".ref");
    std::string whole;
    try {
      whole = run(in, false);
    } catch (const std::exception& e) {
      report.failures.push_back({in, false, std::string("the runner threw: ") + e.what()});
      continue;
    }
    if (!fs::exists(ref)) {
      if (write_missing) {
        std::ofstream(ref, std::ios::binary) << whole;
      } else {
        report.failures.push_back({in, false, ref.string() + " is missing"});
        continue;
      }
    }
    const std::string expected = read_file(ref);
    if (auto diff = describe_difference(expected, whole); !diff.empty())
      report.failures.push_back({in, false, diff});
    try {
      if (auto diff = describe_difference(expected, run(in, true)); !diff.empty())
        report.failures.push_back({in, true, diff});
    } catch (const std::exception& e) {
      report.failures.push_back({in, true, std::string("the runner threw: ") + e.what()});
    }
  }
  return report;
}

std::string feed_transcript(SessionDriver& driver, std::string_view input, bool bytewise) {
  constexpr std::string_view kWait = "~~~\r\n";
  std::string output = driver.take();
  while (!input.empty()) {
    const std::size_t at = input.find(kWait);
    const std::string_view segment = input.substr(0, at);
    if (bytewise) {
      for (char c : segment)
        driver.feed(std::string_view(&c, 1));
    } else {
      driver.feed(segment);
    }
    output += driver.take();
    if (at == std::string_view::npos) break;
    input.remove_prefix(at + kWait.size());
  }
  return output;
}

}  // namespace portico::testkit
