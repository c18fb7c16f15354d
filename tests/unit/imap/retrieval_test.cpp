// IMAP retrieval, client side: the reading of server responses (tagged, untagged, literals,
// response codes, FETCH items, Message-ID) and the writing of arguments (quoted strings,
// literals, UID sets), table-driven; the session against a scripted server (RFC 9051: LOGIN,
// STARTTLS, AUTHENTICATE PLAIN under LOGINDISABLED, SELECT/EXAMINE and UIDVALIDITY, UID SEARCH,
// UID FETCH BODY.PEEK[] streamed, UID STORE and UID EXPUNGE or EXPUNGE, LOGOUT; a UIDVALIDITY
// change deduplicated by Message-ID; errors and a connection lost mid-message). Everything runs
// on the real store and directory in a temporary data directory.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>

#include "portico/base64.h"
#include "portico/store.h"
#include "retrieval_fixture.h"
#include "retrieval_response.h"
#include "retrieval_session.h"
#include "retrieval_spool.h"

namespace portico::imap {
namespace {

using retrieval::hex_encode;
using retrieval::SourceSpool;

TEST(ImapClientResponse, LinesAreTaggedUntaggedOrContinuations) {
  auto r = client::parse_response("a1 ok [CAPABILITY IMAP4rev2] done\r\n");
  EXPECT_EQ(r.kind, client::Response::Kind::tagged);
  EXPECT_EQ(r.tag, "a1");
  EXPECT_EQ(r.name, "OK");
  EXPECT_EQ(r.text, "[CAPABILITY IMAP4rev2] done");
  r = client::parse_response("* 12 FETCH (UID 7)\r\n");
  EXPECT_EQ(r.kind, client::Response::Kind::untagged);
  ASSERT_TRUE(r.number);
  EXPECT_EQ(*r.number, 12u);
  EXPECT_EQ(r.name, "FETCH");
  EXPECT_EQ(r.text, "(UID 7)");
  r = client::parse_response("+ go ahead\r\n");
  EXPECT_EQ(r.kind, client::Response::Kind::continuation);
  EXPECT_EQ(r.text, "go ahead");
  for (const char* bad : {"", "\r\n", "*\r\n", "* 5\r\n", "a(1 OK\r\n", "lonely\r\n"}) {
    EXPECT_EQ(client::parse_response(bad).kind, client::Response::Kind::invalid) << bad;
  }
}

TEST(ImapClientResponse, LiteralsCodesAndSearch) {
  EXPECT_EQ(client::trailing_literal("* 1 FETCH (BODY[] {42}\r\n"), 42u);
  EXPECT_EQ(client::trailing_literal("* 1 FETCH (BINARY[] ~{0}\n"), 0u);
  EXPECT_EQ(client::trailing_literal("* 1 FETCH (BODY[] {99999999999999999999999}\r\n"),
            UINT64_MAX);
  EXPECT_FALSE(client::trailing_literal("a1 NO {folder}\r\n"));
  EXPECT_FALSE(client::trailing_literal("* OK {}\r\n"));
  auto code = client::response_code("[UIDVALIDITY 3857529045] UIDs valid");
  ASSERT_TRUE(code);
  EXPECT_EQ(code->name, "UIDVALIDITY");
  EXPECT_EQ(code->args, "3857529045");
  EXPECT_FALSE(client::response_code("no code"));
  EXPECT_FALSE(client::response_code("[unclosed"));
  std::vector<std::uint32_t> uids;
  EXPECT_TRUE(client::parse_search("2 84 882", uids, 10));
  EXPECT_EQ(uids, (std::vector<std::uint32_t>{2, 84, 882}));
  uids.clear();
  EXPECT_TRUE(client::parse_search("", uids, 10));
  EXPECT_FALSE(client::parse_search("1 x", uids, 10));
  uids.clear();
  EXPECT_FALSE(client::parse_search("1 0", uids, 10));
  uids.clear();
  EXPECT_FALSE(client::parse_search("1 2 3", uids, 2));
  uids.clear();
  EXPECT_FALSE(client::parse_search("4294967296", uids, 2));
}

TEST(ImapClientResponse, FetchItemsUidAndMessageId) {
  using client::FetchItem;
  EXPECT_EQ(client::fetch_item_before_literal("* 1 FETCH (UID 5 BODY[] {10}\r\n"), FetchItem::body);
  EXPECT_EQ(client::fetch_item_before_literal("* 1 FETCH (body[]<0> {10}\r\n"), FetchItem::body);
  EXPECT_EQ(client::fetch_item_before_literal("* 1 FETCH (BODY[] {10}\r\n"), FetchItem::body);
  EXPECT_EQ(client::fetch_item_before_literal(
                "* 1 FETCH (UID 5 BODY[HEADER.FIELDS (MESSAGE-ID)] {10}\r\n"),
            FetchItem::header);
  EXPECT_EQ(client::fetch_item_before_literal("* 1 FETCH (BODY[TEXT] {10}\r\n"), FetchItem::other);
  EXPECT_EQ(client::fetch_item_before_literal("* 1 FETCH (ENVELOPE (NIL {10}\r\n"),
            FetchItem::other);
  EXPECT_EQ(client::fetch_uid("(UID 5 BODY[] {3}"), 5u);
  EXPECT_EQ(client::fetch_uid("(FLAGS (\\Seen) UID 77)"), 77u);
  EXPECT_FALSE(client::fetch_uid("(BODY[] {3}"));
  EXPECT_EQ(client::message_id("Subject: x\r\nmessage-id:  <a@b>\r\n\r\n"), "<a@b>");
  EXPECT_EQ(client::message_id("Message-ID:\r\n <folded@b>\r\nX: y\r\n"), "<folded@b>");
  EXPECT_EQ(client::message_id("Subject: x\r\n\r\n"), "");
}

TEST(ImapClientResponse, ArgumentsAreQuotedOrLiteralsAndUidSetsAreRanges) {
  EXPECT_EQ(client::compose("a1", "LOGIN", {"bob", "p\"a\\ss word"}),
            std::vector<std::string>{"a1 LOGIN \"bob\" \"p\\\"a\\\\ss word\"\r\n"});
  EXPECT_EQ(client::compose("a2", "LOGIN", {"bob", "w\xc3\xb6rd\r\n"}),
            (std::vector<std::string>{"a2 LOGIN \"bob\" {7}\r\n", "w\xc3\xb6rd\r\n\r\n"}));
  EXPECT_EQ(client::compose("a3", "SELECT", {""}), std::vector<std::string>{"a3 SELECT \"\"\r\n"});
  EXPECT_EQ(client::uid_sets({9, 1, 2, 3, 5, 3}, 100), std::vector<std::string>{"1:3,5,9"});
  EXPECT_EQ(client::uid_sets({1, 3, 5, 7}, 4), (std::vector<std::string>{"1,3", "5,7"}));
  EXPECT_TRUE(client::uid_sets({}, 10).empty());
}

struct World : testing::RetrievalWorld {
  World() : RetrievalWorld(sdk::RetrievalSource::Protocol::imap) {}

  // Delivers `text` under `key` as an earlier run did.
  void delivered(const std::string& key, const std::string& text) {
    SourceSpool spool(root, source.id);
    spool.open();
    spool.begin(key);
    spool.append(text);
    spool.commit();
    ASSERT_EQ(spool.deliver(key, source, services.store(), services.directory(), false), "");
  }
};

std::string message(const std::string& id, const std::string& body = "body\r\n") {
  return "Message-ID: <" + id + "@remote.test>\r\nSubject: " + id + "\r\n\r\n" + body;
}

// A FETCH response carrying a message's octets as a literal.
std::string fetched(int seq, int uid, const std::string& text) {
  return "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uid) + " BODY[] {" +
         std::to_string(text.size()) + "}\r\n" + text + ")\r\n";
}

using FetchRun = testing::RetrievalRun<RetrievalSession>;

TEST(ImapRetrievalSession, FetchesNewMessagesDeletesThemAndLogsOut) {
  World w;
  FetchRun r(w);
  const std::string one = message("one", "line\r\n.dot\r\n"), two = message("two");
  EXPECT_EQ(r.server("* OK [CAPABILITY IMAP4rev1 UIDPLUS] ready\r\n"),
            "r1 LOGIN \"bob\" \"tanstaaf\"\r\n");
  EXPECT_EQ(r.server("r1 OK logged in\r\n"), "r2 CAPABILITY\r\n");
  EXPECT_EQ(r.server("* CAPABILITY IMAP4rev1 UIDPLUS\r\nr2 OK\r\n"), "r3 SELECT \"INBOX\"\r\n");
  EXPECT_EQ(r.server("* 2 EXISTS\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 42] ok\r\n"
                     "r3 OK [READ-WRITE] done\r\n"),
            "r4 UID SEARCH ALL\r\n");
  EXPECT_EQ(r.server("* SEARCH 9 5\r\nr4 OK\r\n"), "r5 UID FETCH 5 (BODY.PEEK[])\r\n");
  EXPECT_EQ(r.server(fetched(1, 5, one) + "r5 OK\r\n"), "r6 UID FETCH 9 (BODY.PEEK[])\r\n");
  // The UID after the body, and flags too.
  EXPECT_EQ(r.server("* 2 FETCH (BODY[] {" + std::to_string(two.size()) + "}\r\n" + two +
                     " UID 9 FLAGS (\\Seen))\r\nr6 OK\r\n"),
            "r7 UID STORE 5,9 +FLAGS.SILENT (\\Deleted)\r\n");
  EXPECT_EQ(r.server("r7 OK\r\n"), "r8 UID EXPUNGE 5,9\r\n");
  EXPECT_EQ(r.server("* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nr8 OK\r\n"), "r9 LOGOUT\r\n");
  EXPECT_FALSE(r.outcome);
  r.server("* BYE bye\r\nr9 OK\r\n");
  ASSERT_TRUE(r.outcome);
  EXPECT_TRUE(r.outcome->ok) << r.outcome->error;
  EXPECT_EQ(r.outcome->fetched, 2u);
  EXPECT_TRUE(r.driver->closed());
  auto inbox = w.inbox();
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].rfind("Received: from imap.remote.test by mail.example.test with IMAP id r7." +
                               hex_encode("42.5") + ";\r\n\t",
                           0),
            0u)
      << inbox[0];
  EXPECT_NE(inbox[0].find("+0000\r\n" + one), std::string::npos) << inbox[0];
  EXPECT_NE(inbox[1].find(two), std::string::npos);
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  EXPECT_TRUE(spool.seen("42.5"));
  EXPECT_TRUE(spool.seen("42.9"));
}

TEST(ImapRetrievalSession, ARunFedOneByteAtATimeSaysAndFetchesTheSame) {
  const std::string one = message("one", std::string(300 * 1024, 'x') + "\r\n");
  const std::string script =
      "* OK [CAPABILITY IMAP4rev1 UIDPLUS] ready\r\nr1 OK in\r\n"
      "* CAPABILITY IMAP4rev1 UIDPLUS\r\nr2 OK\r\n"
      "* OK [UIDVALIDITY 42] ok\r\nr3 OK\r\n* SEARCH 5\r\nr4 OK\r\n" +
      fetched(1, 5, one) + "r5 OK\r\nr6 OK\r\nr7 OK\r\nr8 OK\r\n";
  std::string whole_said;
  for (const bool bytewise : {false, true}) {
    World w;
    FetchRun r(w);
    std::string said;
    if (bytewise) {
      for (char c : script)
        said += r.server(std::string(1, c));
    } else {
      said = r.server(script);
    }
    ASSERT_TRUE(r.outcome) << bytewise;
    EXPECT_TRUE(r.outcome->ok) << r.outcome->error;
    EXPECT_EQ(r.outcome->fetched, 1u);
    auto inbox = w.inbox();
    ASSERT_EQ(inbox.size(), 1u);
    EXPECT_NE(inbox[0].find(one), std::string::npos);
    if (bytewise) {
      EXPECT_EQ(said, whole_said);
    } else {
      whole_said = said;
      EXPECT_NE(said.find("r8 LOGOUT\r\n"), std::string::npos) << said;
    }
  }
}

TEST(ImapRetrievalSession, StarttlsLiteralPasswordExamineAndSeenMessagesSkipped) {
  World w;
  w.source.leave_on_server = true;
  w.source.tls = sdk::RetrievalSource::Tls::starttls;
  w.source.secret = "p\xc3\xa4ss";
  w.source.source_folder = "Archive \"old\"";
  w.delivered("42.5", message("five"));
  FetchRun r(w);
  EXPECT_EQ(r.server("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n"),
            "r1 STARTTLS\r\n");
  EXPECT_EQ(r.server("r1 OK begin TLS\r\n"), "r2 CAPABILITY\r\n");
  EXPECT_TRUE(r.driver->tls());
  EXPECT_EQ(r.server("* CAPABILITY IMAP4rev1\r\nr2 OK\r\n"), "r3 LOGIN \"bob\" {5}\r\n");
  EXPECT_EQ(r.server("+ go on\r\n"), "p\xc3\xa4ss\r\n");
  EXPECT_EQ(r.server("r3 OK [CAPABILITY IMAP4rev1] in\r\n"),
            "r4 EXAMINE \"Archive \\\"old\\\"\"\r\n");
  EXPECT_EQ(r.server("* OK [UIDVALIDITY 42] ok\r\nr4 OK [READ-ONLY]\r\n"), "r5 UID SEARCH ALL\r\n");
  EXPECT_EQ(r.server("* SEARCH 5 9\r\nr5 OK\r\n"), "r6 UID FETCH 9 (BODY.PEEK[])\r\n");
  EXPECT_EQ(r.server(fetched(2, 9, message("nine")) + "r6 OK\r\n"), "r7 LOGOUT\r\n");
  r.server("* BYE\r\n");
  r.driver->disconnect();  // no tagged OK: the server closed after BYE
  ASSERT_TRUE(r.outcome);
  EXPECT_TRUE(r.outcome->ok) << r.outcome->error;
  EXPECT_EQ(r.outcome->fetched, 1u);
  EXPECT_EQ(w.inbox().size(), 2u);
}

TEST(ImapRetrievalSession, LoginDisabledUsesAuthenticatePlain) {
  World w;
  FetchRun r(w);
  EXPECT_EQ(r.server("* OK [CAPABILITY IMAP4rev2 LOGINDISABLED AUTH=PLAIN] hi\r\n"),
            "r1 AUTHENTICATE PLAIN\r\n");
  EXPECT_EQ(r.server("+ \r\n"), sdk::base64_encode(std::string("\0bob\0tanstaaf", 13)) + "\r\n");
  EXPECT_EQ(r.server("r1 NO [AUTHENTICATIONFAILED] wrong\r\n"), "");
  ASSERT_TRUE(r.outcome);
  EXPECT_EQ(r.outcome->error, "authentication failed: NO [AUTHENTICATIONFAILED] wrong");

  World w2;
  FetchRun ir(w2);
  EXPECT_EQ(
      ir.server("* OK [CAPABILITY IMAP4rev2 LOGINDISABLED AUTH=PLAIN SASL-IR] hi\r\n"),
      "r1 AUTHENTICATE PLAIN " + sdk::base64_encode(std::string("\0bob\0tanstaaf", 13)) + "\r\n");
}

TEST(ImapRetrievalSession, ANewUidValidityFetchesOnlyWhatTheMailboxLacks) {
  World w;
  w.source.leave_on_server = true;
  w.delivered("42.5", message("kept"));
  FetchRun r(w);
  r.server("* OK [CAPABILITY IMAP4rev1] hi\r\n");
  r.server("r1 OK [CAPABILITY IMAP4rev1] in\r\n");
  EXPECT_EQ(r.server("* OK [UIDVALIDITY 43] new\r\nr2 OK\r\n"), "r3 UID SEARCH ALL\r\n");
  EXPECT_EQ(r.server("* SEARCH 1 2\r\nr3 OK\r\n"),
            "r4 UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n");
  const std::string kept_header = "Message-ID: <kept@remote.test>\r\n\r\n";
  EXPECT_EQ(r.server("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (MESSAGE-ID)] {" +
                     std::to_string(kept_header.size()) + "}\r\n" + kept_header + ")\r\nr4 OK\r\n"),
            "r5 UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n");
  const std::string new_header = "Message-ID: <new@remote.test>\r\n\r\n";
  EXPECT_EQ(r.server("* 2 FETCH (UID 2 BODY[HEADER.FIELDS (MESSAGE-ID)] {" +
                     std::to_string(new_header.size()) + "}\r\n" + new_header + ")\r\nr5 OK\r\n"),
            "r6 UID FETCH 2 (BODY.PEEK[])\r\n");
  EXPECT_EQ(r.server(fetched(2, 2, message("new")) + "r6 OK\r\n"), "r7 LOGOUT\r\n");
  r.server("r7 OK\r\n");
  ASSERT_TRUE(r.outcome);
  EXPECT_TRUE(r.outcome->ok) << r.outcome->error;
  EXPECT_EQ(r.outcome->fetched, 1u);
  EXPECT_EQ(w.inbox().size(), 2u);
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  EXPECT_TRUE(spool.seen("43.1"));
  EXPECT_TRUE(spool.seen("43.2"));
  EXPECT_FALSE(spool.seen("42.5"));  // forgotten once the run completed
  EXPECT_EQ(spool.note("uidvalidity-change").rfind("43 ", 0), 0u);
}

TEST(ImapRetrievalSession, MessageIdsAreComparedForAWeekAfterTheChange) {
  for (const bool recent : {true, false}) {
    World w;
    w.source.leave_on_server = true;
    w.delivered("43.1", message("one"));
    {
      SourceSpool spool(w.root, w.source.id);
      spool.open();
      spool.set_note("uidvalidity-change",
                     "43 " + std::to_string(recent ? std::time(nullptr) - 3600 : 1000));
    }
    FetchRun r(w);
    r.server("* OK [CAPABILITY IMAP4rev1] hi\r\nr1 OK [CAPABILITY IMAP4rev1] in\r\n");
    EXPECT_EQ(r.server("* OK [UIDVALIDITY 43] x\r\nr2 OK\r\n* SEARCH 1 2\r\nr3 OK\r\n"),
              std::string("r3 UID SEARCH ALL\r\n") +
                  (recent ? "r4 UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n"
                          : "r4 UID FETCH 2 (BODY.PEEK[])\r\n"));
    SourceSpool spool(w.root, w.source.id);
    spool.open();
    EXPECT_EQ(spool.note("uidvalidity-change").empty(), !recent);
  }
}

TEST(ImapRetrievalSession, WithoutUidplusExpungeDeletes) {
  World w;
  FetchRun r(w);
  r.server("* OK [CAPABILITY IMAP4rev1] hi\r\n");
  r.server("r1 OK [CAPABILITY IMAP4rev1] in\r\n");
  r.server("* OK [UIDVALIDITY 1] x\r\nr2 OK\r\n");
  EXPECT_EQ(r.server("* SEARCH 3\r\nr3 OK\r\n"), "r4 UID FETCH 3 (BODY.PEEK[])\r\n");
  // An unsolicited FETCH of another message, with a literal of its own, is read and ignored.
  EXPECT_EQ(r.server("* 9 FETCH (UID 99 BODY[] {3}\r\nabc)\r\n" + fetched(1, 3, message("x")) +
                     "r4 OK\r\n"),
            "r5 UID STORE 3 +FLAGS.SILENT (\\Deleted)\r\n");
  EXPECT_EQ(r.server("r5 OK\r\n"), "r6 EXPUNGE\r\n");
  EXPECT_EQ(r.server("r6 OK\r\n"), "r7 LOGOUT\r\n");
  r.server("r7 OK\r\n");
  ASSERT_TRUE(r.outcome);
  EXPECT_TRUE(r.outcome->ok);
  EXPECT_EQ(w.inbox().size(), 1u);
}

TEST(ImapRetrievalSession, ErrorsEndTheRunWithTheServersText) {
  const std::string in = "* OK [CAPABILITY IMAP4rev1] hi\r\nr1 OK [CAPABILITY IMAP4rev1] in\r\n";
  struct Case {
    std::string script;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"* BYE go away\r\n", "the server refused the connection: * BYE go away"},
           {"* OK hi\r\nr1 BAD no\r\n", "CAPABILITY failed: BAD no"},
           {"* OK [CAPABILITY IMAP4rev1] hi\r\nr1 NO [AUTHENTICATIONFAILED] wrong\r\n",
            "authentication failed: NO [AUTHENTICATIONFAILED] wrong"},
           {in + "r2 NO [NONEXISTENT] no such\r\n",
            "cannot open the folder INBOX: NO [NONEXISTENT] no such"},
           {in + "r2 OK\r\n", "the server gave no UIDVALIDITY for the folder"},
           {in + "* OK [UIDVALIDITY 1] x\r\nr2 OK\r\n* SEARCH 1 x\r\n",
            "a malformed SEARCH response: * SEARCH 1 x"},
           {in + "* OK [UIDVALIDITY 1] x\r\nr2 OK\r\n* SEARCH 1\r\nr3 OK\r\n* 1 FETCH (BODY[] "
                 "{999999999999}\r\n",
            "the server sent a literal of 999999999999 octets, more than the limit of 268435456"},
           {in + "* BYE shutting down\r\n", "the server ended the session: shutting down"},
           {in + "zz OK\r\n", "a reply to a command not sent: zz OK"},
           {"garbage\r\n", "a malformed response: garbage"},
       }) {
    World w;
    FetchRun r(w);
    r.server(c.script);
    ASSERT_TRUE(r.outcome) << c.script;
    EXPECT_FALSE(r.outcome->ok);
    EXPECT_EQ(r.outcome->error, c.error);
    EXPECT_TRUE(r.driver->closed());
  }
}

TEST(ImapRetrievalSession, AConnectionLostMidMessageDeliversNothingAndKeepsNothing) {
  World w;
  {
    FetchRun r(w);
    r.server(
        "* OK [CAPABILITY IMAP4rev1] hi\r\nr1 OK [CAPABILITY IMAP4rev1] in\r\n"
        "* OK [UIDVALIDITY 1] x\r\nr2 OK\r\n* SEARCH 1\r\nr3 OK\r\n"
        "* 1 FETCH (UID 1 BODY[] {100}\r\nSubject: cut\r\n");
    r.driver->disconnect();
    ASSERT_TRUE(r.outcome);
    EXPECT_FALSE(r.outcome->ok);
    EXPECT_EQ(r.outcome->error,
              "the connection closed while waiting for a message (timeout, TLS failure or "
              "server gone)");
  }
  EXPECT_TRUE(w.inbox().empty());
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  EXPECT_TRUE(spool.pending().empty());
  EXPECT_FALSE(spool.seen("1.1"));
}

}  // namespace
}  // namespace portico::imap
