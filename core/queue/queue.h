// Portico core — the outbound queue service: the one implementation of sdk::Queue, a durable
// spool under <data_dir>/spool/ (layout in spool_files.h, envelope format in envelope.h, the
// journal in journal.h).
//
// Guarantees (nothing acknowledged is lost, see docs/design-notes.md): enqueue() returns only
// after the message and its envelope are durable under the entry's name, or in the journal.
// As enqueued, the envelope is an attribute of the message file, set before the file is linked
// into messages/. The owner of the journal (the server) then appends the message and envelope to
// the journal and returns once the batch's fdatasync is done: the file itself is never fsync'd,
// and after a crash, open_queue() writes again every message file the crash lost or tore.
// Without the journal (another process, a message over the journal's limit) the file is
// fsync'd before its link, so a visible entry is always whole; where the attribute cannot be
// used, the envelope is a file (temp file, fsync, rename after messages/ was fsync'd, folder
// fsync). After a crash at any point, open_queue() finds every entry whose id was returned,
// whole, and removes the leftovers: incoming files of dead writers, envelope temp files and
// message files that carry no envelope and have no envelope file. All of it is safe while
// another process (the server, or the CLI) uses the same spool, since every change to an entry
// happens under that entry's claim (a lock on its message file, see spool_files.h).
//
// Group commit (core/store/group_commit.h): concurrent enqueues and removals of the journal's
// owner share one fdatasync of the journal; a removal's files are unlinked, without fsync, once
// its record is durable. Without the journal, concurrent enqueue() calls each make their own
// message (and envelope temp file, if any) durable, then one of them, for the whole batch,
// fsyncs messages/ once, renames every envelope file into place and fsyncs envelopes/ once if
// there were any; each call returns once its batch is done. A lone enqueue is a batch of one, at
// once. Removals (complete(), remove(), the operator's delete and bounce) without the journal
// leave a tombstone in removed/ when the journal may still hold the entry, unlink the envelope
// file, or for an entry as enqueued its message file, and share one fsync per folder they
// changed in the same way; the message file of an entry with an envelope file is removed
// without fsync (it carries no envelope any more: a crash that loses its removal leaves an
// orphan, which the next open removes).
//
// claim_due() and stats() scan both folders (readdir, no stat) and re-read only envelopes
// whose inode changed since the last scan, so a scan costs two readdirs when nothing changed.
//
// Operator actions (hold, release_held, retry_now, bounce; core only, for `portico queue`) work
// on entries no worker holds, and answer busy for one being delivered.
//
// Threading: every member is thread-safe and, apart from create_incoming(), blocking: call it
// from the worker pool. Nothing throws except open_queue().
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/queue/envelope.h"
#include "core/queue/journal.h"
#include "core/queue/recovery.h"
#include "core/queue/spool_files.h"
#include "core/store/group_commit.h"
#include "portico/queue.h"
#include "portico/reports.h"

namespace portico::core {

namespace fs = std::filesystem;

// How many entries the queue holds in each state (for `portico status` and /metrics).
struct QueueStats {
  std::size_t active = 0;    // due (next attempt now or past): being delivered or about to be
  std::size_t deferred = 0;  // waiting for their next attempt
  std::size_t held = 0;      // held by the operator or after failing: never claimed
  std::size_t damaged = 0;   // envelopes that cannot be read
  std::size_t recipients_pending = 0;  // recipients neither delivered nor failed, all entries
  std::int64_t scanned_at = 0;         // Unix time of the folder scan these come from
};

// What bounce() did.
struct BounceOutcome {
  std::size_t failed = 0;     // recipients failed by the bounce (and reported on, if deserved)
  sdk::ReportOutcome report;  // where the report went (reported == 0: none was deserved)
};

// The operator's bounce: RFC 3463 status and reason of each recipient it fails.
inline constexpr const char* kBounceStatus = "5.0.0";
inline constexpr const char* kBounceReason = "bounced by the operator";

// How a QueueService uses the spool's journal (journal.h).
struct QueueOptions {
  // Own the journal for the object's life (the server): enqueues and removals go through it.
  // Otherwise (the CLI) the journal is only recovered at open when no one owns it.
  bool own_journal = false;
  std::uint64_t journal_capacity = queue::kJournalCapacity;
  // How long an owner waits for the journal's lock (held by a CLI recovering it, or by another
  // server on the same data directory) before it runs without the journal.
  std::chrono::milliseconds journal_wait{5000};
};

class QueueService final : public sdk::Queue {
 public:
  // Opens (creating if needed) the spool under data_dir, recovers it from the journal and
  // cleans up after a crash; throws queue::QueueFailure (a std::runtime_error) when the folders
  // cannot be made or read.
  explicit QueueService(const fs::path& data_dir, QueueOptions options = {});
  // Releases the claims this object still holds; an owner checkpoints the journal.
  ~QueueService();
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

  // --- operator actions (core only; `portico queue ...`) --------------------------------------
  // Each takes the entry's claim for itself: busy when a worker (of any process, this object
  // included) holds it. Changes are durable (envelope file written: temp, fsync, rename, fsync;
  // the attribute of an entry as enqueued then removed, with an fsync of its message file).
  //
  // Holds an entry: kept, never claimed, until release_held(). Value false: it was held already.
  sdk::QueueResult<bool> hold(const std::string& id);
  // Un-holds an entry and makes it due at `now`. Value false: it was not held (left alone).
  sdk::QueueResult<bool> release_held(const std::string& id, std::int64_t now);
  // Makes an entry due at `now` (attempts are kept; one due already is left as it is). Value
  // false: it is held (left alone: release_held() makes it due).
  sdk::QueueResult<bool> retry_now(const std::string& id, std::int64_t now);
  // Fails every pending recipient (reply "<status> <reason>"), sends the sender one report on
  // them through `reports` (RFC 3464 DSN; none to <> or against NOTIFY) and removes the entry.
  // In three durable steps under the claim: the recipients are marked failed, the entry held
  // and a "bounce" note lists them; the report is made durable; the entry is removed. A crash
  // or a failed report leaves the entry held with the note, and bouncing it again reports on
  // the noted recipients as well: a report may be sent twice, never lost.
  sdk::QueueResult<BounceOutcome> bounce(const std::string& id, sdk::Reports& reports,
                                         const std::string& status = kBounceStatus,
                                         const std::string& reason = kBounceReason);

  // Entries per state at `now`, from a folder scan at most `max_age` old (made now otherwise,
  // re-reading only the envelopes that changed since the last one).
  sdk::QueueResult<QueueStats> stats(std::int64_t now, std::chrono::seconds max_age);
  // Every entry as list() gives it, with its notes.
  using EntryWithNotes = std::pair<sdk::QueueEntry, queue::Notes>;
  sdk::QueueResult<std::vector<EntryWithNotes>> list_with_notes();
  // Enqueue batches committed so far (each: one fsync of messages/, and one of envelopes/ when
  // it wrote envelope files).
  std::size_t enqueue_batches() { return enqueues_.batches(); }
  // Batches committed to the journal (each: one fdatasync), and whether this object owns it.
  std::size_t journal_batches() { return journaled_.batches(); }
  bool journal_owned() const { return journal_ != nullptr && !journal_failed_; }
  std::size_t journal_checkpoints() const { return journal_ ? journal_->checkpoints() : 0; }

  // The envelope text of an entry as stored, from its file or its message file's attribute
  // (for `portico queue show`).
  sdk::QueueResult<std::string> envelope_text(const std::string& id);
  const queue::SpoolLayout& layout() const { return layout_; }
  // What the last open cleaned up (for logs and tests).
  struct Cleanup {
    std::size_t incoming = 0;         // incoming files of dead writers
    std::size_t temp_envelopes = 0;   // half-written envelopes
    std::size_t orphan_messages = 0;  // message files whose enqueue did not finish
    queue::Recovered journal;         // what the journal's recovery did
  };
  Cleanup cleanup() const { return cleanup_; }

 private:
  struct Cached {
    ino_t inode = 0;
    std::int64_t next_attempt = 0;
    std::uint32_t pending = 0;  // recipients pending
    bool held = false;
    bool damaged = false;
    bool envelope_file = false;  // inode is of envelopes/<id>, else of the message file
    bool seen = false;           // during a refresh: still in the folder
  };
  // Where an entry's envelope is: its file in envelopes/, or the message file's attribute.
  struct EntryName {
    ino_t inode = 0;
    bool envelope_file = false;
  };
  // An enqueue waiting for its batch: its envelope is written and fsync'd under a temp name.
  struct PendingEnqueue {
    std::string id;
    fs::path temp;                 // the envelope file's temp name (none when inline)
    bool inline_envelope = false;  // the envelope is the message file's attribute
    bool renamed = false;          // set by the batch once the envelope file has its name
  };

  void clean();
  // Recovers the spool from the journal if no one else owns it; keeps it when options_ say so.
  void recover();
  void remove_old_claims();  // claims/ of earlier versions
  // The batch of enqueues: fsync messages/, rename each envelope, fsync envelopes/.
  void commit_enqueues(std::vector<store::GroupRequest<PendingEnqueue>*>& batch);
  // Brings cache_ up to date with the envelope folder; scan_mutex_ must be held.
  void refresh_cache();
  // The failure for an entry a worker holds: "<id> is being delivered (by process N); left
  // alone".
  queue::QueueFailure busy_failure(const std::string& id) const;
  // The claim of an entry no worker holds (this object's included); throws busy otherwise.
  queue::Claim take_free_claim(const std::string& id);
  // Runs `change(envelope, notes)` on an entry under a free claim, and writes the envelope
  // durably when `change` returns true.
  template <class Change>
  void operate(const std::string& id, Change change);
  std::vector<EntryWithNotes> list_entries(bool with_notes);
  // Every entry by id: names in envelopes/, and in messages/ those whose file carries its
  // envelope (taken as read for a name `known` has as such under the same inode).
  std::map<std::string, EntryName> entry_names(
      const std::map<std::string, Cached>* known = nullptr) const;
  std::string read_envelope_text(const std::string& id) const;
  sdk::Envelope read_envelope(const std::string& id, queue::Notes* notes = nullptr) const;
  sdk::QueueEntry make_entry(const std::string& id, sdk::Envelope envelope) const;
  void write_envelope(const std::string& id, const sdk::Envelope& envelope,
                      const queue::Notes& notes);
  void remove_entry(const std::string& id);
  // Runs `change` on the entry's envelope (and its notes, when `change` takes them too) under
  // its claim (ours, or taken for the call) and writes the result; afterwards our claim is
  // kept when `keep`, a claim taken for the call is always released.
  template <class Change>
  void modify(const std::string& id, bool keep, Change change);
  // Ours (moved out of claims_) if we hold it, else a new one; throws busy when held elsewhere.
  queue::Claim take_claim(const std::string& id, bool* was_ours = nullptr);
  // A new claim of an entry: throws busy when held elsewhere, not_found when there is no such
  // entry; empty (nothing to lock) for an entry whose message file is missing.
  queue::Claim claim_existing(const std::string& id);

  queue::SpoolLayout layout_;
  Cleanup cleanup_;
  std::mutex claims_mutex_;
  std::map<std::string, queue::Claim> claims_;       // claims this object holds
  std::mutex scan_mutex_;                            // one folder scan at a time
  std::map<std::string, Cached> cache_;              // under scan_mutex_
  std::chrono::steady_clock::time_point scanned_{};  // of cache_, under scan_mutex_
  std::int64_t scanned_at_ = 0;                      // the same in Unix time
  store::GroupCommit<PendingEnqueue> enqueues_;
  struct Removal {
    bool envelope_file = false;  // envelopes/ changed (else messages/)
  };
  // The batch of removals: one fsync of each folder they changed.
  void commit_removals(std::vector<store::GroupRequest<Removal>*>& batch);
  store::GroupCommit<Removal> removals_;

  // The journal (owner only): records of enqueues and removals, one fdatasync per batch.
  struct Journaled {
    std::string record;      // encoded (journal.h)
    std::string removed_id;  // a removal: the entry whose files the batch unlinks once durable
  };
  void commit_journal(std::vector<store::GroupRequest<Journaled>*>& batch);
  // Submits a record to the journal's batch; marks the journal failed when the batch fails.
  void journal_submit(Journaled& item);
  // Makes a removal by a process not owning the journal known to the journal's recovery.
  void write_tombstone(const std::string& id);
  QueueOptions options_;
  std::unique_ptr<queue::SpoolJournal> journal_;
  std::atomic<bool> journal_failed_{false};
  store::GroupCommit<Journaled> journaled_;
};

// The factory the server calls once at start (see QueueService's constructor).
std::unique_ptr<QueueService> open_queue(const fs::path& data_dir, QueueOptions options = {});

// The header section of a message file for display: up to the first empty line, at most
// `limit` octets, LF line ends.
std::string read_message_headers(const fs::path& message, std::size_t limit = 64 * 1024);

}  // namespace portico::core
