// Portico core — the directory's SQLite database: opening, schema versions, statements.
//
// One file, <data_dir>/directory.sqlite, in WAL mode with a busy timeout, so the CLI can change
// it while the server reads it (separate processes). The schema version is PRAGMA user_version:
// an older database is upgraded step by step in one IMMEDIATE transaction; a newer one is
// refused. Every write runs in a BEGIN IMMEDIATE transaction. A Database is not thread-safe:
// its owner serializes access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

struct sqlite3;
struct sqlite3_stmt;

namespace portico::core {

// A failure of the directory: storage errors, and refused administrative changes (unknown
// domain, duplicate address...). what() is a sentence for an operator.
class DirectoryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The schema version this build writes.
inline constexpr int kDirectorySchemaVersion = 2;

namespace directory {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
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
  std::string text(int column) const;
  std::int64_t integer(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating if needed) and upgrades the database. Throws DirectoryError.
  explicit Database(const std::filesystem::path& file);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  void exec(const char* sql);
  std::int64_t changes() const;
  std::int64_t last_insert_rowid() const;
  const std::filesystem::path& file() const { return file_; }

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when it throws).
  template <typename Fn>
  auto write(Fn&& fn) {
    exec("BEGIN IMMEDIATE");
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

 private:
  void rollback() noexcept;
  void upgrade();
  int user_version();

  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace directory
}  // namespace portico::core
