// Fuzz target: IMAP THREAD (RFC 5256 section 3) over messages made from the input. The input is
// cut into lines, one message each: a header block whose Subject-like first field, Message-ID
// and References/In-Reply-To fields are read as the server reads them (header_value,
// message_ids). Traps when an invariant breaks: both algorithms name every message exactly once,
// parentheses balance, and no list is empty. At most 2,000 messages (the input's first lines).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sort.h"
#include "thread.h"

namespace {

using namespace portico::imap;

void check(const std::string& out, std::size_t count) {
  std::vector<int> seen(count + 1, 0);
  int depth = 0;
  char previous = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (c == '(') ++depth;
    if (c == ')') {
      if (--depth < 0 || previous == '(') __builtin_trap();
    }
    if (c >= '0' && c <= '9' && (i == 0 || out[i - 1] < '0' || out[i - 1] > '9')) {
      std::size_t n = 0;
      for (std::size_t j = i; j < out.size() && out[j] >= '0' && out[j] <= '9'; ++j)
        n = n * 10 + static_cast<std::size_t>(out[j] - '0');
      if (n == 0 || n > count) __builtin_trap();
      ++seen[n];
    }
    previous = c;
  }
  if (depth != 0) __builtin_trap();
  for (std::size_t n = 1; n <= count; ++n)
    if (seen[n] != 1) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<ThreadInput> messages;
  while (!in.empty() && messages.size() < 2000) {
    std::size_t nl = in.find('\n');
    std::string line(in.substr(0, nl));
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    // Fields separated by '|' stand for header lines.
    std::string header;
    for (char c : line)
      header += c == '|' ? std::string("\r\n") : std::string(1, c);
    header += "\r\n\r\n";
    ThreadInput t;
    t.number = static_cast<std::uint32_t>(messages.size() + 1);
    t.date = static_cast<std::int64_t>(line.size() % 7);
    t.subject = base_subject(header_value(header, "Subject"), &t.reply);
    auto id = message_ids(header_value(header, "Message-ID"), 1);
    if (!id.empty()) t.message_id = id.front();
    t.references = message_ids(header_value(header, "References"));
    if (t.references.empty()) t.references = message_ids(header_value(header, "In-Reply-To"), 1);
    messages.push_back(std::move(t));
  }
  check(thread(ThreadAlgorithm::references, messages), messages.size());
  check(thread(ThreadAlgorithm::orderedsubject, messages), messages.size());
  return 0;
}
