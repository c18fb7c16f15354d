// Portico core — SQLite helpers of the store (see sqlite.h).
#include "core/store/sqlite.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace portico::core::store {

namespace {
// How long a statement waits for another connection's lock (other sessions, other processes)
// before it fails with "database is locked".
constexpr int busy_timeout_ms = 30000;
}  // namespace

Database::Database(const std::filesystem::path& file) : file_(file) {
  int rc =
      sqlite3_open_v2(file.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    fail(sdk::StoreError::io, file.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (set_wal_mode(db_, busy_timeout_ms) != SQLITE_OK) raise("PRAGMA journal_mode=WAL");
  // FULL: a commit in WAL mode fsyncs the log, so a committed delivery survives power loss.
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
  // Each open account keeps its own page cache: a small one (the OS caches the file too) keeps
  // many open accounts light. Message bodies kept in the database pass through it, so it fills
  // up whatever its size: with bench/pop's 10 accounts, 256 KiB each cost 1.5 MiB more peak RSS
  // than 64 KiB, and read no faster.
  exec("PRAGMA cache_size=-64");
}

int set_wal_mode(sqlite3* db, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    const int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) return rc;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

Database::~Database() {
  cache_.clear();
  sqlite3_close(db_);
}

bool Database::give_back(sqlite3_stmt* stmt) {
  return cache_.give_back(stmt);
}

sqlite3_stmt* IdleStatements::take(std::string_view sql) {
  auto it = idle_.find(std::string(sql));
  if (it == idle_.end() || it->second.empty()) return nullptr;
  sqlite3_stmt* stmt = it->second.back();
  it->second.pop_back();
  return stmt;
}

bool IdleStatements::give_back(sqlite3_stmt* stmt) {
  const char* sql = sqlite3_sql(stmt);
  if (sql == nullptr) return false;
  auto it = idle_.find(sql);
  if (it == idle_.end()) {
    if (idle_.size() >= max_texts_) return false;
    it = idle_.emplace(sql, std::vector<sqlite3_stmt*>()).first;
  }
  if (it->second.size() >= 4) return false;  // nested uses of one text: keep a few
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  it->second.push_back(stmt);
  return true;
}

void IdleStatements::clear() {
  for (auto& [sql, idle] : idle_) {
    for (sqlite3_stmt* stmt : idle)
      sqlite3_finalize(stmt);
  }
  idle_.clear();
}

void Database::raise(const std::string& what) const {
  fail(sdk::StoreError::io, file_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
}

void Database::exec(std::string_view sql) {
  char* err = nullptr;
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "error";
    sqlite3_free(err);
    fail(sdk::StoreError::io, file_.string() + ": " + msg);
  }
}

Statement Database::prepare(std::string_view sql) {
  if (sqlite3_stmt* idle = cache_.take(sql)) return Statement(*this, idle);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    raise("prepare");
  }
  return Statement(*this, stmt);
}

int Database::user_version() {
  auto st = prepare("PRAGMA user_version");
  st.step();
  return static_cast<int>(st.int64(0));
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) db_->raise("bind");
  return *this;
}

std::string Statement::blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(size))
              : std::string();
}

Statement& Statement::bind_blob(int index, std::string_view value) {
  if (sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT) !=
      SQLITE_OK) {
    db_->raise("bind");
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) db_->raise("bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK) {
    db_->raise("bind");
  }
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->raise("step");
}

std::string Statement::text(int column) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}

Transaction::Transaction(Database& db, bool write) : db_(db) {
  db_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace portico::core::store
