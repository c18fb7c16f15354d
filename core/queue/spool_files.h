// Portico core — the spool's files: layout, durable writes, and claims held with open file
// description locks (fcntl F_OFD_SETLK) on the entries' message files.
//
// Layout under <data_dir>/spool/:
//   incoming/<random>.msg   messages being received (each flock'ed by its writer while it lives)
//   messages/<id>           message octets of queue entries (hard links of sealed incoming files)
//   envelopes/<id>          envelope text (see envelope.h); written as ".tmp-<id>-<random>",
//                           fsync'd, renamed, folder fsync'd
//   journal                 the owner's records of enqueues and removals (journal.h)
//   removed/<id>            tombstones: entries removed by a process not owning the journal,
//                           which its recovery must not bring back (removed at its checkpoint)
//
// An entry's envelope lives in one of two places. As enqueued, it is an extended attribute of
// the message file (kInlineEnvelopeAttr: "<id>\n" then the envelope text), set before the file's
// one fsync (or its record in the journal), so the message and its envelope become durable
// together and the entry costs no file of its own. Every later change writes envelopes/<id>, which
// then wins, and removes the attribute durably. Where the file system has no user extended
// attributes, or the envelope does not fit in one, enqueue writes envelopes/<id> at once. The id
// inside the attribute ties it to one name: the same file linked under another name (a second
// enqueue of one incoming file, a mailbox's copy) carries no entry.
//
// An entry is claimed by a write lock on byte 0 of its message file, taken by enqueue before
// the file has its name in messages/ and by a worker before it touches the entry; a second lock
// at kHolderBase + pid says which process holds it. Every change to entry <id> (enqueue,
// update, removal, cleanup of its leftovers) happens while its claim is held, so processes
// sharing the data directory (the server and the CLI) never step on each other. The kernel
// drops the locks when the holder's descriptor closes, or its process dies: a crashed worker's
// claim is released by construction, and no lock file is left behind (the files of claims/
// that earlier versions used are removed by the next open). These locks are separate from the
// incoming writer's flock on the same inode: neither blocks the other.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
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
// write(2) of all of `data`; throws QueueFailure.
void write_all(int fd, std::string_view data, const fs::path& path);

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct SpoolLayout {
  explicit SpoolLayout(const fs::path& data_dir);
  fs::path root, incoming, messages, envelopes;
  fs::path removed;     // tombstones of entries removed by a process not owning the journal
  fs::path journal;     // the spool's journal (journal.h)
  fs::path old_claims;  // the lock files of earlier versions (removed by the queue's open)
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
// Reads a whole file of at most `limit` octets; nullopt when missing (no exception: an entry
// as enqueued has no envelope file, and this is asked for each), throws invalid when larger.
std::optional<std::string> read_file(const fs::path& file, std::uint64_t limit);
// Removes a file; false when it was not there.
bool remove_file(const fs::path& file);

// The extended attribute that carries an entry's envelope as enqueued, and its largest value.
inline constexpr const char* kInlineEnvelopeAttr = "user.portico.envelope";
inline constexpr std::size_t kMaxInlineEnvelope = 3 * 1024;
// Sets the envelope of entry `id` on the open file fd; false (nothing set) when the file system
// cannot hold it there (no user extended attributes, no room, an attribute set already, or a
// text over kMaxInlineEnvelope). Throws QueueFailure on other errors. Makes nothing durable.
bool set_inline_envelope(int fd, const fs::path& path, const std::string& id,
                         std::string_view text);
// The envelope text `message` carries for entry `id`; nullopt when the file is missing or
// carries none for this id.
std::optional<std::string> read_inline_envelope(const fs::path& message, const std::string& id);
// Removes the envelope attribute of `message` and fsyncs the file; false when it had none.
bool drop_inline_envelope(const fs::path& message);
// fsync(2) of an open file; throws QueueFailure.
void fsync_fd(int fd, const fs::path& path);
// The octets [offset, offset + size) of the open file fd, fewer where the file ends first;
// throws QueueFailure.
std::string pread_upto(int fd, std::uint64_t offset, std::uint64_t size, const fs::path& path);
// The whole content of the open file fd, or nullopt when it is larger than `limit`; throws
// QueueFailure (also when the file shrinks while read).
std::optional<std::string> read_small_file(int fd, const fs::path& path, std::uint64_t limit);

struct DirEntry {
  std::string name;
  ino_t inode = 0;
};
// The entries of a folder, "." and ".." left out (readdir(3), no stat per file).
std::vector<DirEntry> list_dir(const fs::path& dir);

// Tries to take an exclusive flock on an open file descriptor without waiting.
bool try_flock(int fd);

// A claim on one entry: the locks on its message file, held while the object lives (its end
// is the claim's end: destroy it, or move another claim into it).
class Claim {
 public:
  Claim() = default;
  ~Claim();
  Claim(Claim&& other) noexcept;
  Claim& operator=(Claim&& other) noexcept;
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  // Offset of the lock that names the holder: kHolderBase + its process id.
  static constexpr off_t kHolderBase = off_t{1} << 32;

  // Takes the claim of messages/<id>, or returns an empty Claim when someone else holds it or
  // the entry has no message file (then *missing is set).
  static Claim try_take(const fs::path& messages_dir, const std::string& id,
                        bool* missing = nullptr);
  // Claims the file itself (enqueue's sealed incoming file, before it is linked in); empty when
  // held already.
  static Claim take_file(const fs::path& file);
  // The process id of the holder of messages/<id>'s claim; 0 when free or there is no such
  // file, -1 when held by a process that cannot be told.
  static std::int64_t holder(const fs::path& messages_dir, const std::string& id);

  bool held() const { return fd_ >= 0; }
  // The claimed file's descriptor (open for reading and writing); -1 when not held.
  int fd() const { return fd_; }
  // Whether the claimed file is the one `file` names now.
  bool same_file(const fs::path& file) const;

 private:
  // Ends the claim (closes the descriptor, which drops its locks); the destructor's work.
  void release();
  static Claim take_fd(int fd, const fs::path& path);
  int fd_ = -1;
};

}  // namespace portico::core::queue
