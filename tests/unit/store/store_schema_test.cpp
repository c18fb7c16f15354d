// Schema versions: a v1 file (built here with the v1 SQL) upgrades to v2 with its data; a file
// from a newer version is refused and left untouched; check/repair mends counters and orphans.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "core/store/files.h"
#include "core/store/schema.h"
#include "store_test_util.h"

namespace portico::test {
namespace {

constexpr const char* carol = "carol@example.org";

fs::path account_dir(const TempDir& dir) {
  return dir.path() / "store" / "example.org" / "carol";
}

void sql(const fs::path& db_file, const std::string& text) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

int user_version(const fs::path& db_file) {
  sqlite3* db = nullptr;
  sqlite3_open(db_file.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  sqlite3_step(st);
  int v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

TEST(StoreSchema, UpgradesVersion1) {
  TempDir dir;
  fs::create_directories(account_dir(dir) / "bodies");
  auto db = account_dir(dir) / "meta.sqlite";
  std::string body = simple_message("old");
  std::ofstream(account_dir(dir) / "bodies" / "b1", std::ios::binary) << body;
  sql(db, std::string(core::store::schema_v1_sql()) +
              "PRAGMA user_version=1;"
              "INSERT INTO mailboxes(id, name, subscribed, uid_validity, uid_next, highest_modseq)"
              " VALUES(1, 'INBOX', 1, 1234, 3, 7);"
              "INSERT INTO bodies(id, file, size) VALUES(1, 'b1', " +
              std::to_string(body.size()) +
              ");"
              "INSERT INTO messages VALUES(1, 1, 1, 5, 1, '', 1700000000, " +
              std::to_string(body.size()) +
              ", 'k1');"
              "INSERT INTO messages VALUES(1, 2, 1, 7, 0, '$x', 1700000001, " +
              std::to_string(body.size()) + ", 'k2');");
  auto store = core::open_store(dir.path());
  auto st = store->mailbox_status(carol, "INBOX");
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(user_version(db), core::store::schema_version);
  EXPECT_EQ(st.value.messages, 2u);  // the v2 count, computed by the migration
  EXPECT_EQ(st.value.uid_validity, 1234u);
  EXPECT_EQ(st.value.uid_next, 3u);
  EXPECT_EQ(store->read_message(carol, "INBOX", 2).value, body);
  // A body stored before v5 has no part offsets kept: they are found from its octets.
  auto parts = store->message_parts(carol, "INBOX", {2});
  ASSERT_EQ(parts.size(), 1u);
  ASSERT_TRUE(parts[0].ok()) << parts[0].message;
  ASSERT_FALSE(parts[0].value.parts.empty());
  EXPECT_EQ(parts[0].value.size, body.size());
  EXPECT_EQ(parts[0].value.parts[0].header_end, body.find("\r\n\r\n") + 4);
  // Messages stored before v5 are not \Recent.
  auto recent = store->recent_uids(carol, "INBOX", false);
  ASSERT_TRUE(recent.ok()) << recent.message;
  EXPECT_GT(recent.value.first, recent.value.last);
  // The v2 expunge log works on the upgraded file.
  store->store_flags(carol, "INBOX", {{1, 1}}, sdk::FlagOperation::add, {sdk::flag_deleted, {}}, 0);
  EXPECT_EQ(store->expunge(carol, "INBOX", {}).value, (std::vector<std::uint32_t>{1}));
  EXPECT_TRUE(store->check(carol, false).clean());
}

TEST(StoreSchema, RefusesNewerVersion) {
  TempDir dir;
  fs::create_directories(account_dir(dir) / "bodies");
  auto db = account_dir(dir) / "meta.sqlite";
  sql(db, "CREATE TABLE future(x); PRAGMA user_version=99;");
  auto store = core::open_store(dir.path());
  auto r = store->list_mailboxes(carol);
  EXPECT_EQ(r.error, sdk::StoreError::too_new);
  EXPECT_NE(r.message.find("newer"), std::string::npos) << r.message;
  EXPECT_EQ(user_version(db), 99);  // untouched
  EXPECT_FALSE(store->check(carol, false).clean());
}

TEST(StoreCheck, FindsAndRepairsOrphansAndCounters) {
  TempDir dir;
  {
    auto store = core::open_store(dir.path());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(store->deliver({{carol, "INBOX", 0}}, simple_message(std::to_string(i)), 0).ok());
    }
    EXPECT_TRUE(store->check(carol, false).clean());
  }
  auto bodies = account_dir(dir) / "bodies";
  std::ofstream(bodies / ".tmp-half", std::ios::binary) << "From: half";
  std::ofstream(bodies / "orphan", std::ios::binary) << "From: x\r\n\r\nx\r\n";
  sql(account_dir(dir) / "meta.sqlite",
      "UPDATE mailboxes SET uid_next = 2, highest_modseq = 1, message_count = 9 "
      "WHERE name = 'INBOX'");
  auto store = core::open_store(dir.path());
  auto report = store->check(carol, false);
  EXPECT_EQ(report.problems.size(), 5u);
  for (const auto& p : report.problems)
    std::cout << "  found: " << p << "\n";
  EXPECT_TRUE(fs::exists(bodies / "orphan"));
  auto repaired = store->check(carol, true);
  EXPECT_EQ(repaired.repaired.size(), 5u);
  EXPECT_TRUE(store->check(carol, false).clean());
  EXPECT_FALSE(fs::exists(bodies / "orphan"));
  EXPECT_FALSE(fs::exists(bodies / ".tmp-half"));
  auto st = store->mailbox_status(carol, "INBOX").value;
  EXPECT_EQ(st.uid_next, 4u);
  EXPECT_EQ(st.messages, 3u);
  // A new message gets a UID above every old one.
  EXPECT_EQ(store->deliver({{carol, "INBOX", 0}}, simple_message("n"), 0).value[0].uid, 4u);
}

TEST(StoreSchema, TwoProcessesOpeningANewDatabaseAtOnceBothSucceed) {
  // Both switch the new file to WAL at the same moment; SQLite answers one of them "database is
  // locked" at once, without waiting on the busy timeout, unless the switch is retried (as when
  // `portico export` opens an account the server is creating). Many rounds: the race is common
  // but not certain in any one of them.
  TempDir dir;
  constexpr int kRounds = 100;
  int failed = 0;
  for (int round = 0; round < kRounds; ++round) {
    const fs::path file = dir.path() / ("race" + std::to_string(round) + ".sqlite");
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    pid_t children[2];
    for (pid_t& child : children) {
      child = ::fork();
      ASSERT_GE(child, 0);
      if (child == 0) {
        char c;
        ::close(go[1]);
        if (::read(go[0], &c, 1) != 0) ::_exit(3);  // both start when the pipe closes
        try {
          core::store::Database db(file);
          core::store::migrate(db);
          ::_exit(0);
        } catch (...) {
          ::_exit(1);
        }
      }
    }
    ::close(go[0]);
    ::close(go[1]);
    for (pid_t child : children) {
      int status = 0;
      ASSERT_EQ(::waitpid(child, &status, 0), child);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
  }
  EXPECT_EQ(failed, 0) << failed << " of " << 2 * kRounds << " openings failed";
}

}  // namespace
}  // namespace portico::test
