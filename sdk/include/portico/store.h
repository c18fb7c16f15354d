// Portico SDK — the mail store: mailboxes, messages, flags and change notifications of accounts.
//
// The core owns one Store for the whole process and hands plugins a reference to it. It keeps,
// per account, the mailboxes an IMAP4rev1/rev2 server needs (RFC 3501, RFC 9051): INBOX and the
// special-use mailboxes of RFC 6154 (\Sent \Drafts \Trash \Junk \Archive), created on first use;
// per mailbox UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ (RFC 7162 CONDSTORE); per message a UID
// (ascending, never reused within one UIDVALIDITY), flags and keywords, MODSEQ, internal date,
// size, a stable id (a POP3 UIDL, RFC 1939) and the ENVELOPE and BODYSTRUCTURE computed once at
// delivery.
//
// Guarantees: a call that delivers or appends returns success only once the message is durable
// (body file and its folder fsync'd, metadata committed); after a crash at any point every
// acknowledged message is there and no half message is visible. Many sessions of one account
// (in this process and in others sharing the data directory) may use the store at once.
//
// Threading: every call may block on disk I/O or on another process's lock. Call them only
// from the core's worker pool (SessionContext::post_work), never from a session callback
// directly. All functions are thread-safe. No exception leaves a Store function: failures come
// back as a StoreError in the result.
//
// Backends: the embedded backend (SQLite metadata per account, immutable body files) lives in
// core/store. A backend for several machines (PostgreSQL for metadata, shared storage for
// bodies, LISTEN/NOTIFY for change events) goes beside it, e.g. core/store/pg/, implementing
// this same interface; the core picks one in its store factory (core/store/store.h,
// open_store) from server settings, and plugins, which see only this header, do not change.
//
// ABI: the growth rules of portico/abi.h hold: the structs here are frozen (new data comes in new
// structs through new functions), and the classes grow only by virtual functions appended at
// the end.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace portico::sdk {

enum class StoreError {
  none,
  not_found,     // no such account, mailbox or message
  exists,        // the mailbox already exists
  invalid_name,  // an unusable mailbox name or account address
  over_quota,    // accepting the message would exceed the account's quota
  locked,        // the maildrop lock is held by another session or process
  forbidden,     // not allowed on this mailbox (e.g. deleting INBOX)
  too_new,       // the data was written by a newer version of Portico
  io,            // a file system or database failure (see the message)
};

// A result: `error` is none on success, `message` explains a failure for logs and replies.
template <class T>
struct StoreResult {
  StoreError error = StoreError::none;
  std::string message;
  T value{};
  bool ok() const { return error == StoreError::none; }
};

struct StoreStatus {
  StoreError error = StoreError::none;
  std::string message;
  bool ok() const { return error == StoreError::none; }
};

// IMAP system flags (RFC 3501 section 2.3.2) as bits. \Recent is a session notion and is left
// to the session.
enum SystemFlag : std::uint32_t {
  flag_seen = 1u << 0,
  flag_answered = 1u << 1,
  flag_flagged = 1u << 2,
  flag_deleted = 1u << 3,
  flag_draft = 1u << 4,
};

struct Flags {
  std::uint32_t system = 0;           // SystemFlag bits
  std::vector<std::string> keywords;  // e.g. "$Forwarded", "$Junk"; kept sorted, no duplicates
  bool operator==(const Flags&) const = default;
};

enum class FlagOperation { add, remove, replace };

// A UID range, both ends included; last = 0xffffffff stands for "*".
struct UidRange {
  std::uint32_t first = 1;
  std::uint32_t last = 0xffffffffu;
};
using UidSet = std::vector<UidRange>;  // empty: every message

// RFC 6154 special uses; the store names them "\\Sent", "\\Drafts", ...
struct MailboxInfo {
  std::string name;         // hierarchical, "/" separated; "INBOX" for the inbox
  std::string special_use;  // "" or one RFC 6154 attribute, e.g. "\\Sent"
  bool subscribed = false;
  bool has_children = false;
  std::uint32_t uid_validity = 0;
  std::uint32_t uid_next = 1;
  std::uint64_t highest_modseq = 1;
  std::uint32_t messages = 0;
  std::uint32_t unseen = 0;  // messages without \Seen
};

struct MessageInfo {
  std::uint32_t uid = 0;
  std::uint64_t modseq = 0;
  Flags flags;
  std::int64_t internal_date = 0;  // seconds since the Unix epoch
  std::uint64_t size = 0;          // octets of the message as stored
  std::string id;                  // stable id of this message (POP3 UIDL), unique per account
  // Filled only when asked for (with_mime): IMAP syntax, ready to send.
  std::string envelope;       // RFC 3501 ENVELOPE, e.g. ("date" "subject" ((...)) ...)
  std::string bodystructure;  // RFC 3501 BODYSTRUCTURE, with extension data
  std::string body;           // RFC 3501 BODY (no extension data)
};

// One copy to make at delivery: which account, which mailbox, and the account's quota.
struct DeliveryTarget {
  std::string account;            // address, e.g. "alice@example.org"
  std::string mailbox = "INBOX";  // created if missing
  std::uint64_t quota_bytes = 0;  // 0: unlimited (the directory owns quotas)
};

struct Delivered {
  StoreError error = StoreError::none;  // per target: one full mailbox does not fail the rest
  std::string message;
  std::uint32_t uid_validity = 0;
  std::uint32_t uid = 0;
};

struct AppendRequest {
  std::string account;
  std::string mailbox;
  std::string message;  // RFC 5322 octets, stored as given
  Flags flags;
  std::int64_t internal_date = 0;  // 0: now
  std::uint64_t quota_bytes = 0;   // 0: unlimited
};

struct Appended {
  std::uint32_t uid_validity = 0;
  std::uint32_t uid = 0;
};

// COPY and MOVE (RFC 4315 COPYUID, RFC 6851): the new UIDs in the target, in source order.
struct CopyResult {
  std::uint32_t uid_validity = 0;                             // of the target
  std::vector<std::pair<std::uint32_t, std::uint32_t>> uids;  // (source uid, target uid)
};

struct StoreFlagsResult {
  std::vector<MessageInfo> changed;     // messages whose flags changed (new modseq), no mime
  std::vector<std::uint32_t> modified;  // RFC 7162 UNCHANGEDSINCE failures
};

struct Usage {
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
};

// A change another session (or process) made to a mailbox a subscriber watches.
struct StoreChange {
  enum class Kind { added, expunged, flags };
  Kind kind = Kind::added;
  std::string account;
  std::string mailbox;
  std::vector<std::uint32_t> uids;
  std::uint64_t highest_modseq = 0;
};

// Called on a core thread (never concurrently for one subscription); a plugin posts the change
// onto its session's executor and returns quickly.
using StoreChangeCallback = std::function<void(const StoreChange&)>;

// ABI 1.6: what Store::vanished() answers (RFC 7162 section 3.2.5.2, VANISHED (EARLIER)).
struct VanishedUids {
  UidSet uids;           // ascending, disjoint ranges
  bool from_log = true;  // false: the expunge log no longer reaches back to the MODSEQ asked;
                         // uids is then every UID asked for, below UIDNEXT, not in the mailbox
};

// ABI 1.6: an APPEND whose message is in a file (Store::append_file), so that a large one is
// never held whole in memory.
struct AppendFileRequest {
  std::string account;
  std::string mailbox;
  std::string path;  // the RFC 5322 octets, stored as given; the file is left in place
  Flags flags;
  std::int64_t internal_date = 0;  // 0: now
  std::uint64_t quota_bytes = 0;   // 0: unlimited
};

// ABI 1.7: where one MIME part of a stored message lies in its octets (Store::message_parts),
// so that IMAP's BODY[1.2]<0.1024> reads those octets alone instead of the whole message.
struct MessagePart {
  enum class Kind : std::uint8_t { leaf, multipart, message };
  Kind kind = Kind::leaf;
  std::uint64_t header_begin = 0;  // its MIME header (for parts[0], the message's header)
  std::uint64_t header_end = 0;    // after the empty line that ends the header: the content
  std::uint64_t content_end = 0;   // before the line break that precedes a multipart delimiter
  std::string transfer_encoding;   // Content-Transfer-Encoding, lower case; "" when absent
  // Indexes into MessageParts::parts: a multipart's parts in order, or the one body of the
  // message a message/rfc822 part holds (whose header is that message's header).
  std::vector<std::uint32_t> children;
};

// ABI 1.7: the MIME structure of one message as octet offsets. parts[0] is the message's body
// and its header the message's header; RFC 9051 section 6.4.5 part numbers resolve through
// children. A message deeper than the BODYSTRUCTURE limit has its deepest parts as leaves.
struct MessageParts {
  std::uint64_t size = 0;  // octets of the message
  std::vector<MessagePart> parts;
};

// How long the store keeps its log of expunged UIDs (RFC 7162 VANISHED): at least this long
// after each expunge; older entries may be dropped, and Store::vanished() then answers from
// the UIDs that are missing instead.
inline constexpr std::int64_t kExpungeLogDays = 30;

// Held while it lives; destroying it releases what it holds.
class StoreHandle {
 public:
  virtual ~StoreHandle() = default;
};

// A message opened for reading (Store::open_message). Reads block on the disk: call them from the
// worker pool. One reader is used by one thread at a time.
class MessageReader {
 public:
  virtual ~MessageReader() = default;
  virtual std::uint64_t size() const = 0;
  // Up to `max` octets from `offset`; fewer only at the end of the message.
  virtual StoreResult<std::string> read(std::uint64_t offset, std::size_t max) = 0;
};

class Store {
 public:
  // --- mailboxes ---------------------------------------------------------------------------
  virtual StoreResult<std::vector<MailboxInfo>> list_mailboxes(const std::string& account) = 0;
  virtual StoreResult<MailboxInfo> mailbox_status(const std::string& account,
                                                  const std::string& mailbox) = 0;
  // special_use: "" or an RFC 6154 attribute (RFC 6154 CREATE-SPECIAL-USE).
  virtual StoreStatus create_mailbox(const std::string& account, const std::string& mailbox,
                                     const std::string& special_use) = 0;
  // Renames the mailbox and its children; renaming INBOX moves its messages (RFC 3501 6.3.5).
  virtual StoreStatus rename_mailbox(const std::string& account, const std::string& from,
                                     const std::string& to) = 0;
  virtual StoreStatus delete_mailbox(const std::string& account, const std::string& mailbox) = 0;
  virtual StoreStatus set_subscribed(const std::string& account, const std::string& mailbox,
                                     bool subscribed) = 0;

  // --- messages ----------------------------------------------------------------------------
  // One message for several recipients: the body is stored once and shared where the file
  // system allows. Returns one Delivered per target, in order; the outer error is set only when
  // nothing could be done.
  virtual StoreResult<std::vector<Delivered>> deliver(const std::vector<DeliveryTarget>& targets,
                                                      const std::string& message,
                                                      std::int64_t internal_date) = 0;
  virtual StoreResult<Appended> append(const AppendRequest& request) = 0;
  // Metadata of the messages in `uids` whose modseq is above changed_since (0: all).
  virtual StoreResult<std::vector<MessageInfo>> fetch(const std::string& account,
                                                      const std::string& mailbox,
                                                      const UidSet& uids, bool with_mime,
                                                      std::uint64_t changed_since) = 0;
  // The message octets as stored.
  virtual StoreResult<std::string> read_message(const std::string& account,
                                                const std::string& mailbox, std::uint32_t uid) = 0;
  // unchanged_since 0: unconditional (RFC 7162 section 3.1.3 otherwise).
  virtual StoreResult<StoreFlagsResult> store_flags(const std::string& account,
                                                    const std::string& mailbox, const UidSet& uids,
                                                    FlagOperation op, const Flags& flags,
                                                    std::uint64_t unchanged_since) = 0;
  virtual StoreResult<CopyResult> copy(const std::string& account, const std::string& from,
                                       const UidSet& uids, const std::string& to) = 0;
  virtual StoreResult<CopyResult> move(const std::string& account, const std::string& from,
                                       const UidSet& uids, const std::string& to) = 0;
  // Removes the messages flagged \Deleted (within `uids`, RFC 4315 UID EXPUNGE); returns their
  // UIDs.
  virtual StoreResult<std::vector<std::uint32_t>> expunge(const std::string& account,
                                                          const std::string& mailbox,
                                                          const UidSet& uids) = 0;
  // UIDs of messages whose header `field` (From, To, Cc, Bcc, Subject, Message-ID, Date, ...)
  // contains `text` (decoded, case-insensitive), from the index built at delivery.
  virtual StoreResult<std::vector<std::uint32_t>> search_header(const std::string& account,
                                                                const std::string& mailbox,
                                                                const std::string& field,
                                                                const std::string& text) = 0;
  virtual StoreResult<Usage> usage(const std::string& account) = 0;

  // --- sessions ----------------------------------------------------------------------------
  // POP3's exclusive maildrop lock (RFC 1939 section 8), respected by every process sharing
  // the data directory; error locked when held elsewhere. Released with the handle.
  virtual StoreResult<std::unique_ptr<StoreHandle>> lock_maildrop(const std::string& account) = 0;
  // Changes to `mailbox` made after this call, by anyone, reach `callback` (usually within a
  // second) until the handle is destroyed. Destroying the handle waits for a running callback.
  virtual StoreResult<std::unique_ptr<StoreHandle>> subscribe(const std::string& account,
                                                              const std::string& mailbox,
                                                              StoreChangeCallback callback) = 0;

  // --- ABI 1.1 ---
  // deliver() for a message already durable in a file (e.g. a sealed sdk::IncomingMessage): the
  // first copy is a hard link to that file where the file system allows, so the body is not
  // written and fsync'd a second time. The file is left in place.
  virtual StoreResult<std::vector<Delivered>> deliver_file(
      const std::vector<DeliveryTarget>& targets, const std::string& path,
      std::int64_t internal_date) = 0;

  // --- ABI 1.2 ---
  // The message octets to read in pieces, so a large message is never held whole (POP RETR,
  // IMAP FETCH BODY[]). The reader sees the message as it was opened even if it is expunged
  // meanwhile (bodies are immutable).
  virtual StoreResult<std::unique_ptr<MessageReader>> open_message(const std::string& account,
                                                                   const std::string& mailbox,
                                                                   std::uint32_t uid) = 0;
  // read_message() for several messages of one mailbox at once (one lookup in one snapshot),
  // a result per UID in the same order.
  virtual std::vector<StoreResult<std::string>> read_messages(
      const std::string& account, const std::string& mailbox,
      const std::vector<std::uint32_t>& uids) = 0;
  // RFC 3501 \Recent: the UIDs that came into the mailbox after the last claim, as one range
  // (empty when first > last). With `claim` the store records the claim, so that the next one
  // starts after it: a message is recent in exactly one session, the first to claim it (IMAP's
  // SELECT, and its look at new messages while selected); without, it only tells (EXAMINE,
  // STATUS RECENT).
  virtual StoreResult<UidRange> recent_uids(const std::string& account, const std::string& mailbox,
                                            bool claim) = 0;
  // deliver_file() for a file whose octets may not be durable yet (IncomingMessage::
  // seal_unsynced): the store makes them durable itself, keeping a small message in its
  // database (the delivery's commit makes it durable, batched with concurrent ones) or syncing
  // the file before it links it. The file is left in place.
  virtual StoreResult<std::vector<Delivered>> deliver_unsynced_file(
      const std::vector<DeliveryTarget>& targets, const std::string& path,
      std::int64_t internal_date) = 0;

  // --- ABI 1.6 ---
  // The UIDs within `uids` (empty: all) expunged from the mailbox after `modseq` (RFC 7162
  // QRESYNC): from the expunge log while it reaches back that far (kExpungeLogDays), else every
  // UID asked for, below UIDNEXT, that is not in the mailbox (a superset the RFC allows).
  virtual StoreResult<VanishedUids> vanished(const std::string& account, const std::string& mailbox,
                                             const UidSet& uids, std::uint64_t modseq) = 0;
  // append() of a message in a file: read in pieces (its MIME structure parsed from the file),
  // made durable by the store (synced, then hard-linked where the file system allows), never
  // held whole in memory. The file may be removed once this returns.
  virtual StoreResult<Appended> append_file(const AppendFileRequest& request) = 0;

  // --- ABI 1.7 ---
  // The MIME structure of several messages of one mailbox as octet offsets (computed when the
  // message was stored, kept with it), a result per UID in the same order.
  virtual std::vector<StoreResult<MessageParts>> message_parts(
      const std::string& account, const std::string& mailbox,
      const std::vector<std::uint32_t>& uids) = 0;

 protected:
  ~Store() = default;
};

}  // namespace portico::sdk
