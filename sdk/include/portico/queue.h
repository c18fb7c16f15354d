// Portico SDK — the outbound mail queue: messages accepted for remote recipients, kept durably
// until every recipient is delivered or has failed.
//
// smtp-in writes a message while it reads DATA/BDAT (RFC 5321 section 4.1.1.4, RFC 3030)
// through an IncomingMessage, seals it once the client's data ends, and hands it to enqueue()
// together with its Envelope: the SMTP envelope (RFC 5321), the DSN parameters of RFC 3461
// (NOTIFY, ORCPT, RET, ENVID), SMTPUTF8 (RFC 6531) and BODY=8BITMIME (RFC 6152). smtp-out takes
// due entries with claim_due(), records each recipient's outcome, and then defers (retry later),
// completes (removes) or fails (holds) the entry.
//
// Guarantees: enqueue() returns an id only once the message and its envelope are durable (files
// and folders fsync'd); after a crash at any point every entry whose id was returned is there,
// whole, and no half-written entry is ever visible. A claim belongs to the process that took it:
// if that process dies, the claim is released and another worker may take the entry.
//
// Threading: every Queue function is thread-safe and never throws (failures come back as a
// QueueError). create_incoming() and IncomingMessage::append() are cheap (buffered writes, no
// fsync) and may run on an I/O thread; everything else blocks on the disk (fsync, directory
// scans) and runs only on the core's worker pool (SessionContext::post_work). An
// IncomingMessage is used by one thread at a time.
//
// ABI: the growth rules of portico/abi.h hold: the structs here are frozen (new data comes in new
// structs through new functions), and the classes grow only by virtual functions appended at
// the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::sdk {

enum class QueueError {
  none,
  not_found,  // no such entry
  busy,       // the entry is claimed by another worker (in this process or another)
  invalid,    // bad argument: malformed id, unsealed message, bad recipient index, ...
  damaged,    // the entry's envelope cannot be parsed (see the message)
  too_new,    // the entry was written by a newer version of Portico
  io,         // a file system failure (see the message)
};

// A result: `error` is none on success, `message` explains a failure for logs and replies.
template <class T>
struct QueueResult {
  QueueError error = QueueError::none;
  std::string message;
  T value{};
  bool ok() const { return error == QueueError::none; }
};

struct QueueStatus {
  QueueError error = QueueError::none;
  std::string message;
  bool ok() const { return error == QueueError::none; }
};

// RFC 3461 section 4.1 NOTIFY, as bits; 0 when the client gave no NOTIFY (the relay then
// behaves as for FAILURE, DELAY). `notify_never` is never combined with the others.
enum DsnNotify : std::uint32_t {
  notify_success = 1u << 0,
  notify_failure = 1u << 1,
  notify_delay = 1u << 2,
  notify_never = 1u << 3,
};

// RFC 3461 section 4.3 RET.
enum class DsnRet { unspecified, full, headers };

enum class RecipientState {
  pending,    // not delivered yet
  delivered,  // accepted by the next hop (reply holds its answer)
  failed,     // permanently refused or given up (reply holds why)
};

struct QueueRecipient {
  std::string address;       // the forward-path, without angle brackets; may hold UTF-8
  std::uint32_t notify = 0;  // DsnNotify bits
  std::string orcpt;         // RFC 3461 ORCPT as "addr-type;address" (xtext decoded); may be empty
  RecipientState state = RecipientState::pending;
  std::string reply;  // the last reply or reason for this recipient, e.g. "550 5.1.1 unknown"
};

struct Envelope {
  std::string sender;  // the reverse-path without brackets; empty: the null sender <>
  std::vector<QueueRecipient> recipients;
  DsnRet ret = DsnRet::unspecified;  // RFC 3461 RET
  std::string envid;                 // RFC 3461 ENVID (xtext decoded); may be empty
  bool smtputf8 = false;             // RFC 6531 SMTPUTF8 was given with MAIL FROM
  bool eight_bit_mime = false;       // RFC 6152 BODY=8BITMIME was given with MAIL FROM
  std::int64_t received = 0;         // Unix time the message was accepted; 0: set by enqueue
  std::string auth_user;             // the authenticated account; empty when none
  std::string client_address;        // the SMTP client's IP address
  std::string helo;                  // the name the client gave in HELO/EHLO
  std::uint32_t attempts = 0;        // delivery attempts so far
  std::int64_t next_attempt = 0;     // Unix time of the next attempt; 0: as soon as possible
  std::string last_error;            // why the last attempt did not finish; may span lines
  bool held = false;                 // failed: kept for the operator, never claimed again
};

struct QueueEntry {
  std::string id;  // letters and digits, unique for the life of the data directory
  Envelope envelope;
  std::uint64_t size = 0;       // octets of the message file
  std::string message_path;     // absolute path of the message file (RFC 5322 octets); read only
  bool claimed = false;         // a worker holds it now (list() and get() only)
  std::int64_t claimed_by = 0;  // process id of that worker when known (list() and get() only)
  std::string damage;           // list() only: not empty when the envelope cannot be read (why)
};

// One recipient's outcome, by its position in Envelope::recipients.
struct RecipientUpdate {
  std::size_t index = 0;
  RecipientState state = RecipientState::pending;
  std::string reply;
};

// A message being received. It lives in a temporary file that disappears when the object is
// destroyed (a crash leaves it for the queue to remove when it next opens); enqueue() and the
// store keep their own links to the sealed file.
class IncomingMessage {
 public:
  virtual ~IncomingMessage() = default;
  // Adds octets through a buffer (no fsync); cheap enough for an I/O thread. After a failure
  // (disk full, ...) every later append and seal() return that same failure.
  virtual QueueStatus append(std::string_view bytes) = 0;
  // Octets appended so far.
  virtual std::uint64_t size() const = 0;
  // Flushes the buffer and makes the file's octets durable (fsync of the file). Its name is
  // temporary and is not made durable: enqueue() and Store::deliver_file() give the sealed file
  // durable names of their own (link + folder fsync). Blocking: worker pool only. Nothing can be
  // appended afterwards.
  virtual QueueStatus seal() = 0;
  virtual bool sealed() const = 0;
  // Removes the file now; the object is then unusable.
  virtual void abort() = 0;
  // The absolute path of the file, complete once sealed (e.g. for the store to hard-link it).
  virtual std::string path() const = 0;

  // --- ABI 1.2 ---
  // seal() without the fsync: the file is complete but its octets may not be on the disk, for
  // a message whose only durable copy is made elsewhere (Store::deliver_unsynced_file, and
  // since ABI 1.11 enqueue(), which then makes the octets durable with the envelope in one
  // fsync; a core of 1.10 or older refuses such a message). Blocking: worker pool only.
  virtual QueueStatus seal_unsynced() = 0;
  // The whole message while none of it has been written to the file yet (a small message,
  // before any seal): a caller may deliver these octets itself (Store::deliver), so that no
  // file is ever created; nullopt once the file exists. Valid until the next call.
  virtual std::optional<std::string_view> held_in_memory() const = 0;
};

class Queue {
 public:
  // A new message writer under <data_dir>/spool/incoming/. Cheap (one open(2)).
  virtual QueueResult<std::unique_ptr<IncomingMessage>> create_incoming() = 0;
  // Adds a sealed message (seal(), or since ABI 1.11 seal_unsynced()) for the envelope's
  // recipients and returns its id once both are durable. received and next_attempt are set to now
  // when 0; recipient states are kept as given. The message stays usable (and must still be
  // destroyed) afterwards.
  virtual QueueResult<std::string> enqueue(const Envelope& envelope, IncomingMessage& message) = 0;

  // --- for the delivering side (smtp-out) ----------------------------------------------------
  // Claims up to `max` entries that are due (next_attempt <= now), not held and not claimed,
  // oldest next_attempt first. Each stays claimed by this process until defer(), complete(),
  // fail(), release() or remove(), or until the process ends.
  virtual QueueResult<std::vector<QueueEntry>> claim_due(std::int64_t now, std::size_t max) = 0;
  // Records outcomes of recipients of a claimed entry, durably; the claim is kept.
  virtual QueueStatus update_recipients(const std::string& id,
                                        const std::vector<RecipientUpdate>& updates) = 0;
  // Another attempt later: counts the attempt, records the error, releases the claim.
  virtual QueueStatus defer(const std::string& id, std::int64_t next_attempt,
                            const std::string& error) = 0;
  // Every recipient is done (delivered, or failed and bounced): removes the entry durably.
  virtual QueueStatus complete(const std::string& id) = 0;
  // Gives up: pending recipients become failed with `reason`, the entry is held (kept for the
  // operator, never claimed again) and the claim released.
  virtual QueueStatus fail(const std::string& id, const std::string& reason) = 0;
  // Lets go of a claim without changing the entry (e.g. at shutdown).
  virtual QueueStatus release(const std::string& id) = 0;

  // --- inspection and administration ------------------------------------------------------
  // Every entry, oldest first; damaged envelopes are listed with `damage` set.
  virtual QueueResult<std::vector<QueueEntry>> list() = 0;
  virtual QueueResult<QueueEntry> get(const std::string& id) = 0;
  // Removes an entry durably; busy when another worker holds it.
  virtual QueueStatus remove(const std::string& id) = 0;

  // --- ABI 1.3 ---
  // Notes the deliverer keeps with an entry, durably, by name (letters, digits, '-', '_'): for
  // example that the delay report was sent, or the TLS outcome of the last attempt. A value is
  // one line of text; an empty one removes the note. The entry must be claimed by the caller.
  virtual QueueStatus set_note(const std::string& id, const std::string& name,
                               const std::string& value) = 0;
  // A note's value; "" when the entry has none of that name.
  virtual QueueResult<std::string> note(const std::string& id, const std::string& name) = 0;

 protected:
  ~Queue() = default;
};

}  // namespace portico::sdk
