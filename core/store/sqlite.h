// Portico core — a thin RAII layer over SQLite 3 for the store: a connection, prepared
// statements with typed binding, and an IMMEDIATE transaction guard (rolled back unless
// committed). Errors throw StoreFailure, which the store turns into an sdk::StoreError.
// Prepared statements are kept per connection by their SQL text and reused (reset and unbound
// when a Statement ends), so a query costs no SQL parsing after its first use; the number of
// distinct texts kept is bounded.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "portico/store.h"

namespace portico::core::store {

// Sets `PRAGMA journal_mode=WAL`, waiting up to timeout_ms while another connection switches
// the same new database at the same moment: SQLite then answers one of them SQLITE_BUSY at
// once, without calling its busy handler (each holds the shared lock the other's switch needs),
// as when `portico export` opens an account the server is creating. Returns SQLite's code.
int set_wal_mode(sqlite3* db, int timeout_ms);

// A failure inside the store, carried up to the SDK boundary.
class StoreFailure : public std::runtime_error {
 public:
  StoreFailure(sdk::StoreError error, const std::string& message)
      : std::runtime_error(message), error_(error) {}
  sdk::StoreError error() const { return error_; }

 private:
  sdk::StoreError error_;
};

[[noreturn]] inline void fail(sdk::StoreError error, const std::string& message) {
  throw StoreFailure(error, message);
}

// Prepared statements of one connection kept for reuse, a few per SQL text, a bounded number of
// texts: a query costs no SQL parsing after its first use. Not thread-safe (its connection's
// owner serializes access). Shared by the store's and the directory's databases.
class IdleStatements {
 public:
  explicit IdleStatements(std::size_t max_texts) : max_texts_(max_texts) {}
  ~IdleStatements() { clear(); }
  IdleStatements(const IdleStatements&) = delete;
  IdleStatements& operator=(const IdleStatements&) = delete;

  // An idle statement of this text, or nullptr (prepare one then).
  sqlite3_stmt* take(std::string_view sql);
  // Keeps `stmt`, reset and unbound; false when it is to be finalized instead.
  bool give_back(sqlite3_stmt* stmt);
  // Finalizes every kept statement (before the connection closes).
  void clear();

 private:
  std::size_t max_texts_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_;  // by SQL text
};

class Statement;

class Database {
 public:
  // Opens (creating if missing) in WAL mode with a busy timeout and full synchronous commits.
  explicit Database(const std::filesystem::path& file);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  int user_version();
  const std::filesystem::path& file() const { return file_; }
  sqlite3* handle() { return db_; }
  [[noreturn]] void raise(const std::string& what) const;

 private:
  friend class Statement;
  // Takes back a statement of a cached text (reset); false when it is to be finalized.
  bool give_back(sqlite3_stmt* stmt);
  // Distinct SQL texts whose statements are kept for reuse (the store has a few dozen).
  static constexpr std::size_t kMaxCachedTexts = 128;

  sqlite3* db_ = nullptr;
  std::filesystem::path file_;
  IdleStatements cache_{kMaxCachedTexts};
};

class Statement {
 public:
  Statement(Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  ~Statement() {
    if (stmt_ != nullptr && !db_->give_back(stmt_)) sqlite3_finalize(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind_blob(int index, std::string_view value);
  Statement& bind_null(int index);
  // Advances; false when done.
  bool step();
  // Runs to completion (for statements without rows).
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;
  std::string blob(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  Database* db_;
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE (the write lock at once, so concurrent writers wait on busy_timeout instead
// of failing at commit); rolled back by the destructor unless commit() ran. With write false,
// a plain BEGIN: several reads see one snapshot and take the database's locks once.
class Transaction {
 public:
  explicit Transaction(Database& db, bool write = true);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace portico::core::store
