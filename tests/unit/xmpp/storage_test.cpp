// xmpp storage: rosters with groups and every subscription state of RFC 6121 section 3 (pending
// in/out, pre-approval), roster versions and the changes since a version (RFC 6121 2.6), offline
// messages (XEP-0160) bounded per account, the archive (XEP-0313) with its ids, RSM paging in
// both directions, filters and expiry, block lists (XEP-0191), data surviving a reopen (WAL,
// schema recorded in `meta`), concurrent writers losing nothing, and how opening fails.
#include "storage.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace portico::xmpp {
namespace {

constexpr const char* juliet = "juliet@example.com";
constexpr const char* romeo = "romeo@example.net";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/xmppdb-test-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class StorageTest : public ::testing::Test {
 protected:
  std::string db_path() const { return dir_.file("xmpp.sqlite"); }
  TempDir dir_;
  Storage store_{db_path()};
};

RosterItem item(const std::string& jid, Subscription sub, std::vector<std::string> groups = {}) {
  RosterItem it;
  it.jid = jid;
  it.subscription = sub;
  it.groups = std::move(groups);
  return it;
}

void expect_same(const RosterItem& a, const RosterItem& b) {
  EXPECT_EQ(a.jid, b.jid);
  EXPECT_EQ(a.name, b.name) << a.jid;
  EXPECT_EQ(a.subscription, b.subscription) << a.jid;
  EXPECT_EQ(a.ask, b.ask) << a.jid;
  EXPECT_EQ(a.pending_in, b.pending_in) << a.jid;
  EXPECT_EQ(a.approved, b.approved) << a.jid;
  EXPECT_EQ(a.groups, b.groups) << a.jid;
  EXPECT_EQ(a.pending_in_stanza, b.pending_in_stanza) << a.jid;
}

std::vector<std::string> jids_of(const std::vector<RosterItem>& items) {
  std::vector<std::string> out;
  for (const RosterItem& it : items)
    out.push_back(it.jid);
  return out;
}

ArchiveEntry entry(const std::string& account, const std::string& with, std::int64_t time_ms,
                   const std::string& body) {
  ArchiveEntry e;
  e.account = account;
  e.with = with;
  e.time_ms = time_ms;
  e.stanza = "<message><body>" + body + "</body></message>";
  return e;
}

std::vector<std::string> bodies(const ArchivePage& page) {
  std::vector<std::string> out;
  for (const ArchiveEntry& e : page.items) {
    auto open = e.stanza.find("<body>") + 6;
    out.push_back(e.stanza.substr(open, e.stanza.find("</body>") - open));
  }
  return out;
}

// --- subscription names ---

TEST(SubscriptionName, RoundTripsEveryStateAndRejectsOthers) {
  for (Subscription s : {Subscription::none, Subscription::to, Subscription::from,
                         Subscription::both, Subscription::remove}) {
    EXPECT_EQ(parse_subscription(subscription_name(s)), s);
  }
  EXPECT_EQ(subscription_name(Subscription::from), "from");
  EXPECT_FALSE(parse_subscription("Both"));
  EXPECT_FALSE(parse_subscription(""));
}

// --- rosters ---

TEST_F(StorageTest, RosterPutGetRemoveRoundTripWithGroupsAndEverySubscriptionState) {
  // Every state of RFC 6121 section 3 that the storage can hold: each subscription with and
  // without pending out (ask), pending in and pre-approval.
  std::vector<RosterItem> items;
  int n = 0;
  for (Subscription sub :
       {Subscription::none, Subscription::to, Subscription::from, Subscription::both}) {
    for (int flags = 0; flags < 8; ++flags) {
      RosterItem it = item("c" + std::to_string(n++) + "@example.org", sub);
      it.ask = (flags & 1) != 0;
      it.pending_in = (flags & 2) != 0;
      it.approved = (flags & 4) != 0;
      if (it.pending_in)
        it.pending_in_stanza = "<presence type='subscribe' from='" + it.jid + "'/>";
      it.name = flags % 3 == 0 ? "" : "Contact " + std::to_string(n);
      for (int g = 0; g < flags % 4; ++g)
        it.groups.push_back("Group " + std::to_string(3 - g));  // not in sorted order
      items.push_back(it);
      store_.put_roster_item(juliet, it);
    }
  }
  EXPECT_EQ(store_.roster_size(juliet), items.size());
  for (const RosterItem& it : items) {
    auto got = store_.roster_item(juliet, it.jid);
    ASSERT_TRUE(got) << it.jid;
    expect_same(*got, it);
  }
  std::string version;
  auto all = store_.roster(juliet, &version);
  ASSERT_EQ(all.size(), items.size());
  std::sort(items.begin(), items.end(),
            [](const RosterItem& a, const RosterItem& b) { return a.jid < b.jid; });
  for (std::size_t i = 0; i < items.size(); ++i)
    expect_same(all[i], items[i]);
  EXPECT_EQ(version, std::to_string(items.size()));

  // Replacing an item replaces its groups; duplicates are dropped, the first kept.
  RosterItem changed = item(items[5].jid, Subscription::both, {"B", "A", "B", "C", "A"});
  changed.name = "Renamed";
  store_.put_roster_item(juliet, changed);
  auto got = store_.roster_item(juliet, changed.jid);
  ASSERT_TRUE(got);
  changed.groups = {"B", "A", "C"};
  expect_same(*got, changed);

  // Another account's roster is separate.
  EXPECT_FALSE(store_.roster_item(romeo, changed.jid));
  EXPECT_TRUE(store_.roster(romeo, nullptr).empty());

  store_.remove_roster_item(juliet, changed.jid);
  EXPECT_FALSE(store_.roster_item(juliet, changed.jid));
  EXPECT_EQ(store_.roster_size(juliet), items.size() - 1);
  EXPECT_THROW(store_.put_roster_item(juliet, item("x@example.org", Subscription::remove)),
               std::invalid_argument);
  EXPECT_EQ(store_.roster_size(juliet), items.size() - 1);
}

TEST_F(StorageTest, RosterVersionGrowsWithEachChangeAndNotOnNoOpRemoval) {
  std::string version;
  store_.roster(juliet, &version);
  EXPECT_EQ(version, "0");
  EXPECT_EQ(store_.put_roster_item(juliet, item(romeo, Subscription::none)), "1");
  EXPECT_EQ(store_.put_roster_item(juliet, item(romeo, Subscription::to)), "2");
  EXPECT_EQ(store_.put_roster_item(juliet, item("nurse@example.com", Subscription::both)), "3");
  EXPECT_EQ(store_.remove_roster_item(juliet, romeo), "4");
  EXPECT_EQ(store_.remove_roster_item(juliet, romeo), "4");
  EXPECT_EQ(store_.remove_roster_item(juliet, "nobody@example.com"), "4");
  store_.roster(juliet, &version);
  EXPECT_EQ(version, "4");
  // Versions are per account.
  store_.roster(romeo, &version);
  EXPECT_EQ(version, "0");
  EXPECT_EQ(store_.remove_roster_item(romeo, juliet), "0");
  EXPECT_EQ(store_.put_roster_item(romeo, item(juliet, Subscription::both)), "1");
}

TEST_F(StorageTest, RosterChangesSinceGiveExactlyTheChangesIncludingRemovals) {
  store_.put_roster_item(juliet, item("a@example.org", Subscription::both));
  store_.put_roster_item(juliet, item("b@example.org", Subscription::to));
  store_.put_roster_item(juliet, item("d@example.org", Subscription::from));
  const std::string since = store_.put_roster_item(juliet, item("e@example.org", {}));

  RosterItem a = item("a@example.org", Subscription::both, {"Friends"});
  a.name = "A";
  store_.put_roster_item(juliet, a);
  store_.put_roster_item(juliet, item("c@example.org", Subscription::none));
  store_.remove_roster_item(juliet, "b@example.org");
  store_.remove_roster_item(juliet, "d@example.org");
  store_.put_roster_item(juliet, item("d@example.org", Subscription::none, {"Back"}));
  store_.remove_roster_item(juliet, "e@example.org");

  std::string current;
  auto changes = store_.roster_changes_since(juliet, since, &current);
  ASSERT_TRUE(changes);
  EXPECT_EQ(current, "10");
  // One per contact, in its final state, in the order of each contact's last change.
  ASSERT_EQ(jids_of(*changes),
            (std::vector<std::string>{"a@example.org", "c@example.org", "b@example.org",
                                      "d@example.org", "e@example.org"}));
  expect_same((*changes)[0], a);
  EXPECT_EQ((*changes)[1].subscription, Subscription::none);
  EXPECT_EQ((*changes)[2].subscription, Subscription::remove);
  expect_same((*changes)[3], item("d@example.org", Subscription::none, {"Back"}));
  EXPECT_EQ((*changes)[4].subscription, Subscription::remove);

  // From the version just before the last change: that change alone.
  changes = store_.roster_changes_since(juliet, "9", &current);
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].jid, "e@example.org");
  EXPECT_EQ((*changes)[0].subscription, Subscription::remove);

  // From "0": every contact ever touched, the present ones as they are.
  changes = store_.roster_changes_since(juliet, "0", &current);
  ASSERT_TRUE(changes);
  EXPECT_EQ(changes->size(), 5u);
}

TEST_F(StorageTest, RosterChangesSinceIsNulloptForUnknownOrTooOldVersion) {
  std::string current;
  for (const char* bad : {"", "abc", "-1", "+1", "01", "1.0", "99999999999999999999"})
    EXPECT_FALSE(store_.roster_changes_since(juliet, bad, &current)) << bad;
  // Newer than the roster: a version from elsewhere.
  EXPECT_FALSE(store_.roster_changes_since(juliet, "1", &current));
  EXPECT_EQ(current, "0");

  // 150 changes to 10 contacts: the last 100 are known, older ones are not.
  for (int i = 0; i < 150; ++i)
    store_.put_roster_item(juliet, item("c" + std::to_string(i % 10) + "@example.org",
                                        i % 2 ? Subscription::to : Subscription::from));
  EXPECT_FALSE(store_.roster_changes_since(juliet, "0", &current));
  EXPECT_FALSE(store_.roster_changes_since(juliet, "1", &current));
  EXPECT_FALSE(store_.roster_changes_since(juliet, "49", &current));
  EXPECT_EQ(current, "150");
  auto changes = store_.roster_changes_since(juliet, "50", &current);
  ASSERT_TRUE(changes);
  EXPECT_EQ(changes->size(), 10u);
  changes = store_.roster_changes_since(juliet, "145", &current);
  ASSERT_TRUE(changes);
  EXPECT_EQ(changes->size(), 5u);
  // Another account's versions do not count for this one.
  EXPECT_FALSE(store_.roster_changes_since(romeo, "150", &current));
}

TEST_F(StorageTest, RosterChangesSinceIsEmptyWhenCurrent) {
  std::string current;
  auto changes = store_.roster_changes_since(juliet, "0", &current);
  ASSERT_TRUE(changes);
  EXPECT_TRUE(changes->empty());
  EXPECT_EQ(current, "0");
  const std::string v = store_.put_roster_item(juliet, item(romeo, Subscription::both));
  changes = store_.roster_changes_since(juliet, v, &current);
  ASSERT_TRUE(changes);
  EXPECT_TRUE(changes->empty());
  EXPECT_EQ(current, v);
}

// --- persistence and opening ---

TEST(StorageOpen, DataSurvivesClosingAndReopeningTheFile) {
  TempDir dir;
  const std::string path = dir.file("xmpp.sqlite");
  RosterItem r = item(romeo, Subscription::from, {"Montague", "Verona"});
  r.ask = true;
  r.pending_in = false;
  r.approved = true;
  std::vector<ArchiveEntry> entries = {entry(juliet, romeo, 1000, "one"),
                                       entry(juliet, romeo, 2000, "two")};
  {
    Storage store(path);
    store.put_roster_item(juliet, r);
    store.put_roster_item(juliet, item("nurse@example.com", Subscription::both));
    store.remove_roster_item(juliet, "nurse@example.com");
    ASSERT_TRUE(store.push_offline(juliet, "<message>later</message>", 10));
    store.append_archive(entries);
    store.block(juliet, {"tybalt@example.net"});
  }
  for (int reopen = 0; reopen < 2; ++reopen) {
    Storage store(path);
    std::string version;
    auto roster = store.roster(juliet, &version);
    ASSERT_EQ(roster.size(), 1u);
    expect_same(roster[0], r);
    EXPECT_EQ(version, "3");
    auto changes = store.roster_changes_since(juliet, "2", &version);
    ASSERT_TRUE(changes);
    ASSERT_EQ(changes->size(), 1u);
    EXPECT_EQ((*changes)[0].subscription, Subscription::remove);
    EXPECT_EQ(store.offline_count(juliet), 1u);
    ArchivePage page = store.query_archive(juliet, {});
    ASSERT_EQ(page.items.size(), 2u);
    EXPECT_EQ(page.items[0].stanza_id, entries[0].stanza_id);
    EXPECT_EQ(page.items[1].stanza_id, entries[1].stanza_id);
    EXPECT_EQ(page.items[1].time_ms, 2000);
    EXPECT_TRUE(store.is_blocked(juliet, "tybalt@example.net"));
  }
  // The file is in WAL mode and records its schema version.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto scalar = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  };
  EXPECT_EQ(scalar("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  // A schema from a newer version of the code is refused, not misread.
  sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr,
               nullptr);
  sqlite3_close(db);
  try {
    Storage store(path);
    ADD_FAILURE() << "opened a database of schema 99";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos) << e.what();
  }
}

TEST(StorageOpen, APathInADirectoryThatDoesNotExistYetIsCreated) {
  TempDir dir;
  const std::string path = dir.file("a/b/c/xmpp.sqlite");
  {
    Storage store(path);
    store.block(juliet, {romeo});
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  Storage store(path);
  EXPECT_TRUE(store.is_blocked(juliet, romeo));
}

TEST(StorageOpen, AnUnwritablePathThrowsWithThePathInTheMessage) {
  TempDir dir;
  auto expect_refused = [](const std::string& path) {
    try {
      Storage store(path);
      ADD_FAILURE() << "opened " << path;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  // A regular file where a directory must be.
  std::ofstream(dir.file("plain")) << "not a directory";
  expect_refused(dir.file("plain/xmpp.sqlite"));
  expect_refused(dir.file("plain/sub/xmpp.sqlite"));
  // A directory where the database file must be.
  std::filesystem::create_directory(dir.file("adir"));
  expect_refused(dir.file("adir"));
  // A directory without write permission (meaningless for root, who may write anywhere).
  if (geteuid() != 0) {
    std::filesystem::create_directory(dir.file("ro"));
    chmod(dir.file("ro").c_str(), 0500);
    expect_refused(dir.file("ro/xmpp.sqlite"));
    chmod(dir.file("ro").c_str(), 0700);
  }
}

// --- offline messages ---

TEST_F(StorageTest, OfflinePushUpToLimitThenRefusedTakeReturnsOldestFirstAndEmpties) {
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(store_.push_offline(juliet, "<message>" + std::to_string(i) + "</message>", 5));
  EXPECT_FALSE(store_.push_offline(juliet, "<message>refused</message>", 5));
  EXPECT_EQ(store_.offline_count(juliet), 5u);
  // The limit is per account, and 0 refuses everything.
  EXPECT_TRUE(store_.push_offline(romeo, "<message>for romeo</message>", 5));
  EXPECT_FALSE(store_.push_offline("nurse@example.com", "<message/>", 0));
  EXPECT_EQ(store_.offline_count("nurse@example.com"), 0u);

  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  auto taken = store_.take_offline(juliet);
  ASSERT_EQ(taken.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(taken[i].second, "<message>" + std::to_string(i) + "</message>");
    EXPECT_LE(taken[i].first, now);
    EXPECT_GT(taken[i].first, now - 60'000);
    if (i > 0) {
      EXPECT_LE(taken[i - 1].first, taken[i].first);
    }
  }
  EXPECT_EQ(store_.offline_count(juliet), 0u);
  EXPECT_TRUE(store_.take_offline(juliet).empty());
  EXPECT_EQ(store_.offline_count(romeo), 1u);
  // Room again once taken.
  EXPECT_TRUE(store_.push_offline(juliet, "<message>again</message>", 5));
}

// --- archive ---

TEST_F(StorageTest, ArchiveAppendFillsUniqueIds) {
  std::vector<ArchiveEntry> entries;
  for (int i = 0; i < 500; ++i)
    entries.push_back(entry(juliet, romeo, 1000 + i, std::to_string(i)));
  store_.append_archive(entries);
  std::set<std::string> ids;
  for (const ArchiveEntry& e : entries) {
    EXPECT_EQ(e.stanza_id.size(), 16u);
    EXPECT_EQ(e.stanza_id.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << e.stanza_id;
    ids.insert(e.stanza_id);
  }
  EXPECT_EQ(ids.size(), entries.size());
  EXPECT_LT(entries.front().stanza_id, entries.back().stanza_id) << "ids sort by time";
  // An id the caller chose is kept.
  std::vector<ArchiveEntry> chosen{entry(romeo, juliet, 5000, "chosen")};
  chosen[0].stanza_id = "caller-chosen-id";
  store_.append_archive(chosen);
  EXPECT_EQ(chosen[0].stanza_id, "caller-chosen-id");
  // Returned with the same ids, in the order of appending.
  ArchiveQuery q;
  q.max = 500;
  ArchivePage page = store_.query_archive(juliet, q);
  ASSERT_EQ(page.items.size(), 250u);  // capped
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    EXPECT_EQ(page.items[i].stanza_id, entries[i].stanza_id);
    EXPECT_EQ(page.items[i].account, juliet);
    EXPECT_EQ(page.items[i].with, romeo);
    EXPECT_EQ(page.items[i].stanza, entries[i].stanza);
  }
  EXPECT_FALSE(page.complete);
  EXPECT_EQ(page.count, 500u);
  std::vector<ArchiveEntry> none;
  store_.append_archive(none);
}

TEST_F(StorageTest, ArchivePagingForwardBackwardLastPageCountCompleteItemNotFound) {
  std::vector<ArchiveEntry> entries;
  for (int i = 0; i < 10; ++i)
    entries.push_back(entry(juliet, romeo, 1000 * i, std::to_string(i)));
  store_.append_archive(entries);
  std::vector<ArchiveEntry> other = {entry(romeo, juliet, 500, "romeo's")};
  store_.append_archive(other);
  auto id = [&](int i) { return entries[i].stanza_id; };
  using V = std::vector<std::string>;

  ArchiveQuery q;
  q.max = 4;
  ArchivePage p = store_.query_archive(juliet, q);  // neither: the first page
  EXPECT_EQ(bodies(p), (V{"0", "1", "2", "3"}));
  EXPECT_FALSE(p.complete);
  EXPECT_EQ(p.count, 10u);
  EXPECT_FALSE(p.item_not_found);

  q.after_id = id(3);  // forward
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"4", "5", "6", "7"}));
  EXPECT_FALSE(p.complete);
  EXPECT_EQ(p.count, 10u);
  q.after_id = id(7);
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"8", "9"}));
  EXPECT_TRUE(p.complete);
  q.after_id = id(5);  // exactly the rest: nothing after them
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"6", "7", "8", "9"}));
  EXPECT_TRUE(p.complete);
  q.after_id = id(9);
  p = store_.query_archive(juliet, q);
  EXPECT_TRUE(p.items.empty());
  EXPECT_TRUE(p.complete);

  q.after_id.reset();
  q.before_id = "";  // the last page
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"6", "7", "8", "9"}));
  EXPECT_FALSE(p.complete);
  q.before_id = id(6);  // backward
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"2", "3", "4", "5"}));
  EXPECT_FALSE(p.complete);
  q.before_id = id(2);
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"0", "1"}));
  EXPECT_TRUE(p.complete);
  q.before_id = id(4);
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"0", "1", "2", "3"}));
  EXPECT_TRUE(p.complete);

  q.after_id = id(1);  // both: between them, from the end
  q.before_id = id(8);
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"4", "5", "6", "7"}));
  EXPECT_FALSE(p.complete);

  // max = 0 counts only.
  ArchiveQuery count_only;
  count_only.max = 0;
  p = store_.query_archive(juliet, count_only);
  EXPECT_TRUE(p.items.empty());
  EXPECT_EQ(p.count, 10u);
  EXPECT_FALSE(p.complete);

  // Ids unknown, or of another account's archive.
  for (const std::string& bad : {std::string("nope"), other[0].stanza_id}) {
    ArchiveQuery nf;
    nf.after_id = bad;
    p = store_.query_archive(juliet, nf);
    EXPECT_TRUE(p.item_not_found) << bad;
    EXPECT_TRUE(p.items.empty());
    nf.after_id.reset();
    nf.before_id = bad;
    p = store_.query_archive(juliet, nf);
    EXPECT_TRUE(p.item_not_found) << bad;
    EXPECT_TRUE(p.items.empty());
  }
  // An empty archive: complete at once, in both directions.
  ArchiveQuery empty;
  p = store_.query_archive("nurse@example.com", empty);
  EXPECT_TRUE(p.items.empty());
  EXPECT_TRUE(p.complete);
  EXPECT_EQ(p.count, 0u);
  empty.before_id = "";
  EXPECT_TRUE(store_.query_archive("nurse@example.com", empty).complete);
}

TEST_F(StorageTest, ArchiveWithAndStartEndFilters) {
  std::vector<ArchiveEntry> entries;
  for (int i = 0; i < 12; ++i)
    entries.push_back(
        entry(juliet, i % 3 == 0 ? "nurse@example.com" : romeo, 1000 * i, std::to_string(i)));
  store_.append_archive(entries);
  using V = std::vector<std::string>;

  ArchiveQuery q;
  q.with = "nurse@example.com";
  ArchivePage p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"0", "3", "6", "9"}));
  EXPECT_EQ(p.count, 4u);
  EXPECT_TRUE(p.complete);

  q.with = romeo;
  q.start_ms = 2000;  // inclusive
  q.end_ms = 8000;    // inclusive
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"2", "4", "5", "7", "8"}));
  EXPECT_EQ(p.count, 5u);
  // Paging within the filters.
  q.max = 2;
  q.after_id = entries[4].stanza_id;
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"5", "7"}));
  EXPECT_FALSE(p.complete);
  EXPECT_EQ(p.count, 5u);
  q.after_id.reset();
  q.before_id = "";
  p = store_.query_archive(juliet, q);
  EXPECT_EQ(bodies(p), (V{"7", "8"}));
  EXPECT_FALSE(p.complete);

  ArchiveQuery times;
  times.start_ms = 10000;
  p = store_.query_archive(juliet, times);
  EXPECT_EQ(bodies(p), (V{"10", "11"}));
  times.start_ms.reset();
  times.end_ms = 1000;
  p = store_.query_archive(juliet, times);
  EXPECT_EQ(bodies(p), (V{"0", "1"}));
  times.start_ms = 5000;  // an empty window
  p = store_.query_archive(juliet, times);
  EXPECT_TRUE(p.items.empty());
  EXPECT_EQ(p.count, 0u);
  EXPECT_TRUE(p.complete);
  // "with" is an exact match.
  ArchiveQuery partial;
  partial.with = "romeo";
  EXPECT_EQ(store_.query_archive(juliet, partial).count, 0u);
}

TEST_F(StorageTest, ArchiveExpireRemovesOlderEntriesAndClearRemovesOneAccount) {
  std::vector<ArchiveEntry> entries;
  for (int i = 0; i < 6; ++i) {
    entries.push_back(entry(juliet, romeo, 1000 * i, "j" + std::to_string(i)));
    entries.push_back(entry(romeo, juliet, 1000 * i, "r" + std::to_string(i)));
  }
  store_.append_archive(entries);
  EXPECT_EQ(store_.expire_archive(3000), 6u);  // 0, 1000, 2000 of both; 3000 is kept
  using V = std::vector<std::string>;
  EXPECT_EQ(bodies(store_.query_archive(juliet, {})), (V{"j3", "j4", "j5"}));
  EXPECT_EQ(bodies(store_.query_archive(romeo, {})), (V{"r3", "r4", "r5"}));
  EXPECT_EQ(store_.expire_archive(3000), 0u);

  store_.clear_archive(juliet);
  EXPECT_EQ(store_.query_archive(juliet, {}).count, 0u);
  EXPECT_EQ(store_.query_archive(romeo, {}).count, 3u);
}

// --- blocking ---

TEST_F(StorageTest, BlockUnblockUnblockAllIsBlocked) {
  EXPECT_TRUE(store_.blocklist(juliet).empty());
  EXPECT_FALSE(store_.is_blocked(juliet, romeo));
  store_.block(juliet, {romeo, "tybalt@example.net", "example.org"});
  store_.block(juliet, {romeo, "paris@example.net"});  // romeo already blocked
  using V = std::vector<std::string>;
  EXPECT_EQ(store_.blocklist(juliet),
            (V{romeo, "tybalt@example.net", "example.org", "paris@example.net"}));
  EXPECT_TRUE(store_.is_blocked(juliet, romeo));
  EXPECT_TRUE(store_.is_blocked(juliet, "example.org"));
  EXPECT_FALSE(store_.is_blocked(juliet, "romeo@example.net/balcony"));  // exact match only
  EXPECT_FALSE(store_.is_blocked(romeo, juliet));                        // per account

  store_.unblock(juliet, {"tybalt@example.net", "nobody@example.com"});
  EXPECT_EQ(store_.blocklist(juliet), (V{romeo, "example.org", "paris@example.net"}));
  EXPECT_FALSE(store_.is_blocked(juliet, "tybalt@example.net"));

  store_.block(romeo, {"tybalt@example.net"});
  store_.unblock(juliet, {});  // all
  EXPECT_TRUE(store_.blocklist(juliet).empty());
  EXPECT_FALSE(store_.is_blocked(juliet, romeo));
  EXPECT_EQ(store_.blocklist(romeo), (V{"tybalt@example.net"}));
}

// --- concurrency ---

// Each thread writes its own contacts, offline messages, archive entries and blocks; every
// write is found afterwards and the roster version counted each one.
void write_concurrently(Storage& first, Storage& second) {
  constexpr int rounds = 100;
  auto work = [&](Storage& store, int t) {
    for (int i = 0; i < rounds; ++i) {
      const std::string tag = std::to_string(t) + "-" + std::to_string(i);
      store.put_roster_item(juliet, item("c" + tag + "@example.org", Subscription::both, {"G"}));
      store.push_offline(juliet, "<message>" + tag + "</message>", 1000);
      std::vector<ArchiveEntry> entries = {entry(juliet, romeo, i, tag),
                                           entry(juliet, romeo, i, tag + "b")};
      store.append_archive(entries);
      store.block(juliet, {"b" + tag + "@example.org"});
    }
  };
  std::thread a(work, std::ref(first), 0);
  std::thread b(work, std::ref(second), 1);
  a.join();
  b.join();
  std::string version;
  EXPECT_EQ(first.roster(juliet, &version).size(), 2u * rounds);
  EXPECT_EQ(version, std::to_string(2 * rounds));
  EXPECT_EQ(first.offline_count(juliet), 2u * rounds);
  EXPECT_EQ(first.query_archive(juliet, {}).count, 4u * rounds);
  EXPECT_EQ(first.blocklist(juliet).size(), 2u * rounds);
  // Each thread's archive entries kept their order and their pairs stayed adjacent.
  ArchiveQuery all;
  all.max = 250;
  std::vector<std::string> seen;
  for (;;) {
    ArchivePage page = first.query_archive(juliet, all);
    for (const std::string& b : bodies(page))
      seen.push_back(b);
    if (page.complete) break;
    all.after_id = page.items.back().stanza_id;
  }
  ASSERT_EQ(seen.size(), 4u * rounds);
  for (std::size_t i = 0; i < seen.size(); i += 2)
    EXPECT_EQ(seen[i] + "b", seen[i + 1]);
}

TEST_F(StorageTest, TwoThreadsWritingConcurrentlyThroughOneStorageLoseNothing) {
  write_concurrently(store_, store_);
}

TEST_F(StorageTest, TwoThreadsWritingConcurrentlyThroughTwoConnectionsLoseNothing) {
  Storage second(db_path());
  write_concurrently(store_, second);
}

}  // namespace
}  // namespace portico::xmpp
