// imap sessions over the real directory and store, the plugin loaded from the build's plugin
// folder. Golden transcripts: every tests/golden/imap/NAME.in must make the plugin answer
// exactly NAME.ref, fed whole and one byte at a time, each over a fresh data directory with
// alice@example.test (password "secret") holding kMessages in INBOX. UIDVALIDITY values (the
// store picks them from the clock) are written as "V" in the .ref files. NAME.setup may say
// "plaintext" (allow LOGIN before TLS) or "implicit_tls". Set PORTICO_UPDATE_GOLDEN=1 to write
// missing .ref files (then read them before committing).
//
// Beyond the transcripts: IDLE woken by a delivery and by another session's flag change, an
// APPEND's synchronizing literal, and the bad-command limit.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "golden.h"
#include "imap_world.h"
#include "portico/store.h"
#include "session_driver.h"

namespace portico::testing {
namespace {

namespace fs = std::filesystem;

std::string masked(std::string out) {
  static const std::regex uidvalidity("(UIDVALIDITY|APPENDUID|COPYUID) [0-9]+");
  return std::regex_replace(out, uidvalidity, "$1 V");
}

std::string run_transcript(const fs::path& in, bool bytewise) {
  ImapWorld world;
  std::string yaml;
  DriverOptions options;
  options.listener = "127.0.0.1:143";
  fs::path setup_path = in;
  setup_path.replace_extension(".setup");
  std::istringstream setup(slurp(setup_path));
  for (std::string line; std::getline(setup, line);) {
    if (line == "plaintext")
      yaml += "allow_plaintext_auth_without_tls: true\n";
    else if (line == "implicit_tls")
      options.implicit_tls = true;
    else if (!line.empty())
      throw std::runtime_error("unknown setup directive: " + line);
  }
  SessionDriver driver(*world.plugin, world.host, world.settings(yaml), options);
  driver.start();
  return masked(feed_transcript(driver, slurp(in), bytewise));
}

TEST(ImapSession, Transcripts) {
  testkit::expect_transcripts(PORTICO_GOLDEN_DIR, run_transcript);
}

TEST(ImapSession, IdleIsWokenByADeliveryAndByAnotherSessionsFlagChange) {
  ImapWorld w;
  auto a = w.connect();
  a->feed("a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\na3 IDLE\r\n");
  std::string out = a->take();
  ASSERT_NE(out.find("+ idling\r\n"), std::string::npos) << out;
  EXPECT_EQ(a->session_timeout(), std::chrono::minutes(29));
  w.deliver("From: x@example.test\r\nSubject: new\r\n\r\nnew\r\n");
  // The store's notification thread posts to the session; the driver runs it on the next feed.
  out.clear();
  for (int i = 0; i < 50 && out.find("EXISTS") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    a->feed("");
    out += a->take();
  }
  EXPECT_EQ(out, "* 4 EXISTS\r\n* 4 RECENT\r\n");  // its own three and the new one

  auto b = w.connect();
  b->feed(
      "b1 LOGIN alice@example.test secret\r\nb2 SELECT INBOX\r\nb3 STORE 2 +FLAGS (\\Flagged)\r\n");
  EXPECT_NE(b->take().find("* 2 FETCH (FLAGS (\\Flagged))"), std::string::npos);
  out.clear();
  for (int i = 0; i < 50 && out.find("FETCH") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    a->feed("");
    out += a->take();
  }
  EXPECT_EQ(out, "* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2)\r\n");
  a->feed("DONE\r\n");
  EXPECT_EQ(a->take(), "a3 OK IDLE terminated\r\n");
  EXPECT_EQ(a->session_timeout(), std::chrono::minutes(30));
}

// RFC 9051 section 7.5.1: another session's expunge is not told during a FETCH by sequence
// number (the numbers the client holds would shift), but after the next NOOP; a flag change is.
TEST(ImapSession, AnotherSessionsExpungeWaitsForACommandThatMayTellIt) {
  ImapWorld w;
  auto a = w.connect();
  a->feed("a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n");
  a->take();
  auto b = w.connect();
  b->feed(
      "b1 LOGIN alice@example.test secret\r\nb2 SELECT INBOX\r\n"
      "b3 STORE 1 +FLAGS.SILENT (\\Deleted)\r\nb4 STORE 3 +FLAGS.SILENT (\\Seen)\r\n"
      "b5 EXPUNGE\r\n");
  EXPECT_NE(b->take().find("* 1 EXPUNGE\r\nb5 OK"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the notifications arrive
  a->feed("");
  a->feed("a3 FETCH 2 (UID)\r\n");
  EXPECT_EQ(a->take(),
            "* 2 FETCH (UID 2)\r\n* 3 FETCH (FLAGS (\\Seen \\Recent) UID 3)\r\na3 OK FETCH "
            "completed\r\n");
  a->feed("a4 NOOP\r\n");
  EXPECT_EQ(a->take(), "* 1 EXPUNGE\r\na4 OK NOOP completed\r\n");
  a->feed("a5 FETCH 1:* (UID)\r\n");
  EXPECT_EQ(a->take(), "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\na5 OK FETCH completed\r\n");
}

// RFC 9051 section 6.3.12: an APPEND (or COPY) into the selected mailbox says EXISTS before its
// OK, and the new UID can be fetched at once.
TEST(ImapSession, AnAppendIntoTheSelectedMailboxIsToldBeforeItsOk) {
  ImapWorld w;
  auto d = w.connect();
  d->feed("a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n");
  d->take();
  d->feed(
      "a3 APPEND INBOX {12+}\r\nSubject: x\r\n\r\na4 UID FETCH 4 (UID RFC822.SIZE)\r\n"
      "a5 COPY 1 INBOX\r\n");
  EXPECT_EQ(masked(d->take()),
            "* 4 EXISTS\r\n* 4 RECENT\r\na3 OK [APPENDUID V 4] APPEND completed\r\n"
            "* 4 FETCH (UID 4 RFC822.SIZE 12)\r\na4 OK FETCH completed\r\n"
            "* 5 EXISTS\r\n* 5 RECENT\r\na5 OK [COPYUID V 1 5] COPY completed\r\n");
}

TEST(ImapSession, AppendWaitsForTheContinuationAndStoresTheMessage) {
  ImapWorld w;
  auto d = w.connect();
  d->feed("a1 LOGIN alice@example.test secret\r\n");
  d->take();
  const std::string message = "Subject: appended\r\n\r\nbody\r\n";
  d->feed("a2 APPEND INBOX (\\Seen) {" + std::to_string(message.size()) + "}\r\n");
  EXPECT_EQ(d->take(), "+ Ready for literal data\r\n");
  d->feed(message + "\r\n");
  std::string out = masked(d->take());
  EXPECT_EQ(out, "a2 OK [APPENDUID V 4] APPEND completed\r\n");
  auto read = w.services.store().read_message("alice@example.test", "INBOX", 4);
  ASSERT_TRUE(read.ok()) << read.message;
  EXPECT_EQ(read.value, message);
}

TEST(ImapSession, AnAppendOverTheLimitIsRefusedBeforeItsOctets) {
  ImapWorld w;
  auto d = w.connect("append_limit: 1KB");
  d->feed("a1 LOGIN alice@example.test secret\r\na2 APPEND INBOX {5000}\r\n");
  std::string out = d->take();
  EXPECT_NE(out.find("a2 NO [TOOBIG]"), std::string::npos) << out;
  EXPECT_EQ(out.find("+ Ready"), std::string::npos) << out;
  d->feed("a3 NOOP\r\n");
  EXPECT_EQ(d->take(), "a3 OK NOOP completed\r\n");
}

TEST(ImapSession, TooManyBadCommandsCloseTheConnection) {
  ImapWorld w;
  auto d = w.connect();
  d->take();
  for (int i = 0; i < 8; ++i)
    d->feed("x" + std::to_string(i) + " FROBNICATE\r\n");
  EXPECT_TRUE(d->closed());
  EXPECT_NE(d->take().find("* BYE too many bad commands"), std::string::npos);
}

// RFC 3501 section 5.1.3: names are modified UTF-7 on the wire and UTF-8 in the store; after
// ENABLE UTF8=ACCEPT (RFC 6855) or ENABLE IMAP4rev2 they are UTF-8 on the wire too.
TEST(ImapSession, MailboxNamesAreModifiedUtf7UntilUtf8IsEnabled) {
  ImapWorld w;
  auto d = w.connect();
  d->feed("a1 LOGIN alice@example.test secret\r\n");
  d->take();
  d->feed(
      "a2 CREATE &ZeVnLIqe-\r\na3 CREATE ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n"
      "a4 CREATE \"AT&-T\"\r\n");
  EXPECT_EQ(d->take(),
            "a2 OK CREATE completed\r\na3 OK CREATE completed\r\na4 OK CREATE completed\r\n");
  for (const char* name : {"日本語", "~peter/mail/台北/日本語", "AT&T"})
    EXPECT_TRUE(w.services.store().mailbox_status("alice@example.test", name).ok()) << name;
  d->feed("a5 LIST \"\" &ZeVnLIqe-\r\na6 LIST ~peter/mail/ %/&ZeVnLIqe-\r\na7 LIST \"\" AT*\r\n");
  EXPECT_EQ(d->take(),
            "* LIST (\\HasNoChildren) \"/\" &ZeVnLIqe-\r\na5 OK LIST completed\r\n"
            "* LIST (\\HasNoChildren) \"/\" ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n"
            "a6 OK LIST completed\r\n"
            "* LIST (\\HasNoChildren) \"/\" AT&-T\r\na7 OK LIST completed\r\n");
  d->feed("a8 STATUS &ZeVnLIqe- (MESSAGES)\r\na9 GETQUOTAROOT &ZeVnLIqe-\r\n");
  std::string out = d->take();
  EXPECT_EQ(out.rfind("* STATUS &ZeVnLIqe- (MESSAGES 0)\r\na8 OK STATUS completed\r\n"
                      "* QUOTAROOT &ZeVnLIqe- \"\"\r\n",
                      0),
            0u)
      << out;
  d->feed(
      "a10 ENABLE UTF8=ACCEPT\r\na11 LIST \"\" \"日本語\"\r\na12 LIST \"\" &ZeVnLIqe-\r\n"
      "a13 STATUS \"日本語\" (MESSAGES)\r\n");
  EXPECT_EQ(d->take(),
            "* ENABLED UTF8=ACCEPT\r\na10 OK ENABLE completed\r\n"
            "* LIST (\\HasNoChildren) \"/\" \"日本語\"\r\na11 OK LIST completed\r\n"
            "a12 OK LIST completed\r\n"  // now a name of its own, which does not exist
            "* STATUS \"日本語\" (MESSAGES 0)\r\na13 OK STATUS completed\r\n");

  auto rev2 = w.connect();
  rev2->feed("b1 LOGIN alice@example.test secret\r\nb2 ENABLE IMAP4rev2\r\n");
  rev2->take();
  rev2->feed("b3 SELECT \"~peter/mail/台北/日本語\"\r\n");
  out = rev2->take();
  EXPECT_NE(out.find("* LIST () \"/\" \"~peter/mail/台北/日本語\"\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("b3 OK [READ-WRITE] SELECT completed\r\n"), std::string::npos) << out;
}

// A name that is not valid modified UTF-7 (or, after ENABLE UTF8=ACCEPT, not UTF-8) never
// reaches the store: NO for a bad encoding, BAD for 8-bit octets where the grammar has none.
TEST(ImapSession, InvalidMailboxNamesAreRefused) {
  ImapWorld w;
  auto before = w.services.store().list_mailboxes("alice@example.test");
  ASSERT_TRUE(before.ok());
  auto d = w.connect();
  d->feed("a1 LOGIN alice@example.test secret\r\n");
  d->take();
  d->feed(
      "a2 CREATE &AGE-\r\na3 SELECT AT&T\r\na4 CREATE \"caf\xc3\xa9\"\r\n"
      "a5 LIST \"\" \"&ZeVn*\"\r\na6 RENAME INBOX &2D0-\r\n"
      "a7 APPEND &ZeVnLIqe,- {12+}\r\nSubject: x\r\n\r\na8 STATUS \"&ZeVnLIq-\" (MESSAGES)\r\n"
      "a9 SELECT INBOX\r\n");
  std::string out = d->take();
  const std::string no = "NO [CANNOT] Mailbox name is not valid modified UTF-7: ";
  for (const std::string& line : std::vector<std::string>{
           "a2 " + no + "non-minimal encoding\r\n", "a3 " + no + "unterminated &-sequence\r\n",
           "a4 BAD 8-bit mailbox name without ENABLE UTF8=ACCEPT\r\n",
           "a5 " + no + "invalid modified base64\r\n", "a6 " + no + "unpaired UTF-16 surrogate\r\n",
           "a7 " + no + "base64 run not ending on a whole UTF-16 character\r\n",
           "a8 " + no + "base64 run not ending on a whole UTF-16 character\r\n",
           "a9 OK [READ-WRITE] SELECT completed\r\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << " in\n" << out;
  d->feed(
      "a10 COPY 1 &A-\r\na11 MOVE 1 \"&AGE-\"\r\na12 SELECT &A-\r\na13 FETCH 1 FLAGS\r\n"
      "a14 ENABLE UTF8=ACCEPT\r\na15 CREATE {3+}\r\n\xff\xfe\xfd\r\n"
      "a16 CREATE \"caf\xc3\xa9\"\r\n");
  out = d->take();
  for (const std::string& line : std::vector<std::string>{
           "a10 " + no + "base64 run not ending on a whole UTF-16 character\r\n",
           "a11 " + no + "non-minimal encoding\r\n",
           // RFC 9051 section 6.3.2: a failed SELECT leaves no mailbox selected.
           "* OK [CLOSED] Previous mailbox closed\r\na12 " + no +
               "base64 run not ending on a whole UTF-16 character\r\n",
           "a13 BAD no mailbox selected\r\n", "a15 BAD mailbox name is not valid UTF-8\r\n",
           "a16 OK CREATE completed\r\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << " in\n" << out;
  auto after = w.services.store().list_mailboxes("alice@example.test");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.value.size(), before.value.size() + 1);  // café alone
}

TEST(ImapSession, LoginBeforeTlsIsRefusedAndAnnouncedAsDisabled) {
  ImapWorld w;
  auto d = w.connect("", false);
  std::string greeting = d->take();
  EXPECT_NE(greeting.find("STARTTLS"), std::string::npos) << greeting;
  EXPECT_NE(greeting.find("LOGINDISABLED"), std::string::npos) << greeting;
  d->feed("a1 LOGIN alice@example.test secret\r\n");
  EXPECT_EQ(d->take(),
            "a1 NO [PRIVACYREQUIRED] Plaintext authentication is not allowed "
            "without TLS; use STARTTLS\r\n");
}

// RFC 7162 section 3.2: a client back after another session's changes learns, in its SELECT,
// which of its UIDs vanished and which flags changed since its MODSEQ; UID FETCH's VANISHED
// modifier says the same; its own EXPUNGE is told as VANISHED.
TEST(ImapSession, QresyncTellsWhatVanishedAndChangedSinceTheClientsModseq) {
  ImapWorld w;
  auto status = w.services.store().mailbox_status("alice@example.test", "INBOX");
  ASSERT_TRUE(status.ok());
  const std::string uv = std::to_string(status.value.uid_validity);
  const std::string since = std::to_string(status.value.highest_modseq);

  auto b = w.connect();
  b->feed(
      "b1 LOGIN alice@example.test secret\r\nb2 SELECT INBOX\r\n"
      "b3 STORE 2 +FLAGS.SILENT (\\Flagged)\r\nb4 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n"
      "b5 EXPUNGE\r\n");
  ASSERT_NE(b->take().find("b5 OK"), std::string::npos);
  auto now = w.services.store().mailbox_status("alice@example.test", "INBOX");
  auto two = w.services.store().fetch("alice@example.test", "INBOX", {{2, 2}}, false, 0);
  ASSERT_EQ(two.value.size(), 1u);
  const std::string flagged = std::to_string(two.value[0].modseq);

  auto a = w.connect();
  a->feed("a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX (QRESYNC (" + uv + " " + since +
          "))\r\n");
  EXPECT_NE(a->take().find("a2 BAD"), std::string::npos);  // not enabled yet
  a->feed("a3 ENABLE QRESYNC\r\n");
  EXPECT_EQ(a->take(), "* ENABLED QRESYNC\r\na3 OK ENABLE completed\r\n");
  a->feed("a4 SELECT INBOX (QRESYNC (" + uv + " " + since + " 1:3))\r\n");
  std::string out = a->take();
  const std::string told = "* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (" +
                           flagged + "))\r\na4 OK [READ-WRITE] SELECT completed\r\n";
  EXPECT_NE(out.find("* 2 EXISTS\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("OK [HIGHESTMODSEQ " + std::to_string(now.value.highest_modseq) + "]"),
            std::string::npos)
      << out;
  ASSERT_GE(out.size(), told.size());
  EXPECT_EQ(out.substr(out.size() - told.size()), told) << out;

  // Another UIDVALIDITY: the parameter is ignored, a plain SELECT.
  a->feed("a5 EXAMINE INBOX (QRESYNC (1 " + since + "))\r\n");
  out = a->take();
  EXPECT_EQ(out.find("VANISHED"), std::string::npos) << out;
  EXPECT_NE(out.find("a5 OK [READ-ONLY]"), std::string::npos) << out;

  a->feed("a6 SELECT INBOX\r\na7 UID FETCH 1:* (FLAGS) (CHANGEDSINCE " + since + " VANISHED)\r\n");
  out = a->take();
  EXPECT_NE(out.find("* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ (" +
                     flagged + "))\r\na7 OK FETCH completed\r\n"),
            std::string::npos)
      << out;
  a->feed("a8 FETCH 2 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n");
  EXPECT_NE(a->take().find("a8 BAD"), std::string::npos);  // VANISHED needs UID FETCH

  a->feed("a9 STORE 2 +FLAGS.SILENT (\\Deleted)\r\naa EXPUNGE\r\n");
  out = a->take();
  EXPECT_NE(out.find("* VANISHED 3\r\naa OK EXPUNGE completed\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find(" EXPUNGE\r\n"), std::string::npos) << out;
}

// A whole message above kStreamFetchAbove is sent from the store in pieces: the response is
// byte for byte what a message read whole gives, with the items before it and the FLAGS the
// server adds after it.
TEST(ImapSession, ALargeMessageIsStreamedWithTheSameBytes) {
  ImapWorld w;
  std::string big = "From: x@example.test\r\nSubject: big\r\n\r\n";
  for (int i = 0; big.size() < 3 * 1024 * 1024; ++i)
    big += "line " + std::to_string(i) + " of a large message\r\n";
  w.deliver(big);
  auto d = w.connect();
  d->feed("a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n");
  d->take();
  d->feed("a3 FETCH 3:4 (RFC822.SIZE BODY.PEEK[])\r\n");
  const std::string size = std::to_string(big.size());
  expect_bytes(d->take(), "* 3 FETCH (RFC822.SIZE " + std::to_string(kMessages[2].size()) +
                              " BODY[] {" + std::to_string(kMessages[2].size()) + "}\r\n" +
                              kMessages[2] + ")\r\n* 4 FETCH (RFC822.SIZE " + size + " BODY[] {" +
                              size + "}\r\n" + big + ")\r\na3 OK FETCH completed\r\n");
  d->feed("a4 UID FETCH 4 (RFC822)\r\n");
  expect_bytes(d->take(), "* 4 FETCH (UID 4 RFC822 {" + size + "}\r\n" + big +
                              " FLAGS (\\Seen \\Recent))\r\na4 OK FETCH completed\r\n");
}

// RFC 3501 \Recent: a message is recent in exactly one session, the first to SELECT the mailbox
// after it came (or, while selected, to see it come); EXAMINE and STATUS tell without claiming;
// an IMAP4rev2 session neither tells nor claims.
TEST(ImapSession, RecentBelongsToTheFirstSessionThatSelects) {
  ImapWorld w;
  auto rev2 = w.connect();
  rev2->feed("r1 LOGIN alice@example.test secret\r\nr2 ENABLE IMAP4rev2\r\nr3 SELECT INBOX\r\n");
  EXPECT_EQ(rev2->take().find("RECENT"), std::string::npos);
  auto peek = w.connect();
  peek->feed(
      "p1 LOGIN alice@example.test secret\r\np2 STATUS INBOX (RECENT)\r\n"
      "p3 EXAMINE INBOX\r\np4 FETCH 1 FLAGS\r\n");
  std::string out = peek->take();
  EXPECT_NE(out.find("* STATUS INBOX (RECENT 3)"), std::string::npos) << out;
  EXPECT_NE(out.find("* 3 RECENT\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("* 1 FETCH (FLAGS (\\Recent))"), std::string::npos) << out;

  auto a = w.connect();
  a->feed("a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n");
  EXPECT_NE(a->take().find("* 3 RECENT\r\n"), std::string::npos);
  auto b = w.connect();
  b->feed("b1 LOGIN alice@example.test secret\r\nb2 SELECT INBOX\r\nb3 STATUS INBOX (RECENT)\r\n");
  out = b->take();
  EXPECT_NE(out.find("* 0 RECENT\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("* STATUS INBOX (RECENT 0)"), std::string::npos) << out;

  // A delivery while both are selected: the first to look claims it.
  w.deliver("From: x@example.test\r\nSubject: new\r\n\r\nnew\r\n");
  out.clear();
  for (int i = 0; i < 50 && out.find("EXISTS") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    a->feed("a3 NOOP\r\n");
    out += a->take();
  }
  EXPECT_NE(out.find("* 4 EXISTS\r\n* 4 RECENT\r\n"), std::string::npos) << out;
  b->feed("b4 NOOP\r\n");
  out = b->take();
  for (int i = 0; i < 50 && out.find("EXISTS") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    b->feed("b5 NOOP\r\n");
    out += b->take();
  }
  EXPECT_NE(out.find("* 4 EXISTS\r\n* 0 RECENT\r\n"), std::string::npos) << out;
  a->feed("a4 SEARCH RECENT\r\na5 STORE 1 +FLAGS (\\Seen)\r\na6 SEARCH NEW\r\na7 SEARCH OLD\r\n");
  out = a->take();
  EXPECT_NE(out.find("* SEARCH 1 2 3 4\r\na4 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("* 1 FETCH (FLAGS (\\Seen \\Recent))"), std::string::npos) << out;
  EXPECT_NE(out.find("* SEARCH 2 3 4\r\na6 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("* SEARCH\r\na7 OK"), std::string::npos) << out;
  b->feed("b6 SEARCH RECENT\r\nb7 FETCH 4 FLAGS\r\n");
  out = b->take();
  EXPECT_EQ(out.rfind("* SEARCH\r\n", 0), 0u) << out;  // (a's \Seen may be told before b6's OK)
  EXPECT_NE(out.find("* 4 FETCH (FLAGS ())"), std::string::npos) << out;
}

// RFC 9051 section 6.3.9: a level of the hierarchy that is no mailbox is listed (\Noselect in a
// plain IMAP4rev1 LIST, \NonExistent in an extended one); RFC 5258 section 3: (SUBSCRIBED
// RECURSIVEMATCH) lists the parents of subscribed mailboxes with CHILDINFO.
TEST(ImapSession, ListShowsHierarchyLevelsAndRecursiveMatches) {
  ImapWorld w;
  auto d = w.connect();
  d->feed(
      "a1 LOGIN alice@example.test secret\r\na2 CREATE Fruit\r\na3 CREATE Fruit/Apple\r\n"
      "a4 SUBSCRIBE Fruit/Apple\r\na5 CREATE Tofu/Firm\r\na6 SUBSCRIBE Tofu/Firm\r\n");
  std::string out = d->take();
  ASSERT_NE(out.find("a6 OK"), std::string::npos) << out;
  d->feed("b1 LIST \"\" \"Tof%\"\r\n");
  EXPECT_EQ(d->take(), "* LIST (\\Noselect \\HasChildren) \"/\" Tofu\r\nb1 OK LIST completed\r\n");
  d->feed("b2 LIST \"\" (\"Fruit*\" \"Tofu*\")\r\n");
  EXPECT_EQ(d->take(),
            "* LIST (\\HasChildren) \"/\" Fruit\r\n* LIST (\\HasNoChildren) \"/\" Fruit/Apple\r\n"
            "* LIST (\\Noselect \\HasChildren) \"/\" Tofu\r\n"
            "* LIST (\\HasNoChildren) \"/\" Tofu/Firm\r\nb2 OK LIST completed\r\n");
  d->feed("b3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Fruit Tofu)\r\n");
  EXPECT_EQ(d->take(),
            "* LIST (\\HasChildren) \"/\" Fruit (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
            "* LIST (\\NonExistent \\HasChildren) \"/\" Tofu (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
            "b3 OK LIST completed\r\n");
  d->feed("b4 LIST (SUBSCRIBED) \"\" (\"Fruit*\" \"Tofu*\")\r\n");
  EXPECT_EQ(d->take(),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" Fruit/Apple\r\n"
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" Tofu/Firm\r\nb4 OK LIST completed\r\n");
}

}  // namespace
}  // namespace portico::testing
