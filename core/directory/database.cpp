// Portico core — the directory's SQLite database (see database.h).
#include "core/directory/database.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>

#include <system_error>

#include "core/store/sqlite.h"

namespace portico::core {

namespace {

// How long a writer waits for another process's transaction before giving up.
constexpr int kBusyTimeoutMs = 10000;

// migrations[i] upgrades a database from user_version i to i + 1.
constexpr const char* kMigrations[] = {
    // 0 -> 1: the first schema. Addresses and domain names are stored in lower case.
    R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE domains (
  name TEXT PRIMARY KEY,
  catch_all TEXT,
  created INTEGER NOT NULL
);
CREATE TABLE accounts (
  address TEXT PRIMARY KEY,
  domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
  display_name TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1,
  quota INTEGER NOT NULL DEFAULT 0,
  password_hash TEXT NOT NULL DEFAULT '',
  scram_iterations INTEGER NOT NULL DEFAULT 0,
  scram_salt TEXT NOT NULL DEFAULT '',
  scram_sha1_stored_key TEXT NOT NULL DEFAULT '',
  scram_sha1_server_key TEXT NOT NULL DEFAULT '',
  scram_sha256_stored_key TEXT NOT NULL DEFAULT '',
  scram_sha256_server_key TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  password_changed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_domain ON accounts(domain);
CREATE TABLE aliases (
  address TEXT NOT NULL,
  domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
  target TEXT NOT NULL,
  PRIMARY KEY (address, target)
);
CREATE INDEX aliases_domain ON aliases(domain);
CREATE TABLE lists (
  address TEXT PRIMARY KEY,
  domain TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE
);
CREATE INDEX lists_domain ON lists(domain);
CREATE TABLE list_members (
  list TEXT NOT NULL REFERENCES lists(address) ON DELETE CASCADE,
  member TEXT NOT NULL,
  PRIMARY KEY (list, member)
);
CREATE TABLE retrieval_sources (
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL REFERENCES accounts(address) ON DELETE CASCADE,
  protocol TEXT NOT NULL CHECK (protocol IN ('pop', 'imap')),
  host TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 0,
  tls TEXT NOT NULL CHECK (tls IN ('none', 'starttls', 'implicit')),
  user TEXT NOT NULL,
  secret TEXT NOT NULL DEFAULT '',
  apop INTEGER NOT NULL DEFAULT 0,
  leave_on_server INTEGER NOT NULL DEFAULT 0,
  source_folder TEXT NOT NULL DEFAULT 'INBOX',
  destination_folder TEXT NOT NULL DEFAULT 'INBOX',
  enabled INTEGER NOT NULL DEFAULT 1,
  last_run INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_count INTEGER NOT NULL DEFAULT 0,
  total_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX retrieval_sources_account ON retrieval_sources(account);
)sql",
    // 1 -> 2: per-domain case sensitivity of local parts. 0 (the default, and every domain of
    // an older database): local parts compare case-insensitively and are stored in lower case;
    // 1: they compare exactly and are stored as given (RFC 5321 section 2.4).
    R"sql(
ALTER TABLE domains ADD COLUMN case_sensitive_local_part INTEGER NOT NULL DEFAULT 0;
)sql",
    // 2 -> 3: the address book (SDK 1.5): what mail clients look people up by, '' when unset.
    // phones holds the numbers as given, joined with "\n". The index on (domain, address)
    // replaces the one on domain: a domain's accounts are read in address order, no sort.
    R"sql(
ALTER TABLE accounts ADD COLUMN given_name TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN surname TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN department TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN organization TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN phones TEXT NOT NULL DEFAULT '';
CREATE INDEX accounts_domain_address ON accounts(domain, address);
DROP INDEX accounts_domain;
)sql",
};
static_assert(std::size(kMigrations) == kDirectorySchemaVersion);

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw DirectoryError(fmt::format("directory database: {}: {}", what, sqlite3_errmsg(db)));
}

}  // namespace

namespace directory {

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) !=
      SQLITE_OK)
    fail(db, "prepare");
}

Statement::~Statement() {
  if (owner_ == nullptr || !owner_->give_back(stmt_)) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, "step");
}

void Statement::reset() {
  sqlite3_reset(stmt_);
}

void Statement::run() {
  while (step()) {
  }
}

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Database::Database(const std::filesystem::path& file)
    : idle_(std::make_unique<store::IdleStatements>(kMaxCachedTexts)), file_(file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec)
    throw DirectoryError(
        fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message()));
  // The file holds password hashes and retrieval secrets: readable by its owner only. It is
  // created here with that mode (SQLite gives its -wal and -shm files the same one).
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    throw DirectoryError(fmt::format("cannot open {}: {}", file.string(),
                                     std::error_code(errno, std::generic_category()).message()));
  ::close(fd);
  int rc =
      sqlite3_open_v2(file.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw DirectoryError(fmt::format("cannot open {}: {}", file.string(), message));
  }
  try {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    if (store::set_wal_mode(db_, kBusyTimeoutMs) != SQLITE_OK) {
      throw DirectoryError(fmt::format("cannot open {}: PRAGMA journal_mode=WAL: {}", file.string(),
                                       sqlite3_errmsg(db_)));
    }
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    upgrade();
  } catch (...) {
    idle_->clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  data_version_.reset();  // finalized before the connection closes
  idle_.reset();
  sqlite3_close(db_);
}

Statement Database::prepare(std::string_view sql) {
  if (sqlite3_stmt* idle = idle_->take(sql)) return Statement(*this, db_, idle);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    fail(db_, "prepare");
  }
  return Statement(*this, db_, stmt);
}

bool Database::give_back(sqlite3_stmt* stmt) {
  return idle_->give_back(stmt);
}

void Database::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw DirectoryError(fmt::format("directory database {}: {}", file_.string(), message));
  }
}

std::int64_t Database::changes() const {
  return sqlite3_changes64(db_);
}
std::int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

void Database::rollback() noexcept {
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

std::int64_t Database::data_version() {
  if (!data_version_) data_version_ = std::make_unique<Statement>(db_, "PRAGMA data_version");
  data_version_->reset();
  data_version_->step();
  std::int64_t version = data_version_->integer(0);
  data_version_->reset();  // ends the statement's read of the database at once
  return version;
}

int Database::user_version() {
  Statement s(db_, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

void Database::upgrade() {
  auto too_new = [&](int version) {
    return DirectoryError(
        fmt::format("{} has schema version {}, newer than this portico supports ({}); "
                    "use a newer portico, or restore a backup made for this version",
                    file_.string(), version, kDirectorySchemaVersion));
  };
  int version = user_version();
  if (version > kDirectorySchemaVersion) throw too_new(version);
  if (version == kDirectorySchemaVersion) return;
  write([&] {
    // Another process may have upgraded it between the check and the lock.
    int current = user_version();
    if (current > kDirectorySchemaVersion) throw too_new(current);
    for (int v = current; v < kDirectorySchemaVersion; ++v)
      exec(kMigrations[v]);
    exec(fmt::format("PRAGMA user_version={}", kDirectorySchemaVersion).c_str());
  });
}

}  // namespace directory
}  // namespace portico::core
