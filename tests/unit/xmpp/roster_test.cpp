// xmpp: presence subscriptions (RFC 6121 section 3) as plan_subscription applies them to both
// rosters in a real SQLite storage: requests, approvals, pre-approval, refusals, cancellations,
// and which roster pushes and deliveries each one asks for.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "roster.h"

namespace portico::xmpp {
namespace {

constexpr const char* kAlice = "alice@example.test";
constexpr const char* kBob = "bob@example.test";

class Subscriptions : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/xmpp-roster-XXXXXX";
    dir_ = mkdtemp(tmpl);
    storage_ = std::make_unique<Storage>(dir_ + "/xmpp.sqlite");
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  RosterItem item(const std::string& account, const std::string& jid) {
    auto i = storage_->roster_item(account, jid);
    EXPECT_TRUE(i) << account << " has no item for " << jid;
    return i ? *i : RosterItem{};
  }
  SubscriptionPlan plan(const std::string& user, const std::string& contact,
                        const std::string& type, bool exists = true) {
    return plan_subscription(*storage_, user, contact, type, exists);
  }
  static bool pushed(const SubscriptionPlan& p, const std::string& account) {
    for (const auto& push : p.pushes)
      if (push.account == account) return true;
    return false;
  }
  std::string dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(Subscriptions, RequestThenApprovalMakesToAndFrom) {
  auto p = plan(kAlice, kBob, "subscribe");
  EXPECT_TRUE(item(kAlice, kBob).ask);
  EXPECT_TRUE(pushed(p, kAlice));
  EXPECT_FALSE(pushed(p, kBob)) << "a pending request is not a roster item of bob's";
  ASSERT_EQ(p.sends.size(), 1u);
  EXPECT_EQ(p.sends[0].to_bare, kBob);
  EXPECT_NE(p.sends[0].xml.find("type='subscribe'"), std::string::npos);
  RosterItem pending = item(kBob, kAlice);
  EXPECT_TRUE(pending.pending_in);
  EXPECT_FALSE(shown_item(pending));
  EXPECT_NE(pending.pending_in_stanza.find("from='alice@example.test'"), std::string::npos);

  auto a = plan(kBob, kAlice, "subscribed");
  EXPECT_EQ(item(kBob, kAlice).subscription, Subscription::from);
  EXPECT_FALSE(item(kBob, kAlice).pending_in);
  EXPECT_EQ(item(kAlice, kBob).subscription, Subscription::to);
  EXPECT_FALSE(item(kAlice, kBob).ask);
  EXPECT_TRUE(pushed(a, kAlice));
  EXPECT_TRUE(pushed(a, kBob));
  EXPECT_EQ(a.presence_from, kBob);
  EXPECT_EQ(a.presence_to, kAlice);
  EXPECT_FALSE(a.presence_unavailable);
}

TEST_F(Subscriptions, MutualSubscriptionMakesBoth) {
  plan(kAlice, kBob, "subscribe");
  plan(kBob, kAlice, "subscribed");
  plan(kBob, kAlice, "subscribe");
  plan(kAlice, kBob, "subscribed");
  EXPECT_EQ(item(kAlice, kBob).subscription, Subscription::both);
  EXPECT_EQ(item(kBob, kAlice).subscription, Subscription::both);
}

TEST_F(Subscriptions, ARequestToSomeoneAlreadySubscribedIsApprovedAtOnce) {
  plan(kAlice, kBob, "subscribe");
  plan(kBob, kAlice, "subscribed");
  plan(kAlice, kBob, "unsubscribe");
  EXPECT_EQ(item(kAlice, kBob).subscription, Subscription::none);
  EXPECT_EQ(item(kBob, kAlice).subscription, Subscription::none);
  // Pre-approval (RFC 6121 3.4): bob approves before alice asks.
  auto pre = plan(kBob, kAlice, "subscribed");
  EXPECT_TRUE(item(kBob, kAlice).approved);
  auto p = plan(kAlice, kBob, "subscribe");
  EXPECT_EQ(item(kAlice, kBob).subscription, Subscription::to);
  EXPECT_EQ(item(kBob, kAlice).subscription, Subscription::from);
  EXPECT_FALSE(item(kBob, kAlice).approved);
  EXPECT_EQ(p.presence_from, kBob);
}

TEST_F(Subscriptions, RefusalClearsTheRequestAndLeavesNoItemBehind) {
  plan(kAlice, kBob, "subscribe");
  auto p = plan(kBob, kAlice, "unsubscribed");
  EXPECT_FALSE(item(kAlice, kBob).ask);
  EXPECT_EQ(item(kAlice, kBob).subscription, Subscription::none);
  EXPECT_FALSE(storage_->roster_item(kBob, kAlice)) << "the request-only item is gone";
  EXPECT_TRUE(pushed(p, kAlice));
  EXPECT_FALSE(pushed(p, kBob));
}

TEST_F(Subscriptions, CancellingTellsTheOtherSideUnavailable) {
  plan(kAlice, kBob, "subscribe");
  plan(kBob, kAlice, "subscribed");
  auto p = plan(kBob, kAlice, "unsubscribed");
  EXPECT_EQ(item(kBob, kAlice).subscription, Subscription::none);
  EXPECT_EQ(item(kAlice, kBob).subscription, Subscription::none);
  EXPECT_TRUE(p.presence_unavailable);
  EXPECT_EQ(p.presence_from, kBob);
  EXPECT_EQ(p.presence_to, kAlice);
}

TEST_F(Subscriptions, ARequestToNoSuchAccountIsRefusedAtOnce) {
  auto p = plan(kAlice, "nobody@example.test", "subscribe", false);
  EXPECT_FALSE(item(kAlice, "nobody@example.test").ask);
  ASSERT_FALSE(p.sends.empty());
  EXPECT_EQ(p.sends.back().to_bare, kAlice);
  EXPECT_NE(p.sends.back().xml.find("type='unsubscribed'"), std::string::npos);
  EXPECT_FALSE(storage_->roster_item("nobody@example.test", kAlice));
}

TEST_F(Subscriptions, RosterItemXmlNamesStateAndGroups) {
  RosterItem i;
  i.jid = kBob;
  i.name = "Bob & co";
  i.subscription = Subscription::to;
  i.ask = true;
  i.groups = {"Friends", "Work"};
  std::string xml = to_xml(roster_item_xml(i), "jabber:iq:roster");
  EXPECT_EQ(xml,
            "<item jid=\"bob@example.test\" name=\"Bob &amp; co\" subscription=\"to\" "
            "ask=\"subscribe\"><group>Friends</group><group>Work</group></item>");
}

}  // namespace
}  // namespace portico::xmpp
