// xmpp — persistent storage of the XMPP service in one SQLite database: rosters, offline
// messages, the message archive and block lists.
//
// Rosters follow RFC 6121 section 2 (items, groups, roster versioning of section 2.6) and keep
// the subscription state of section 3 with its "pending in" and "pending out" flags and
// pre-approval (section 3.4); a pending inbound subscribe request is kept to be delivered again
// at login (section 3.1.3). Offline messages are stored for later delivery (XEP-0160), bounded
// per account. The archive follows XEP-0313 with result set paging (XEP-0059) and unique,
// unguessable stanza ids (XEP-0359). Block lists follow XEP-0191.
//
// Guarantees: every write is one transaction, committed in WAL mode with synchronous=FULL
// before the call returns, so what a call reported stored survives a crash or power loss. All
// members are thread-safe (one connection, serialized by a mutex); several Storage objects or
// processes may open the same file (writers wait up to 5 s for each other). Every failure of
// SQLite or of the file system throws std::runtime_error naming the database file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::xmpp {

// RFC 6121 section 3: subscription state of one contact in one user's roster, from the user's
// side.
enum class Subscription { none, to, from, both, remove };  // remove only in pushes

struct RosterItem {
  std::string jid;   // bare JID, normalized by the caller
  std::string name;  // may be empty
  Subscription subscription = Subscription::none;
  bool ask = false;         // "pending out": the user asked the contact (ask='subscribe')
  bool pending_in = false;  // the contact asked the user and no answer yet (not sent to clients)
  bool approved = false;    // pre-approved (RFC 6121 3.4)
  std::vector<std::string> groups;  // in order given, no duplicates
  std::string pending_in_stanza;    // the subscribe request, re-delivered at login (RFC 6121 3.1.3)
};

struct ArchiveEntry {
  std::string account;       // the bare JID whose archive it is
  std::string with;          // bare JID of the other party
  std::int64_t time_ms = 0;  // UTC milliseconds
  std::string stanza;        // the <message/> as XML
  // Filled in by append_archive when empty: archive_id() of time_ms (ns.h: 16 characters, the
  // time then 48 random bits, XEP-0359); returned by query_archive.
  std::string stanza_id;
};

struct ArchiveQuery {
  std::string with;                      // "" = any (exact bare JID match otherwise)
  std::optional<std::int64_t> start_ms;  // inclusive
  std::optional<std::int64_t> end_ms;    // inclusive
  std::optional<std::string> after_id;   // RSM (XEP-0059): items after this stanza id
  std::optional<std::string> before_id;  // items before this id; "" means "the last page"
  std::size_t max = 50;                  // capped at 250; 0 returns no items (count only)
};

struct ArchivePage {
  std::vector<ArchiveEntry> items;  // oldest first, always
  bool complete = false;        // no more items in the direction of the query (XEP-0313 'complete')
  std::size_t count = 0;        // total matching the filters (with/start/end), ignoring paging
  bool item_not_found = false;  // after_id/before_id names no item of this archive
};

namespace detail {
class Database;
}  // namespace detail

class Storage {
 public:
  // Opens or creates the database file (its directory is created if missing), WAL,
  // synchronous=FULL, busy timeout 5 s, schema created or upgraded (a `meta` table with a schema
  // version). Throws std::runtime_error with the path and SQLite's message if it cannot, or if
  // the file's schema is newer than this code knows.
  explicit Storage(const std::string& path);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // --- rosters (RFC 6121 section 2) ---
  // The roster (ordered by JID) and its version: the decimal string of a per-account counter
  // that grows by one with every change ("0" when never changed).
  std::vector<RosterItem> roster(std::string_view account, std::string* version);
  std::optional<RosterItem> roster_item(std::string_view account, std::string_view jid);
  // Inserts or replaces one item (duplicate groups dropped, the first kept); returns the new
  // roster version. Throws std::invalid_argument for Subscription::remove, which is no state.
  std::string put_roster_item(std::string_view account, const RosterItem& item);
  // Removes one item (no-op if absent, version unchanged then); returns the roster version
  // after.
  std::string remove_roster_item(std::string_view account, std::string_view jid);
  // Items changed since `version` for a versioned roster request (RFC 6121 2.6): the changes
  // when they are all known, one per contact in its final state (removals as
  // Subscription::remove), in the order of each contact's last change; empty when `version` is
  // current; nullopt when the caller must send the whole roster (version unknown, malformed, or
  // older than the last 100 changes, which is what the change log keeps per account).
  std::optional<std::vector<RosterItem>> roster_changes_since(std::string_view account,
                                                              std::string_view version,
                                                              std::string* current_version);
  std::size_t roster_size(std::string_view account);

  // --- offline messages (XEP-0160, bounded per account) ---
  // Stores one stanza for later; false (nothing stored) when the account already holds `limit`.
  bool push_offline(std::string_view account, std::string_view stanza, std::size_t limit);
  // Every stored stanza of the account, oldest first, with its storage time (UTC ms); they are
  // removed in the same transaction.
  std::vector<std::pair<std::int64_t, std::string>> take_offline(std::string_view account);
  std::size_t offline_count(std::string_view account);

  // --- message archive (XEP-0313) ---
  // Appends several entries in one transaction (one fsync); fills each empty stanza_id (only
  // once the transaction is committed: on a throw the entries are left as they were). An id the
  // caller chose (it told the recipient before the write) is kept; it must be unique.
  void append_archive(std::vector<ArchiveEntry>& entries);
  // One page of the account's archive in the order of appending. With after_id: the `max`
  // items after it, complete = none after them. With before_id (non-empty): the `max` items
  // just before it, complete = none before them. With before_id "": the last `max` items,
  // complete = none before them. With neither: the first `max` items, complete = none after
  // them. With both, the items strictly between the two, paged from before_id's end.
  ArchivePage query_archive(std::string_view account, const ArchiveQuery& query);
  // Removes entries (of every account) older than the cut-off; returns how many.
  std::size_t expire_archive(std::int64_t older_than_ms);
  // Removes one account's whole archive (XEP-0313 has no such command; for administration).
  void clear_archive(std::string_view account);

  // --- blocking (XEP-0191) ---
  // The blocked JIDs in the order they were blocked.
  std::vector<std::string> blocklist(std::string_view account);
  // Adds JIDs (ones already blocked are left as they are).
  void block(std::string_view account, const std::vector<std::string>& jids);
  // Empty list = unblock all.
  void unblock(std::string_view account, const std::vector<std::string>& jids);
  // Exact JID match (the caller checks the bare JID and the domain too).
  bool is_blocked(std::string_view account, std::string_view jid);

 private:
  std::mutex mutex_;
  std::unique_ptr<detail::Database> db_;
};

std::string_view subscription_name(Subscription);  // "none", "to", "from", "both", "remove"
std::optional<Subscription> parse_subscription(std::string_view);

}  // namespace portico::xmpp
