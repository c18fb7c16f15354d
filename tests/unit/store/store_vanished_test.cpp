// The expunge log behind QRESYNC (RFC 7162 section 3.2.5.2): Store::vanished answers exactly
// from the log within kExpungeLogDays, the log is pruned after that by the next expunge, and a
// question from before the pruned part is answered with every UID asked for that is missing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store_test_util.h"

namespace portico::test {
namespace {

constexpr const char* alice = "alice@example.org";

std::uint32_t add(core::MailStore& s, const std::string& subject) {
  sdk::AppendRequest req;
  req.account = alice;
  req.mailbox = "INBOX";
  req.message = simple_message(subject);
  auto r = s.append(req);
  EXPECT_TRUE(r.ok()) << r.message;
  return r.value.uid;
}

void expunge(core::MailStore& s, std::uint32_t uid) {
  sdk::Flags deleted;
  deleted.system = sdk::flag_deleted;
  ASSERT_TRUE(
      s.store_flags(alice, "INBOX", {{uid, uid}}, sdk::FlagOperation::add, deleted, 0).ok());
  auto r = s.expunge(alice, "INBOX", {{uid, uid}});
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.value, std::vector<std::uint32_t>{uid});
}

std::uint64_t modseq(core::MailStore& s) {
  auto st = s.mailbox_status(alice, "INBOX");
  EXPECT_TRUE(st.ok());
  return st.value.highest_modseq;
}

std::string text(const sdk::UidSet& set) {
  std::string out;
  for (const auto& r : set)
    out += (out.empty() ? "" : ",") + std::to_string(r.first) +
           (r.first == r.last ? "" : ":" + std::to_string(r.last));
  return out;
}

// Makes every logged expunge look older than the log is kept.
void age_the_log(const fs::path& data) {
  fs::path db_file = data / "store" / "example.org" / "alice" / "meta.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  std::string sql =
      "UPDATE expunged SET at = at - " + std::to_string((sdk::kExpungeLogDays + 1) * 24 * 3600);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST(StoreVanished, TheLogNamesWhatWasExpungedAfterTheModseq) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  for (int i = 1; i <= 6; ++i)
    add(*store, "m" + std::to_string(i));
  expunge(*store, 2);
  const std::uint64_t between = modseq(*store);
  expunge(*store, 4);
  expunge(*store, 5);

  auto all = store->vanished(alice, "INBOX", {}, 0);
  ASSERT_TRUE(all.ok()) << all.message;
  EXPECT_TRUE(all.value.from_log);
  EXPECT_EQ(text(all.value.uids), "2,4:5");

  auto later = store->vanished(alice, "INBOX", {}, between);
  EXPECT_EQ(text(later.value.uids), "4:5");
  // Only within the UIDs asked for; "*" is clamped to UIDNEXT - 1.
  auto some = store->vanished(alice, "INBOX", {{5, 0xffffffffu}, {1, 2}}, 0);
  EXPECT_EQ(text(some.value.uids), "2,5");
  EXPECT_TRUE(store->vanished(alice, "INBOX", {}, modseq(*store)).value.uids.empty());
}

TEST(StoreVanished, APrunedLogAnswersWithEveryMissingUidAskedFor) {
  TempDir dir;
  {
    auto store = core::open_store(dir.path());
    for (int i = 1; i <= 8; ++i)
      add(*store, "m" + std::to_string(i));
    expunge(*store, 2);
    expunge(*store, 3);
  }
  const std::uint64_t before_prune = [&] {
    auto store = core::open_store(dir.path());
    return modseq(*store);
  }();
  age_the_log(dir.path());
  auto store = core::open_store(dir.path());
  // The next expunge drops the old entries: the log now starts after them.
  expunge(*store, 6);
  auto recent = store->vanished(alice, "INBOX", {}, before_prune);
  ASSERT_TRUE(recent.ok());
  EXPECT_TRUE(recent.value.from_log);
  EXPECT_EQ(text(recent.value.uids), "6");

  // Asked from before the pruned entries: every missing UID asked for, never less.
  auto old = store->vanished(alice, "INBOX", {}, 1);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old.value.from_log);
  EXPECT_EQ(text(old.value.uids), "2:3,6");
  auto part = store->vanished(alice, "INBOX", {{3, 7}}, 1);
  EXPECT_EQ(text(part.value.uids), "3,6");
  // UIDs never used (above UIDNEXT - 1) are not said to have vanished.
  auto wide = store->vanished(alice, "INBOX", {{1, 0xffffffffu}}, 1);
  EXPECT_EQ(text(wide.value.uids), "2:3,6");
}

}  // namespace
}  // namespace portico::test
