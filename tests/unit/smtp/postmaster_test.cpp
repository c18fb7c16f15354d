// RFC 5321 section 4.5.1: mail for postmaster is always accepted, and this checks where it is
// delivered — the directory's own postmaster address when there is one, else the `postmaster`
// setting, else the store account postmaster@<host name> (kept until that account exists) —
// and that postmaster at a domain that is not ours is still subject to the relay rules.
#include <gtest/gtest.h>

#include <string>

#include "golden.h"
#include "session_driver.h"
#include "smtp_plugin.h"

namespace portico::testing {
namespace {

// Sends one message to `rcpt` with the given plugin settings; returns the server's replies.
std::string send(TestServices& services, const std::string& rcpt, const std::string& yaml) {
  TestHost host(services);
  std::shared_ptr<sdk::Plugin> plugin = load_smtp_in(host);
  SessionDriver driver(*plugin, host, validated_settings(*plugin, "smtp-in", yaml));
  driver.start();
  driver.feed("EHLO client.example\r\nMAIL FROM:<s@remote.example>\r\nRCPT TO:<" + rcpt +
              ">\r\nDATA\r\nSubject: for the postmaster\r\n\r\nHello.\r\n.\r\nQUIT\r\n");
  return driver.take();
}

std::size_t inbox(TestServices& s, const std::string& account) {
  auto r = s.store().fetch(account, "INBOX", {}, false, 0);
  return r.ok() ? r.value.size() : 0;
}

TEST(SmtpPostmaster, BareWithoutAnyPostmasterGoesToTheHostNamesStoreAccount) {
  TestServices s;
  s.directory().add_domain("example.test");
  const std::string out = send(s, "Postmaster", "");
  EXPECT_NE(out.find("250 2.0.0 Ok: delivered"), std::string::npos) << out;
  EXPECT_EQ(inbox(s, "postmaster@mail.example.test"), 1u);
}

TEST(SmtpPostmaster, LocalDomainWithoutPostmasterFallsBackToo) {
  TestServices s;
  s.directory().add_domain("example.test");
  const std::string out = send(s, "POSTMASTER@example.test", "");
  EXPECT_NE(out.find("250 2.0.0 Ok: delivered"), std::string::npos) << out;
  EXPECT_EQ(inbox(s, "postmaster@mail.example.test"), 1u);
}

TEST(SmtpPostmaster, SettingNamesTheAccount) {
  TestServices s;
  s.directory().add_domain("example.test");
  s.directory().add_account("bob@example.test", "", 0, std::string_view("secret"), std::nullopt);
  const std::string out = send(s, "postmaster", "postmaster: bob@example.test\n");
  EXPECT_NE(out.find("250 2.0.0 Ok: delivered"), std::string::npos) << out;
  EXPECT_EQ(inbox(s, "bob@example.test"), 1u);
  EXPECT_EQ(inbox(s, "postmaster@mail.example.test"), 0u);
}

TEST(SmtpPostmaster, DirectoryAddressWinsOverTheSetting) {
  TestServices s;
  s.directory().add_domain("example.test");
  s.directory().add_account("alice@example.test", "", 0, std::string_view("secret"), std::nullopt);
  s.directory().add_account("bob@example.test", "", 0, std::string_view("secret"), std::nullopt);
  s.directory().add_alias("postmaster@example.test", {"alice@example.test"});
  send(s, "postmaster@example.test", "postmaster: bob@example.test\n");
  EXPECT_EQ(inbox(s, "alice@example.test"), 1u);
  EXPECT_EQ(inbox(s, "bob@example.test"), 0u);
  // The bare form is postmaster@<host name>, which the directory does not have: the setting.
  send(s, "Postmaster", "postmaster: bob@example.test\n");
  EXPECT_EQ(inbox(s, "bob@example.test"), 1u);
}

TEST(SmtpPostmaster, SettingOutsideTheLocalDomainsIsQueued) {
  TestServices s;
  s.directory().add_domain("example.test");
  const std::string out = send(s, "Postmaster", "postmaster: noc@provider.example\n");
  EXPECT_NE(out.find("250 2.0.0 Ok: queued as "), std::string::npos) << out;
  auto list = s.queue().list();
  ASSERT_TRUE(list.ok()) << list.message;
  ASSERT_EQ(list.value.size(), 1u);
  EXPECT_EQ(list.value[0].envelope.recipients.at(0).address, "noc@provider.example");
}

TEST(SmtpPostmaster, RemoteDomainFollowsTheRelayRules) {
  TestServices s;
  s.directory().add_domain("example.test");
  const std::string out = send(s, "postmaster@elsewhere.example", "");
  EXPECT_NE(out.find("554 5.7.1 <postmaster@elsewhere.example>: Relay access denied"),
            std::string::npos)
      << out;
}

TEST(SmtpPostmaster, SettingMustBeAnAddress) {
  TestServices s;
  TestHost host(s);
  auto plugin = load_smtp_in(host);
  auto bad = plugin->check(validated_settings(*plugin, "smtp-in", "postmaster: nobody\n"));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("postmaster"), std::string::npos) << bad[0];
  EXPECT_TRUE(
      plugin->check(validated_settings(*plugin, "smtp-in", "postmaster: a@b.example\n")).empty());
}

}  // namespace
}  // namespace portico::testing
