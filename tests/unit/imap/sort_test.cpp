// imap — SORT keys (RFC 5256 section 2.1's base subject, the sent date, the first address) from
// the ENVELOPE the store caches, and the order of several messages by several criteria.
#include <gtest/gtest.h>

#include "core/store/mime_cache.h"
#include "sort.h"

namespace portico::imap {
namespace {

using Key = Command::SortCriterion::Key;

TEST(Sort, BaseSubjectDropsLeadersTrailersAndBlobs) {
  EXPECT_EQ(base_subject("Hello"), "hello");
  EXPECT_EQ(base_subject("Re: Hello"), "hello");
  EXPECT_EQ(base_subject("RE:  re: Fwd: FW: hello"), "hello");
  EXPECT_EQ(base_subject("[list] Re: hello"), "hello");
  EXPECT_EQ(base_subject("Re[2]: hello"), "hello");
  EXPECT_EQ(base_subject("[a][b] Re: [c] hello (fwd) (FWD)"), "hello");
  EXPECT_EQ(base_subject("[Fwd: Re: hello]"), "hello");
  EXPECT_EQ(base_subject("[just a blob]"), "[just a blob]");  // nothing would be left
  EXPECT_EQ(base_subject("  hello \t\r\n  world  "), "hello world");
  EXPECT_EQ(base_subject("Re: =?UTF-8?Q?caf=C3=A9?= plans"), "café plans");
  EXPECT_EQ(base_subject("Reply: not a leader"), "reply: not a leader");
  EXPECT_EQ(base_subject(""), "");
}

sdk::MessageInfo info(std::uint32_t uid, const std::string& message, std::int64_t arrival,
                      std::uint64_t size) {
  sdk::MessageInfo m;
  m.uid = uid;
  m.internal_date = arrival;
  m.size = size;
  m.envelope = core::store::summarize_message(message).envelope;
  return m;
}

TEST(Sort, KeysFromTheEnvelope) {
  auto k = sort_keys(info(1,
                          "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nFrom: \"Zed\" <Bob@x.test>\r\n"
                          "To: carol@y.test, dave@y.test\r\nSubject: Re: [l] Lunch\r\n\r\nhi\r\n",
                          5, 77));
  EXPECT_EQ(k.date, 760686745);  // 1994-02-08 05:52:25 UTC
  EXPECT_EQ(k.arrival, 5);
  EXPECT_EQ(k.size, 77u);
  EXPECT_EQ(k.subject, "lunch");
  EXPECT_EQ(k.from, "bob");
  EXPECT_EQ(k.display_from, "zed");
  EXPECT_EQ(k.to, "carol");
  EXPECT_EQ(k.display_to, "carol@y.test");
  EXPECT_EQ(k.cc, "");
  // No Date (or an unreadable one): the internal date.
  EXPECT_EQ(sort_keys(info(2, "Subject: x\r\n\r\n", 42, 1)).date, 42);
  EXPECT_EQ(sort_keys(info(3, "Date: someday\r\n\r\n", 43, 1)).date, 43);
  // Damaged ENVELOPE text: keys from the metadata, nothing thrown.
  sdk::MessageInfo bad;
  bad.internal_date = 9;
  for (std::string e : {"", "(", "(\"a", "({5}\r\nab", "((((((((NIL))))))))", "(NIL NIL)"}) {
    bad.envelope = e;
    EXPECT_EQ(sort_keys(bad).date, 9) << e;
  }
}

TEST(Sort, SeveralCriteriaReverseAndTies) {
  std::vector<SortKeys> keys(4);
  keys[0].subject = "b", keys[0].size = 10, keys[0].date = 3;
  keys[1].subject = "a", keys[1].size = 10, keys[1].date = 1;
  keys[2].subject = "b", keys[2].size = 5, keys[2].date = 2;
  keys[3].subject = "a", keys[3].size = 10, keys[3].date = 1;
  auto order = [&keys](std::vector<Command::SortCriterion> c) {
    std::vector<std::size_t> o{0, 1, 2, 3};
    sort_by(c, keys, o);
    return o;
  };
  EXPECT_EQ(order({{Key::subject, false}}), (std::vector<std::size_t>{1, 3, 0, 2}));
  // Ties keep mailbox order, even reversed.
  EXPECT_EQ(order({{Key::subject, true}}), (std::vector<std::size_t>{0, 2, 1, 3}));
  EXPECT_EQ(order({{Key::subject, false}, {Key::size, false}}),
            (std::vector<std::size_t>{1, 3, 2, 0}));
  EXPECT_EQ(order({{Key::date, true}}), (std::vector<std::size_t>{0, 2, 1, 3}));
}

}  // namespace
}  // namespace portico::imap
