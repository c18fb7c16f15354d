// POP retrieval, client side: the download folder (durable downloads, the seen list, recovery
// after a crash at each step without loss or duplicate), the session against a scripted server
// (RFC 1939: APOP digest, STLS, UIDL, byte-stuffed RETR, DELE, QUIT; errors), and the backoff.
// Everything runs on the real store and directory in a temporary data directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "portico/store.h"
#include "retrieval_fixture.h"
#include "retrieval_scheduler.h"
#include "retrieval_session.h"
#include "retrieval_spool.h"

namespace portico::pop {
namespace {

namespace fs = std::filesystem;
using retrieval::retrieval_backoff;

const std::string kAlice = "alice@example.test";

struct World : testing::RetrievalWorld {
  World() : RetrievalWorld(sdk::RetrievalSource::Protocol::pop) {}

  // Downloads `text` under `uid` the way a run does, without delivering it.
  void download(SourceSpool& spool, const std::string& uid, const std::string& text) {
    spool.begin(uid);
    spool.append(SourceSpool::trace_line(source, uid, "mail.example.test", 1700000000));
    spool.append(text);
    spool.commit();
  }
};

const std::string kMessage = "Subject: hello\r\n\r\nbody\r\n";

TEST(RetrievalSpool, DownloadThenDeliverMarksSeenAndRemovesTheFile) {
  World w;
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  w.download(spool, "uid-1", kMessage);
  EXPECT_EQ(spool.pending(), std::vector<std::string>{"uid-1"});
  EXPECT_EQ(spool.deliver("uid-1", w.source, w.services.store(), w.services.directory(), false),
            "");
  EXPECT_TRUE(spool.seen("uid-1"));
  EXPECT_TRUE(spool.pending().empty());
  auto inbox = w.inbox();
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].rfind("Received: from pop.remote.test by mail.example.test with POP3 "
                           "id r7.7569642d31;\r\n\t",
                           0),
            0u);
  EXPECT_NE(inbox[0].find(kMessage), std::string::npos);
  // The seen list survives a restart.
  SourceSpool again(w.root, w.source.id);
  again.open();
  EXPECT_TRUE(again.seen("uid-1"));
}

TEST(RetrievalSpool, CrashAfterDeliveryBeforeSeenDeliversOnce) {
  World w;
  {
    SourceSpool spool(w.root, w.source.id);
    spool.open();
    w.download(spool, "uid-2", kMessage);
    // The store took the file, then the process died before the seen list was written.
    const auto path = spool.folder() / (hex_encode("uid-2") + ".msg");
    auto r = w.services.store().deliver_file({sdk::DeliveryTarget{kAlice, "INBOX", 0}},
                                             path.string(), 1700000000);
    ASSERT_TRUE(r.ok());
  }
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  ASSERT_EQ(spool.pending(), std::vector<std::string>{"uid-2"});
  EXPECT_EQ(spool.deliver("uid-2", w.source, w.services.store(), w.services.directory(), true), "");
  EXPECT_EQ(w.inbox().size(), 1u);
  EXPECT_TRUE(spool.seen("uid-2"));
  EXPECT_TRUE(spool.pending().empty());
}

TEST(RetrievalSpool, CrashBeforeDeliveryDeliversAtTheNextRun) {
  World w;
  {
    SourceSpool spool(w.root, w.source.id);
    spool.open();
    w.download(spool, "uid-3", kMessage);
  }
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  EXPECT_EQ(spool.deliver("uid-3", w.source, w.services.store(), w.services.directory(), true), "");
  EXPECT_EQ(w.inbox().size(), 1u);
}

TEST(RetrievalSpool, CrashAfterSeenBeforeUnlinkDeliversNothingMore) {
  World w;
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  w.download(spool, "uid-4", kMessage);
  const auto msg = spool.folder() / (hex_encode("uid-4") + ".msg");
  fs::copy_file(msg, w.root / "keep");
  ASSERT_EQ(spool.deliver("uid-4", w.source, w.services.store(), w.services.directory(), false),
            "");
  fs::rename(w.root / "keep", msg);  // the unlink never reached the disk
  SourceSpool after(w.root, w.source.id);
  after.open();
  EXPECT_EQ(after.deliver("uid-4", w.source, w.services.store(), w.services.directory(), true), "");
  EXPECT_EQ(w.inbox().size(), 1u);
  EXPECT_FALSE(fs::exists(msg));
}

TEST(RetrievalSpool, PartialDownloadsAndTornSeenLinesAreDropped) {
  World w;
  {
    SourceSpool spool(w.root, w.source.id);
    spool.open();
    spool.begin("half");
    spool.append("Subject: cut");
  }
  {
    std::ofstream seen(w.root / "7" / "seen", std::ios::app | std::ios::binary);
    seen << hex_encode("whole") << "\n" << hex_encode("torn").substr(0, 3);
  }
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  EXPECT_TRUE(spool.pending().empty());
  EXPECT_FALSE(fs::exists(w.root / "7" / (hex_encode("half") + ".part")));
  EXPECT_TRUE(spool.seen("whole"));
  EXPECT_EQ(spool.seen_count(), 1u);
  // The file was rewritten whole: a new line does not join the torn one.
  w.download(spool, "next", kMessage);
  ASSERT_EQ(spool.deliver("next", w.source, w.services.store(), w.services.directory(), false), "");
  SourceSpool again(w.root, w.source.id);
  again.open();
  EXPECT_TRUE(again.seen("whole"));
  EXPECT_TRUE(again.seen("next"));
}

TEST(RetrievalSpool, KeepOnlyForgetsWhatTheServerNoLongerLists) {
  World w;
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  for (std::string uid : {"a", "b", "c"}) {
    w.download(spool, uid, kMessage);
    ASSERT_EQ(spool.deliver(uid, w.source, w.services.store(), w.services.directory(), false), "");
  }
  spool.keep_only({"b", "z"});
  EXPECT_EQ(spool.seen_count(), 1u);
  SourceSpool again(w.root, w.source.id);
  again.open();
  EXPECT_FALSE(again.seen("a"));
  EXPECT_TRUE(again.seen("b"));
}

TEST(RetrievalSpool, TheTraceLineCannotBeSplitByAHostName) {
  sdk::RetrievalSource s;
  s.id = 3;
  s.host = "evil\r\nX-Injected: 1";
  const std::string line = SourceSpool::trace_line(s, "u", "mail.example.test", 0);
  EXPECT_EQ(line.find("\r\nX-Injected"), std::string::npos) << line;
  EXPECT_EQ(
      line.rfind("Received: from evil??X-Injected:?1 by mail.example.test with POP3 id r3.75;", 0),
      0u)
      << line;
}

TEST(RetrievalSession, ApopDigestIsRfc1939sExample) {
  EXPECT_EQ(RetrievalSession::apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb");
}

using FetchRun = testing::RetrievalRun<RetrievalSession>;

TEST(RetrievalSession, FetchesNewMessagesUnstuffedDeletesThemAndQuits) {
  World w;
  FetchRun r(w);
  EXPECT_EQ(r.server("+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n"), "USER bob\r\n");
  EXPECT_EQ(r.server("+OK\r\n"), "PASS tanstaaf\r\n");
  EXPECT_EQ(r.server("+OK maildrop has 2 messages\r\n"), "UIDL\r\n");
  EXPECT_EQ(r.server("+OK\r\n1 first\r\n2 second\r\n.\r\n"), "RETR 1\r\n");
  EXPECT_EQ(r.server("+OK 30 octets\r\nSubject: one\r\n\r\n..dot\r\n...\r\nend\r\n.\r\n"),
            "RETR 2\r\n");
  EXPECT_EQ(r.server("+OK\r\nSubject: two\r\n\r\nx\r\n.\r\n"), "DELE 1\r\n");
  EXPECT_EQ(r.server("+OK\r\n"), "DELE 2\r\n");
  EXPECT_EQ(r.server("+OK\r\n"), "QUIT\r\n");
  EXPECT_FALSE(r.outcome);
  r.server("+OK bye\r\n");
  ASSERT_TRUE(r.outcome);
  EXPECT_TRUE(r.outcome->ok) << r.outcome->error;
  EXPECT_EQ(r.outcome->fetched, 2u);
  auto inbox = w.inbox();
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_NE(inbox[0].find("+0000\r\nSubject: one\r\n\r\n.dot\r\n..\r\nend\r\n"), std::string::npos)
      << inbox[0];
  EXPECT_TRUE(r.driver->closed());
}

TEST(RetrievalSession, SkipsSeenMessagesAndLeavesMailOnTheServer) {
  World w;
  w.source.leave_on_server = true;
  {
    SourceSpool spool(w.root, w.source.id);
    spool.open();
    w.download(spool, "first", kMessage);
    ASSERT_EQ(spool.deliver("first", w.source, w.services.store(), w.services.directory(), false),
              "");
  }
  w.source.apop = true;
  FetchRun r(w);
  EXPECT_EQ(r.server("+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
            "APOP bob c4c9334bac560ecc979e58001b3e22fb\r\n");
  EXPECT_EQ(r.server("+OK\r\n"), "UIDL\r\n");
  EXPECT_EQ(r.server("+OK\r\n1 first\r\n2 second\r\n.\r\n"), "RETR 2\r\n");
  EXPECT_EQ(r.server("+OK\r\nSubject: two\r\n\r\nx\r\n.\r\n"), "QUIT\r\n");
  r.server("+OK\r\n");
  ASSERT_TRUE(r.outcome);
  EXPECT_TRUE(r.outcome->ok);
  EXPECT_EQ(r.outcome->fetched, 1u);
  EXPECT_EQ(w.inbox().size(), 2u);
}

TEST(RetrievalSession, StlsComesBeforeTheLogin) {
  World w;
  w.source.tls = sdk::RetrievalSource::Tls::starttls;
  FetchRun r(w);
  EXPECT_EQ(r.server("+OK hi\r\n"), "STLS\r\n");
  // The driver's TLS upgrade is immediate; the login follows on the protected channel.
  EXPECT_EQ(r.server("+OK begin TLS\r\n"), "USER bob\r\n");
  EXPECT_TRUE(r.driver->tls());
}

TEST(RetrievalSession, ErrorsEndTheRunAndSayWhy) {
  struct Case {
    std::string script;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"-ERR go away\r\n", "the server refused the connection: -ERR go away"},
           {"+OK\r\n+OK\r\n-ERR [AUTH] wrong\r\n", "authentication failed: -ERR [AUTH] wrong"},
           {"+OK\r\n+OK\r\n+OK\r\n-ERR no\r\n", "the server does not support UIDL: -ERR no"},
           {"+OK\r\n+OK\r\n+OK\r\n+OK\r\nnot a line\r\n", "a malformed UIDL line: not a line"},
       }) {
    World w;
    FetchRun r(w);
    r.server(c.script);
    ASSERT_TRUE(r.outcome) << c.script;
    EXPECT_FALSE(r.outcome->ok);
    EXPECT_EQ(r.outcome->error, c.error);
    EXPECT_TRUE(r.driver->closed());
  }
  World w;
  w.source.apop = true;
  FetchRun r(w);
  r.server("+OK no timestamp here\r\n");
  ASSERT_TRUE(r.outcome);
  EXPECT_EQ(r.outcome->error, "APOP is configured but the server offers no timestamp");
}

TEST(RetrievalSession, AConnectionLostMidMessageDeliversNothingAndKeepsNothing) {
  World w;
  {
    FetchRun r(w);
    r.server("+OK\r\n+OK\r\n+OK\r\n+OK\r\n1 a\r\n.\r\n+OK\r\nSubject: cut\r\n");
  }  // the driver closes the session: the connection is gone
  EXPECT_TRUE(w.inbox().empty());
  SourceSpool spool(w.root, w.source.id);
  spool.open();
  EXPECT_TRUE(spool.pending().empty());
  EXPECT_FALSE(spool.seen("a"));
}

TEST(RetrievalBackoff, DoublesPerFailureUpToAnHour) {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  EXPECT_EQ(retrieval_backoff(minutes(1), 0), minutes(1));
  EXPECT_EQ(retrieval_backoff(minutes(1), 1), minutes(1));
  EXPECT_EQ(retrieval_backoff(minutes(1), 2), minutes(2));
  EXPECT_EQ(retrieval_backoff(minutes(1), 4), minutes(8));
  EXPECT_EQ(retrieval_backoff(minutes(1), 30), minutes(60));
  EXPECT_EQ(retrieval_backoff(minutes(90), 5), minutes(90));  // never below the interval
}

}  // namespace
}  // namespace portico::pop
