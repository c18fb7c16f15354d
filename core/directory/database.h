// Portico core — the directory's SQLite database: opening, schema versions, statements.
//
// One file, <data_dir>/directory.sqlite, in WAL mode with a busy timeout, so the CLI can change
// it while the server reads it (separate processes). The schema version is PRAGMA user_version:
// an older database is upgraded step by step in one IMMEDIATE transaction; a newer one is
// refused. Every write runs in a BEGIN IMMEDIATE transaction, and each one committed through
// this connection is counted (commits()); PRAGMA data_version tells commits by other connections
// (data_version()). Together they say whether the content may have changed, without reading a
// table. A Database is not thread-safe: its owner serializes access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

struct sqlite3;
struct sqlite3_stmt;

namespace portico::core::store {
class IdleStatements;
}
namespace portico::core {

// A failure of the directory: storage errors, and refused administrative changes (unknown
// domain, duplicate address...). what() is a sentence for an operator.
class DirectoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The schema version this build writes.
inline constexpr int kDirectorySchemaVersion = 3;

namespace directory {

class Database;

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  // A statement of `owner`'s cache, given back to it (reset) at its end.
  Statement(Database& owner, sqlite3* db, sqlite3_stmt* stmt)
      : db_(db), stmt_(stmt), owner_(&owner) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_null(int index);
  // Advances to the next row; false when done. Throws DirectoryError on failure.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  // Makes it ready to step again from the start (a statement kept prepared).
  void reset();
  std::string text(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Database* owner_ = nullptr;
};

class Database {
 public:
  // Opens (creating if needed) and upgrades the database. Throws DirectoryError.
  explicit Database(const std::filesystem::path& file);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // A prepared statement: one of the idle ones of the same text when there is one (statements
  // are kept prepared once used, a few per text, so a lookup costs no parse).
  Statement prepare(std::string_view sql);
  void exec(const char* sql);
  std::int64_t changes() const;
  std::int64_t last_insert_rowid() const;
  const std::filesystem::path& file() const { return file_; }
  // SQLite's PRAGMA data_version: changes when another connection (another process, or another
  // Database on the same file) has committed since the last call. Throws DirectoryError.
  std::int64_t data_version();
  // Transactions committed through write() since this Database was opened.
  std::uint64_t commits() const { return commits_; }

  // Runs fn inside BEGIN ... COMMIT: every read in fn sees one snapshot of the database, however
  // other connections commit meanwhile (ROLLBACK when it throws).
  template <typename Fn>
  auto read(Fn&& fn) {
    exec("BEGIN");
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        exec("COMMIT");
      } else {
        auto result = fn();
        exec("COMMIT");
        return result;
      }
    } catch (...) {
      rollback();
      throw;
    }
  }

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when it throws).
  template <typename Fn>
  auto write(Fn&& fn) {
    exec("BEGIN IMMEDIATE");
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        exec("COMMIT");
        ++commits_;
      } else {
        auto result = fn();
        exec("COMMIT");
        ++commits_;
        return result;
      }
    } catch (...) {
      rollback();
      throw;
    }
  }

 private:
  friend class Statement;
  // Takes back a statement of a cached text (reset); false when it is to be finalized.
  bool give_back(sqlite3_stmt* stmt);
  static constexpr std::size_t kMaxCachedTexts = 256;
  std::unique_ptr<store::IdleStatements> idle_;  // kept prepared statements (core/store/sqlite.h)
  void rollback() noexcept;
  void upgrade();
  int user_version();

  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  std::uint64_t commits_ = 0;
  // PRAGMA data_version, prepared once: it runs before every use of a cached address book.
  std::unique_ptr<Statement> data_version_;
};

}  // namespace directory
}  // namespace portico::core
