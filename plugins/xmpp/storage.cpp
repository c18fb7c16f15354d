// xmpp — persistent storage of the XMPP service in SQLite (see storage.h): rosters and roster
// versioning (RFC 6121 sections 2 and 3), offline messages (XEP-0160), the message archive
// (XEP-0313, XEP-0059 paging, XEP-0359 ids) and block lists (XEP-0191).
//
// Every write runs in one BEGIN IMMEDIATE transaction (the write lock at once, so writers on
// other connections wait on the busy timeout instead of failing at commit) and is committed in
// WAL mode with synchronous=FULL, which fsyncs the log, before the call returns. Reads that take
// several statements run in one read transaction, so they see one snapshot. Prepared statements
// are kept per SQL text for the life of the connection.
#include "storage.h"

#include "ns.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

namespace portico::xmpp {

namespace {

constexpr int schema_version = 1;
constexpr int busy_timeout_ms = 5000;
// Roster changes remembered per account to answer versioned roster requests.
constexpr std::int64_t roster_log_size = 100;
constexpr std::size_t archive_page_cap = 250;

// migrations[n] takes the schema from version n to n + 1.
constexpr const char* migrations[schema_version] = {
    R"sql(
CREATE TABLE roster_version (account TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE roster (
  account TEXT NOT NULL, jid TEXT NOT NULL, name TEXT NOT NULL,
  subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
  ask INTEGER NOT NULL, pending_in INTEGER NOT NULL, approved INTEGER NOT NULL,
  pending_in_stanza TEXT NOT NULL,
  PRIMARY KEY (account, jid)) WITHOUT ROWID;
CREATE TABLE roster_group (
  account TEXT NOT NULL, jid TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY (account, jid, position)) WITHOUT ROWID;
CREATE TABLE roster_log (
  account TEXT NOT NULL, version INTEGER NOT NULL, jid TEXT NOT NULL,
  PRIMARY KEY (account, version)) WITHOUT ROWID;
CREATE TABLE offline (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL, time_ms INTEGER NOT NULL, stanza TEXT NOT NULL);
CREATE INDEX offline_account ON offline (account, id);
CREATE TABLE archive (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL, with_jid TEXT NOT NULL, time_ms INTEGER NOT NULL,
  stanza_id TEXT NOT NULL UNIQUE, stanza TEXT NOT NULL);
CREATE INDEX archive_account ON archive (account, id);
CREATE INDEX archive_with ON archive (account, with_jid, id);
CREATE INDEX archive_time ON archive (time_ms);
CREATE TABLE blocklist (
  id INTEGER PRIMARY KEY, account TEXT NOT NULL, jid TEXT NOT NULL, UNIQUE (account, jid));
)sql",
};

// A roster version as written by this code: decimal digits, no sign, no leading zero.
std::optional<std::int64_t> parse_version(std::string_view s) {
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

namespace detail {

[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what) {
  throw std::runtime_error(path + ": " + std::string(what) + ": " +
                           (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

// A cached prepared statement in use; reset and unbound when it ends.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, const std::string& path) : stmt_(stmt), path_(path) {}
  ~Statement() { reset(); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view value) {
    // A null pointer would bind SQL NULL: an empty view binds "".
    const char* data = value.data() != nullptr ? value.data() : "";
    check(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  // Binds the arguments to ?1, ?2, ... in order.
  template <typename... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }
  // Advances; false when done.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(sqlite3_db_handle(stmt_), path_, "step");
  }
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(sqlite3_db_handle(stmt_), path_, "bind");
  }

  sqlite3_stmt* stmt_;
  const std::string& path_;
};

class Database {
 public:
  explicit Database(const std::string& path);
  ~Database() { close(); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // One statement per SQL text: a text is never in use twice at once.
  Statement prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        fail(db_, path_, "prepare");
      }
      it = cache_.emplace(sql, stmt).first;
    }
    return Statement(it->second, path_);
  }
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw std::runtime_error(path_ + ": " + msg);
    }
  }
  // Runs a statement without rows; returns how many rows it changed.
  template <typename... Args>
  int run(const std::string& sql, const Args&... args) {
    prepare(sql).bind_all(args...).run();
    return sqlite3_changes(db_);
  }
  // The first column of the first row, 0 when there is none.
  template <typename... Args>
  std::int64_t scalar(const std::string& sql, const Args&... args) {
    Statement st = prepare(sql);
    st.bind_all(args...);
    return st.step() ? st.int64(0) : 0;
  }

 private:
  void close() {
    for (auto& [sql, stmt] : cache_)
      sqlite3_finalize(stmt);
    cache_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
  }
  void migrate();

  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE for writes, a deferred BEGIN for reads; rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db, bool write = true) : db_(db) {
    db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  ~Transaction() {
    if (!done_) {
      try {
        db_.exec("ROLLBACK");
      } catch (const std::exception&) {
        // SQLite already ended the transaction itself (it does after some errors).
      }
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

Database::Database(const std::string& path) : path_(path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw std::runtime_error(path + ": cannot create directory " + parent.string() + ": " +
                               ec.message());
    }
  }
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  try {
    if (rc != SQLITE_OK) fail(db_, path_, "open");
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    {
      Statement st = prepare("PRAGMA journal_mode=WAL");
      if (!st.step() || st.text(0) != "wal") {
        throw std::runtime_error(path + ": cannot switch to WAL mode (journal_mode is " +
                                 st.text(0) + ")");
      }
    }
    exec("PRAGMA synchronous=FULL");
    migrate();
  } catch (...) {
    close();
    throw;
  }
}

void Database::migrate() {
  Transaction tx(*this);
  exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  std::string text = "0";
  {
    Statement st = prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (st.step()) text = st.text(0);
  }
  const std::int64_t version = parse_version(text).value_or(-1);
  if (version < 0 || version > schema_version) {
    throw std::runtime_error(path_ + ": schema version '" + text +
                             "' is not one this code knows (up to " +
                             std::to_string(schema_version) + ")");
  }
  if (version == schema_version) return;  // nothing written: the rollback ends the transaction
  for (auto v = version; v < schema_version; ++v)
    exec(migrations[v]);
  run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
      std::to_string(schema_version));
  tx.commit();
}

}  // namespace detail

using detail::Statement;
using detail::Transaction;

namespace {

std::int64_t roster_version(detail::Database& db, std::string_view account) {
  return db.scalar("SELECT version FROM roster_version WHERE account = ?1", account);
}

// Counts one change of `jid` in the account's roster: the new version, logged.
std::int64_t bump_roster_version(detail::Database& db, std::string_view account,
                                 std::string_view jid) {
  const std::int64_t version = db.scalar(
      "INSERT INTO roster_version (account, version) VALUES (?1, 1) ON CONFLICT (account) "
      "DO UPDATE SET version = version + 1 RETURNING version",
      account);
  db.run("INSERT INTO roster_log (account, version, jid) VALUES (?1, ?2, ?3)", account, version,
         jid);
  db.run("DELETE FROM roster_log WHERE account = ?1 AND version <= ?2", account,
         version - roster_log_size);
  return version;
}

constexpr const char roster_select[] =
    "SELECT jid, name, subscription, ask, pending_in, approved, pending_in_stanza FROM roster "
    "WHERE account = ?1";

RosterItem roster_row(const Statement& st) {
  RosterItem item;
  item.jid = st.text(0);
  item.name = st.text(1);
  item.subscription = parse_subscription(st.text(2)).value_or(Subscription::none);
  item.ask = st.int64(3) != 0;
  item.pending_in = st.int64(4) != 0;
  item.approved = st.int64(5) != 0;
  item.pending_in_stanza = st.text(6);
  return item;
}

std::optional<RosterItem> load_roster_item(detail::Database& db, std::string_view account,
                                           std::string_view jid) {
  std::optional<RosterItem> item;
  {
    Statement st = db.prepare(std::string(roster_select) + " AND jid = ?2");
    if (!st.bind_all(account, jid).step()) return std::nullopt;
    item = roster_row(st);
  }
  Statement st =
      db.prepare("SELECT name FROM roster_group WHERE account = ?1 AND jid = ?2 ORDER BY position");
  st.bind_all(account, jid);
  while (st.step())
    item->groups.push_back(st.text(0));
  return item;
}

}  // namespace

// Indexed by Subscription.
constexpr std::string_view subscription_names[] = {"none", "to", "from", "both", "remove"};

std::string_view subscription_name(Subscription s) {
  const auto i = static_cast<std::size_t>(s);
  return i < std::size(subscription_names) ? subscription_names[i] : "none";
}

std::optional<Subscription> parse_subscription(std::string_view s) {
  for (std::size_t i = 0; i < std::size(subscription_names); ++i) {
    if (subscription_names[i] == s) return static_cast<Subscription>(i);
  }
  return std::nullopt;
}

Storage::Storage(const std::string& path) : db_(std::make_unique<detail::Database>(path)) {}

Storage::~Storage() = default;

// --- rosters ---

std::vector<RosterItem> Storage::roster(std::string_view account, std::string* version) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_, false);
  std::vector<RosterItem> items;
  std::unordered_map<std::string, std::size_t> index;
  {
    Statement st = db_->prepare(std::string(roster_select) + " ORDER BY jid");
    st.bind_all(account);
    while (st.step()) {
      items.push_back(roster_row(st));
      index.emplace(items.back().jid, items.size() - 1);
    }
  }
  {
    Statement st = db_->prepare(
        "SELECT jid, name FROM roster_group WHERE account = ?1 ORDER BY jid, position");
    st.bind_all(account);
    while (st.step()) {
      if (auto it = index.find(st.text(0)); it != index.end())
        items[it->second].groups.push_back(st.text(1));
    }
  }
  if (version != nullptr) *version = std::to_string(roster_version(*db_, account));
  tx.commit();
  return items;
}

std::optional<RosterItem> Storage::roster_item(std::string_view account, std::string_view jid) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_, false);
  auto item = load_roster_item(*db_, account, jid);
  tx.commit();
  return item;
}

std::string Storage::put_roster_item(std::string_view account, const RosterItem& item) {
  if (item.subscription == Subscription::remove)
    throw std::invalid_argument("put_roster_item: 'remove' is not a subscription state");
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  db_->run(
      "INSERT INTO roster (account, jid, name, subscription, ask, pending_in, approved, "
      "pending_in_stanza) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
      "ON CONFLICT (account, jid) DO UPDATE SET name = excluded.name, "
      "subscription = excluded.subscription, ask = excluded.ask, "
      "pending_in = excluded.pending_in, approved = excluded.approved, "
      "pending_in_stanza = excluded.pending_in_stanza",
      account, item.jid, item.name, subscription_name(item.subscription), std::int64_t{item.ask},
      std::int64_t{item.pending_in}, std::int64_t{item.approved}, item.pending_in_stanza);
  db_->run("DELETE FROM roster_group WHERE account = ?1 AND jid = ?2", account, item.jid);
  {
    Statement st = db_->prepare(
        "INSERT INTO roster_group (account, jid, position, name) VALUES (?1, ?2, ?3, ?4)");
    std::unordered_set<std::string_view> seen;
    std::int64_t position = 0;
    for (const std::string& group : item.groups) {
      if (!seen.insert(group).second) continue;
      st.bind_all(account, item.jid, position++, group).run();
      st.reset();
    }
  }
  const std::int64_t version = bump_roster_version(*db_, account, item.jid);
  tx.commit();
  return std::to_string(version);
}

std::string Storage::remove_roster_item(std::string_view account, std::string_view jid) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  if (db_->run("DELETE FROM roster WHERE account = ?1 AND jid = ?2", account, jid) == 0)
    return std::to_string(roster_version(*db_, account));
  db_->run("DELETE FROM roster_group WHERE account = ?1 AND jid = ?2", account, jid);
  const std::int64_t version = bump_roster_version(*db_, account, jid);
  tx.commit();
  return std::to_string(version);
}

std::optional<std::vector<RosterItem>> Storage::roster_changes_since(std::string_view account,
                                                                     std::string_view version,
                                                                     std::string* current_version) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_, false);
  const std::int64_t current = roster_version(*db_, account);
  if (current_version != nullptr) *current_version = std::to_string(current);
  const std::optional<std::int64_t> since = parse_version(version);
  if (!since || *since > current) return std::nullopt;
  std::vector<RosterItem> changes;
  if (*since == current) return changes;
  // The log holds consecutive versions up to `current`: it knows every change after `since`
  // when it reaches back to since + 1.
  const std::int64_t oldest =
      db_->scalar("SELECT ifnull(min(version), 0) FROM roster_log WHERE account = ?1", account);
  if (oldest == 0 || oldest > *since + 1) return std::nullopt;
  std::vector<std::string> jids;
  {
    Statement st = db_->prepare(
        "SELECT jid, max(version) AS last FROM roster_log WHERE account = ?1 AND version > ?2 "
        "GROUP BY jid ORDER BY last");
    st.bind_all(account, *since);
    while (st.step())
      jids.push_back(st.text(0));
  }
  for (const std::string& jid : jids) {
    if (auto item = load_roster_item(*db_, account, jid)) {
      changes.push_back(std::move(*item));
    } else {
      RosterItem removed;
      removed.jid = jid;
      removed.subscription = Subscription::remove;
      changes.push_back(std::move(removed));
    }
  }
  tx.commit();
  return changes;
}

std::size_t Storage::roster_size(std::string_view account) {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      db_->scalar("SELECT count(*) FROM roster WHERE account = ?1", account));
}

// --- offline messages ---

bool Storage::push_offline(std::string_view account, std::string_view stanza, std::size_t limit) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  const auto held = db_->scalar("SELECT count(*) FROM offline WHERE account = ?1", account);
  if (static_cast<std::size_t>(held) >= limit) return false;
  db_->run("INSERT INTO offline (account, time_ms, stanza) VALUES (?1, ?2, ?3)", account, now_ms(),
           stanza);
  tx.commit();
  return true;
}

std::vector<std::pair<std::int64_t, std::string>> Storage::take_offline(std::string_view account) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  std::vector<std::pair<std::int64_t, std::string>> out;
  {
    Statement st =
        db_->prepare("SELECT time_ms, stanza FROM offline WHERE account = ?1 ORDER BY id");
    st.bind_all(account);
    while (st.step())
      out.emplace_back(st.int64(0), st.text(1));
  }
  if (out.empty()) return out;
  db_->run("DELETE FROM offline WHERE account = ?1", account);
  tx.commit();
  return out;
}

std::size_t Storage::offline_count(std::string_view account) {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      db_->scalar("SELECT count(*) FROM offline WHERE account = ?1", account));
}

// --- message archive ---

void Storage::append_archive(std::vector<ArchiveEntry>& entries) {
  if (entries.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    ids.push_back(entries[i].stanza_id.empty() ? archive_id(entries[i].time_ms)
                                               : entries[i].stanza_id);
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  {
    Statement st = db_->prepare(
        "INSERT INTO archive (account, with_jid, time_ms, stanza_id, stanza) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const ArchiveEntry& e = entries[i];
      st.bind_all(e.account, e.with, e.time_ms, ids[i], e.stanza).run();
      st.reset();
    }
  }
  tx.commit();
  for (std::size_t i = 0; i < entries.size(); ++i)
    entries[i].stanza_id = std::move(ids[i]);
}

ArchivePage Storage::query_archive(std::string_view account, const ArchiveQuery& query) {
  // Parameters: ?1 account, ?2 with, ?3 start, ?4 end, ?5 after, ?6 before, ?7 limit; the SQL
  // text names only those in use, so each combination is its own cached statement.
  std::string filters = " WHERE account = ?1";
  if (!query.with.empty()) filters += " AND with_jid = ?2";
  if (query.start_ms) filters += " AND time_ms >= ?3";
  if (query.end_ms) filters += " AND time_ms <= ?4";
  auto bind_filters = [&](Statement& st) {
    st.bind(1, account);
    if (!query.with.empty()) st.bind(2, query.with);
    if (query.start_ms) st.bind(3, *query.start_ms);
    if (query.end_ms) st.bind(4, *query.end_ms);
  };

  std::lock_guard lock(mutex_);
  Transaction tx(*db_, false);
  ArchivePage page;
  {
    Statement st = db_->prepare("SELECT count(*) FROM archive" + filters);
    bind_filters(st);
    st.step();
    page.count = static_cast<std::size_t>(st.int64(0));
  }
  // The position (row id) of a stanza id in this account's archive.
  auto position = [&](const std::string& stanza_id) -> std::optional<std::int64_t> {
    Statement st = db_->prepare("SELECT id FROM archive WHERE stanza_id = ?1 AND account = ?2");
    if (st.bind_all(stanza_id, account).step()) return st.int64(0);
    return std::nullopt;
  };
  std::optional<std::int64_t> after, before;
  if (query.after_id) {
    after = position(*query.after_id);
    page.item_not_found = !after;
  }
  if (query.before_id && !query.before_id->empty()) {
    before = position(*query.before_id);
    page.item_not_found = page.item_not_found || !before;
  }
  if (page.item_not_found) return page;

  const bool backward = query.before_id.has_value();
  const std::size_t max = std::min(query.max, archive_page_cap);
  std::string sql = "SELECT with_jid, time_ms, stanza, stanza_id FROM archive" + filters;
  if (after) sql += " AND id > ?5";
  if (before) sql += " AND id < ?6";
  sql += backward ? " ORDER BY id DESC LIMIT ?7" : " ORDER BY id LIMIT ?7";
  {
    Statement st = db_->prepare(sql);
    bind_filters(st);
    if (after) st.bind(5, *after);
    if (before) st.bind(6, *before);
    st.bind(7, static_cast<std::int64_t>(max + 1));  // one more tells whether there are more
    page.complete = true;
    while (st.step()) {
      if (page.items.size() == max) {
        page.complete = false;
        break;
      }
      ArchiveEntry& e = page.items.emplace_back();
      e.account = std::string(account);
      e.with = st.text(0);
      e.time_ms = st.int64(1);
      e.stanza = st.text(2);
      e.stanza_id = st.text(3);
    }
  }
  if (backward) std::reverse(page.items.begin(), page.items.end());
  tx.commit();
  return page;
}

std::size_t Storage::expire_archive(std::int64_t older_than_ms) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  const int removed = db_->run("DELETE FROM archive WHERE time_ms < ?1", older_than_ms);
  tx.commit();
  return static_cast<std::size_t>(removed);
}

void Storage::clear_archive(std::string_view account) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  db_->run("DELETE FROM archive WHERE account = ?1", account);
  tx.commit();
}

// --- blocking ---

std::vector<std::string> Storage::blocklist(std::string_view account) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> jids;
  Statement st = db_->prepare("SELECT jid FROM blocklist WHERE account = ?1 ORDER BY id");
  st.bind_all(account);
  while (st.step())
    jids.push_back(st.text(0));
  return jids;
}

void Storage::block(std::string_view account, const std::vector<std::string>& jids) {
  if (jids.empty()) return;
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  for (const std::string& jid : jids)
    db_->run("INSERT OR IGNORE INTO blocklist (account, jid) VALUES (?1, ?2)", account, jid);
  tx.commit();
}

void Storage::unblock(std::string_view account, const std::vector<std::string>& jids) {
  std::lock_guard lock(mutex_);
  Transaction tx(*db_);
  if (jids.empty()) db_->run("DELETE FROM blocklist WHERE account = ?1", account);
  for (const std::string& jid : jids)
    db_->run("DELETE FROM blocklist WHERE account = ?1 AND jid = ?2", account, jid);
  tx.commit();
}

bool Storage::is_blocked(std::string_view account, std::string_view jid) {
  std::lock_guard lock(mutex_);
  return db_->scalar("SELECT count(*) FROM blocklist WHERE account = ?1 AND jid = ?2", account,
                     jid) != 0;
}

}  // namespace portico::xmpp
