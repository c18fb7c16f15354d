// Portico core — one account of the embedded store: its folder, its SQLite connection and the
// operations on its mailboxes and messages (RFC 3501/9051 semantics, RFC 7162 MODSEQ).
//
// Invariants kept by every operation, each inside one IMMEDIATE transaction:
//  - a message's UID is the mailbox's uid_next at insertion, and uid_next only grows, so UIDs
//    are never reused within a UIDVALIDITY (a re-created mailbox gets a new UIDVALIDITY);
//  - every change to a mailbox takes modseq = highest_modseq + 1 and stores it on the changed
//    messages (or in the expunged log), so highest_modseq >= every modseq;
//  - a bodies row exists only for a file that is already durable (written before the commit);
//    a file is unlinked only after the commit that dropped its last reference.
// The connection is used under `mutex`; other processes coordinate through SQLite locks and
// the flock files (store.lock: deliveries shared, check exclusive; maildrop.lock: POP).
// Concurrent deliveries to one account share one bodies/ fsync and one commit (group commit,
// delivery.cpp); each still returns only once its own rows are committed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/store/group_commit.h"
#include "core/store/mime_cache.h"
#include "core/store/sqlite.h"
#include "portico/store.h"

namespace portico::core::store {

namespace fs = std::filesystem;

struct MailboxRow {
  std::int64_t id = 0;
  std::string name;
  std::string special_use;
  bool subscribed = false;
  std::uint32_t uid_validity = 0;
  std::uint32_t uid_next = 1;
  std::uint64_t highest_modseq = 1;
  std::uint32_t count = 0;
};

// A message to insert into one or more mailboxes of this account.
// Bodies up to this size are kept in the account's database: the commit that records the
// message makes it durable, so a batch of small deliveries costs one WAL flush and no file.
inline constexpr std::size_t kInlineBody = 64 * 1024;

// Where a message's octets are: a file under bodies/, or in the database.
struct Body {
  fs::path file;
  std::optional<std::string> data;
  std::uint64_t size = 0;
  std::optional<std::string> parts;  // part_offsets.h's encoding; none for older bodies
};

struct NewMessage {
  const std::string* octets = nullptr;  // may be null when link_from names the octets' file
  std::uint64_t size = 0;               // octets of the message
  const MimeSummary* summary = nullptr;
  std::string body_name;     // file name under bodies/
  fs::path link_from;        // an existing file to hard-link, or empty: write octets
  bool inline_body = false;  // kept in the database, no file (see kInlineBody)
  std::int64_t internal_date = 0;
  std::uint64_t quota_bytes = 0;
};

struct Insertion {
  std::string mailbox;
  sdk::Flags flags;
  sdk::StoreError error = sdk::StoreError::none;
  std::string message;
  std::uint32_t uid_validity = 0;
  std::uint32_t uid = 0;
};

// One delivery waiting in the account's group commit.
struct PendingDelivery {
  const NewMessage* message = nullptr;
  std::vector<Insertion>* into = nullptr;
  bool inserted = false;  // rows were added for at least one mailbox
};

// Canonical form of a mailbox name ("INBOX" in any case becomes INBOX); throws invalid_name.
std::string normalize_mailbox(const std::string& name);
std::string keywords_text(const std::vector<std::string>& keywords);
std::vector<std::string> keywords_list(const std::string& text);

class Account {
 public:
  // Creates the folder and database on first use (with INBOX and the special-use mailboxes),
  // migrating an older schema; throws StoreFailure.
  Account(const fs::path& root, std::string address);

  const std::string& address() const { return address_; }
  const fs::path& root() const { return root_; }
  fs::path bodies() const { return root_ / "bodies"; }
  fs::path store_lock_file() const { return root_ / "store.lock"; }
  fs::path maildrop_lock_file() const { return root_ / "maildrop.lock"; }
  fs::path changes_file() const { return root_ / "changes"; }

  // --- mailboxes (account.cpp) ---
  std::vector<sdk::MailboxInfo> list();
  sdk::MailboxInfo status(const std::string& mailbox);
  void create(const std::string& mailbox, const std::string& special_use);
  void rename(const std::string& from, const std::string& to);
  void remove(const std::string& mailbox);
  void subscribe(const std::string& mailbox, bool on);
  sdk::Usage usage();

  // --- messages (messages.cpp, delivery.cpp) ---
  // Writes or links the body, then inserts it into each mailbox of `into` in one transaction,
  // shared with concurrent deliveries to this account (group commit). Returns once committed.
  // Per-mailbox results are written into `into`.
  void insert(const NewMessage& message, std::vector<Insertion>& into);
  std::vector<sdk::MessageInfo> fetch(const std::string& mailbox, const sdk::UidSet& uids,
                                      bool with_mime, std::uint64_t changed_since);
  Body body(const std::string& mailbox, std::uint32_t uid);
  // The body files of several messages, in one read transaction; an empty path where there is
  // no such message.
  std::vector<std::optional<Body>> bodies_of(const std::string& mailbox,
                                             const std::vector<std::uint32_t>& uids);
  sdk::StoreFlagsResult store_flags(const std::string& mailbox, const sdk::UidSet& uids,
                                    sdk::FlagOperation op, const sdk::Flags& flags,
                                    std::uint64_t unchanged_since);
  sdk::CopyResult copy(const std::string& from, const sdk::UidSet& uids, const std::string& to,
                       bool move);
  std::vector<std::uint32_t> expunge(const std::string& mailbox, const sdk::UidSet& uids);
  std::vector<std::uint32_t> search_header(const std::string& mailbox, const std::string& field,
                                           const std::string& text);
  // RFC 3501 \Recent (account.cpp): see sdk::Store::recent_uids.
  sdk::UidRange recent(const std::string& mailbox, bool claim);
  // RFC 7162 QRESYNC (expunge_log.cpp): see sdk::Store::vanished.
  sdk::VanishedUids vanished(const std::string& mailbox, const sdk::UidSet& uids,
                             std::uint64_t modseq);

  // For change notifications: the counter in the changes file (bumped by every commit).
  std::uint64_t change_counter();
  // Under `mutex`: the mailbox row, if it exists.
  std::optional<MailboxRow> find(const std::string& name);
  std::vector<std::uint32_t> expunged_since(std::int64_t mailbox_id, std::uint64_t modseq);
  std::vector<std::pair<std::uint32_t, std::uint64_t>> changed_since(std::int64_t mailbox_id,
                                                                     std::uint64_t modseq);

  std::mutex mutex;  // guards db_
  Database& db() { return db_; }

 private:
  MailboxRow require(const std::string& name);
  MailboxRow create_row(const std::string& name, const std::string& special_use, bool subscribed);
  std::uint32_t next_uid_validity();
  void save_counters(const MailboxRow& row);
  // Inside a transaction (expunge_log.cpp): logs `uids` as expunged at `modseq`, and drops the
  // mailbox's entries older than sdk::kExpungeLogDays, raising its expunge_floor.
  void log_expunged(std::int64_t mailbox_id, const std::vector<std::uint32_t>& uids,
                    std::uint64_t modseq);
  // Deletes bodies rows of `candidates` no message refers to; returns their files.
  std::vector<std::string> drop_unreferenced(const std::vector<std::int64_t>& candidates);
  void unlink_bodies(const std::vector<std::string>& files);
  // After a commit: bumps the changes file so subscribers (any process) look.
  void announce();
  // Group commit (delivery.cpp): one bodies/ fsync and one transaction for a batch.
  void commit_batch(std::vector<GroupCommit<PendingDelivery>::Request*>& batch);
  // Inside a transaction, under `mutex`: the rows of one delivery; false when no mailbox took it.
  bool insert_rows(const NewMessage& message, std::vector<Insertion>& into);

  std::string address_;
  fs::path root_;
  Database db_;
  GroupCommit<PendingDelivery> commits_;
  friend class Checker;
};

// A SQL condition on column `uid` for a UID set ("1" when empty).
std::string uid_condition(const sdk::UidSet& uids);

}  // namespace portico::core::store
