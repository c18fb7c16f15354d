// Portico tests — the SASL exchange every protocol shares (sdk::SaslServer, core/directory/
// sasl_server.cpp), through a small line protocol driven by the SDK test kit's SessionDriver,
// with the real directory and a real GNU SASL client: the mechanism list per connection, SCRAM's
// final data as one more challenge or with the success, PLAIN with and without an initial
// response ("=" empty), "*" cancel, bad base64, unknown and plaintext-before-TLS mechanisms, raw
// octets (LDAP), input paused during steps, events never inside the call that caused them, and
// no event after the exchange is gone.
#include <gsasl.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/directory/directory.h"
#include "portico/base64.h"
#include "portico/sasl.h"
#include "portico/testkit/driver.h"
#include "portico/testkit/host.h"
#include "test_dir.h"

namespace portico::core {
namespace {

// A protocol of one command: "AUTH <mechanism> [initial-response]". While an exchange runs,
// each line is the client's response. Every event is written as one line.
class AuthSession final : public sdk::Session {
 public:
  AuthSession(sdk::SessionContext& ctx, sdk::Host& host, sdk::SaslPolicy policy)
      : ctx_(ctx), host_(host), policy_(std::move(policy)) {}

  void on_start() override { ctx_.write("READY\r\n"); }
  void on_line(std::string_view line) override {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.remove_suffix(1);
    if (exchange_) {
      exchange_->respond(line);
      if (drop_after_response_) exchange_.reset();
      return;
    }
    if (line.rfind("AUTH ", 0) != 0) return ctx_.write("LINE " + std::string(line) + "\r\n");
    std::string_view args = line.substr(5);
    const auto space = args.find(' ');
    std::optional<std::string_view> initial;
    if (space != std::string_view::npos) initial = args.substr(space + 1);
    in_call_ = true;
    auto on_event = [this](const sdk::SaslEvent& e) { event(e); };
    auto s = domain_.empty()
                 ? host_.sasl()->start(ctx_, args.substr(0, space), initial, policy_, on_event)
                 : host_.sasl()->start_in_domain(ctx_, args.substr(0, space), initial, policy_,
                                                 domain_, on_event);
    in_call_ = false;
    using S = sdk::SaslStart::Status;
    switch (s.status) {
      case S::started:
        exchange_ = std::move(s.exchange);
        return;
      case S::unknown_mechanism:
        return ctx_.write("UNKNOWN\r\n");
      case S::encryption_required:
        return ctx_.write("ENCRYPT\r\n");
      case S::bad_encoding:
        return ctx_.write("BADENC\r\n");
      case S::unavailable:
        return ctx_.write("UNAVAILABLE\r\n");
    }
  }
  void on_line_too_long() override {}

  void event(const sdk::SaslEvent& e) {
    if (in_call_) nested_ = true;
    using K = sdk::SaslEvent::Kind;
    switch (e.kind) {
      case K::challenge:
        return ctx_.write("C " + e.data + "\r\n");
      case K::success:
        exchange_.reset();
        return ctx_.write("OK " + e.user + (e.data.empty() ? "" : " " + e.data) + "\r\n");
      case K::failure:
        exchange_.reset();
        return ctx_.write("NO " + std::to_string(static_cast<int>(e.reason)) + "\r\n");
      case K::cancelled:
        exchange_.reset();
        return ctx_.write("CANCELLED\r\n");
      case K::bad_encoding:
        exchange_.reset();
        return ctx_.write("BADENC\r\n");
      case K::malformed:
        exchange_.reset();
        return ctx_.write("MALFORMED\r\n");
    }
  }
  bool nested_ = false;               // an event arrived inside start()
  bool drop_after_response_ = false;  // end the exchange right after handing it a response
  std::string domain_;                // start_in_domain() with it when set (SDK 1.8)

 private:
  sdk::SessionContext& ctx_;
  sdk::Host& host_;
  sdk::SaslPolicy policy_;
  std::unique_ptr<sdk::SaslExchange> exchange_;
  bool in_call_ = false;
};

class DirectoryHost final : public testkit::TestHost {
 public:
  explicit DirectoryHost(DirectoryService& d) : d_(d) {}
  sdk::Directory* directory() override { return &d_; }
  sdk::Auth* auth() override { return &d_; }

 private:
  DirectoryService& d_;
};

struct AuthConnection {
  AuthConnection(sdk::Host& host, sdk::SaslPolicy policy, bool tls, std::string domain = {}) {
    testkit::DriverOptions options;
    options.implicit_tls = tls;
    driver = std::make_unique<testkit::SessionDriver>(
        [&host, policy, domain, this](sdk::SessionContext& ctx) {
          auto s = std::make_unique<AuthSession>(ctx, host, policy);
          s->domain_ = domain;
          session = s.get();
          return s;
        },
        host, options);
    driver->start();
    EXPECT_EQ(driver->take(), "READY\r\n");
  }
  // Sends one line and returns the lines answered.
  std::string say(const std::string& line) {
    driver->feed(line + "\r\n");
    return driver->take();
  }
  std::unique_ptr<testkit::SessionDriver> driver;
  AuthSession* session = nullptr;
};

// A GNU SASL client for one mechanism.
class Client {
 public:
  Client(const char* mechanism, const std::string& user, const std::string& password) {
    EXPECT_EQ(gsasl_init(&ctx_), GSASL_OK);
    EXPECT_EQ(gsasl_client_start(ctx_, mechanism, &s_), GSASL_OK);
    gsasl_property_set(s_, GSASL_AUTHID, user.c_str());
    gsasl_property_set(s_, GSASL_PASSWORD, password.c_str());
  }
  ~Client() {
    gsasl_finish(s_);
    gsasl_done(ctx_);
  }
  // The client's answer to a base64 challenge, in base64; rc is GSASL_OK or GSASL_NEEDS_MORE.
  std::string step(const std::string& challenge_b64, int* rc = nullptr) {
    char* out = nullptr;
    const int r = gsasl_step64(s_, challenge_b64.c_str(), &out);
    if (rc != nullptr) *rc = r;
    std::string answer(out != nullptr ? out : "");
    gsasl_free(out);
    return answer;
  }

 private:
  Gsasl* ctx_ = nullptr;
  Gsasl_session* s_ = nullptr;
};

// The text after "C " on a challenge line.
std::string challenge_of(const std::string& reply) {
  EXPECT_EQ(reply.rfind("C ", 0), 0u) << reply;
  return reply.size() >= 4 ? reply.substr(2, reply.size() - 4) : std::string();
}

class SaslExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = open_directory(tmp_.path());
    dir_->add_domain("example.com");
    dir_->add_account("user@example.com", "", 0, "pencil");
    host_ = std::make_unique<DirectoryHost>(*dir_);
  }
  sdk::SaslPolicy policy(bool final_as_challenge = true) const {
    sdk::SaslPolicy p;
    p.service = "test";
    p.final_data_as_challenge = final_as_challenge;
    return p;
  }
  test::TempDir tmp_;
  std::unique_ptr<DirectoryService> dir_;
  std::unique_ptr<DirectoryHost> host_;
};

TEST_F(SaslExchangeTest, ScramFinalDataGoesAsOneMoreChallengeThenSuccess) {
  for (const char* mech : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    SCOPED_TRACE(mech);
    AuthConnection c(*host_, policy(), false);
    Client client(mech, "user@example.com", "pencil");
    int rc = 0;
    const std::string first = client.step("", &rc);
    std::string reply = c.say(std::string("AUTH ") + mech + " " + first);
    const std::string server_first = challenge_of(reply);
    reply = c.say(client.step(server_first, &rc));
    const std::string server_final = challenge_of(reply);  // the verifier, as a challenge
    client.step(server_final, &rc);
    EXPECT_EQ(rc, GSASL_OK) << "the client does not accept the server's proof";
    EXPECT_EQ(c.say(""), "OK user@example.com\r\n");
    EXPECT_FALSE(c.session->nested_);
  }
}

TEST_F(SaslExchangeTest, ScramFinalDataComesWithTheSuccessWhenTheProtocolCarriesIt) {
  AuthConnection c(*host_, policy(false), false);
  Client client("SCRAM-SHA-256", "user@example.com", "pencil");
  std::string reply = c.say("AUTH SCRAM-SHA-256 " + client.step(""));
  reply = c.say(client.step(challenge_of(reply)));
  ASSERT_EQ(reply.rfind("OK user@example.com ", 0), 0u) << reply;
  int rc = 0;
  client.step(reply.substr(20, reply.size() - 22), &rc);
  EXPECT_EQ(rc, GSASL_OK);
}

TEST_F(SaslExchangeTest, NonEmptyAnswerToTheFinalDataIsMalformed) {
  AuthConnection c(*host_, policy(), false);
  Client client("SCRAM-SHA-256", "user@example.com", "pencil");
  std::string reply = c.say("AUTH SCRAM-SHA-256 " + client.step(""));
  reply = c.say(client.step(challenge_of(reply)));
  challenge_of(reply);
  EXPECT_EQ(c.say("dGhhbmtz"), "MALFORMED\r\n");
}

TEST_F(SaslExchangeTest, BareUserNamesAreLocalPartsOfTheExchangesDomain) {
  // SCRAM with n=user, as XMPP clients send it (RFC 6120 6.3.8).
  for (const char* mech : {"SCRAM-SHA-256", "SCRAM-SHA-1"}) {
    SCOPED_TRACE(mech);
    AuthConnection c(*host_, policy(false), true, "example.com");
    Client client(mech, "user", "pencil");
    std::string reply = c.say(std::string("AUTH ") + mech + " " + client.step(""));
    reply = c.say(client.step(challenge_of(reply)));
    EXPECT_EQ(reply.rfind("OK user@example.com ", 0), 0u) << reply;
  }
  auto plain = [](const std::string& authzid, const std::string& user) {
    return sdk::base64_encode(authzid + '\0' + user + '\0' + "pencil");
  };
  AuthConnection c(*host_, policy(), true, "example.com");
  EXPECT_EQ(c.say("AUTH PLAIN " + plain("", "user")), "OK user@example.com\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN " + plain("user", "user")), "OK user@example.com\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN " + plain("user@example.com", "user")), "OK user@example.com\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN " + plain("", "user@example.com")), "OK user@example.com\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN " + plain("other", "user")), "NO 1\r\n")
      << "another identity than the user's own";
  // Without a domain, a bare name is no account.
  AuthConnection bare(*host_, policy(), true);
  EXPECT_EQ(bare.say("AUTH PLAIN " + plain("", "user")), "NO 1\r\n");
}

TEST_F(SaslExchangeTest, PlainWithoutTlsOnlyWhenThePolicyAllowsIt) {
  const std::string ir = sdk::base64_encode(std::string("\0user@example.com\0pencil", 24));
  AuthConnection plain(*host_, policy(), false);
  EXPECT_EQ(plain.say("AUTH PLAIN " + ir), "ENCRYPT\r\n");
  auto allowed = policy();
  allowed.allow_plaintext_without_tls = true;
  AuthConnection permitted(*host_, allowed, false);
  EXPECT_EQ(permitted.say("AUTH PLAIN " + ir), "OK user@example.com\r\n");
  AuthConnection tls(*host_, policy(), true);
  EXPECT_EQ(tls.say("AUTH plain " + ir), "OK user@example.com\r\n");
}

TEST_F(SaslExchangeTest, EmptyInitialResponseAndNoInitialResponse) {
  AuthConnection c(*host_, policy(), true);
  // "=": an empty initial response; PLAIN then asks with an empty challenge.
  EXPECT_EQ(c.say("AUTH PLAIN ="), "C \r\n");
  EXPECT_EQ(c.say(sdk::base64_encode(std::string("\0user@example.com\0wrong", 23))), "NO 1\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN"), "C \r\n");
  EXPECT_EQ(c.say(sdk::base64_encode(std::string("\0user@example.com\0pencil", 24))),
            "OK user@example.com\r\n");
}

TEST_F(SaslExchangeTest, CancelBadBase64AndUnknownMechanisms) {
  AuthConnection c(*host_, policy(), true);
  EXPECT_EQ(c.say("AUTH PLAIN"), "C \r\n");
  EXPECT_EQ(c.say("*"), "CANCELLED\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN"), "C \r\n");
  EXPECT_EQ(c.say("not base64!"), "BADENC\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN %%%%"), "BADENC\r\n");
  EXPECT_EQ(c.say("AUTH CRAM-MD5"), "UNKNOWN\r\n");
  EXPECT_EQ(c.say("AUTH "), "UNKNOWN\r\n");  // no mechanism
  auto no_login = policy();
  no_login.disable_login = true;
  AuthConnection d(*host_, no_login, true);
  EXPECT_EQ(d.say("AUTH LOGIN"), "UNKNOWN\r\n");
}

TEST_F(SaslExchangeTest, RawOctetsForProtocolsWithoutBase64) {
  auto raw = policy(false);
  raw.encoding = sdk::SaslEncoding::raw;
  raw.allow_plaintext_without_tls = true;
  AuthConnection c(*host_, raw, false);
  // "*" is no cancel in raw octets: it is PLAIN's (malformed) message.
  EXPECT_EQ(c.say("AUTH PLAIN *"), "MALFORMED\r\n");
  EXPECT_EQ(c.say("AUTH PLAIN " + std::string("\0user@example.com\0pencil", 24)),
            "OK user@example.com\r\n");
}

TEST_F(SaslExchangeTest, MechanismsDependOnTlsAndPolicy) {
  using V = std::vector<std::string>;
  AuthConnection plain(*host_, policy(), false);
  AuthConnection tls(*host_, policy(), true);
  sdk::SaslServer& sasl = *host_->sasl();
  EXPECT_EQ(sasl.mechanisms(*plain.driver, policy()), (V{"SCRAM-SHA-256", "SCRAM-SHA-1"}));
  EXPECT_EQ(sasl.mechanisms(*tls.driver, policy()),
            (V{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"}));
  auto p = policy();
  p.disable_login = true;
  p.allow_plaintext_without_tls = true;
  EXPECT_EQ(sasl.mechanisms(*plain.driver, p), (V{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}));
  testkit::TestHost bare;
  EXPECT_TRUE(bare.sasl()->mechanisms(*plain.driver, policy()).empty());
}

TEST_F(SaslExchangeTest, NoAuthServiceMeansUnavailable) {
  testkit::TestHost bare;
  AuthConnection c(bare, policy(), true);
  EXPECT_EQ(c.say("AUTH PLAIN ="), "UNAVAILABLE\r\n");
}

TEST_F(SaslExchangeTest, InputWaitsWhileAStepRuns) {
  AuthConnection c(*host_, policy(), true);
  // The answer and a pipelined line in one read: the line is handled after the outcome.
  c.driver->feed("AUTH PLAIN " + sdk::base64_encode(std::string("\0user@example.com\0pencil", 24)) +
                 "\r\nNEXT\r\n");
  EXPECT_EQ(c.driver->take(), "OK user@example.com\r\nLINE NEXT\r\n");
  EXPECT_FALSE(c.session->nested_);
}

TEST_F(SaslExchangeTest, NoEventAfterTheExchangeIsDropped) {
  AuthConnection c(*host_, policy(), true);
  EXPECT_EQ(c.say("AUTH PLAIN"), "C \r\n");
  // The response starts a step, and the session ends the exchange at once, before the outcome
  // (posted work runs only after the current callback returns): no event, input stays paused.
  c.session->drop_after_response_ = true;
  c.driver->feed(sdk::base64_encode(std::string("\0user@example.com\0pencil", 24)) + "\r\n");
  c.driver->feed("NEXT\r\n");
  EXPECT_EQ(c.driver->take(), "");
  EXPECT_TRUE(c.driver->paused());
}

}  // namespace
}  // namespace portico::core
