// Portico core — the outbound queue service: the one implementation of sdk::Queue, a durable
// spool under <data_dir>/spool/ (layout in spool_files.h, envelope format in envelope.h).
//
// Guarantees (nothing acknowledged is lost, see docs/design-notes.md): enqueue() returns only
// after the message file (a hard link of the sealed incoming file) and the envelope (temp file,
// fsync, rename, folder fsync) are durable; the envelope is written last, so a visible envelope
// always has its message. After a crash at any point, open_queue() finds every entry whose id was
// returned, whole, and removes the leftovers: incoming files of dead writers, envelope temp files,
// message files without an envelope, and lock files of released claims. All of it is safe while
// another process (the server, or the CLI) uses the same spool, since every change to an entry
// happens under that entry's claim (a flock).
//
// claim_due() scans the envelope folder (readdir, no stat) and re-reads only envelopes whose
// inode changed since the last scan, so a poll costs one readdir when nothing changed.
//
// Threading: every member is thread-safe and, apart from create_incoming(), blocking: call it
// from the worker pool. Nothing throws except open_queue().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/queue/envelope.h"
#include "core/queue/spool_files.h"
#include "portico/queue.h"

namespace portico::core {

namespace fs = std::filesystem;

class QueueService final : public sdk::Queue {
 public:
  // Opens (creating if needed) the spool under data_dir and cleans up after a crash; throws
  // queue::QueueFailure (a std::runtime_error) when the folders cannot be made or read.
  explicit QueueService(const fs::path& data_dir);
  ~QueueService();  // releases the claims this object still holds
  QueueService(const QueueService&) = delete;
  QueueService& operator=(const QueueService&) = delete;

  sdk::QueueResult<std::unique_ptr<sdk::IncomingMessage>> create_incoming() override;
  sdk::QueueResult<std::string> enqueue(const sdk::Envelope& envelope,
                                        sdk::IncomingMessage& message) override;
  sdk::QueueResult<std::vector<sdk::QueueEntry>> claim_due(std::int64_t now,
                                                           std::size_t max) override;
  sdk::QueueStatus update_recipients(const std::string& id,
                                     const std::vector<sdk::RecipientUpdate>& updates) override;
  sdk::QueueStatus defer(const std::string& id, std::int64_t next_attempt,
                         const std::string& error) override;
  sdk::QueueStatus complete(const std::string& id) override;
  sdk::QueueStatus fail(const std::string& id, const std::string& reason) override;
  sdk::QueueStatus release(const std::string& id) override;
  sdk::QueueResult<std::vector<sdk::QueueEntry>> list() override;
  sdk::QueueResult<sdk::QueueEntry> get(const std::string& id) override;
  sdk::QueueStatus remove(const std::string& id) override;
  sdk::QueueStatus set_note(const std::string& id, const std::string& name,
                            const std::string& value) override;
  sdk::QueueResult<std::string> note(const std::string& id, const std::string& name) override;

  // The envelope file of an entry as stored (for `portico queue show`).
  sdk::QueueResult<std::string> envelope_text(const std::string& id);
  const queue::SpoolLayout& layout() const { return layout_; }
  // What the last open cleaned up (for logs and tests).
  struct Cleanup {
    std::size_t incoming = 0;         // incoming files of dead writers
    std::size_t temp_envelopes = 0;   // half-written envelopes
    std::size_t orphan_messages = 0;  // message files whose enqueue did not finish
  };
  Cleanup cleanup() const { return cleanup_; }

 private:
  struct Cached {
    ino_t inode = 0;
    std::int64_t next_attempt = 0;
    bool held = false;
    bool damaged = false;
  };

  void clean();
  sdk::Envelope read_envelope(const std::string& id, queue::Notes* notes = nullptr) const;
  sdk::QueueEntry make_entry(const std::string& id, sdk::Envelope envelope) const;
  void write_envelope(const std::string& id, const sdk::Envelope& envelope,
                      const queue::Notes& notes);
  void remove_entry(const std::string& id);
  // Runs `change` on the entry's envelope (and its notes, when `change` takes them too) under
  // its claim (ours, or taken for the call) and writes the result; afterwards our claim is kept when `keep`, a claim taken for the call is
  // always released.
  template <class Change>
  void modify(const std::string& id, bool keep, Change change);
  // Ours (moved out of claims_) if we hold it, else a new one; throws busy when held elsewhere.
  queue::Claim take_claim(const std::string& id, bool* was_ours = nullptr);

  queue::SpoolLayout layout_;
  Cleanup cleanup_;
  std::mutex claims_mutex_;
  std::map<std::string, queue::Claim> claims_;  // claims this object holds
  std::mutex scan_mutex_;                       // one claim_due scan at a time
  std::map<std::string, Cached> cache_;         // under scan_mutex_
};

// The factory the server calls once at start (see QueueService's constructor).
std::unique_ptr<QueueService> open_queue(const fs::path& data_dir);

// The header section of a message file for display: up to the first empty line, at most
// `limit` octets, LF line ends.
std::string read_message_headers(const fs::path& message, std::size_t limit = 64 * 1024);

}  // namespace portico::core
