// Tests of the session input framer: lines, counted bytes, over-long lines; every case is fed
// whole, one byte at a time, and split in two at every position, and must frame the same.
#include "core/net/framer.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace portico::core {
namespace {

// What a session would see, as text: "L:<line>", "B:<all bytes of a run>", "T" (too long).
// A line "BYTES n\r\n" asks for n raw bytes next, as a protocol's literal would.
struct Run {
  std::vector<std::string> events;
  std::string pending_bytes;
};

void drain(InputFramer& f, Run& run) {
  for (;;) {
    const auto item = f.next();
    if (item.kind == InputFramer::Kind::none) break;
    if (item.kind == InputFramer::Kind::line) {
      run.events.push_back("L:" + std::string(item.data));
      if (item.data.rfind("BYTES ", 0) == 0)
        f.read_bytes(std::stoul(std::string(item.data.substr(6))));
    } else if (item.kind == InputFramer::Kind::bytes) {
      run.pending_bytes += item.data;
      if (item.last) {
        run.events.push_back("B:" + run.pending_bytes);
        run.pending_bytes.clear();
      }
    } else {
      run.events.push_back("T");
    }
  }
  f.compact();
}

std::vector<std::string> frame(const std::vector<std::string>& chunks, std::size_t max_line) {
  InputFramer f(max_line);
  Run run;
  for (const auto& c : chunks) {
    f.append(c);
    drain(f, run);
  }
  return run.events;
}

struct Case {
  const char* name;
  std::string input;
  std::size_t max_line;
  std::vector<std::string> expected;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"crlf lines", "A\r\nB\r\n", 16, {"L:A\r\n", "L:B\r\n"}},
      {"bare lf kept visible", "A\nB\r\n", 16, {"L:A\n", "L:B\r\n"}},
      {"partial line waits", "A\r\nB", 16, {"L:A\r\n"}},
      {"empty line", "\r\n", 16, {"L:\r\n"}},
      {"exactly the limit", "12345678\r\n", 10, {"L:12345678\r\n"}},
      {"one over the limit", "123456789\r\nOK\r\n", 10, {"T", "OK\r\n"}},
      {"far over the limit", std::string(100, 'x') + "\r\nOK\r\n", 10, {"T", "L:OK\r\n"}},
      {"counted bytes",
       "BYTES 5\r\nab\ncdNEXT\r\n",
       16,
       {"L:BYTES 5\r\n", "B:ab\ncd", "L:NEXT\r\n"}},
      {"bytes cross lines",
       "BYTES 4\r\n\r\n\r\nX\r\n",
       16,
       {"L:BYTES 4\r\n", "B:\r\n\r\n", "L:X\r\n"}},
      {"bytes longer than a line",
       "BYTES 20\r\n" + std::string(20, 'z') + "E\r\n",
       12,
       {"L:BYTES 20\r\n", "B:" + std::string(20, 'z'), "L:E\r\n"}},
      {"two long lines",
       std::string(30, 'a') + "\n" + std::string(30, 'b') + "\nC\n",
       8,
       {"T", "T", "L:C\n"}},
  };
  return c;
}

// "OK\r\n" in an expected list is written without the "L:" for brevity in one case above.
std::vector<std::string> normalized(std::vector<std::string> v) {
  for (auto& e : v) {
    if (e != "T" && e.rfind("L:", 0) != 0 && e.rfind("B:", 0) != 0) e = "L:" + e;
  }
  return v;
}

TEST(Framer, WholeInput) {
  for (const auto& c : cases()) {
    EXPECT_EQ(frame({c.input}, c.max_line), normalized(c.expected)) << c.name;
  }
}

TEST(Framer, OneByteAtATime) {
  for (const auto& c : cases()) {
    std::vector<std::string> chunks;
    for (char ch : c.input)
      chunks.emplace_back(1, ch);
    EXPECT_EQ(frame(chunks, c.max_line), normalized(c.expected)) << c.name;
  }
}

TEST(Framer, SplitAtEveryBoundary) {
  for (const auto& c : cases()) {
    for (std::size_t i = 1; i < c.input.size(); ++i) {
      EXPECT_EQ(frame({c.input.substr(0, i), c.input.substr(i)}, c.max_line),
                normalized(c.expected))
          << c.name << " split at " << i;
    }
  }
}

TEST(Framer, MidCommandWhilePartialOrBytesOwed) {
  InputFramer f(64);
  EXPECT_FALSE(f.mid_command());
  f.append("NOO");
  EXPECT_EQ(f.next().kind, InputFramer::Kind::none);
  EXPECT_TRUE(f.mid_command());
  f.append("P\r\n");
  EXPECT_EQ(f.next().kind, InputFramer::Kind::line);
  EXPECT_FALSE(f.mid_command());
  f.read_bytes(3);
  EXPECT_TRUE(f.mid_command());
}

TEST(Framer, MemoryStaysBoundedForAnEndlessLine) {
  InputFramer f(1024);
  for (int i = 0; i < 1000; ++i) {
    f.append(std::string(4096, 'x'));
    while (f.next().kind != InputFramer::Kind::none) {
    }
    f.compact();
    EXPECT_LE(f.buffered(), 4096u);
  }
}

TEST(Framer, ClearForgetsEverything) {
  InputFramer f(64);
  f.append("STARTTLS\r\nINJECTED\r\n");
  ASSERT_EQ(f.next().kind, InputFramer::Kind::line);
  f.clear();
  EXPECT_EQ(f.next().kind, InputFramer::Kind::none);
  EXPECT_EQ(f.buffered(), 0u);
  EXPECT_FALSE(f.mid_command());
}

TEST(Framer, RawModeHandsOverEverythingAsItComes) {
  InputFramer f(8);  // far below what raw pieces may hold: no line limit applies
  f.set_raw(true);
  f.append("<stream:stream to='x'");
  auto item = f.next();
  ASSERT_EQ(item.kind, InputFramer::Kind::bytes);
  EXPECT_EQ(item.data, "<stream:stream to='x'");
  EXPECT_FALSE(item.last);
  EXPECT_FALSE(f.mid_command());  // the session says when it holds part of a message
  EXPECT_EQ(f.next().kind, InputFramer::Kind::none);
  f.compact();
  f.append("\n>");
  item = f.next();
  ASSERT_EQ(item.kind, InputFramer::Kind::bytes);
  EXPECT_EQ(item.data, "\n>");
  // A counted run still comes first, and then raw again.
  f.read_bytes(2);
  f.append("abcd");
  item = f.next();
  EXPECT_EQ(item.data, "ab");
  EXPECT_TRUE(item.last);
  EXPECT_EQ(f.next().data, "cd");
  // Back to lines.
  f.set_raw(false);
  f.append("LINE\r\n");
  EXPECT_EQ(f.next().kind, InputFramer::Kind::line);
}

TEST(Framer, IdleFramerReleasesItsBuffer) {
  InputFramer f(64 * 1024);
  f.append(std::string(16 * 1024, 'x') + "\n");
  ASSERT_EQ(f.next().kind, InputFramer::Kind::line);
  f.compact();
  EXPECT_LE(f.capacity(), 512u);
}

}  // namespace
}  // namespace portico::core
