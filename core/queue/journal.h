// Portico core — the spool's journal: one preallocated file, spool/journal, to which the queue's
// owner (the server) appends what it enqueues and removes, made durable with one fdatasync per
// group-commit batch instead of fsyncs of each message file and of the spool's folders.
//
// Format (integers little-endian): a header block of kJournalHeader octets ("PTCJRNL1", a 64-bit
// generation, a CRC-32 of both), then records, each: "PJR1", type, id length, envelope length,
// body length, generation, CRC-32 of the payload, CRC-32 of the record's head; then the id, the
// envelope text and the message octets, padded to 8 octets. Records are appended after the last
// one; reading stops at the first record that is not whole or is of another generation, so a
// torn batch (never acknowledged) and what earlier generations left in the file are ignored.
//
// A checkpoint makes everything written to the file system before it durable (syncfs(2)), then
// starts a new, random generation with an empty journal: the records are needed only until the
// files they describe are durable. It runs when the file is full, at open after a crash, and
// when the owner closes the queue. The file grows, written with zeros and fsync'd, a step at a
// time up to its capacity, so that a batch's fdatasync writes data into blocks that exist and
// changes no metadata.
//
// One process owns the journal at a time, by an exclusive flock on the file held for as long as
// it uses it; a process that cannot take it (the CLI while the server runs) does not write it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/queue/spool_files.h"

namespace portico::core::queue {

inline constexpr std::uint64_t kJournalHeader = 4096;
inline constexpr std::uint64_t kJournalCapacity = 16 * 1024 * 1024;
inline constexpr std::uint64_t kJournalGrowth = 1024 * 1024;
// The largest message the journal carries (at most a quarter of its capacity); a larger one is
// made durable in its own file, with an fsync.
inline constexpr std::uint64_t kMaxJournaledMessage = 1024 * 1024;

enum class RecordType : std::uint8_t { enqueued = 1, removed = 2 };

struct JournalRecord {
  RecordType type = RecordType::enqueued;
  std::string id;
  std::string envelope;  // enqueued: the envelope text as enqueued
  std::string body;      // enqueued: the message octets
};

// One record, encoded but for its generation, which SpoolJournal::commit() fills in.
std::string encode_record(RecordType type, std::string_view id, std::string_view envelope = {},
                          std::string_view body = {});
// Fills in an encoded record's generation and the CRC of its head.
void stamp_record(std::string& record, std::uint64_t generation);
// The records of `generation` at the start of `data` (a journal after its header), up to the
// first one that is not whole, has a field out of bounds, or is of another generation.
std::vector<JournalRecord> parse_records(std::string_view data, std::uint64_t generation);

class SpoolJournal {
 public:
  // Opens (creating if needed) the journal `file` and takes its lock, trying for up to `wait`;
  // nullptr when another holder keeps it. `tombstones` is the folder whose files the
  // checkpoint removes (spool/removed/). Throws QueueFailure on I/O errors.
  static std::unique_ptr<SpoolJournal> take(const fs::path& file, const fs::path& tombstones,
                                            std::uint64_t capacity, std::chrono::milliseconds wait);
  SpoolJournal(const SpoolJournal&) = delete;
  SpoolJournal& operator=(const SpoolJournal&) = delete;
  ~SpoolJournal();  // releases the lock

  // The records written since the last checkpoint (before a crash, or by an earlier owner), as
  // read by take(); handed over once (later calls answer none).
  std::vector<JournalRecord> take_records() { return std::exchange(found_, {}); }
  // Appends the records (each from encode_record) and makes them durable with one fdatasync;
  // checkpoints first (and between them) when they do not fit. After each fdatasync,
  // `durable(n)` is told that the first n records are durable, before any checkpoint drops
  // them: what they stand for must be done on disk by then. Throws QueueFailure.
  void commit(const std::vector<std::string*>& records,
              const std::function<void(std::size_t)>& durable);
  // Makes everything written to the file system so far durable and empties the journal (a new
  // generation); then removes the tombstones that were there before. Throws QueueFailure.
  void checkpoint();
  bool empty() const { return end_ == kJournalHeader; }
  std::uint64_t capacity() const { return capacity_; }
  // The largest message this journal carries.
  std::uint64_t max_message() const;
  std::size_t checkpoints() const { return checkpoints_; }

 private:
  SpoolJournal(Fd fd, fs::path file, fs::path tombstones, std::uint64_t capacity);
  void read_header();
  void write_header(std::uint64_t generation);
  void grow(std::uint64_t needed);  // zero-fills the file up to at least `needed` octets
  void write_at_end(const std::string& data);

  Fd fd_;
  fs::path file_, tombstones_;
  std::uint64_t capacity_ = kJournalCapacity;
  std::uint64_t generation_ = 0;
  std::uint64_t end_ = kJournalHeader;        // where the next record goes
  std::uint64_t allocated_ = kJournalHeader;  // octets written (zeros or records) so far
  std::size_t checkpoints_ = 0;
  std::vector<JournalRecord> found_;  // read by take(), until take_records()
};

// Whether `file` may hold records no one has recovered yet: it is locked by its owner (who may
// be writing some), or unlocked with a first record that is whole.
bool journal_in_use(const fs::path& file);

}  // namespace portico::core::queue
