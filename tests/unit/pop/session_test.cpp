// pop sessions beyond the transcripts: what stays in the store after QUIT and after a dropped
// connection, output throttling of a large RETR, and a SCRAM-SHA-256 login driven by a real GNU
// SASL client (its nonces are random, so it cannot be a golden transcript).
#include <gsasl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>

#include "pop_fixture.h"
#include "portico/store.h"
#include "session.h"

namespace portico::testing {
namespace {

std::string login_lines(const std::string& user = "alice@example.test") {
  return "USER " + user + "\r\nPASS secret\r\n";
}

std::unique_ptr<SessionDriver> connect(PopWorld& w, bool tls = true) {
  DriverOptions o;
  o.listener = "127.0.0.1:995";
  o.implicit_tls = tls;
  auto d = std::make_unique<SessionDriver>(*w.plugin, w.host, w.settings(), o);
  d->start();
  return d;
}

TEST(PopSession, DroppedConnectionDeletesNothing) {
  PopWorld w;
  {
    auto d = connect(w);
    d->feed(login_lines() + "DELE 1\r\nDELE 3\r\nSTAT\r\n");
    const std::string out = d->take();
    EXPECT_NE(out.find("+OK 1 "), std::string::npos) << out;
  }  // destroyed without QUIT
  EXPECT_EQ(w.alice_uids(), (std::vector<std::uint32_t>{1, 2, 3}));
  // The lock went with the connection.
  auto lock = w.services.store().lock_maildrop("alice@example.test");
  EXPECT_TRUE(lock.ok()) << lock.message;
}

TEST(PopSession, QuitRemovesOnlyTheMarkedMessages) {
  PopWorld w;
  auto d = connect(w);
  d->feed(login_lines() + "DELE 2\r\nQUIT\r\n");
  const std::string out = d->take();
  EXPECT_NE(out.find("+OK mail.example.test POP3 server signing off (2 messages left)"),
            std::string::npos)
      << out;
  EXPECT_TRUE(d->closed());
  EXPECT_EQ(w.alice_uids(), (std::vector<std::uint32_t>{1, 3}));
}

TEST(PopSession, RsetThenQuitRemovesNothing) {
  PopWorld w;
  auto d = connect(w);
  d->feed(login_lines() + "DELE 1\r\nRSET\r\nQUIT\r\n");
  EXPECT_EQ(w.alice_uids(), (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(PopSession, SecondSessionIsRefusedWhileTheFirstHoldsTheMaildrop) {
  PopWorld w;
  auto first = connect(w);
  first->feed(login_lines());
  auto second = connect(w);
  second->take();
  second->feed(login_lines());
  EXPECT_EQ(second->take(),
            "+OK Send your password\r\n-ERR [IN-USE] The maildrop is in use by another "
            "session\r\n");
  first->feed("QUIT\r\n");
  second->feed(login_lines());
  EXPECT_NE(second->take().find("+OK Logged in"), std::string::npos);
}

// A SessionContext that keeps written bytes pending until the test drains them, like a slow
// peer, and records the largest single write.
class SlowPeer final : public sdk::SessionContext {
 public:
  SlowPeer(const sdk::Settings& settings) : settings_(settings) {
    info_.remote_address = "192.0.2.1";
    info_.server_hostname = "mail.example.test";
  }
  const sdk::ConnectionInfo& connection() const override { return info_; }
  const sdk::Settings& settings() const override { return settings_; }
  std::string banner() const override { return "+OK ready"; }
  void write(std::string_view bytes) override {
    pending_.append(bytes);
    largest_write_ = std::max(largest_write_, bytes.size());
    most_pending_ = std::max(most_pending_, pending_.size());
  }
  std::size_t output_pending() const override { return pending_.size(); }
  std::size_t input_pending() const override { return 0; }
  void set_max_line_length(std::size_t) override {}
  void read_bytes(std::size_t) override {}
  void set_in_command(bool) override {}
  void pause_input() override {}
  void resume_input() override {}
  bool bad_command() override { return false; }
  bool starttls_available() const override { return false; }
  bool is_tls() const override { return true; }
  bool start_tls() override { return false; }
  void close() override {}
  void post_work(std::function<void()> work, std::function<void()> done) override {
    work();
    done();
  }
  void log(sdk::LogLevel, std::string_view) override {}
  void post_after(std::chrono::milliseconds, std::function<void()> fn) override { fn(); }
  std::string tls_description() const override { return "TLSv1.3 TEST"; }
  void post_work_on(sdk::WorkPool, std::function<void()> work,
                    std::function<void()> done) override {
    post_work(std::move(work), std::move(done));
  }
  bool tls_verified() const override { return true; }
  void set_raw_input(bool) override {}
  void set_timeouts(std::chrono::milliseconds, std::chrono::milliseconds) override {}
  std::uint64_t start_timer(std::chrono::milliseconds, std::function<void()>) override { return 0; }
  void cancel_timer(std::uint64_t) override {}
  std::shared_ptr<sdk::SessionHandle> handle() override { return nullptr; }
  std::shared_ptr<sdk::SessionHandle> hold() override { return nullptr; }
  bool start_compression() override { return false; }
  bool is_websocket() const override { return false; }
  void set_output_limit(std::size_t bytes) override { output_limit_ = bytes; }

  std::string drain() { return std::exchange(pending_, {}); }
  std::size_t largest_write_ = 0;
  std::size_t most_pending_ = 0;
  std::size_t output_limit_ = sdk::kDefaultOutputLimit;

 private:
  sdk::Settings settings_;
  sdk::ConnectionInfo info_;
  std::string pending_;
};

TEST(PopSession, LargeMessageIsWrittenInPiecesWhileThePeerReads) {
  PopWorld w;
  std::string big = "Subject: big\r\n\r\n";
  for (int i = 0; big.size() < 6 * 1024 * 1024; ++i)
    big += (i % 7 == 0 ? "." : "") + std::string(70, static_cast<char>('a' + i % 26)) + "\r\n";
  auto r = w.services.store().deliver({sdk::DeliveryTarget{"bob@example.test", "INBOX", 0}}, big,
                                      1700000000);
  ASSERT_TRUE(r.ok()) << r.message;

  SlowPeer peer(w.settings());
  pop::PopSession session(peer, w.host, pop::PopSettings::from(w.settings(), ""));
  session.on_start();
  session.on_line("USER bob@example.test\r\n");
  session.on_line("PASS secret\r\n");
  peer.drain();
  session.on_line("RETR 1\r\n");
  std::string received = peer.drain();
  int drains = 0;
  while (received.size() < 5 || received.compare(received.size() - 5, 5, "\r\n.\r\n") != 0) {
    ASSERT_LT(++drains, 1000) << "the message never ended";
    session.on_output_drained();
    const std::string more = peer.drain();
    ASSERT_FALSE(more.empty()) << "on_output_drained wrote nothing";
    received += more;
  }
  EXPECT_GT(drains, 3);
  EXPECT_LE(peer.largest_write_, pop::kMessagePiece * 2);
  EXPECT_LE(peer.most_pending_, pop::kOutputHighWater + pop::kMessagePiece * 2);
  // The session asked the core to throttle at its own mark, so on_output_drained() comes.
  EXPECT_EQ(peer.output_limit_, pop::kOutputHighWater);
  static_assert(pop::kOutputHighWater < sdk::kDefaultOutputLimit);
  // Undo the framing and the byte-stuffing: the message comes back intact.
  const std::string head = "+OK " + std::to_string(big.size()) + " octets\r\n";
  ASSERT_EQ(received.compare(0, head.size(), head), 0) << received.substr(0, 80);
  std::string body = received.substr(head.size(), received.size() - head.size() - 3);
  std::string unstuffed;
  bool line_start = true;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (line_start && body[i] == '.') {
      ++i;
    }
    unstuffed += body[i];
    line_start = body[i] == '\n';
  }
  EXPECT_TRUE(unstuffed == big) << "the message differs after " << unstuffed.size() << " octets";
  session.on_close();
}

// A message above kStreamAbove is read from the store in pieces: RETR sends it whole and intact,
// TOP stops where its reply ends, and the session goes on with the next command.
TEST(PopSession, LargeMessagesStreamFromTheStore) {
  PopWorld w;
  std::string big = "Subject: big\r\nX-Long: yes\r\n\r\n";
  for (int i = 0; big.size() <= pop::kStreamAbove + 3 * pop::kStreamPiece; ++i) {
    big += (i % 7 == 0 ? ".line " : "line ") + std::to_string(i) + " of a long message\r\n";
  }
  auto r = w.services.store().deliver({sdk::DeliveryTarget{"bob@example.test", "INBOX", 0}}, big,
                                      1700000000);
  ASSERT_TRUE(r.ok()) << r.message;
  auto stuffed = [](std::string_view m) {
    pop::DotStuffer s;
    std::string out;
    s.stuff(m, out);
    s.finish(out);
    return out;
  };
  auto d = connect(w);
  d->feed(login_lines("bob@example.test"));
  d->take();
  d->feed("RETR 1\r\nTOP 1 2\r\nNOOP\r\n");
  const std::string want = "+OK " + std::to_string(big.size()) + " octets\r\n" + stuffed(big) +
                           "+OK Top of message follows\r\n" +
                           stuffed(std::string_view(big).substr(0, pop::top_length(big, 2))) +
                           "+OK\r\n";
  const std::string got = d->take();
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the streamed replies differ";
}

// Pipelined RETRs of message after message are answered from the read-ahead exactly as one
// RETR at a time would be, including messages marked deleted in between and a jump backwards.
TEST(PopSession, ReadAheadAnswersAsReadingEachMessage) {
  PopWorld w;
  std::vector<std::string> bodies;
  for (int i = 0; i < 2 * static_cast<int>(pop::kReadAheadMessages) + 5; ++i) {
    bodies.push_back("Subject: " + std::to_string(i) + "\r\n\r\n.line " + std::to_string(i) +
                     "\r\nbody\r\n");
    auto r = w.services.store().deliver({sdk::DeliveryTarget{"bob@example.test", "INBOX", 0}},
                                        bodies.back(), 1700000000);
    ASSERT_TRUE(r.ok()) << r.message;
  }
  auto retr = [&](std::size_t n) {
    std::string body = bodies[n - 1];
    const std::string head = "+OK " + std::to_string(body.size()) + " octets\r\n";
    return head + body.replace(body.find(".line"), 1, "..") + ".\r\n";
  };
  auto d = connect(w);
  d->feed(login_lines("bob@example.test"));
  d->take();
  std::string in = "RETR 1\r\nDELE 4\r\n";
  std::string want = retr(1) + "+OK Message 4 deleted\r\n";
  for (std::size_t n = 2; n <= bodies.size(); ++n) {
    in += "RETR " + std::to_string(n) + "\r\n";
    want += n == 4 ? "-ERR Message 4 already deleted\r\n" : retr(n);
  }
  in += "RETR 3\r\nTOP 2 0\r\nRETR 40\r\nRETR 41\r\n";
  want += retr(3) + "+OK Top of message follows\r\nSubject: 1\r\n\r\n.\r\n" + retr(40) + retr(41);
  d->feed(in);
  EXPECT_EQ(d->take(), want);
}

// Messages of mixed sizes, pipelined: read-ahead batches cut by octets (a message that does not
// fit the room left, one that fills it exactly, one just above kStreamAbove that is streamed
// between read-ahead messages) answer exactly as one RETR or TOP at a time would.
TEST(PopSession, ReadAheadBoundedInOctetsAnswersAsReadingEachMessage) {
  PopWorld w;
  const std::size_t bound = pop::kReadAheadOctets;
  const auto streamed = static_cast<std::size_t>(pop::kStreamAbove) + 1;
  const std::vector<std::size_t> sizes = {1000,  30000,     60000, bound,         2000,      700,
                                          45000, streamed,  1500,  bound / 2,     bound / 2, 90000,
                                          3000,  bound - 1, 40,    64 * 1024 + 1, 500};
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    std::string m = "Subject: " + std::to_string(i) + "\r\n\r\n";
    for (int line = 0; m.size() < sizes[i]; ++line) {
      m += (line % 5 == 0 ? "." : "") + std::to_string(i) + " line " + std::to_string(line) +
           " of a message of mixed size\r\n";
    }
    m.resize(sizes[i] - 2);
    m += "\r\n";
    bodies.push_back(m);
    auto r = w.services.store().deliver({sdk::DeliveryTarget{"bob@example.test", "INBOX", 0}}, m,
                                        1700000000);
    ASSERT_TRUE(r.ok()) << r.message;
  }
  auto stuffed = [](std::string_view m) {
    pop::DotStuffer s;
    std::string out;
    s.stuff(m, out);
    s.finish(out);
    return out;
  };
  auto retr = [&](std::size_t n) {
    const std::string& m = bodies[n - 1];
    return "+OK " + std::to_string(m.size()) + " octets\r\n" + stuffed(m);
  };
  auto d = connect(w);
  d->feed(login_lines("bob@example.test"));
  d->take();
  std::string in;
  std::string want;
  for (std::size_t n = 1; n <= bodies.size(); ++n) {
    in += "RETR " + std::to_string(n) + "\r\n";
    want += retr(n);
  }
  in += "TOP 4 1\r\nRETR 5\r\nRETR 6\r\nRETR 2\r\nRETR 3\r\n";
  want += "+OK Top of message follows\r\n" +
          stuffed(std::string_view(bodies[3]).substr(0, pop::top_length(bodies[3], 1))) + retr(5) +
          retr(6) + retr(2) + retr(3);
  d->feed(in);
  const std::string got = d->take();
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the replies differ";
}

// A GNU SASL client for SCRAM-SHA-256 speaking RFC 5034 through the session driver: starts
// AUTH and answers the server's first challenge; returns the server's next reply.
struct ScramClient {
  Gsasl* ctx = nullptr;
  Gsasl_session* client = nullptr;
  ~ScramClient() {
    if (client) gsasl_finish(client);
    if (ctx) gsasl_done(ctx);
  }
  std::string start(SessionDriver& d, const char* password) {
    EXPECT_EQ(gsasl_init(&ctx), GSASL_OK);
    EXPECT_EQ(gsasl_client_start(ctx, "SCRAM-SHA-256", &client), GSASL_OK);
    gsasl_property_set(client, GSASL_AUTHID, "alice@example.test");
    gsasl_property_set(client, GSASL_PASSWORD, password);
    char* out = nullptr;
    EXPECT_EQ(gsasl_step64(client, "", &out), GSASL_NEEDS_MORE);
    d.feed("AUTH SCRAM-SHA-256 " + std::string(out) + "\r\n");
    gsasl_free(out);
    std::string reply = d.take();
    EXPECT_EQ(reply.rfind("+ ", 0), 0u) << reply;
    EXPECT_EQ(step(reply), GSASL_NEEDS_MORE);
    d.feed(last + "\r\n");
    return d.take();
  }
  // One client step on a "+ challenge" reply; the answer is left in `last`.
  int step(const std::string& reply) {
    char* out = nullptr;
    const int rc = gsasl_step64(client, reply.substr(2, reply.size() - 4).c_str(), &out);
    last = out ? out : "";
    gsasl_free(out);
    return rc;
  }
  std::string last;
};

TEST(PopSession, ScramSha256Login) {
  PopWorld w;
  auto d = connect(w, false);  // SCRAM is offered without TLS: no password crosses the wire
  d->take();
  ScramClient scram;
  const std::string reply = scram.start(*d, "secret");
  ASSERT_EQ(reply.rfind("+ ", 0), 0u) << reply;  // the server's signature
  EXPECT_EQ(scram.step(reply), GSASL_OK);
  d->feed("\r\n");
  EXPECT_EQ(d->take(),
            "+OK Logged in, maildrop has 3 messages (" +
                std::to_string(kMessages[0].size() + kMessages[1].size() + kMessages[2].size()) +
                " octets)\r\n");
}

TEST(PopSession, ScramWithAWrongPasswordFails) {
  PopWorld w;
  auto d = connect(w, false);
  d->take();
  ScramClient scram;
  EXPECT_EQ(scram.start(*d, "wrong"), "-ERR [AUTH] Invalid user name or password\r\n");
}

}  // namespace
}  // namespace portico::testing
