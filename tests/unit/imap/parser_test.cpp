// imap parser: CommandAssembler (lines, synchronizing / non-synchronizing / binary literals fed
// whole and in pieces, the APPEND and command size limits, malformed announcements) and parse()
// for every command kind, every FETCH item, every SEARCH key and the extension syntax (RFC 9051,
// 3501, 7162, 4731, 5258, 6154, 2971, 5182), with the exact error texts of malformed input.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "parser.h"

namespace portico::imap {

// For comparing sets in tests (ADL finds it next to SeqRange).
bool operator==(const SeqRange& a, const SeqRange& b) {
  return a.first == b.first && a.last == b.last;
}

namespace {

using Step = CommandAssembler::Step;
using FK = FetchItem::Kind;
using SK = SearchKey::Kind;

Command ok(std::string_view line) {
  const std::string text = std::string(line) + "\r\n";
  ParseResult r = parse(text);
  EXPECT_TRUE(r.command.has_value()) << line << " -> " << r.error;
  EXPECT_TRUE(r.error.empty());
  return r.command.value_or(Command{});
}

std::string bad(std::string_view line) {
  const std::string text = std::string(line) + "\r\n";
  ParseResult r = parse(text);
  EXPECT_FALSE(r.command.has_value()) << line;
  return r.error;
}

std::vector<SeqRange> ranges(std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> l) {
  std::vector<SeqRange> out;
  for (const auto& [a, b] : l)
    out.push_back({a, b});
  return out;
}

// --- CommandAssembler ---------------------------------------------------------------------------

TEST(ImapAssembler, SimpleLineAndBareLf) {
  CommandAssembler a(1024);
  Step s = a.add_line("a1 NOOP\r\n");
  EXPECT_EQ(s.kind, Step::Kind::complete);
  EXPECT_FALSE(s.append);
  EXPECT_EQ(a.command(), "a1 NOOP\r\n");
  a.reset();
  EXPECT_EQ(a.add_line("a2 NOOP\n").kind, Step::Kind::complete);
  EXPECT_EQ(a.command(), "a2 NOOP\r\n");
  a.reset();
  EXPECT_EQ(a.command(), "");
}

// A large APPEND message goes to a file; the command then reads as an APPEND of an empty
// literal, with its flags, date and mailbox as sent.
TEST(ImapAssembler, ASpooledAppendLiteralLeavesTheRestOfTheCommand) {
  for (std::string announced : {"{300000}", "{300000+}", "~{300000}"}) {
    CommandAssembler a(1 << 20);
    Step s =
        a.add_line("a1 APPEND Sent (\\Seen) \"02-Dec-2026 10:00:00 +0000\" " + announced + "\r\n");
    ASSERT_EQ(s.kind, Step::Kind::literal) << announced;
    EXPECT_TRUE(s.append);
    a.spool_literal();
    ASSERT_EQ(a.add_line("\r\n").kind, Step::Kind::complete);
    ParseResult r = parse(a.command());
    ASSERT_TRUE(r.command) << announced << ": " << r.error;
    EXPECT_EQ(r.command->name, Command::Name::append);
    EXPECT_EQ(r.command->mailbox, "Sent");
    EXPECT_EQ(r.command->flags, std::vector<std::string>{"\\Seen"});
    EXPECT_TRUE(r.command->internal_date.has_value());
    EXPECT_EQ(r.command->message, "");
  }
}

TEST(ImapAssembler, SynchronizingLiteralSplitAcrossPieces) {
  CommandAssembler a(1024);
  Step s = a.add_line("a LOGIN {5}\r\n");
  EXPECT_EQ(s.kind, Step::Kind::literal);
  EXPECT_EQ(s.size, 5u);
  EXPECT_TRUE(s.synchronizing);
  a.add_literal("al");
  a.add_literal("ice");
  s = a.add_line(" {3+}\n");
  EXPECT_EQ(s.kind, Step::Kind::literal);
  EXPECT_EQ(s.size, 3u);
  EXPECT_FALSE(s.synchronizing);
  a.add_literal("p\r\n");
  EXPECT_EQ(a.add_line("\r\n").kind, Step::Kind::complete);
  EXPECT_EQ(a.command(), "a LOGIN {5}\r\nalice {3+}\r\np\r\n\r\n");
  const ParseResult r = parse(a.command());
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->user, "alice");
  EXPECT_EQ(r.command->password, "p\r\n");
}

TEST(ImapAssembler, BinaryLiteralAndAppend) {
  CommandAssembler a(100);
  Step s = a.add_line("t1 aPPend INBOX ~{4+}\r\n");
  EXPECT_EQ(s.kind, Step::Kind::literal);
  EXPECT_TRUE(s.append);
  EXPECT_FALSE(s.synchronizing);
  EXPECT_EQ(s.size, 4u);
  a.add_literal(std::string("a\0b", 3) + "c");
  s = a.add_line("\r\n");
  EXPECT_EQ(s.kind, Step::Kind::complete);
  EXPECT_TRUE(s.append);
  const ParseResult r = parse(a.command());
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->name, Command::Name::append);
  EXPECT_EQ(r.command->message, std::string("a\0bc", 4));
}

TEST(ImapAssembler, AppendMessageMayExceedCommandLimit) {
  CommandAssembler a(200000);
  Step s = a.add_line("t APPEND INBOX {100000}\r\n");
  ASSERT_EQ(s.kind, Step::Kind::literal);
  a.add_literal(std::string(100000, 'x'));
  EXPECT_EQ(a.add_line("\r\n").kind, Step::Kind::complete);
  const ParseResult r = parse(a.command());
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->message.size(), 100000u);
}

TEST(ImapAssembler, AppendOverLimit) {
  CommandAssembler a(100);
  Step s = a.add_line("t9 APPEND INBOX {101}\r\n");
  EXPECT_EQ(s.kind, Step::Kind::too_long);
  EXPECT_TRUE(s.append);
  EXPECT_EQ(s.tag, "t9");
  EXPECT_EQ(a.discard_remaining(), 0u);  // synchronizing: the client sends nothing
  a.reset();
  s = a.add_line("t10 APPEND INBOX {101+}\r\n");
  EXPECT_EQ(s.kind, Step::Kind::too_long);
  EXPECT_EQ(s.tag, "t10");
  EXPECT_EQ(a.discard_remaining(), 101u);
  a.reset();
  EXPECT_EQ(a.discard_remaining(), 0u);
  EXPECT_EQ(a.add_line("t11 APPEND INBOX {100}\r\n").kind, Step::Kind::literal);
}

TEST(ImapAssembler, CommandOverLimit) {
  CommandAssembler a(1 << 20);
  Step s = a.add_line("x1 LOGIN {65536+}\r\n");
  EXPECT_EQ(s.kind, Step::Kind::too_long);
  EXPECT_FALSE(s.append);
  EXPECT_EQ(s.tag, "x1");
  EXPECT_EQ(a.discard_remaining(), 65536u);
  a.reset();
  const std::string line = "x2 LOGIN " + std::string(kMaxCommandBytes, 'a') + "\r\n";
  s = a.add_line(line);
  EXPECT_EQ(s.kind, Step::Kind::too_long);
  EXPECT_EQ(s.tag, "x2");
  EXPECT_EQ(a.discard_remaining(), 0u);
  a.reset();
  // Literals and lines add up.
  ASSERT_EQ(a.add_line("x3 LOGIN {40000}\r\n").kind, Step::Kind::literal);
  a.add_literal(std::string(40000, 'u'));
  s = a.add_line(" {30000}\r\n");
  EXPECT_EQ(s.kind, Step::Kind::too_long);
  EXPECT_EQ(s.tag, "x3");
  // Just under the limit is fine.
  a.reset();
  const std::string fits = "x4 LOGIN a " + std::string(kMaxCommandBytes - 13, 'b') + "\r\n";
  ASSERT_EQ(fits.size(), kMaxCommandBytes);
  EXPECT_EQ(a.add_line(fits).kind, Step::Kind::complete);
}

TEST(ImapAssembler, BadLiteral) {
  CommandAssembler a(1000);
  for (const char* line : {"b1 LOGIN {x}\r\n", "b1 LOGIN {}\r\n", "b1 LOGIN {99999999999}\r\n",
                           "b1 LOGIN {4294967296}\r\n", "b1 LOGIN {-1}\r\n", "b1 LOGIN {+}\r\n",
                           "b1 LOGIN {1++}\r\n"}) {
    a.reset();
    const Step s = a.add_line(line);
    EXPECT_EQ(s.kind, Step::Kind::bad_literal) << line;
    EXPECT_EQ(s.tag, "b1");
  }
  a.reset();
  EXPECT_EQ(a.add_line("b2 APPEND x {4294967295}\r\n").kind, Step::Kind::too_long);
  a.reset();
  // A '}' that closes no literal announcement is an ordinary atom character.
  EXPECT_EQ(a.add_line("b3 LOGIN us} pa}\r\n").kind, Step::Kind::complete);
  a.reset();
  EXPECT_EQ(a.add_line("b4 LOGIN \"{\" x}\r\n").kind, Step::Kind::complete);
}

// --- tags, names, strings -----------------------------------------------------------------------

TEST(ImapParse, SimpleCommandsCaseInsensitive) {
  const std::vector<std::pair<const char*, Command::Name>> cases = {
      {"a CAPABILITY", Command::Name::capability}, {"a noop", Command::Name::noop},
      {"a LogOut", Command::Name::logout},         {"a STARTTLS", Command::Name::starttls},
      {"a NAMESPACE", Command::Name::namespace_},  {"a idle", Command::Name::idle},
      {"a CHECK", Command::Name::check},           {"a close", Command::Name::close},
      {"a UNSELECT", Command::Name::unselect},     {"a EXPUNGE", Command::Name::expunge},
  };
  for (const auto& [line, name] : cases) {
    const Command c = ok(line);
    EXPECT_EQ(c.name, name) << line;
    EXPECT_EQ(c.tag, "a");
    EXPECT_FALSE(c.uid);
  }
  EXPECT_EQ(bad("a NOOP extra"), "unexpected characters after command");
  EXPECT_EQ(bad("a NOOP "), "unexpected characters after command");
}

TEST(ImapParse, Tags) {
  EXPECT_EQ(ok("A0001.x] NOOP").tag, "A0001.x]");
  EXPECT_EQ(parse("+a NOOP\r\n").tag, "*");
  EXPECT_EQ(bad("a+b NOOP"), "invalid tag");
  EXPECT_EQ(bad("* NOOP"), "invalid tag");
  EXPECT_EQ(bad("a%b NOOP"), "invalid tag");
  EXPECT_EQ(bad("\"a\" NOOP"), "invalid tag");
  EXPECT_EQ(bad(""), "empty command");
  const ParseResult r = parse("t7\r\n");
  EXPECT_EQ(r.tag, "t7");
  EXPECT_EQ(r.error, "missing command");
  EXPECT_EQ(bad("t FROB"), "unknown command");
  EXPECT_EQ(parse("t8 FROB\r\n").tag, "t8");
  EXPECT_EQ(bad("t UID LOGIN"), "unknown UID command");
  EXPECT_EQ(bad("t UID"), "missing command");
  EXPECT_EQ(bad("t (NOOP"), "unknown command");
}

TEST(ImapParse, Login) {
  Command c = ok("a LOGIN alice \"pa ss\\\"w\\\\d\"");
  EXPECT_EQ(c.name, Command::Name::login);
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.password, "pa ss\"w\\d");
  c = ok("a login {5}\r\nal ce \"\"");
  EXPECT_EQ(c.user, "al ce");
  EXPECT_EQ(c.password, "");
  c = ok("a LOGIN \"jos\xc3\xa9\" x]y");
  EXPECT_EQ(c.user, "jos\xc3\xa9");
  EXPECT_EQ(c.password, "x]y");
  EXPECT_EQ(bad("a LOGIN alice"), "missing argument");
  EXPECT_EQ(bad("a LOGIN"), "missing argument");
  EXPECT_EQ(bad("a LOGIN alice "), "missing argument");
  EXPECT_EQ(bad("a LOGIN alice  x"), "invalid string");
  EXPECT_EQ(bad("a LOGIN \"a\\x\" b"), "invalid quoted string");
  EXPECT_EQ(bad("a LOGIN \"a\rb\" b"), "invalid quoted string");
  EXPECT_EQ(bad("a LOGIN \"ab b"), "invalid quoted string");  // runs into the CRLF
  EXPECT_EQ(bad("a LOGIN \"\xc3\" b"), "invalid UTF-8 in quoted string");
  EXPECT_EQ(bad("a LOGIN \"\xed\xa0\x80\" b"), "invalid UTF-8 in quoted string");
  EXPECT_EQ(bad("a LOGIN \"\xc0\xaf\" b"), "invalid UTF-8 in quoted string");
  EXPECT_EQ(bad("a LOGIN a%b c"), "expected space");
  EXPECT_EQ(bad("a LOGIN (x) y"), "invalid string");
  EXPECT_EQ(bad(std::string("a LOGIN {3}\r\na\0b c", 18)), "NUL in literal");
  EXPECT_EQ(bad("a LOGIN ~{1}\r\na b"), "binary literal not allowed here");
  EXPECT_EQ(bad("a LOGIN {10}\r\nab"), "truncated literal");
  EXPECT_EQ(bad("a LOGIN {1x}\r\na b"), "invalid literal");
  EXPECT_EQ(bad("a LOGIN {99999999999}\r\na b"), "invalid literal");
  EXPECT_EQ(parse("a LOGIN \"x\" \"unterminated").error, "unterminated quoted string");
}

TEST(ImapParse, Authenticate) {
  Command c = ok("a AUTHENTICATE plain");
  EXPECT_EQ(c.name, Command::Name::authenticate);
  EXPECT_EQ(c.mechanism, "PLAIN");
  EXPECT_FALSE(c.initial_response);
  c = ok("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==");
  EXPECT_EQ(c.initial_response, "AGFsaWNlAHNlY3JldA==");
  c = ok("a AUTHENTICATE XOAUTH2 =");
  ASSERT_TRUE(c.initial_response);
  EXPECT_EQ(*c.initial_response, "");
  EXPECT_EQ(bad("a AUTHENTICATE PLAIN abc"), "invalid base64");
  EXPECT_EQ(bad("a AUTHENTICATE PLAIN ab=c"), "invalid base64");
  EXPECT_EQ(bad("a AUTHENTICATE PLAIN a*=="), "invalid base64");
  EXPECT_EQ(bad("a AUTHENTICATE"), "missing argument");
}

TEST(ImapParse, EnableIdNamespace) {
  Command c = ok("a ENABLE condstore QRESYNC UTF8=ACCEPT");
  EXPECT_EQ(c.name, Command::Name::enable);
  EXPECT_EQ(c.capabilities, (std::vector<std::string>{"CONDSTORE", "QRESYNC", "UTF8=ACCEPT"}));
  EXPECT_EQ(bad("a ENABLE"), "missing argument");
  c = ok("a ID nil");
  EXPECT_EQ(c.name, Command::Name::id);
  EXPECT_TRUE(c.id_params.empty());
  c = ok("a ID (\"name\" \"Thunderbird\" \"os\" NIL \"v\" {3}\r\n1.0)");
  ASSERT_EQ(c.id_params.size(), 3u);
  EXPECT_EQ(c.id_params[0], (std::pair<std::string, std::string>{"name", "Thunderbird"}));
  EXPECT_EQ(c.id_params[1], (std::pair<std::string, std::string>{"os", ""}));
  EXPECT_EQ(c.id_params[2], (std::pair<std::string, std::string>{"v", "1.0"}));
  EXPECT_TRUE(ok("a ID ()").id_params.empty());
  EXPECT_EQ(bad("a ID (\"name\")"), "expected space");
  EXPECT_EQ(bad("a ID (name \"x\")"), "invalid string");
  EXPECT_EQ(bad("a ID NILS"), "expected (");
  EXPECT_EQ(bad("a ID"), "missing argument");
}

TEST(ImapParse, Mailboxes) {
  Command c = ok("a SELECT inbox");
  EXPECT_EQ(c.name, Command::Name::select);
  EXPECT_EQ(c.mailbox, "inbox");
  EXPECT_EQ(ok("a EXAMINE \"Sent Items\"").mailbox, "Sent Items");
  EXPECT_EQ(ok("a DELETE {3}\r\nx y").mailbox, "x y");
  EXPECT_EQ(ok("a SUBSCRIBE Lists/imap").name, Command::Name::subscribe);
  EXPECT_EQ(ok("a UNSUBSCRIBE Lists/imap").name, Command::Name::unsubscribe);
  c = ok("a RENAME old \"new name\"");
  EXPECT_EQ(c.name, Command::Name::rename);
  EXPECT_EQ(c.mailbox, "old");
  EXPECT_EQ(c.mailbox2, "new name");
  // "~" starts an atom ("~peter/mail", RFC 3501 section 5.1.3); only "~{" a binary literal.
  EXPECT_EQ(ok("a CREATE ~peter/mail/&U,BTFw-").mailbox, "~peter/mail/&U,BTFw-");
  c = ok("a LIST ~peter/ ~%");
  EXPECT_EQ(c.reference, "~peter/");
  EXPECT_EQ(c.patterns, std::vector<std::string>{"~%"});
  c = ok("a GETQUOTA \"\"");
  EXPECT_EQ(c.name, Command::Name::getquota);
  EXPECT_EQ(c.mailbox, "");
  c = ok("a GETQUOTAROOT INBOX");
  EXPECT_EQ(c.name, Command::Name::getquotaroot);
  EXPECT_EQ(c.mailbox, "INBOX");
  c = ok("a compress deflate");
  EXPECT_EQ(c.name, Command::Name::compress);
  EXPECT_EQ(c.mechanism, "DEFLATE");
  EXPECT_EQ(bad("a COMPRESS GZIP"), "unknown compression mechanism");
  EXPECT_EQ(bad("a RENAME old"), "missing argument");
  EXPECT_EQ(bad("a SELECT"), "missing argument");
  EXPECT_EQ(bad("a SELECT a*b"), "unexpected characters after command");
}

TEST(ImapParse, CreateSpecialUse) {
  Command c = ok("a CREATE Sent (USE (\\Sent \\Archive))");
  EXPECT_EQ(c.name, Command::Name::create);
  EXPECT_EQ(c.mailbox, "Sent");
  EXPECT_EQ(c.use, (std::vector<std::string>{"\\Sent", "\\Archive"}));
  EXPECT_TRUE(ok("a CREATE x (use ())").use.empty());
  EXPECT_EQ(bad("a CREATE x (FOO (\\Sent))"), "unknown CREATE parameter");
  EXPECT_EQ(bad("a CREATE x (USE (Sent))"), "invalid special-use attribute");
  EXPECT_EQ(bad("a CREATE x (USE (\\Sent)"), "missing argument");
  EXPECT_EQ(bad("a CREATE x (USE (\\Sent)]"), "expected )");
}

TEST(ImapParse, SelectCondstoreQresync) {
  Command c = ok("a SELECT INBOX (condstore)");
  EXPECT_TRUE(c.condstore);
  EXPECT_FALSE(c.qresync);
  c = ok("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))");
  EXPECT_TRUE(c.qresync);
  EXPECT_EQ(c.qresync_uidvalidity, 67890007u);
  EXPECT_EQ(c.qresync_modseq, 20050715194045000u);
  ASSERT_TRUE(c.qresync_known_uids);
  EXPECT_EQ(c.qresync_known_uids->ranges, ranges({{41, 41}, {43, 211}, {214, 541}}));
  EXPECT_FALSE(c.qresync_seq_match);
  c = ok("a EXAMINE INBOX (QRESYNC (1 2 1:10 (1,5 3,9)) CONDSTORE)");
  EXPECT_EQ(c.name, Command::Name::examine);
  EXPECT_TRUE(c.condstore);
  ASSERT_TRUE(c.qresync_seq_match);
  EXPECT_EQ(c.qresync_seq_match->first.ranges, ranges({{1, 1}, {5, 5}}));
  EXPECT_EQ(c.qresync_seq_match->second.ranges, ranges({{3, 3}, {9, 9}}));
  c = ok("a SELECT INBOX (QRESYNC (1 2 (1 3)))");
  EXPECT_FALSE(c.qresync_known_uids);
  ASSERT_TRUE(c.qresync_seq_match);
  c = ok("a SELECT INBOX (QRESYNC (1 2))");
  EXPECT_FALSE(c.qresync_known_uids);
  EXPECT_EQ(bad("a SELECT INBOX (QRESYNC (0 2))"), "invalid number");
  EXPECT_EQ(bad("a SELECT INBOX (QRESYNC (1 0))"), "invalid number");
  EXPECT_EQ(bad("a SELECT INBOX (QRESYNC (1 2 1:*))"), "invalid sequence set");
  EXPECT_EQ(bad("a SELECT INBOX (QRESYNC (1 2 $))"), "invalid sequence set");
  EXPECT_EQ(bad("a SELECT INBOX (QRESYNC (4294967296 2))"), "number out of range");
  EXPECT_EQ(bad("a SELECT INBOX (QRESYNC (1 9223372036854775808))"), "number out of range");
  EXPECT_EQ(bad("a SELECT INBOX (FOO)"), "unknown SELECT parameter");
  EXPECT_EQ(bad("a SELECT INBOX ()"), "invalid atom");
}

TEST(ImapParse, ListExtendedAndLsub) {
  Command c = ok("a LIST \"\" %");
  EXPECT_EQ(c.name, Command::Name::list);
  EXPECT_EQ(c.reference, "");
  EXPECT_EQ(c.patterns, (std::vector<std::string>{"%"}));
  c =
      ok("a list (subscribed RECURSIVEMATCH) \"~/\" (\"a\" b/* {2}\r\n%c) return (CHILDREN "
         "SUBSCRIBED SPECIAL-USE STATUS (MESSAGES unseen))");
  EXPECT_EQ(c.select_options, (std::vector<std::string>{"SUBSCRIBED", "RECURSIVEMATCH"}));
  EXPECT_EQ(c.reference, "~/");
  EXPECT_EQ(c.patterns, (std::vector<std::string>{"a", "b/*", "%c"}));
  EXPECT_EQ(c.return_options,
            (std::vector<std::string>{"CHILDREN", "SUBSCRIBED", "SPECIAL-USE", "STATUS"}));
  EXPECT_EQ(c.status_items, (std::vector<std::string>{"MESSAGES", "UNSEEN"}));
  c = ok("a LIST () \"\" x RETURN ()");
  EXPECT_TRUE(c.select_options.empty());
  EXPECT_TRUE(c.return_options.empty());
  EXPECT_EQ(ok("a LIST (REMOTE SPECIAL-USE) \"\" *").select_options.size(), 2u);
  EXPECT_EQ(bad("a LIST (RECURSIVEMATCH) \"\" *"), "RECURSIVEMATCH needs another selection option");
  EXPECT_EQ(bad("a LIST (FOO) \"\" *"), "unknown LIST selection option");
  EXPECT_EQ(bad("a LIST \"\" * RETURN (FOO)"), "unknown LIST return option");
  EXPECT_EQ(bad("a LIST \"\" * FOO (CHILDREN)"), "expected RETURN");
  EXPECT_EQ(bad("a LIST \"\" ()"), "invalid atom");
  EXPECT_EQ(bad("a LIST \"\""), "missing argument");
  c = ok("a LSUB \"#news.\" comp.%");
  EXPECT_EQ(c.name, Command::Name::lsub);
  EXPECT_EQ(c.reference, "#news.");
  EXPECT_EQ(c.patterns, (std::vector<std::string>{"comp.%"}));
}

TEST(ImapParse, Status) {
  const Command c =
      ok("a STATUS INBOX (messages UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT "
         "HIGHESTMODSEQ)");
  EXPECT_EQ(c.name, Command::Name::status);
  EXPECT_EQ(c.status_items,
            (std::vector<std::string>{"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED",
                                      "SIZE", "RECENT", "HIGHESTMODSEQ"}));
  EXPECT_EQ(bad("a STATUS INBOX (FOO)"), "unknown status item");
  EXPECT_EQ(bad("a STATUS INBOX ()"), "invalid atom");
  EXPECT_EQ(bad("a STATUS INBOX MESSAGES"), "expected (");
}

TEST(ImapParse, Append) {
  Command c =
      ok("a APPEND saved-messages (\\Seen $Junk) \" 5-Mar-2024 10:11:12 +0100\" {5}\r\n"
         "hello");
  EXPECT_EQ(c.name, Command::Name::append);
  EXPECT_EQ(c.mailbox, "saved-messages");
  EXPECT_EQ(c.flags, (std::vector<std::string>{"\\Seen", "$Junk"}));
  ASSERT_TRUE(c.internal_date);
  EXPECT_EQ(*c.internal_date, 1709629872);
  EXPECT_EQ(c.message, "hello");
  c = ok("a APPEND x \"31-Dec-1999 23:59:59 -0530\" {0+}\r\n");
  EXPECT_EQ(c.internal_date, 946704599);
  EXPECT_TRUE(c.flags.empty());
  EXPECT_EQ(c.message, "");
  c = ok(std::string("a APPEND x () ~{3}\r\na\0b", 23));
  EXPECT_EQ(c.message, std::string("a\0b", 3));
  EXPECT_FALSE(c.internal_date);
  EXPECT_EQ(bad("a APPEND x \"31-Dec-1999 24:00:00 +0000\" {1}\r\nx"), "invalid date-time");
  EXPECT_EQ(bad("a APPEND x \"30-Feb-2000 10:00:00 +0000\" {1}\r\nx"), "invalid date-time");
  EXPECT_EQ(bad("a APPEND x \"1-Feb-2000 10:00:00 0000\" {1}\r\nx"), "invalid date-time");
  EXPECT_EQ(bad("a APPEND x hello"), "expected literal");
  EXPECT_EQ(bad("a APPEND x (\\Seen"), "missing argument");
  EXPECT_EQ(bad("a APPEND x {1}\r\nab"), "unexpected characters after command");
  EXPECT_EQ(bad("a APPEND x"), "missing argument");
}

TEST(ImapParse, ListLimitsAndEmptyLiteral) {
  std::string flags = "a STORE 1 FLAGS (x";
  for (std::size_t i = 0; i < kMaxListItems; ++i)
    flags += " x" + std::to_string(i);
  EXPECT_EQ(bad(flags + ")"), "too many items");
  std::string id = "a ID (";
  for (std::size_t i = 0; i <= kMaxListItems; ++i)
    id += "\"k\" \"v\" ";
  id.back() = ')';
  EXPECT_EQ(bad(id), "too many items");
  CommandAssembler a(10);
  const Step s = a.add_line("z LOGIN {0}\r\n");
  ASSERT_EQ(s.kind, Step::Kind::literal);
  EXPECT_EQ(s.size, 0u);
  EXPECT_EQ(a.add_line(" ~{1}\r\n").kind, Step::Kind::literal);
  a.add_literal("p");
  ASSERT_EQ(a.add_line("\r\n").kind, Step::Kind::complete);
  EXPECT_EQ(parse(a.command()).error, "binary literal not allowed here");
}

// --- sequence sets ------------------------------------------------------------------------------

TEST(ImapParse, SequenceSets) {
  Command c = ok("a COPY 1,3:5,7:*,*:2,4:2 Trash");
  EXPECT_EQ(c.name, Command::Name::copy);
  EXPECT_EQ(c.set.ranges, ranges({{1, 1}, {3, 5}, {7, kStar}, {kStar, 2}, {4, 2}}));
  EXPECT_FALSE(c.set.saved);
  EXPECT_EQ(c.mailbox, "Trash");
  c = ok("a MOVE $ Archive");
  EXPECT_EQ(c.name, Command::Name::move);
  EXPECT_TRUE(c.set.saved);
  EXPECT_TRUE(c.set.ranges.empty());
  EXPECT_TRUE(ok("a UID MOVE 5,$ x").set.saved);
  for (const char* set : {"0", "1:", ":1", ",1", "1,,2", "1:2:3", "1:0", "a", "1.5", "-1"})
    EXPECT_EQ(bad(std::string("a COPY ") + set + " x"), "invalid sequence set") << set;
  EXPECT_EQ(bad("a COPY 4294967296 x"), "invalid sequence set");
  std::string many = "a COPY 1";
  for (std::size_t i = 0; i < kMaxListItems; ++i)
    many += ",1";
  EXPECT_EQ(bad(many + " x"), "too many items");
}

TEST(ImapParse, UidCommands) {
  Command c = ok("a UID EXPUNGE 3:5");
  EXPECT_EQ(c.name, Command::Name::expunge);
  EXPECT_TRUE(c.uid);
  EXPECT_EQ(c.set.ranges, ranges({{3, 5}}));
  EXPECT_EQ(bad("a UID EXPUNGE"), "missing argument");
  EXPECT_EQ(bad("a EXPUNGE 1"), "unexpected characters after command");
  EXPECT_TRUE(ok("a uid copy 1 x").uid);
  EXPECT_TRUE(ok("a UID SEARCH ALL").uid);
  EXPECT_TRUE(ok("a UID STORE 1 FLAGS ()").uid);
  EXPECT_TRUE(ok("a UID FETCH 1 UID").uid);
}

// --- FETCH --------------------------------------------------------------------------------------

TEST(ImapFetch, Macros) {
  Command c = ok("a FETCH 1:* all");
  ASSERT_EQ(c.items.size(), 4u);
  EXPECT_EQ(c.items[0].kind, FK::flags);
  EXPECT_EQ(c.items[1].kind, FK::internaldate);
  EXPECT_EQ(c.items[2].kind, FK::rfc822_size);
  EXPECT_EQ(c.items[3].kind, FK::envelope);
  EXPECT_EQ(ok("a FETCH 1 FAST").items.size(), 3u);
  c = ok("a FETCH 1 Full");
  ASSERT_EQ(c.items.size(), 5u);
  EXPECT_EQ(c.items[4].kind, FK::body);
  EXPECT_EQ(bad("a FETCH 1 (ALL)"), "unknown fetch item");
  EXPECT_EQ(bad("a FETCH 1 (FLAGS FAST)"), "unknown fetch item");
}

TEST(ImapFetch, SimpleItems) {
  const Command c =
      ok("a FETCH 2 (uid FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY "
         "RFC822 RFC822.HEADER RFC822.TEXT MODSEQ)");
  const std::vector<FK> kinds = {
      FK::uid,  FK::flags,  FK::internaldate,  FK::rfc822_size, FK::envelope, FK::bodystructure,
      FK::body, FK::rfc822, FK::rfc822_header, FK::rfc822_text, FK::modseq};
  ASSERT_EQ(c.items.size(), kinds.size());
  for (std::size_t i = 0; i < kinds.size(); ++i)
    EXPECT_EQ(c.items[i].kind, kinds[i]) << i;
  EXPECT_TRUE(c.items[8].peek);
  EXPECT_EQ(c.items[8].section.text, Section::Text::header);
  EXPECT_FALSE(c.items[9].peek);
  EXPECT_EQ(c.items[9].section.text, Section::Text::text);
  EXPECT_EQ(ok("a FETCH 1 envelope").items.at(0).kind, FK::envelope);
  EXPECT_EQ(bad("a FETCH 1 (FOO)"), "unknown fetch item");
  EXPECT_EQ(bad("a FETCH 1 FLAGS[]"), "unknown fetch item");
  EXPECT_EQ(bad("a FETCH 1 ()"), "unknown fetch item");
  EXPECT_EQ(bad("a FETCH 1 (FLAGS"), "missing argument");
  EXPECT_EQ(bad("a FETCH 1"), "missing argument");
  EXPECT_EQ(bad("a FETCH FLAGS"), "invalid sequence set");
  EXPECT_EQ(bad("a FETCH 1 (FLAGS  UID)"), "unknown fetch item");
}

TEST(ImapFetch, BodySections) {
  Command c =
      ok("a FETCH 1 (BODY[] body.peek[HEADER] BODY[TEXT] BODY[1.2] BODY[3.mime] "
         "BODY[1.HEADER.FIELDS (From \"Subject\")] BODY.PEEK[HEADER.FIELDS.NOT (X-A)]<0.100> "
         "BODY[4.TEXT]<10.5>)");
  ASSERT_EQ(c.items.size(), 8u);
  for (const auto& i : c.items)
    EXPECT_EQ(i.kind, FK::body_section);
  EXPECT_FALSE(c.items[0].peek);
  EXPECT_TRUE(c.items[0].section.part.empty());
  EXPECT_EQ(c.items[0].section.text, Section::Text::none);
  EXPECT_TRUE(c.items[1].peek);
  EXPECT_EQ(c.items[1].section.text, Section::Text::header);
  EXPECT_EQ(c.items[2].section.text, Section::Text::text);
  EXPECT_EQ(c.items[3].section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(c.items[3].section.text, Section::Text::none);
  EXPECT_EQ(c.items[4].section.part, (std::vector<std::uint32_t>{3}));
  EXPECT_EQ(c.items[4].section.text, Section::Text::mime);
  EXPECT_EQ(c.items[5].section.text, Section::Text::header_fields);
  EXPECT_EQ(c.items[5].section.fields, (std::vector<std::string>{"From", "Subject"}));
  EXPECT_EQ(c.items[6].section.text, Section::Text::header_fields_not);
  EXPECT_EQ(c.items[6].partial_origin, 0u);
  EXPECT_EQ(c.items[6].partial_count, 100u);
  EXPECT_FALSE(c.items[5].partial_origin);
  EXPECT_EQ(c.items[7].section.text, Section::Text::text);
  EXPECT_EQ(c.items[7].partial_origin, 10u);
  EXPECT_EQ(c.items[7].partial_count, 5u);
  for (const char* item : {"BODY[MIME]", "BODY[1.]", "BODY[1.FOO]", "BODY[FOO]", "BODY[1HEADER]",
                           "BODY[HEADER.FIELDS]", "BODY[HEADER", "BODY.PEEK", "BODY[1.2.]"}) {
    EXPECT_EQ(bad(std::string("a FETCH 1 ") + item).substr(0, 7), "invalid") << item;
  }
  EXPECT_EQ(bad("a FETCH 1 BODY[HEADER.FIELDS ()]"), "invalid string");
  EXPECT_EQ(bad("a FETCH 1 BODY[0]"), "invalid number");
  EXPECT_EQ(bad("a FETCH 1 BODY[]<1>"), "invalid partial");
  EXPECT_EQ(bad("a FETCH 1 BODY[]<1.0>"), "invalid partial");
  EXPECT_EQ(bad("a FETCH 1 BODY[]<a.1>"), "invalid partial");
  EXPECT_EQ(bad("a FETCH 1 BODY[]<1.2"), "invalid partial");
}

TEST(ImapFetch, BinaryItems) {
  const Command c = ok("a FETCH 1 (BINARY[] BINARY.PEEK[1.2]<0.10> binary.size[3] BINARY.SIZE[])");
  ASSERT_EQ(c.items.size(), 4u);
  EXPECT_EQ(c.items[0].kind, FK::binary);
  EXPECT_FALSE(c.items[0].peek);
  EXPECT_EQ(c.items[1].kind, FK::binary);
  EXPECT_TRUE(c.items[1].peek);
  EXPECT_EQ(c.items[1].section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(c.items[1].partial_origin, 0u);
  EXPECT_EQ(c.items[1].partial_count, 10u);
  EXPECT_EQ(c.items[2].kind, FK::binary_size);
  EXPECT_EQ(c.items[2].section.part, (std::vector<std::uint32_t>{3}));
  EXPECT_EQ(c.items[3].kind, FK::binary_size);
  EXPECT_EQ(bad("a FETCH 1 BINARY[TEXT]"), "invalid section");
  EXPECT_EQ(bad("a FETCH 1 BINARY[1.HEADER]"), "invalid section");
  EXPECT_EQ(bad("a FETCH 1 BINARY"), "invalid section");
  EXPECT_EQ(bad("a FETCH 1 BINARY.SIZE[1]<0.1>"), "unknown fetch item");
}

TEST(ImapFetch, Modifiers) {
  Command c = ok("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
  EXPECT_TRUE(c.uid);
  EXPECT_EQ(c.changed_since, 12345u);
  EXPECT_TRUE(c.vanished);
  c = ok("a FETCH 1 FLAGS (changedsince 1)");
  EXPECT_EQ(c.changed_since, 1u);
  EXPECT_FALSE(c.vanished);
  EXPECT_EQ(bad("a FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)"),
            "VANISHED needs UID FETCH and CHANGEDSINCE");
  EXPECT_EQ(bad("a UID FETCH 1:* FLAGS (VANISHED)"), "VANISHED needs UID FETCH and CHANGEDSINCE");
  EXPECT_EQ(bad("a FETCH 1 FLAGS (CHANGEDSINCE 0)"), "invalid number");
  EXPECT_EQ(bad("a FETCH 1 FLAGS (FOO)"), "unknown FETCH modifier");
  EXPECT_EQ(bad("a FETCH 1 FLAGS (CHANGEDSINCE 1"), "missing argument");
}

TEST(ImapFetch, ItemLimit) {
  std::string line = "a FETCH 1 (UID";
  for (std::size_t i = 0; i < kMaxListItems; ++i)
    line += " UID";
  EXPECT_EQ(bad(line + ")"), "too many items");
}

// --- STORE --------------------------------------------------------------------------------------

TEST(ImapStore, Variants) {
  Command c = ok("a STORE 1:3 +FLAGS (\\Deleted $Forwarded)");
  EXPECT_EQ(c.name, Command::Name::store);
  EXPECT_EQ(c.store_op, Command::StoreOp::add);
  EXPECT_FALSE(c.silent);
  EXPECT_EQ(c.flags, (std::vector<std::string>{"\\Deleted", "$Forwarded"}));
  c = ok("a STORE 2 -flags.silent \\Seen \\Flagged");
  EXPECT_EQ(c.store_op, Command::StoreOp::remove);
  EXPECT_TRUE(c.silent);
  EXPECT_EQ(c.flags, (std::vector<std::string>{"\\Seen", "\\Flagged"}));
  c = ok("a UID STORE 5 (UNCHANGEDSINCE 0) FLAGS ()");
  EXPECT_EQ(c.store_op, Command::StoreOp::replace);
  EXPECT_EQ(c.unchanged_since, 0u);
  EXPECT_TRUE(c.flags.empty());
  EXPECT_EQ(ok("a STORE 1 FLAGS.SILENT (x)").silent, true);
  EXPECT_EQ(bad("a STORE 1 *FLAGS (x)"), "invalid atom");
  EXPECT_EQ(bad("a STORE 1 LABELS (x)"), "unknown STORE item");
  EXPECT_EQ(bad("a STORE 1 FLAGS.LOUD (x)"), "unknown STORE item");
  EXPECT_EQ(bad("a STORE 1 FLAGS"), "missing argument");
  EXPECT_EQ(bad("a STORE 1 FLAGS (\\)"), "invalid flag");
  EXPECT_EQ(bad("a STORE 1 FLAGS (a"), "missing argument");
  EXPECT_EQ(bad("a STORE 1 (FOO 1) FLAGS (a)"), "unknown STORE modifier");
  EXPECT_EQ(bad("a STORE 1 (UNCHANGEDSINCE x) FLAGS (a)"), "invalid number");
}

// --- SEARCH -------------------------------------------------------------------------------------

TEST(ImapSearch, EveryKey) {
  struct Case {
    const char* text;
    SK kind;
  };
  const std::vector<Case> cases = {
      {"ALL", SK::all},
      {"ANSWERED", SK::answered},
      {"DELETED", SK::deleted},
      {"DRAFT", SK::draft},
      {"FLAGGED", SK::flagged},
      {"SEEN", SK::seen},
      {"RECENT", SK::recent},
      {"NEW", SK::new_},
      {"OLD", SK::old},
      {"UNANSWERED", SK::unanswered},
      {"UNDELETED", SK::undeleted},
      {"UNDRAFT", SK::undraft},
      {"UNFLAGGED", SK::unflagged},
      {"UNSEEN", SK::unseen},
  };
  for (const auto& [text, kind] : cases) {
    const Command c = ok(std::string("a SEARCH ") + text);
    EXPECT_EQ(c.name, Command::Name::search);
    ASSERT_EQ(c.search.kind, SK::and_);
    ASSERT_EQ(c.search.children.size(), 1u) << text;
    EXPECT_EQ(c.search.children[0].kind, kind) << text;
    // Keywords are case-insensitive.
    std::string lower = text;
    for (char& ch : lower)
      ch = static_cast<char>(std::tolower(ch));
    EXPECT_EQ(ok("a SEARCH " + lower).search.children.at(0).kind, kind);
  }
}

TEST(ImapSearch, KeysWithArguments) {
  const Command c = ok(
      "a SEARCH KEYWORD $Junk UNKEYWORD foo BEFORE 1-Feb-2024 ON \"2-Feb-2001\" SINCE 03-mar-2002 "
      "SENTBEFORE 1-Jan-2000 SENTON 4-Apr-2003 SENTSINCE 5-May-2004 LARGER 1000 SMALLER 20 "
      "HEADER X-Spam {3}\r\nyes BCC a CC \"b c\" FROM d SUBJECT e TO f BODY g TEXT h UID 1:5,$ "
      "2,4:* MODSEQ 7 MODSEQ \"/flags/\\\\draft\" all 620162338 $");
  const auto& k = c.search.children;
  ASSERT_EQ(k.size(), 23u);
  EXPECT_EQ(k[0].kind, SK::keyword);
  EXPECT_EQ(k[0].text, "$Junk");
  EXPECT_EQ(k[1].kind, SK::unkeyword);
  EXPECT_EQ(k[1].text, "foo");
  EXPECT_EQ(k[2].kind, SK::before);
  EXPECT_EQ(k[2].date, 19754);
  EXPECT_EQ(k[3].kind, SK::on);
  EXPECT_EQ(k[3].date, 11355);
  EXPECT_EQ(k[4].kind, SK::since);
  EXPECT_EQ(k[4].date, 11749);
  EXPECT_EQ(k[5].kind, SK::sentbefore);
  EXPECT_EQ(k[5].date, 10957);
  EXPECT_EQ(k[6].kind, SK::senton);
  EXPECT_EQ(k[6].date, 12146);
  EXPECT_EQ(k[7].kind, SK::sentsince);
  EXPECT_EQ(k[7].date, 12543);
  EXPECT_EQ(k[8].kind, SK::larger);
  EXPECT_EQ(k[8].number, 1000u);
  EXPECT_EQ(k[9].kind, SK::smaller);
  EXPECT_EQ(k[9].number, 20u);
  EXPECT_EQ(k[10].kind, SK::header);
  EXPECT_EQ(k[10].field, "X-Spam");
  EXPECT_EQ(k[10].text, "yes");
  const std::vector<std::pair<SK, std::string>> texts = {
      {SK::bcc, "a"}, {SK::cc, "b c"}, {SK::from, "d"}, {SK::subject, "e"},
      {SK::to, "f"},  {SK::body, "g"}, {SK::text, "h"}};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(k[11 + i].kind, texts[i].first);
    EXPECT_EQ(k[11 + i].text, texts[i].second);
  }
  EXPECT_EQ(k[18].kind, SK::uid);
  EXPECT_EQ(k[18].set.ranges, ranges({{1, 5}}));
  EXPECT_TRUE(k[18].set.saved);
  EXPECT_EQ(k[19].kind, SK::sequence);
  EXPECT_EQ(k[19].set.ranges, ranges({{2, 2}, {4, kStar}}));
  EXPECT_EQ(k[20].kind, SK::modseq);
  EXPECT_EQ(k[20].number, 7u);
  EXPECT_EQ(k[21].kind, SK::modseq);
  EXPECT_EQ(k[21].number, 620162338u);
  EXPECT_EQ(k[22].kind, SK::sequence);
  EXPECT_TRUE(k[22].set.saved);
}

TEST(ImapSearch, Dates) {
  EXPECT_EQ(ok("a SEARCH ON 29-Feb-2024").search.children.at(0).date, 19782);
  EXPECT_EQ(ok("a SEARCH ON 31-Dec-1969").search.children.at(0).date, -1);
  EXPECT_EQ(ok("a SEARCH ON 1-Mar-1900").search.children.at(0).date, -25508);
  for (const char* d : {"29-Feb-2023", "32-Jan-2020", "0-Jan-2020", "1-Foo-2020", "1-Jan-20",
                        "1-Jan-20200", "001-Jan-2020", "1 Jan 2020", "\"1-Jan-2020", "1-jan"})
    EXPECT_EQ(bad(std::string("a SEARCH SINCE ") + d), "invalid date") << d;
}

TEST(ImapSearch, Structure) {
  Command c = ok("a SEARCH OR (FROM bob SEEN) NOT (TO alice) UNSEEN");
  ASSERT_EQ(c.search.children.size(), 2u);
  const SearchKey& o = c.search.children[0];
  EXPECT_EQ(o.kind, SK::or_);
  ASSERT_EQ(o.children.size(), 2u);
  EXPECT_EQ(o.children[0].kind, SK::and_);
  ASSERT_EQ(o.children[0].children.size(), 2u);
  EXPECT_EQ(o.children[0].children[0].kind, SK::from);
  EXPECT_EQ(o.children[0].children[1].kind, SK::seen);
  EXPECT_EQ(o.children[1].kind, SK::not_);
  ASSERT_EQ(o.children[1].children.size(), 1u);
  EXPECT_EQ(o.children[1].children[0].kind, SK::and_);
  EXPECT_EQ(o.children[1].children[0].children.at(0).text, "alice");
  EXPECT_EQ(c.search.children[1].kind, SK::unseen);
  EXPECT_EQ(bad("a SEARCH OR SEEN"), "missing argument");
  EXPECT_EQ(bad("a SEARCH NOT"), "missing argument");
  EXPECT_EQ(bad("a SEARCH (SEEN"), "missing argument");
  EXPECT_EQ(bad("a SEARCH SEEN)"), "expected space");
  EXPECT_EQ(bad("a SEARCH ()"), "invalid atom");
  EXPECT_EQ(bad("a SEARCH"), "missing argument");
  EXPECT_EQ(bad("a SEARCH FOO"), "unknown search key");
  EXPECT_EQ(bad("a SEARCH SEEN  UNSEEN"), "invalid atom");
  EXPECT_EQ(bad("a SEARCH LARGER x"), "invalid number");
  EXPECT_EQ(bad("a SEARCH KEYWORD \\Seen"), "invalid keyword");
  EXPECT_EQ(bad("a SEARCH HEADER X"), "missing argument");
  EXPECT_EQ(bad("a SEARCH UID x"), "invalid sequence set");
  EXPECT_EQ(bad("a SEARCH MODSEQ \"/flags/x\" foo 1"), "invalid MODSEQ entry type");
  EXPECT_EQ(bad("a SEARCH MODSEQ \"x\" all 1"), "invalid MODSEQ entry name");
}

TEST(ImapSearch, DepthAndCountLimits) {
  auto nested = [](std::size_t n) {
    return "a SEARCH " + std::string(n, '(') + "ALL" + std::string(n, ')');
  };
  EXPECT_EQ(ok(nested(kMaxDepth)).search.children.at(0).kind, SK::and_);
  EXPECT_EQ(bad(nested(kMaxDepth + 1)), "nesting too deep");
  std::string nots = "a SEARCH";
  for (std::size_t i = 0; i <= kMaxDepth; ++i)
    nots += " NOT";
  EXPECT_EQ(bad(nots + " ALL"), "nesting too deep");
  EXPECT_EQ(bad("a SEARCH " + std::string(100000, '(')), "nesting too deep");
  std::string many = "a SEARCH ALL";
  for (std::size_t i = 0; i < kMaxListItems; ++i)
    many += " ALL";
  EXPECT_EQ(bad(many), "too many items");
}

TEST(ImapSearch, ReturnAndCharset) {
  Command c = ok("a UID SEARCH return (min MAX ALL COUNT SAVE) charset utf-8 ALL");
  EXPECT_TRUE(c.uid);
  EXPECT_TRUE(c.esearch);
  EXPECT_EQ(c.search_return, (std::vector<std::string>{"MIN", "MAX", "ALL", "COUNT", "SAVE"}));
  EXPECT_EQ(c.charset, "UTF-8");
  c = ok("a SEARCH RETURN () SEEN");
  EXPECT_TRUE(c.esearch);
  EXPECT_TRUE(c.search_return.empty());
  c = ok("a SEARCH CHARSET \"us-ascii\" SUBJECT \"caf\xc3\xa9\"");
  EXPECT_FALSE(c.esearch);
  EXPECT_EQ(c.charset, "US-ASCII");
  EXPECT_EQ(c.search.children.at(0).text, "caf\xc3\xa9");
  EXPECT_EQ(ok("a SEARCH ALL").charset, "");
  const std::string e = bad("a SEARCH CHARSET KOI8-R TEXT x");
  EXPECT_EQ(e.rfind("[BADCHARSET (UTF-8)]", 0), 0u) << e;
  EXPECT_EQ(bad("a SEARCH RETURN (PARTIAL) ALL"), "unknown RETURN option");
  EXPECT_EQ(bad("a SEARCH RETURN (MIN)"), "missing argument");
  EXPECT_EQ(bad("a SEARCH CHARSET UTF-8"), "missing argument");
  // RETURN and CHARSET are keywords only where the grammar puts them.
  EXPECT_EQ(bad("a SEARCH ALL CHARSET UTF-8"), "unknown search key");
}

// --- SORT (RFC 5256, RFC 5957) --------------------------------------------------------------

TEST(ImapParser, SortCriteriaCharsetAndKeys) {
  using Key = Command::SortCriterion::Key;
  Command c = ok("a UID SORT (REVERSE DATE SUBJECT displayfrom) utf-8 UNSEEN FROM \"bob\"");
  EXPECT_EQ(c.name, Command::Name::sort);
  EXPECT_TRUE(c.uid);
  ASSERT_EQ(c.sort.size(), 3u);
  EXPECT_EQ(c.sort[0].key, Key::date);
  EXPECT_TRUE(c.sort[0].reverse);
  EXPECT_EQ(c.sort[1].key, Key::subject);
  EXPECT_FALSE(c.sort[1].reverse);
  EXPECT_EQ(c.sort[2].key, Key::display_from);
  EXPECT_EQ(c.charset, "UTF-8");
  ASSERT_EQ(c.search.children.size(), 2u);
  EXPECT_EQ(c.search.children[1].kind, SK::from);
  EXPECT_EQ(ok("b SORT (ARRIVAL CC TO SIZE FROM DISPLAYTO) US-ASCII ALL").sort.size(), 6u);
}

TEST(ImapParser, ThreadAlgorithmCharsetAndKeys) {
  Command c = ok("a UID THREAD references utf-8 UNSEEN");
  EXPECT_EQ(c.name, Command::Name::thread);
  EXPECT_TRUE(c.uid);
  EXPECT_EQ(c.thread_algorithm, "REFERENCES");
  EXPECT_EQ(ok("b THREAD ORDEREDSUBJECT US-ASCII ALL").thread_algorithm, "ORDEREDSUBJECT");
  EXPECT_EQ(bad("c THREAD FOO UTF-8 ALL"), "unknown threading algorithm");
  EXPECT_EQ(bad("d THREAD REFERENCES X ALL").rfind("[BADCHARSET", 0), 0u);
  EXPECT_FALSE(bad("e THREAD REFERENCES UTF-8").empty());
}

TEST(ImapParser, SortErrors) {
  EXPECT_EQ(bad("a SORT (WEIGHT) UTF-8 ALL"), "unknown sort key");
  EXPECT_FALSE(bad("a SORT () UTF-8 ALL").empty());
  EXPECT_FALSE(bad("a SORT (REVERSE) UTF-8 ALL").empty());
  EXPECT_FALSE(bad("a SORT (DATE) ALL").empty());  // the charset is not optional
  EXPECT_FALSE(bad("a SORT (DATE) UTF-8").empty());
  EXPECT_EQ(bad("a SORT (DATE) KOI8-R ALL").rfind("[BADCHARSET", 0), 0u);
}

}  // namespace
}  // namespace portico::imap
