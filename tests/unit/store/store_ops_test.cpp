// Mail store operations: mailboxes, append/copy/move/expunge, flags with MODSEQ (RFC 7162),
// UID and MODSEQ monotonicity across expunge and reopen, concurrent threads, quota, the POP
// lock and in-process notifications.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "store_test_util.h"

namespace portico::test {
namespace {

using sdk::FlagOperation;
using sdk::StoreError;

constexpr const char* alice = "alice@example.org";

std::uint32_t append(core::MailStore& s, const std::string& mailbox, const std::string& subject,
                     std::uint32_t flags = 0) {
  sdk::AppendRequest req;
  req.account = alice;
  req.mailbox = mailbox;
  req.message = simple_message(subject);
  req.flags.system = flags;
  req.internal_date = 1700000000;
  auto r = s.append(req);
  EXPECT_TRUE(r.ok()) << r.message;
  return r.value.uid;
}

TEST(StoreMailboxes, DefaultsWithSpecialUseOnFirstUse) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  auto list = store->list_mailboxes(alice);
  ASSERT_TRUE(list.ok()) << list.message;
  std::map<std::string, std::string> uses;
  for (const auto& m : list.value) {
    uses[m.name] = m.special_use;
    EXPECT_TRUE(m.subscribed);
    EXPECT_EQ(m.uid_next, 1u);
  }
  EXPECT_EQ(uses.size(), 6u);
  EXPECT_EQ(uses["INBOX"], "");
  EXPECT_EQ(uses["Sent"], "\\Sent");
  EXPECT_EQ(uses["Drafts"], "\\Drafts");
  EXPECT_EQ(uses["Trash"], "\\Trash");
  EXPECT_EQ(uses["Junk"], "\\Junk");
  EXPECT_EQ(uses["Archive"], "\\Archive");
  EXPECT_TRUE(fs::exists(dir.path() / "store" / "example.org" / "alice" / "meta.sqlite"));
}

TEST(StoreMailboxes, CreateRenameDeleteSubscribe) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  EXPECT_TRUE(store->create_mailbox(alice, "Work", "").ok());
  EXPECT_TRUE(store->create_mailbox(alice, "Work/2024", "").ok());
  EXPECT_EQ(store->create_mailbox(alice, "Work", "").error, StoreError::exists);
  EXPECT_EQ(store->create_mailbox(alice, "a//b", "").error, StoreError::invalid_name);
  EXPECT_EQ(store->create_mailbox(alice, "/x", "").error, StoreError::invalid_name);
  EXPECT_EQ(store->create_mailbox(alice, "x", "\\Bogus").error, StoreError::invalid_name);
  EXPECT_TRUE(store->create_mailbox(alice, "All", "\\All").ok());
  append(*store, "Work/2024", "one");
  auto before = store->mailbox_status(alice, "Work/2024").value;

  ASSERT_TRUE(store->rename_mailbox(alice, "Work", "Jobs").ok());
  EXPECT_EQ(store->mailbox_status(alice, "Work").error, StoreError::not_found);
  auto after = store->mailbox_status(alice, "Jobs/2024");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.value.uid_validity, before.uid_validity);
  EXPECT_EQ(after.value.messages, 1u);
  EXPECT_TRUE(store->mailbox_status(alice, "Jobs").value.has_children);

  EXPECT_TRUE(store->set_subscribed(alice, "Jobs", true).ok());
  EXPECT_TRUE(store->mailbox_status(alice, "Jobs").value.subscribed);
  EXPECT_EQ(store->delete_mailbox(alice, "INBOX").error, StoreError::forbidden);
  EXPECT_TRUE(store->delete_mailbox(alice, "Jobs/2024").ok());
  // A re-created mailbox gets a new UIDVALIDITY (its UIDs start again).
  EXPECT_TRUE(store->create_mailbox(alice, "Jobs/2024", "").ok());
  EXPECT_NE(store->mailbox_status(alice, "Jobs/2024").value.uid_validity, before.uid_validity);
  // "inbox" in any case is INBOX.
  EXPECT_TRUE(store->mailbox_status(alice, "iNbOx").ok());
}

TEST(StoreMailboxes, RenameInboxMovesMessages) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  append(*store, "INBOX", "a");
  append(*store, "INBOX", "b");
  ASSERT_TRUE(store->rename_mailbox(alice, "INBOX", "Old").ok());
  EXPECT_EQ(store->mailbox_status(alice, "INBOX").value.messages, 0u);
  EXPECT_EQ(store->mailbox_status(alice, "Old").value.messages, 2u);
}

TEST(StoreMessages, AppendFetchRead) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  sdk::AppendRequest req;
  req.account = alice;
  req.mailbox = "Drafts";
  req.message = simple_message("draft");
  req.flags = {sdk::flag_draft | sdk::flag_seen, {"$Work", "$Label1", "$Work"}};
  req.internal_date = 1600000000;
  auto r = store->append(req);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.value.uid, 1u);
  auto f = store->fetch(alice, "Drafts", {}, true, 0);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f.value.size(), 1u);
  const auto& m = f.value[0];
  EXPECT_EQ(m.flags.system, sdk::flag_draft | sdk::flag_seen);
  EXPECT_EQ(m.flags.keywords, (std::vector<std::string>{"$Label1", "$Work"}));
  EXPECT_EQ(m.internal_date, 1600000000);
  EXPECT_EQ(m.size, req.message.size());
  EXPECT_EQ(m.id.size(), 16u);
  EXPECT_NE(m.envelope.find("\"draft\""), std::string::npos);
  EXPECT_EQ(store->read_message(alice, "Drafts", 1).value, req.message);
  EXPECT_EQ(store->read_message(alice, "Drafts", 2).error, StoreError::not_found);
  EXPECT_EQ(store->fetch(alice, "Nope", {}, false, 0).error, StoreError::not_found);
  // The stable id is the same in every session (a POP UIDL).
  auto again = core::open_store(dir.path());
  EXPECT_EQ(again->fetch(alice, "Drafts", {}, false, 0).value[0].id, m.id);
}

// RFC 3501 \Recent: each message is claimed once; telling without claiming changes nothing.
TEST(StoreMessages, RecentUidsAreClaimedOnce) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  auto none = store->recent_uids(alice, "INBOX", true);  // creates nothing: INBOX is implicit
  ASSERT_TRUE(none.ok()) << none.message;
  EXPECT_GT(none.value.first, none.value.last);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(store->deliver({{alice, "INBOX", 0}}, simple_message("r"), 0).ok());
  auto told = store->recent_uids(alice, "INBOX", false);
  EXPECT_EQ(told.value.first, 1u);
  EXPECT_EQ(told.value.last, 3u);
  auto claimed = store->recent_uids(alice, "INBOX", true);
  EXPECT_EQ(claimed.value.first, 1u);
  EXPECT_EQ(claimed.value.last, 3u);
  auto again = store->recent_uids(alice, "INBOX", true);
  EXPECT_GT(again.value.first, again.value.last);
  ASSERT_TRUE(store->deliver({{alice, "INBOX", 0}}, simple_message("s"), 0).ok());
  auto next = store->recent_uids(alice, "INBOX", true);
  EXPECT_EQ(next.value.first, 4u);
  EXPECT_EQ(next.value.last, 4u);
  EXPECT_EQ(store->recent_uids(alice, "Nope", false).error, sdk::StoreError::not_found);
}

TEST(StoreMessages, FlagsBumpModseqWithUnchangedSince) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  for (int i = 0; i < 3; ++i)
    append(*store, "INBOX", "m" + std::to_string(i));
  auto st = store->mailbox_status(alice, "INBOX").value;
  EXPECT_EQ(st.highest_modseq, 4u);  // 1 at creation, +1 per append
  EXPECT_EQ(st.unseen, 3u);

  auto r =
      store->store_flags(alice, "INBOX", {{1, 2}}, FlagOperation::add, {sdk::flag_seen, {}}, 0);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value.changed.size(), 2u);
  EXPECT_EQ(r.value.changed[0].modseq, 5u);
  EXPECT_EQ(store->mailbox_status(alice, "INBOX").value.highest_modseq, 5u);
  EXPECT_EQ(store->mailbox_status(alice, "INBOX").value.unseen, 1u);

  // No change: no new MODSEQ.
  r = store->store_flags(alice, "INBOX", {{1, 1}}, FlagOperation::add, {sdk::flag_seen, {}}, 0);
  EXPECT_TRUE(r.value.changed.empty());
  EXPECT_EQ(store->mailbox_status(alice, "INBOX").value.highest_modseq, 5u);

  // UNCHANGEDSINCE 4: message 1 and 2 (modseq 5) fail, message 3 (modseq 4) changes.
  r = store->store_flags(alice, "INBOX", {}, FlagOperation::replace,
                         {sdk::flag_flagged, {"$Important"}}, 4);
  EXPECT_EQ(r.value.modified, (std::vector<std::uint32_t>{1, 2}));
  ASSERT_EQ(r.value.changed.size(), 1u);
  EXPECT_EQ(r.value.changed[0].uid, 3u);
  EXPECT_EQ(r.value.changed[0].flags.keywords, (std::vector<std::string>{"$Important"}));

  r = store->store_flags(alice, "INBOX", {{3, 3}}, FlagOperation::remove,
                         {sdk::flag_flagged, {"$Important"}}, 0);
  ASSERT_EQ(r.value.changed.size(), 1u);
  EXPECT_EQ(r.value.changed[0].flags, sdk::Flags{});

  // CHANGEDSINCE through fetch.
  auto changed = store->fetch(alice, "INBOX", {}, false, 5).value;
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].uid, 3u);
}

TEST(StoreMessages, CopyMoveExpunge) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  for (int i = 0; i < 4; ++i)
    append(*store, "INBOX", "m" + std::to_string(i));
  auto c = store->copy(alice, "INBOX", {{2, 3}}, "Archive");
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(c.value.uid_validity, store->mailbox_status(alice, "Archive").value.uid_validity);
  EXPECT_EQ(c.value.uids, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{2, 1}, {3, 2}}));
  EXPECT_EQ(store->copy(alice, "INBOX", {}, "Missing").error, StoreError::not_found);

  auto m = store->move(alice, "INBOX", {{1, 1}, {4, 4}}, "Trash");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m.value.uids, (std::vector<std::pair<std::uint32_t, std::uint32_t>>{{1, 1}, {4, 2}}));
  auto inbox = store->fetch(alice, "INBOX", {}, false, 0).value;
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].uid, 2u);
  EXPECT_EQ(store->read_message(alice, "Trash", 2).value, simple_message("m3"));

  // Copies share the body; expunging one keeps the other readable.
  store->store_flags(alice, "INBOX", {}, FlagOperation::add, {sdk::flag_deleted, {}}, 0);
  auto gone = store->expunge(alice, "INBOX", {{3, 3}});
  EXPECT_EQ(gone.value, (std::vector<std::uint32_t>{3}));
  gone = store->expunge(alice, "INBOX", {});
  EXPECT_EQ(gone.value, (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(store->read_message(alice, "Archive", 1).value, simple_message("m1"));
  EXPECT_EQ(store->mailbox_status(alice, "INBOX").value.messages, 0u);
  EXPECT_EQ(store->usage(alice).value.messages, 4u);
  EXPECT_TRUE(store->check(alice, false).clean());
}

TEST(StoreMessages, UidsAndModseqNeverReused) {
  TempDir dir;
  std::uint32_t validity;
  std::uint64_t modseq;
  {
    auto store = core::open_store(dir.path());
    for (int i = 0; i < 5; ++i)
      append(*store, "INBOX", "m" + std::to_string(i), sdk::flag_deleted);
    EXPECT_EQ(store->expunge(alice, "INBOX", {}).value.size(), 5u);
    auto st = store->mailbox_status(alice, "INBOX").value;
    validity = st.uid_validity;
    modseq = st.highest_modseq;
    EXPECT_EQ(st.uid_next, 6u);
  }
  auto store = core::open_store(dir.path());
  auto st = store->mailbox_status(alice, "INBOX").value;
  EXPECT_EQ(st.uid_validity, validity);
  EXPECT_EQ(st.highest_modseq, modseq);
  EXPECT_EQ(append(*store, "INBOX", "after"), 6u);
  EXPECT_GT(store->fetch(alice, "INBOX", {}, false, 0).value[0].modseq, modseq);
}

TEST(StoreMessages, QuotaRefusesBeforeAccepting) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  std::string msg = simple_message("q", std::string(1000, 'x'));
  sdk::DeliveryTarget t{alice, "INBOX", 2500};
  EXPECT_TRUE(store->deliver({t}, msg, 0).value[0].error == StoreError::none);
  EXPECT_TRUE(store->deliver({t}, msg, 0).value[0].error == StoreError::none);
  auto third = store->deliver({t}, msg, 0);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third.value[0].error, StoreError::over_quota);
  EXPECT_EQ(store->usage(alice).value.messages, 2u);
  EXPECT_TRUE(store->check(alice, false).clean());  // the refused body left no file
}

TEST(StoreMessages, OneBodySharedByRecipients) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  std::string msg = simple_message("list");
  while (msg.size() <= 64 * 1024)  // above the size kept in the database
    msg += "a line of a long list message\r\n";
  auto r = store->deliver({{alice, "INBOX", 0},
                           {"bob@example.org", "INBOX", 0},
                           {"carol@other.test", "Archive", 0},
                           {"not-an-address", "INBOX", 0}},
                          msg, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value[0].error, StoreError::none);
  EXPECT_EQ(r.value[1].error, StoreError::none);
  EXPECT_EQ(r.value[2].error, StoreError::none);
  EXPECT_EQ(r.value[3].error, StoreError::invalid_name);
  auto bodies = dir.path() / "store" / "example.org" / "alice" / "bodies";
  ASSERT_EQ(std::distance(fs::directory_iterator(bodies), fs::directory_iterator()), 1);
  EXPECT_EQ(fs::hard_link_count(fs::directory_iterator(bodies)->path()), 3u);
  EXPECT_EQ(store->read_message("carol@other.test", "Archive", 1).value, msg);
}

// A small message is kept in the account's database: no file, read back the same, and gone
// with its last message.
TEST(StoreMessages, SmallBodiesLiveInTheDatabase) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  const std::string msg = simple_message("small");
  auto r = store->deliver({{alice, "INBOX", 0}, {"bob@example.org", "INBOX", 0}}, msg, 0);
  ASSERT_TRUE(r.ok());
  auto bodies = dir.path() / "store" / "example.org" / "alice" / "bodies";
  EXPECT_EQ(std::distance(fs::directory_iterator(bodies), fs::directory_iterator()), 0);
  EXPECT_EQ(store->read_message(alice, "INBOX", 1).value, msg);
  EXPECT_EQ(store->read_message("bob@example.org", "INBOX", 1).value, msg);
  auto reader = store->open_message(alice, "INBOX", 1);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader.value->size(), msg.size());
  EXPECT_EQ(reader.value->read(2, 5).value, msg.substr(2, 5));
  EXPECT_TRUE(store->check(alice, false).clean());
  sdk::Flags deleted;
  deleted.system = sdk::flag_deleted;
  ASSERT_TRUE(store->store_flags(alice, "INBOX", {{1, 1}}, FlagOperation::add, deleted, 0).ok());
  ASSERT_TRUE(store->expunge(alice, "INBOX", {{1, 1}}).ok());
  EXPECT_EQ(store->read_message(alice, "INBOX", 1).error, StoreError::not_found);
  EXPECT_TRUE(store->check(alice, false).clean());
}

TEST(StoreMessages, AccountFolderNamesAreSafe) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  ASSERT_TRUE(store->list_mailboxes("../../etc@../x").ok());
  ASSERT_TRUE(store->list_mailboxes("Bob.Smith@Example.ORG").ok());
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "store")) {
    for (const auto& part : fs::relative(e.path(), dir.path() / "store")) {
      EXPECT_TRUE(part != "." && part != ".." && part.string()[0] != '.') << e.path();
    }
  }
  EXPECT_TRUE(fs::exists(dir.path() / "store" / "example.org" / "bob.smith" / "meta.sqlite"));
  EXPECT_EQ(store->list_mailboxes("nodomain").error, StoreError::invalid_name);
  auto accounts = store->accounts();
  EXPECT_NE(std::find(accounts.begin(), accounts.end(), "bob.smith@example.org"), accounts.end());
  EXPECT_NE(std::find(accounts.begin(), accounts.end(), "../../etc@../x"), accounts.end());
}

TEST(StoreConcurrency, ThreadsDeliverAndChangeFlags) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  constexpr int threads = 4, per_thread = 25;
  std::vector<std::thread> pool;
  std::mutex mu;
  std::set<std::uint32_t> uids;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto r =
            store->deliver({{alice, "INBOX", 0}},
                           simple_message("t" + std::to_string(t) + "-" + std::to_string(i)), 0);
        ASSERT_TRUE(r.ok() && r.value[0].error == StoreError::none) << r.message;
        {
          std::lock_guard lock(mu);
          EXPECT_TRUE(uids.insert(r.value[0].uid).second);
        }
        auto f = store->store_flags(alice, "INBOX", {{1, r.value[0].uid}}, FlagOperation::add,
                                    {0, {"$t" + std::to_string(t)}}, 0);
        ASSERT_TRUE(f.ok()) << f.message;
      }
    });
  }
  // A second store object in the same process (as another component would have) as well.
  auto other = core::open_store(dir.path());
  for (int i = 0; i < 10; ++i) {
    other->store_flags(alice, "INBOX", {}, FlagOperation::add, {sdk::flag_seen, {}}, 0);
  }
  for (auto& t : pool)
    t.join();
  auto all = store->fetch(alice, "INBOX", {}, false, 0).value;
  EXPECT_EQ(all.size(), static_cast<std::size_t>(threads * per_thread));
  std::set<std::uint64_t> modseqs;
  auto st = store->mailbox_status(alice, "INBOX").value;
  for (const auto& m : all)
    EXPECT_LE(m.modseq, st.highest_modseq);
  EXPECT_EQ(st.uid_next, static_cast<std::uint32_t>(threads * per_thread + 1));
  EXPECT_TRUE(store->check(alice, false).clean());
}

TEST(StoreSessions, MaildropLockIsExclusive) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  auto first = store->lock_maildrop(alice);
  ASSERT_TRUE(first.ok()) << first.message;
  auto second = store->lock_maildrop(alice);
  EXPECT_EQ(second.error, StoreError::locked);
  EXPECT_TRUE(store->lock_maildrop("bob@example.org").ok());
  first.value.reset();
  EXPECT_TRUE(store->lock_maildrop(alice).ok());
}

TEST(StoreSessions, SubscriberHearsChangesInProcess) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  append(*store, "INBOX", "before");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<sdk::StoreChange> seen;
  auto sub = store->subscribe(alice, "INBOX", [&](const sdk::StoreChange& c) {
    std::lock_guard lock(mu);
    seen.push_back(c);
    cv.notify_all();
  });
  ASSERT_TRUE(sub.ok()) << sub.message;
  auto wait_for = [&](std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(3), [&] { return seen.size() >= n; });
  };
  append(*store, "INBOX", "new");
  ASSERT_TRUE(wait_for(1));
  EXPECT_EQ(seen[0].kind, sdk::StoreChange::Kind::added);
  EXPECT_EQ(seen[0].uids, (std::vector<std::uint32_t>{2}));
  store->store_flags(alice, "INBOX", {{1, 1}}, FlagOperation::add, {sdk::flag_deleted, {}}, 0);
  ASSERT_TRUE(wait_for(2));
  EXPECT_EQ(seen[1].kind, sdk::StoreChange::Kind::flags);
  store->expunge(alice, "INBOX", {});
  ASSERT_TRUE(wait_for(3));
  EXPECT_EQ(seen[2].kind, sdk::StoreChange::Kind::expunged);
  EXPECT_EQ(seen[2].uids, (std::vector<std::uint32_t>{1}));
  sub.value.reset();
  append(*store, "INBOX", "unheard");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.size(), 3u);
}

}  // namespace
}  // namespace portico::test
