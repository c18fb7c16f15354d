// imap — the command parser: client commands of RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1)
// and the extensions the server announces, into typed commands.
//
// Two steps. CommandAssembler gathers one command from the lines the core hands over and the
// literals between them (RFC 9051 section 4.3: "{n}" synchronizing, "{n+}" non-synchronizing
// LITERAL+ of RFC 7888, "~{n}" binary literals of RFC 3516), and tells the session when a
// literal must be asked for with a "+" continuation. parse() then reads the whole command
// (literal octets inline, after their "{n}\r\n") with the RFC's grammar into a Command.
//
// Guarantees: every size is bounded (the command without APPEND's message, the number of
// items in any list, nesting of search keys and parentheses, the literal of an APPEND);
// parse() never throws and never reads past its input; an error gives the reply text for a
// tagged BAD (and the tag, when one could be read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::imap {

// The longest command line, literals included but not APPEND's message (Dovecot's default
// imap_max_line_length is 64 KiB).
inline constexpr std::size_t kMaxCommandBytes = 64 * 1024;
// Items in one parenthesized list, sequence ranges in one set, search keys in one command.
inline constexpr std::size_t kMaxListItems = 1000;
// Depth of nested parentheses (search keys, lists).
inline constexpr std::size_t kMaxDepth = 32;

// Gathers one command. Feed it every line (with its CRLF) and, after a literal was announced,
// its octets; it holds the command as the client sent it.
class CommandAssembler {
 public:
  // max_append: the largest APPEND message accepted (APPENDLIMIT, RFC 7889); other literals
  // count against kMaxCommandBytes.
  explicit CommandAssembler(std::size_t max_append);

  struct Step {
    enum class Kind {
      complete,     // command() is one whole command
      literal,      // the line ended with a literal announcement: feed `size` octets next
      too_long,     // the command (or the APPEND literal) is over its limit: reply BAD (or NO
                    // [TOOBIG] for APPEND, RFC 7889) and discard; see `tag`
      bad_literal,  // a malformed literal announcement ("{x}", "{99999999999}")
    };
    Kind kind = Kind::complete;
    std::uint64_t size = 0;     // literal: its size in octets
    bool synchronizing = true;  // literal: the client waits for "+ " before sending it
    bool append = false;        // the command is an APPEND (its literal is the message)
    std::string tag;            // too_long / bad_literal: the tag, if one could be read
  };

  // A line with its terminator. After kind literal, add_literal() must come first.
  Step add_line(std::string_view line);
  // Octets of the announced literal, in pieces; the sum is the announced size.
  void add_literal(std::string_view bytes);
  // Instead of add_literal(): the announced literal goes elsewhere (an APPEND's message spooled
  // to a file); the command reads as if it had announced an empty one.
  void spool_literal();
  // The whole command; valid after Step::Kind::complete until reset().
  const std::string& command() const { return command_; }
  // Forgets the command (after it was handled or refused).
  void reset();
  // For a refused literal (too_long while non-synchronizing): the octets still to be read
  // and thrown away before the next line.
  std::uint64_t discard_remaining() const { return discard_; }

 private:
  std::size_t max_append_;
  std::string command_;
  std::uint64_t discard_ = 0;
  bool append_ = false;
};

// A number of a sequence set: a value, or "*" (the largest in use).
inline constexpr std::uint32_t kStar = 0xffffffffu;

struct SeqRange {
  std::uint32_t first = 1;  // kStar for "*"
  std::uint32_t last = 1;   // as written: first may be above last ("4:2" means 2:4)
};

struct SequenceSet {
  std::vector<SeqRange> ranges;
  bool saved = false;  // "$": the result saved by SEARCH RETURN (SAVE) (RFC 5182)
};

// A BODY[...] / BINARY[...] section (RFC 9051 section 6.4.5).
struct Section {
  std::vector<std::uint32_t> part;  // "1.2" -> {1, 2}; empty: the whole message
  enum class Text { none, header, header_fields, header_fields_not, text, mime };
  Text text = Text::none;           // none with a part: that part's content
  std::vector<std::string> fields;  // header_fields(_not): as given (compare case-insensitively)
};

struct FetchItem {
  enum class Kind {
    uid,
    flags,
    internaldate,
    rfc822_size,
    envelope,
    bodystructure,
    body,           // BODY without a section: BODYSTRUCTURE without extension data
    body_section,   // BODY[...] and BODY.PEEK[...]
    binary,         // BINARY[...] and BINARY.PEEK[...] (RFC 3516)
    binary_size,    // BINARY.SIZE[...]
    rfc822,         // RFC 3501: BODY[] that sets \Seen
    rfc822_header,  // BODY.PEEK[HEADER]
    rfc822_text,    // BODY[TEXT]
    modseq,         // RFC 7162
  };
  Kind kind = Kind::uid;
  Section section;
  bool peek = false;
  std::optional<std::uint32_t> partial_origin;  // "<origin.count>"
  std::uint32_t partial_count = 0;
};

struct SearchKey {
  enum class Kind {
    all,
    and_,  // children: a parenthesized list, or the implicit AND of the top level
    or_,   // children[0] OR children[1]
    not_,  // children[0]
    answered,
    deleted,
    draft,
    flagged,
    seen,
    recent,
    new_,
    old,
    unanswered,
    undeleted,
    undraft,
    unflagged,
    unseen,
    keyword,
    unkeyword,  // text: the keyword
    before,
    on,
    since,  // date: internal date
    sentbefore,
    senton,
    sentsince,  // date: the Date header
    larger,
    smaller,  // number: RFC822.SIZE
    header,   // field and text
    bcc,
    cc,
    from,
    subject,
    to,  // text (RFC 9051: substring, case-insensitive)
    body,
    text,      // text
    uid,       // set: UIDs
    sequence,  // set: message sequence numbers
    modseq,    // number (RFC 7162; the entry-name/type pair is read and ignored)
  };
  Kind kind = Kind::all;
  std::string field;  // header: the field name
  std::string text;
  std::int64_t date = 0;  // days since 1970-01-01 of the date given (d-MMM-yyyy)
  std::uint64_t number = 0;
  SequenceSet set;
  std::vector<SearchKey> children;
};

struct Command {
  enum class Name {
    capability,
    noop,
    logout,
    starttls,
    authenticate,
    login,
    enable,
    id,
    namespace_,
    select,
    examine,
    create,
    delete_,
    rename,
    subscribe,
    unsubscribe,
    list,
    lsub,
    status,
    append,
    idle,
    check,
    close,
    unselect,
    expunge,
    search,
    sort,
    thread,
    fetch,
    store,
    copy,
    move,
    getquota,
    getquotaroot,
    compress,
  };
  Name name = Name::noop;
  std::string tag;
  bool uid = false;  // "UID FETCH", "UID STORE", ... (and UID EXPUNGE's set)

  // LOGIN: user, password. AUTHENTICATE: mechanism, initial response (if any; "=" is empty).
  std::string user, password, mechanism;
  std::optional<std::string> initial_response;

  // SELECT/EXAMINE/CREATE/DELETE/RENAME/SUBSCRIBE/UNSUBSCRIBE/STATUS/APPEND/COPY/MOVE/
  // GETQUOTAROOT: the mailbox (as sent, "INBOX" in any case kept as sent); RENAME's target
  // and LIST's reference go in mailbox2 / reference. GETQUOTA: the quota root.
  std::string mailbox, mailbox2;

  // SELECT/EXAMINE: (CONDSTORE) and (QRESYNC (uidvalidity modseq [known-uids [seq-match]])).
  bool condstore = false;
  bool qresync = false;
  std::uint32_t qresync_uidvalidity = 0;
  std::uint64_t qresync_modseq = 0;
  std::optional<SequenceSet> qresync_known_uids;
  std::optional<std::pair<SequenceSet, SequenceSet>> qresync_seq_match;

  // CREATE (USE (\Sent)): RFC 6154.
  std::vector<std::string> use;

  // LIST: reference, patterns (one, or a parenthesized list), selection options
  // (SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE) and return options (SUBSCRIBED CHILDREN
  // SPECIAL-USE, and STATUS's items in status_items), upper-cased. LSUB: reference, patterns.
  std::string reference;
  std::vector<std::string> patterns;
  std::vector<std::string> select_options;
  std::vector<std::string> return_options;

  // STATUS: items upper-cased (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT
  // HIGHESTMODSEQ); also LIST ... RETURN (STATUS (...)).
  std::vector<std::string> status_items;

  // APPEND: flags, date-time (seconds since the epoch, its zone applied), the message octets.
  std::vector<std::string> flags;  // also STORE's flag list, as given (e.g. "\\Seen", "$Junk")
  std::optional<std::int64_t> internal_date;
  std::string message;

  // ENABLE: capability names, upper-cased. ID: field/value pairs (empty for NIL).
  std::vector<std::string> capabilities;
  std::vector<std::pair<std::string, std::string>> id_params;

  // FETCH/STORE/COPY/MOVE/SEARCH UID/UID EXPUNGE: the set (UIDs when uid, else sequence numbers).
  SequenceSet set;

  // FETCH: items in order (macros ALL, FAST, FULL expanded); CHANGEDSINCE and VANISHED
  // modifiers (RFC 7162).
  std::vector<FetchItem> items;
  std::optional<std::uint64_t> changed_since;
  bool vanished = false;

  // STORE: +FLAGS / -FLAGS / FLAGS, .SILENT, (UNCHANGEDSINCE n).
  enum class StoreOp { add, remove, replace };
  StoreOp store_op = StoreOp::replace;
  bool silent = false;
  std::optional<std::uint64_t> unchanged_since;

  // SEARCH: [RETURN (MIN MAX ALL COUNT SAVE)] [CHARSET x] keys; `esearch` true when a RETURN
  // option list was given (even empty, which means ALL).
  bool esearch = false;
  std::vector<std::string> search_return;  // upper-cased
  std::string charset;                     // upper-cased; "" when not given
  SearchKey search;                        // the top-level AND

  // SORT (RFC 5256, DISPLAYFROM/DISPLAYTO of RFC 5957): the criteria in order, then the
  // charset (mandatory) and the search keys above.
  struct SortCriterion {
    enum class Key { arrival, cc, date, from, size, subject, to, display_from, display_to };
    Key key = Key::arrival;
    bool reverse = false;
  };
  std::vector<SortCriterion> sort;
  // THREAD (RFC 5256 section 3): the algorithm, upper-cased (ORDEREDSUBJECT or REFERENCES),
  // then the charset and the search keys above.
  std::string thread_algorithm;

  // COMPRESS: the mechanism (DEFLATE).
};

struct ParseResult {
  std::optional<Command> command;  // set on success
  std::string tag;                 // the tag, when one could be read ("*" otherwise)
  std::string error;               // on failure: the text of a tagged BAD (no tag, no CRLF)
};

// Parses one whole command as gathered by CommandAssembler (literals inline after "{n}\r\n",
// ending with CRLF). Command names and keywords are case-insensitive.
ParseResult parse(std::string_view command);

}  // namespace portico::imap
