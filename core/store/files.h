// Portico core — the store's files: account folder names, durable writes of immutable body
// files, and flock(2) locks shared with other processes.
//
// Layout: <data_dir>/store/<domain>/<local>/ holding meta.sqlite (+ WAL), bodies/ (one
// immutable file per message body), and lock files. Names derive from the address, lowercased,
// with every byte outside [a-z0-9_+-] and a leading '.' escaped as %XX, so no address can reach
// outside the store folder.
//
// A body is written to ".tmp-<name>" in bodies/, fsync'd, renamed to <name>, and the folder is
// fsync'd: once write_body() returns, the file survives a crash under its final name. A crash
// earlier leaves at most a temp file, which `store check --repair` removes. With
// FolderSync::by_caller the folder fsync is left to the caller, who does it once for several
// bodies (group commit, see group_commit.h) before any metadata refers to them.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "portico/store.h"

namespace portico::core::store {

namespace fs = std::filesystem;

inline constexpr std::string_view temp_prefix = ".tmp-";

// "<domain>/<local>" for an address; throws StoreFailure(invalid_name).
fs::path account_folder(std::string_view address);

// A fresh body file name: time and randomness, unique across processes.
std::string new_body_name();
// A fresh stable message id (POP3 UIDL): 16 hex digits.
std::string new_message_key();

// Whether a body function fsyncs the folder itself (now) or leaves it to its caller.
enum class FolderSync { now, by_caller };

void fsync_dir(const fs::path& dir);
// Writes `data` durably as dir/name (see above). Throws StoreFailure(io).
void write_body(const fs::path& dir, const std::string& name, std::string_view data,
                FolderSync sync = FolderSync::now);
// Makes dir/name the same file as `source` (a hard link; `source`'s octets must be durable
// already), or a durable copy where links are impossible.
void link_body(const fs::path& source, const fs::path& dir, const std::string& name,
               FolderSync sync = FolderSync::now);
// A whole file (open, fstat, read). Throws StoreFailure(io).
std::string read_file(const fs::path& file);
// A body file opened for reading in pieces (pread). Throws StoreFailure(io), or not_found when
// the file is gone.
std::unique_ptr<sdk::MessageReader> open_body(const fs::path& file);
// fsync of an existing file's octets. Throws StoreFailure(io).
void sync_file(const fs::path& file);

// An flock(2) lock on a file, released by the destructor (and by the kernel when the process
// dies, so a crashed holder never leaves a stale lock).
class FileLock {
 public:
  enum class Mode { shared, exclusive };
  // Blocks until granted, or with try_only returns unlocked (locked() false) when held.
  FileLock(const fs::path& file, Mode mode, bool try_only = false);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool locked() const { return locked_; }

 private:
  int fd_ = -1;
  bool locked_ = false;
};

}  // namespace portico::core::store
