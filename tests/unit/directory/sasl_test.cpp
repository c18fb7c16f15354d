// Portico tests — SASL server sessions driven by a real GNU SASL client: SCRAM-SHA-256,
// SCRAM-SHA-1, PLAIN and LOGIN with right and wrong passwords, unknown and disabled users,
// authorization identities, malformed input, and which mechanisms are offered before TLS.
#include <gsasl.h>
#include <gtest/gtest.h>

#include <string>

#include "core/directory/directory.h"
#include "test_dir.h"

namespace portico::core {
namespace {

using Status = sdk::SaslStep::Status;

// A GNU SASL client context for the whole test program.
class Client {
 public:
  Client() { EXPECT_EQ(gsasl_init(&ctx_), GSASL_OK); }
  ~Client() { gsasl_done(ctx_); }
  Gsasl* ctx() const { return ctx_; }

 private:
  Gsasl* ctx_ = nullptr;
};

Client& client() {
  static Client c;
  return c;
}

struct Outcome {
  sdk::SaslStep last;
  int client_rc = GSASL_NEEDS_MORE;  // the client's verdict on the server's last message
  int rounds = 0;
};

// Runs one exchange: the server speaks first (no initial response), the client answers each
// challenge, and checks the server's final message (SCRAM's verifier) on success.
Outcome exchange(DirectoryService& d, const char* mechanism, const std::string& user,
                 const std::string& password, const std::string& authzid = "",
                 const std::string& remote = "192.0.2.1") {
  Outcome o;
  Gsasl_session* c = nullptr;
  EXPECT_EQ(gsasl_client_start(client().ctx(), mechanism, &c), GSASL_OK);
  gsasl_property_set(c, GSASL_AUTHID, user.c_str());
  gsasl_property_set(c, GSASL_PASSWORD, password.c_str());
  if (!authzid.empty()) gsasl_property_set(c, GSASL_AUTHZID, authzid.c_str());
  auto server = d.start(mechanism, remote, "imap");
  EXPECT_NE(server, nullptr);
  if (!server) return o;
  EXPECT_EQ(server->mechanism(), mechanism);
  o.last = server->step("");
  while (o.last.status == Status::challenge && o.rounds < 10) {
    ++o.rounds;
    char* out = nullptr;
    std::size_t len = 0;
    o.client_rc = gsasl_step(c, o.last.data.data(), o.last.data.size(), &out, &len);
    std::string response(out != nullptr ? out : "", len);
    gsasl_free(out);
    if (o.client_rc != GSASL_OK && o.client_rc != GSASL_NEEDS_MORE) break;
    o.last = server->step(response);
  }
  if (o.last.status == Status::success && !o.last.data.empty()) {
    char* out = nullptr;
    std::size_t len = 0;
    o.client_rc = gsasl_step(c, o.last.data.data(), o.last.data.size(), &out, &len);
    gsasl_free(out);
  }
  gsasl_finish(c);
  return o;
}

class SaslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = open_directory(tmp_.path());
    dir_->add_domain("example.com");
    dir_->add_account("user@example.com", "", 0, "pencil");
  }
  test::TempDir tmp_;
  std::unique_ptr<DirectoryService> dir_;
};

class ScramTest : public SaslTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(ScramTest, RightPasswordSucceedsAndTheServerProvesItself) {
  auto o = exchange(*dir_, GetParam(), "User@Example.com", "pencil");
  EXPECT_EQ(o.last.status, Status::success);
  EXPECT_EQ(o.last.user, "user@example.com");
  EXPECT_TRUE(o.last.data.starts_with("v=")) << o.last.data;
  EXPECT_EQ(o.client_rc, GSASL_OK);  // the client accepted the server's signature
  EXPECT_EQ(dir_->counters().successes, 1u);
}

TEST_P(ScramTest, WrongPasswordFails) {
  auto o = exchange(*dir_, GetParam(), "user@example.com", "crayon");
  EXPECT_EQ(o.last.status, Status::failure);
  EXPECT_EQ(o.last.reason, sdk::AuthStatus::bad_credentials);
  EXPECT_EQ(dir_->counters().failures, 1u);
}

TEST_P(ScramTest, UnknownUserLooksLikeAWrongPassword) {
  auto o = exchange(*dir_, GetParam(), "ghost@example.com", "pencil");
  EXPECT_EQ(o.last.status, Status::failure);
  EXPECT_EQ(o.last.reason, sdk::AuthStatus::bad_credentials);
  EXPECT_EQ(o.rounds, 2);  // the full exchange, not an early refusal
  // The made-up salt is stable, as a real one would be.
  auto a = dir_->scram_credentials("ghost@example.com", directory::ScramHash::sha256);
  auto b = dir_->scram_credentials("ghost@example.com", directory::ScramHash::sha256);
  EXPECT_FALSE(a.real);
  EXPECT_EQ(a.salt_base64, b.salt_base64);
}

TEST_P(ScramTest, DisabledAccountIsRefused) {
  dir_->set_enabled("user@example.com", false);
  auto o = exchange(*dir_, GetParam(), "user@example.com", "pencil");
  EXPECT_EQ(o.last.status, Status::failure);
  EXPECT_EQ(o.last.reason, sdk::AuthStatus::disabled);
}

TEST_P(ScramTest, AnotherAuthorizationIdentityIsRefused) {
  dir_->add_account("boss@example.com", "", 0, "secret");
  auto o = exchange(*dir_, GetParam(), "user@example.com", "pencil", "boss@example.com");
  EXPECT_EQ(o.last.status, Status::failure);
  auto self = exchange(*dir_, GetParam(), "user@example.com", "pencil", "user@example.com");
  EXPECT_EQ(self.last.status, Status::success);
}

TEST_P(ScramTest, MalformedClientMessageIsAnError) {
  auto server = dir_->start(GetParam(), "192.0.2.1", "imap");
  ASSERT_NE(server, nullptr);
  auto s = server->step("this is not scram");
  EXPECT_EQ(s.status, Status::error);
  EXPECT_EQ(server->step("n,,n=user,r=abc").status, Status::error);  // over: no more steps
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, ScramTest, ::testing::Values("SCRAM-SHA-256", "SCRAM-SHA-1"));

class PlainTest : public SaslTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(PlainTest, ChecksThePasswordHash) {
  auto ok = exchange(*dir_, GetParam(), "user@example.com", "pencil");
  EXPECT_EQ(ok.last.status, Status::success);
  EXPECT_EQ(ok.last.user, "user@example.com");
  auto bad = exchange(*dir_, GetParam(), "user@example.com", "crayon");
  EXPECT_EQ(bad.last.status, Status::failure);
  EXPECT_EQ(bad.last.reason, sdk::AuthStatus::bad_credentials);
  auto unknown = exchange(*dir_, GetParam(), "ghost@example.com", "pencil");
  EXPECT_EQ(unknown.last.status, Status::failure);
  dir_->set_enabled("user@example.com", false);
  auto disabled = exchange(*dir_, GetParam(), "user@example.com", "pencil");
  EXPECT_EQ(disabled.last.status, Status::failure);
  EXPECT_EQ(disabled.last.reason, sdk::AuthStatus::disabled);
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, PlainTest, ::testing::Values("PLAIN", "LOGIN"));

TEST_F(SaslTest, PlainWithInitialResponseAndAuthzid) {
  using namespace std::string_literals;
  auto s = dir_->start("plain", "192.0.2.1", "smtp");
  ASSERT_NE(s, nullptr);
  auto r = s->step("\0user@example.com\0pencil"s);
  EXPECT_EQ(r.status, Status::success);
  dir_->add_account("boss@example.com", "", 0, "secret");
  auto other = dir_->start("PLAIN", "192.0.2.1", "smtp");
  EXPECT_EQ(other->step("boss@example.com\0user@example.com\0pencil"s).status, Status::failure);
}

TEST_F(SaslTest, ImportedHashWorksWithPlainButNotScram) {
  dir_->add_account("old@example.com", "", 0, std::nullopt,
                    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OT"
                    "LiBFdcbYEdFCoEOfaS35inz1");
  EXPECT_EQ(exchange(*dir_, "PLAIN", "old@example.com", "Hello world!").last.status,
            Status::success);
  EXPECT_EQ(exchange(*dir_, "SCRAM-SHA-256", "old@example.com", "Hello world!").last.status,
            Status::failure);
}

TEST_F(SaslTest, ThrottledExchangesFailEarly) {
  for (int i = 0; i < 10; ++i)
    exchange(*dir_, "PLAIN", "user@example.com", "bad", "", "192.0.2.9");
  auto plain = exchange(*dir_, "PLAIN", "user@example.com", "pencil", "", "192.0.2.9");
  EXPECT_EQ(plain.last.status, Status::failure);
  EXPECT_EQ(plain.last.reason, sdk::AuthStatus::throttled);
  auto scram = exchange(*dir_, "SCRAM-SHA-256", "user@example.com", "pencil", "", "192.0.2.10");
  EXPECT_EQ(scram.last.status, Status::failure);  // the account is locked, from anywhere
  EXPECT_EQ(scram.last.reason, sdk::AuthStatus::throttled);
}

TEST_F(SaslTest, MechanismsHidePlaintextBeforeTls) {
  using V = std::vector<std::string>;
  EXPECT_EQ(dir_->mechanisms(false, false, false), (V{"SCRAM-SHA-256", "SCRAM-SHA-1"}));
  EXPECT_EQ(dir_->mechanisms(true, false, false),
            (V{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"}));
  EXPECT_EQ(dir_->mechanisms(false, true, false),
            (V{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"}));
  EXPECT_EQ(dir_->mechanisms(true, false, true), (V{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}));
  EXPECT_EQ(dir_->start("CRAM-MD5", "192.0.2.1", "imap"), nullptr);
  EXPECT_EQ(dir_->start("GSSAPI", "192.0.2.1", "imap"), nullptr);
}

}  // namespace
}  // namespace portico::core
