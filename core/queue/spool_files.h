// Portico core — the spool's files: layout, durable writes, and claims held with flock(2).
//
// Layout under <data_dir>/spool/:
//   incoming/<random>.msg   messages being received (each flock'ed by its writer while it lives)
//   messages/<id>           message octets of queue entries (hard links of sealed incoming files)
//   envelopes/<id>          envelope text (see envelope.h); written as ".tmp-<id>-<random>",
//                           fsync'd, renamed, folder fsync'd
//   claims/<id>             a lock file; whoever holds its flock owns the entry
//
// Every change to entry <id> (enqueue, update, removal, cleanup of its leftovers) happens while
// its claim is held, so processes sharing the data directory (the server and the CLI) never
// step on each other. The kernel drops a flock when its process dies: a crashed worker's claim
// is released by construction, and its lock file is removed by the next open.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "portico/queue.h"

namespace portico::core::queue {

namespace fs = std::filesystem;

inline constexpr std::string_view kTempPrefix = ".tmp-";
inline constexpr std::string_view kIncomingSuffix = ".msg";

// An error inside the queue's implementation; turned into a QueueError at the SDK boundary.
class QueueFailure : public std::runtime_error {
 public:
  QueueFailure(sdk::QueueError error, const std::string& message)
      : std::runtime_error(message), error_(error) {}
  sdk::QueueError error() const { return error_; }

 private:
  sdk::QueueError error_;
};

// Throws QueueFailure(io) with "what path: strerror(errno)".
[[noreturn]] void io_error(const std::string& what, const fs::path& path);

struct SpoolLayout {
  explicit SpoolLayout(const fs::path& data_dir);
  fs::path root, incoming, messages, envelopes, claims;
  void create() const;  // creates the folders (and fsyncs their parents)
};

// A fresh queue id: 10 hex digits of Unix time in microseconds' high part, then randomness;
// ids sort roughly by age. Only [0-9A-Za-z], so an id is always a safe file name.
std::string new_queue_id();
bool valid_id(std::string_view id);
std::string random_hex(std::size_t digits);

void fsync_dir(const fs::path& dir);
// Writes `data` into a new temp file for dir/name (".tmp-<name>-<random>") and fsyncs it;
// returns its path. The caller renames it into place (and fsyncs dir), or removes it.
fs::path write_temp(const fs::path& dir, const std::string& name, std::string_view data);
// Writes `data` as dir/name durably: write_temp, rename, fsync of dir.
void write_durably(const fs::path& dir, const std::string& name, std::string_view data);
// Makes target the same file as source (a hard link), or a durable copy where links are
// impossible (another file system). Does not fsync target's folder.
void link_or_copy(const fs::path& source, const fs::path& target);
// Reads a whole file of at most `limit` octets; throws not_found when missing, invalid when
// larger.
std::string read_file(const fs::path& file, std::uint64_t limit);
// Removes a file; false when it was not there.
bool remove_file(const fs::path& file);

struct DirEntry {
  std::string name;
  ino_t inode = 0;
};
// The entries of a folder, "." and ".." left out (readdir(3), no stat per file).
std::vector<DirEntry> list_dir(const fs::path& dir);

// Tries to take an exclusive flock on an open file descriptor without waiting.
bool try_flock(int fd);

// A claim on one entry: the flock of claims/<id>, held while the object lives.
class Claim {
 public:
  Claim() = default;
  ~Claim();
  Claim(Claim&& other) noexcept;
  Claim& operator=(Claim&& other) noexcept;
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  // Takes the claim, or returns an empty Claim when someone else holds it.
  static Claim try_take(const fs::path& claims_dir, const std::string& id);
  // The process id written in a held claim file; 0 when free or unknown.
  static std::int64_t holder(const fs::path& claims_dir, const std::string& id);

  bool held() const { return fd_ >= 0; }
  // Releases the claim; `remove_file` also deletes the lock file (entry gone for good).
  void release(bool remove_file = false);

 private:
  int fd_ = -1;
  fs::path path_;
};

}  // namespace portico::core::queue
