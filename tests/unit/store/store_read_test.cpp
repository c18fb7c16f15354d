// Reading messages: several at once in one snapshot (read_messages, what POP's read-ahead uses)
// and in pieces through a MessageReader (open_message, what streams large messages), which
// keeps reading the message it opened even after the message is expunged. Also: an account's
// change watch (inotify) lives exactly as long as its subscribers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store_test_util.h"

namespace portico::test {
namespace {

using sdk::StoreError;

constexpr const char* alice = "alice@example.org";

std::uint32_t deliver(core::MailStore& s, const std::string& text) {
  auto r = s.deliver({sdk::DeliveryTarget{alice, "INBOX", 0}}, text, 1700000000);
  EXPECT_TRUE(r.ok()) << r.message;
  return r.value.at(0).uid;
}

TEST(StoreRead, ReadMessagesAnswersEachUidInOrder) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  const auto a = deliver(*store, simple_message("a"));
  const auto b = deliver(*store, simple_message("b"));
  auto got = store->read_messages(alice, "INBOX", {b, 99, a});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].value, simple_message("b"));
  EXPECT_EQ(got[1].error, StoreError::not_found);
  EXPECT_EQ(got[2].value, simple_message("a"));
  auto none = store->read_messages(alice, "No such folder", {a});
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].error, StoreError::not_found);
}

TEST(StoreRead, AReaderReadsPiecesAndOutlivesTheExpunge) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < 300000)
    big += "0123456789abcdef\r\n";
  const auto uid = deliver(*store, big);
  auto opened = store->open_message(alice, "INBOX", uid);
  ASSERT_TRUE(opened.ok()) << opened.message;
  auto& reader = *opened.value;
  EXPECT_EQ(reader.size(), big.size());
  sdk::Flags deleted;
  deleted.system = sdk::flag_deleted;
  const sdk::UidSet one{sdk::UidRange{uid, uid}};
  ASSERT_TRUE(store->store_flags(alice, "INBOX", one, sdk::FlagOperation::add, deleted, 0).ok());
  auto removed = store->expunge(alice, "INBOX", one);
  ASSERT_TRUE(removed.ok());
  ASSERT_EQ(removed.value, std::vector<std::uint32_t>{uid});
  std::string back;
  for (std::uint64_t at = 0; at < reader.size();) {
    auto piece = reader.read(at, 65536);
    ASSERT_TRUE(piece.ok()) << piece.message;
    ASSERT_FALSE(piece.value.empty());
    at += piece.value.size();
    back += piece.value;
  }
  EXPECT_TRUE(back == big);
  EXPECT_TRUE(reader.read(reader.size(), 10).value.empty());
  EXPECT_EQ(store->open_message(alice, "INBOX", uid).error, StoreError::not_found);
}

// deliver_unsynced_file: a small message goes into the database (the file may vanish after), a
// large one is synced and linked.
TEST(StoreRead, UnsyncedFilesAreMadeDurableByTheStore) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  const auto small = dir.path() / "small.eml";
  const auto large = dir.path() / "large.eml";
  std::string big = simple_message("big");
  while (big.size() <= 64 * 1024)
    big += "more of the large message\r\n";
  std::ofstream(small, std::ios::binary) << simple_message("small");
  std::ofstream(large, std::ios::binary) << big;
  auto a =
      store->deliver_unsynced_file({sdk::DeliveryTarget{alice, "INBOX", 0}}, small.string(), 0);
  auto b =
      store->deliver_unsynced_file({sdk::DeliveryTarget{alice, "INBOX", 0}}, large.string(), 0);
  ASSERT_TRUE(a.ok() && b.ok()) << a.message << b.message;
  EXPECT_EQ(std::filesystem::hard_link_count(small), 1u);  // not linked: kept in the database
  EXPECT_EQ(std::filesystem::hard_link_count(large), 2u);  // linked into bodies/
  std::filesystem::remove(small);
  std::filesystem::remove(large);
  EXPECT_EQ(store->read_message(alice, "INBOX", a.value[0].uid).value, simple_message("small"));
  EXPECT_EQ(store->read_message(alice, "INBOX", b.value[0].uid).value, big);
}

// inotify watches this process holds, from /proc/self/fdinfo.
int inotify_watches() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);)
      n += line.rfind("inotify wd:", 0) == 0;
  }
  return n;
}

TEST(StoreRead, TheLastSubscriberOfAnAccountTakesItsWatchAway) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  deliver(*store, simple_message("a"));
  const int before = inotify_watches();
  auto first = store->subscribe(alice, "INBOX", [](const sdk::StoreChange&) {});
  auto second = store->subscribe(alice, "INBOX", [](const sdk::StoreChange&) {});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(inotify_watches(), before + 1);  // one watch per account
  first.value.reset();
  EXPECT_EQ(inotify_watches(), before + 1);
  second.value.reset();
  EXPECT_EQ(inotify_watches(), before);
  auto again = store->subscribe(alice, "INBOX", [](const sdk::StoreChange&) {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(inotify_watches(), before + 1);
}

}  // namespace
}  // namespace portico::test
