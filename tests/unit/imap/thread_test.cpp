// imap — THREAD (RFC 5256 section 3): ORDEREDSUBJECT and REFERENCES over hand-made messages
// (chains, missing parents, loops, duplicate Message-IDs, threads gathered by subject), the
// response's form, and the reading of References and In-Reply-To.
#include <gtest/gtest.h>

#include <regex>

#include "thread.h"

namespace portico::imap {
namespace {

ThreadInput msg(std::uint32_t n, std::int64_t date, std::string subject, std::string id,
                std::vector<std::string> refs = {}) {
  ThreadInput t;
  t.number = n;
  t.date = date;
  t.subject = std::move(subject);
  t.message_id = std::move(id);
  t.references = std::move(refs);
  return t;
}

// Every message's number appears exactly once.
void expect_each_once(const std::string& out, std::size_t count) {
  std::vector<int> seen(count + 1, 0);
  static const std::regex number("[0-9]+");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), number); it != std::sregex_iterator();
       ++it) {
    const auto n = static_cast<std::size_t>(std::stoul(it->str()));
    ASSERT_LE(n, count) << out;
    ++seen[n];
  }
  for (std::size_t n = 1; n <= count; ++n)
    EXPECT_EQ(seen[n], 1) << "message " << n << " in " << out;
}

TEST(Thread, ReadsReferencesAndHeaderFields) {
  EXPECT_EQ(message_ids("<a@x> <b@y>\r\n\t<c@z>"), (std::vector<std::string>{"a@x", "b@y", "c@z"}));
  EXPECT_EQ(message_ids("junk <> <a@x"), std::vector<std::string>{});
  EXPECT_EQ(message_ids("<a@x> <b@y>", 1), std::vector<std::string>{"a@x"});
  const std::string header =
      "Subject: s\r\nreferences: <a@x>\r\n <b@y>\r\nX: 1\r\n\r\nReferences: <body@z>\r\n";
  EXPECT_EQ(message_ids(header_value(header, "References")),
            (std::vector<std::string>{"a@x", "b@y"}));
  EXPECT_EQ(header_value(header, "In-Reply-To"), "");
}

TEST(Thread, OrderedSubjectGroupsBySubjectInDateOrder) {
  std::vector<ThreadInput> m = {msg(1, 50, "b", ""), msg(2, 10, "a", ""), msg(3, 30, "b", ""),
                                msg(4, 40, "a", ""), msg(5, 20, "c", ""), msg(6, 60, "a", "")};
  // Threads by their first message's date: a (2, 10), c (5, 20), b (3, 30).
  EXPECT_EQ(thread(ThreadAlgorithm::orderedsubject, m), "(2 (4)(6))(5)(3 1)");
}

TEST(Thread, ReferencesBuildsTheTree) {
  std::vector<ThreadInput> m = {
      msg(1, 10, "lunch", "1@x"),
      msg(2, 20, "lunch", "2@x", {"1@x"}),
      msg(3, 30, "lunch", "3@x", {"1@x", "2@x"}),
      msg(4, 25, "lunch", "4@x", {"1@x"}),
      msg(5, 5, "other", "5@x"),
      // Its parent (missing@x) was never seen: the dummy gives way to it.
      msg(6, 40, "lost", "6@x", {"missing@x"}),
      // Two replies to a message not here: a root dummy keeps both.
      msg(7, 50, "gone", "7@x", {"absent@x"}),
      msg(8, 55, "gone", "8@x", {"absent@x"}),
  };
  const std::string out = thread(ThreadAlgorithm::references, m);
  EXPECT_EQ(out, "(5)(1 (2 3)(4))(6)((7)(8))");
  expect_each_once(out, m.size());
}

TEST(Thread, ReferencesGathersRootsOfOneSubject) {
  // Two unrelated messages with the same base subject end up under one dummy.
  std::vector<ThreadInput> m = {msg(1, 10, "meeting", "1@x"), msg(2, 20, "meeting", "2@x"),
                                msg(3, 15, "", "3@x")};
  EXPECT_EQ(thread(ThreadAlgorithm::references, m), "((1)(2))(3)");
  // A reply whose References were lost goes under the message of its subject that is no reply.
  m = {msg(1, 10, "meeting", "1@x"), msg(2, 5, "meeting", "2@x")};
  m[1].reply = true;
  EXPECT_EQ(thread(ThreadAlgorithm::references, m), "(1 2)");
  m[0].reply = true;  // both replies: side by side under a dummy
  EXPECT_EQ(thread(ThreadAlgorithm::references, m), "((2)(1))");
}

TEST(Thread, ReferencesSurvivesLoopsDuplicatesAndDepth) {
  std::vector<ThreadInput> m = {
      msg(1, 10, "a", "1@x", {"2@x"}),
      msg(2, 20, "a", "2@x", {"1@x"}),     // a loop
      msg(3, 30, "b", "1@x"),              // a duplicate Message-ID
      msg(4, 40, "c", "4@x", {"4@x"}),     // itself
      msg(5, 50, "d", "", {"nowhere@x"}),  // no Message-ID
  };
  std::string out = thread(ThreadAlgorithm::references, m);
  expect_each_once(out, m.size());

  // A branching chain far deeper than kMaxThreadDepth: every message still comes once.
  std::vector<ThreadInput> deep;
  std::vector<std::string> refs;
  for (std::uint32_t i = 1; i <= 400; i += 2) {
    std::string id = std::to_string(i) + "@d";
    deep.push_back(msg(i, i, "deep", id, refs));
    deep.push_back(msg(i + 1, i, "deep", std::to_string(i + 1) + "@d", refs));  // a sibling
    refs.push_back(id);
  }
  out = thread(ThreadAlgorithm::references, deep);
  expect_each_once(out, deep.size());
}

}  // namespace
}  // namespace portico::imap
