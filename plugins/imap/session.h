// imap — one IMAP session: RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1), with IDLE (RFC
// 2177), UIDPLUS (RFC 4315), MOVE (RFC 6851), LITERAL+ (RFC 7888), NAMESPACE (RFC 2342), ID
// (RFC 2971), ENABLE (RFC 5161), SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), CONDSTORE and
// QRESYNC (RFC 7162), ESEARCH (RFC 4731), SASL-IR (RFC 4959), UNSELECT (RFC 3691), CHILDREN (RFC
// 3348), LIST-EXTENDED and LIST-STATUS (RFC 5258, 5819), STATUS=SIZE and APPENDLIMIT (RFC 7889),
// BINARY (RFC 3516), STARTTLS and LOGINDISABLED. Mailbox names are modified UTF-7 (RFC 3501
// section 5.1.3) until ENABLE UTF8=ACCEPT (RFC 6855) or ENABLE IMAP4rev2 makes them UTF-8.
//
// Sans I/O: the core frames lines and literals, runs the timers and counts bad commands; this
// class parses, acts and answers. Guarantees:
// - One command at a time: its store work runs on the worker pool with input paused, and its
//   answer is written on the session's executor, so pipelined commands are answered in order
//   and the worker never touches session state.
// - The selected mailbox's view (sequence number -> UID, and each message's last MODSEQ this
//   session has reported) changes only where RFC 9051 section 7.5.1 allows: new messages, flag
//   changes and expunges made by other sessions (learned from the store's change
//   notifications) are reported after a command completes, never an EXPUNGE during a FETCH,
//   STORE or SEARCH by sequence number, and at once while in IDLE.
// - FETCH answers in batches of at most kFetchBatchOctets of message octets and waits for the
//   output to drain before the next, so a FETCH 1:* BODY[] holds one batch, not the mailbox.
// - Passwords (LOGIN, PLAIN, LOGIN SASL) are refused before TLS unless the operator allows it;
//   the capability list then says LOGINDISABLED.
// - A connection that has not logged in gets the login timeout; IDLE gets the idle timeout.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "append_spool.h"
#include "parser.h"
#include "portico/plugin.h"
#include "portico/sasl.h"
#include "portico/store.h"
#include "settings.h"

namespace portico::imap {

// Message octets gathered for one FETCH batch at most (a single larger message is one batch).
inline constexpr std::size_t kFetchBatchOctets = 1 << 20;
// Messages in one FETCH batch at most.
inline constexpr std::size_t kFetchBatchMessages = 256;
// Pending output above which the session waits for it to drain (the core's throttle size).
inline constexpr std::size_t kOutputHighWater = 256 * 1024;
// A run of a message's octets (BODY[], BODY[2]<0.5000000>, RFC822.TEXT, ...) above this size is
// sent from the store in pieces of kStreamChunk as the output drains, never read whole.
inline constexpr std::uint64_t kStreamFetchAbove = 1 << 20;
inline constexpr std::size_t kStreamChunk = 256 * 1024;
// A message up to this size is read whole for a FETCH of its octets (one read, often from the
// store's database); of a larger one only the octet ranges the items name are read, through the
// part offsets the store keeps.
inline constexpr std::uint64_t kFetchWholeBelow = 64 * 1024;
// \Recent ranges a session keeps (one per claim of new messages; adjacent claims merge).
inline constexpr std::size_t kMaxRecentRanges = 64;
// UIDs kept from the store's notifications between two looks; past that the next look reads the
// whole message list instead.
inline constexpr std::size_t kMaxPendingUids = 10000;

// The selected mailbox as this session sees it.
struct SelectedMailbox {
  std::string name;  // the store's name ("INBOX", "Archive/2024")
  bool read_only = false;
  std::uint32_t uid_validity = 0;
  std::uint32_t uid_next = 1;
  std::uint64_t highest_modseq = 0;
  std::vector<std::uint32_t> uids;  // index + 1 = sequence number; ascending
  // Flag changes up to this MODSEQ are known to the client (told, or seen at SELECT); beyond it,
  // `own` holds the MODSEQ of what this session changed or fetched itself since the last look,
  // so that a look tells only other sessions' changes. Nothing per message otherwise: an idle
  // session's view costs 4 octets a message.
  std::uint64_t reported_modseq = 0;
  std::map<std::uint32_t, std::uint64_t> own;
  std::unique_ptr<sdk::StoreHandle> subscription;
  bool changed = false;  // the store said something changed since the last look
  // What the store's notifications named since the last look (UIDs), so that a look reads only
  // those messages; `unknown` when a notification named none (the whole list is read then).
  std::vector<std::uint32_t> added, expunged, flagged;
  bool unknown = false;
  // RFC 3501 \Recent: the UIDs this session claimed from the store (read-only: saw unclaimed),
  // a range per claim; empty in IMAP4rev2, which has no \Recent.
  sdk::UidSet recent;

  bool is_recent(std::uint32_t uid) const { return in_ranges(recent, uid); }
  std::uint32_t recent_count() const {
    std::uint32_t n = 0;
    for (const auto& r : recent)
      n += static_cast<std::uint32_t>(std::upper_bound(uids.begin(), uids.end(), r.last) -
                                      std::lower_bound(uids.begin(), uids.end(), r.first));
    return n;
  }
  void add_recent(const sdk::UidRange& r) {
    if (r.first > r.last) return;
    if (!recent.empty() && recent.back().last + 1 == r.first) {
      recent.back().last = r.last;
      return;
    }
    if (recent.size() >= kMaxRecentRanges) recent.erase(recent.begin());  // oldest lose \Recent
    recent.push_back(r);
  }
  static bool in_ranges(const sdk::UidSet& set, std::uint32_t uid) {
    for (const auto& r : set)
      if (uid >= r.first && uid <= r.last) return true;
    return false;
  }
};

class ImapSession final : public sdk::Session {
 public:
  ImapSession(sdk::SessionContext& ctx, sdk::Host& host, ImapSettings settings);
  ~ImapSession() override;

  void on_start() override;
  void on_line(std::string_view line) override;
  void on_line_too_long() override;
  void on_bytes(std::string_view bytes, bool last) override;
  void on_tls_started() override;
  void on_output_drained() override;
  void on_close() override;
  bool on_final_words(sdk::CloseReason reason) override;

 private:
  enum class State { not_authenticated, authenticated, selected, logout };
  struct FetchJob;

  // input
  void handle_step(const CommandAssembler::Step& step);
  void run(Command& c);
  void dispatch(Command& c);
  bool allowed_in_state(const Command& c);

  // replies
  void tagged(const std::string& tag, std::string_view status, std::string_view text);
  void ok(const Command& c, std::string_view text) { tagged(c.tag, "OK", text); }
  void no(const Command& c, std::string_view text) { tagged(c.tag, "NO", text); }
  void bad(const std::string& tag, std::string_view text);
  void untagged(std::string_view text);
  // Ends the command: writes what other sessions changed, when the command allows it, then
  // `status text` tagged, and reads the next command.
  void complete(const Command& c, std::string_view status, std::string text);
  std::string capabilities() const;
  // Runs work on the worker pool, input paused, then done here.
  void work(std::function<void()> fn, std::function<void()> done);

  // not authenticated (auth.cpp)
  void do_starttls(const Command& c);
  void do_login(const Command& c);
  void do_authenticate(const Command& c);
  void on_sasl(const sdk::SaslEvent& e);
  void logged_in(const std::string& account);
  // The session timeout of the settings (after login, and after IDLE's own).
  void use_session_timeout();
  bool plaintext_allowed() const;

  // mailboxes (mailboxes.cpp)
  void do_select(const Command& c);
  void do_create(const Command& c);
  void do_delete(const Command& c);
  void do_rename(const Command& c);
  void do_subscribe(const Command& c, bool subscribe);
  void do_list(const Command& c);
  void do_status(const Command& c);
  void do_append(Command& c);
  // Octets of a spooled APPEND literal; `last` ends it (writes go to the worker pool).
  void spool_bytes(std::string_view bytes, bool last);
  void do_namespace(const Command& c);
  void do_getquotaroot(const Command& c);
  void do_getquota(const Command& c);
  void do_enable(const Command& c);
  void do_id(const Command& c);
  void do_compress(const Command& c);  // compress.cpp
  void close_mailbox();
  // Closes the selected mailbox, if any, saying so (RFC 7162's CLOSED), before a SELECT.
  void deselect();
  // Mailbox names: the store's are UTF-8; the client's are modified UTF-7 (RFC 3501 section
  // 5.1.3) until it enables UTF8=ACCEPT (RFC 6855) or IMAP4rev2.
  bool utf8_names() const { return utf8_ || rev2_; }
  // The command's mailbox arguments (LIST's reference and patterns too) as the store's names;
  // false when one is refused, the command answered: BAD for 8-bit octets before UTF-8 is
  // enabled or invalid UTF-8 after, NO for invalid modified UTF-7.
  bool take_mailbox_names(Command& c);
  // A store name as the client must see it (an astring); "" when it cannot (not UTF-8).
  std::string wire_mailbox(std::string_view name) const;

  // messages (messages.cpp)
  void do_fetch(const Command& c);
  void fetch_next(const std::shared_ptr<FetchJob>& job);
  // The next piece of a whole message being streamed (FetchJob::stream), then the rest.
  void stream_next(const std::shared_ptr<FetchJob>& job);
  void do_store(const Command& c);
  void do_search(const Command& c);
  void do_copy(const Command& c, bool move);
  void do_expunge(const Command& c);
  void do_close(const Command& c);
  void do_idle(const Command& c);
  void end_idle(bool done);
  // The set as store UIDs (sequence numbers mapped; "*" and "$" resolved).
  sdk::UidSet uid_set(const SequenceSet& set, bool uid) const;
  std::uint32_t seq_of(std::uint32_t uid) const;  // 0: not in the view
  // Looks at the store and writes the untagged responses for what changed; `expunges` false
  // keeps expunged messages in the view for now. Then done().
  void sync(bool expunges, std::function<void()> done);
  void on_store_change(const sdk::StoreChange& change);

  // QRESYNC (qresync.cpp)
  // Removes `gone` (UIDs) from the view; returns the EXPUNGE lines (VANISHED once QRESYNC is
  // enabled) that tell it.
  std::string expunge_lines(const std::vector<std::uint32_t>& gone);
  // After SELECT's untagged responses: VANISHED (EARLIER) and the changed messages' FETCH when
  // the command has a QRESYNC parameter for this UIDVALIDITY. Then done().
  void do_select_qresync(const Command& c, std::function<void()> done);
  // UID FETCH (CHANGEDSINCE m VANISHED): VANISHED (EARLIER) first, then done() (the FETCH
  // responses).
  void fetch_vanished(const Command& c, std::function<void()> done);

  sdk::SessionContext& ctx_;
  sdk::Host& host_;
  ImapSettings settings_;
  State state_ = State::not_authenticated;
  CommandAssembler assembler_;
  std::uint64_t discard_ = 0;  // octets of a refused literal still to be thrown away
  std::string refused_tag_;    // its command's tag
  std::string account_;
  std::optional<SelectedMailbox> selected_;
  std::vector<std::uint32_t> saved_;  // SEARCH RETURN (SAVE) result, as UIDs (RFC 5182)
  bool rev2_ = false;                 // ENABLE IMAP4rev2
  bool condstore_ = false;            // CONDSTORE enabled (by ENABLE or a CONDSTORE command)
  bool qresync_ = false;              // ENABLE QRESYNC: VANISHED instead of EXPUNGE
  bool utf8_ = false;                 // ENABLE UTF8=ACCEPT (RFC 6855)
  std::unique_ptr<sdk::SaslExchange> sasl_;
  std::string sasl_tag_;
  bool idling_ = false;
  std::string idle_tag_;
  bool busy_ = false;        // a command's work is running
  bool compressed_ = false;  // COMPRESS DEFLATE done (RFC 4978)
  std::shared_ptr<FetchJob> fetching_;
  // A large APPEND literal being written to a file (append_spool.h): octets not yet written,
  // and whether the literal under way goes there.
  std::shared_ptr<AppendSpool> spool_;
  std::string spool_pending_;
  bool spooling_ = false;
  std::shared_ptr<bool> alive_;
};

// Helpers shared by the session's files (format.cpp).
// A quoted string, or a literal when it must be (8-bit octets: unless `utf8`, for a client that
// takes UTF-8 quoted strings, RFC 9051 and RFC 6855).
std::string quote(std::string_view s, bool utf8 = false);
std::string astring(std::string_view s, bool utf8 = false);  // an atom when it can be, else quote()
std::string flags_text(const sdk::Flags& f, bool recent = false);
sdk::Flags flags_of(const std::vector<std::string>& names);
std::string imap_date(std::int64_t epoch_seconds);      // "02-Dec-2026 13:32:52 +0000"
std::string store_mailbox(std::string_view imap_name);  // "inbox" -> "INBOX"
bool list_match(std::string_view pattern, std::string_view name, char delimiter);
sdk::UidSet as_ranges(const std::vector<std::uint32_t>& sorted);             // 1,2,3,7 -> 1:3,7
std::string seq_set_text(const std::vector<std::uint32_t>& sorted_numbers);  // "1:3,7"

}  // namespace portico::imap
