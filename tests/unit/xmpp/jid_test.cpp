// xmpp: JIDs (RFC 7622) as the plugin parses, normalizes and refuses them, and the XEP-0082
// timestamps and stanza errors of ns.h.
#include <gtest/gtest.h>

#include "jid.h"
#include "ns.h"

namespace portico::xmpp {
namespace {

TEST(Jid, ParsesFullBareAndDomainJids) {
  auto full = parse_jid("Alice@Example.TEST/Phone/with/slashes@");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->local, "alice");
  EXPECT_EQ(full->domain, "example.test");
  EXPECT_EQ(full->resource, "Phone/with/slashes@");
  EXPECT_EQ(full->bare(), "alice@example.test");
  EXPECT_EQ(full->full(), "alice@example.test/Phone/with/slashes@");
  auto domain = parse_jid("example.test.");
  ASSERT_TRUE(domain);
  EXPECT_EQ(domain->full(), "example.test");
  EXPECT_TRUE(domain->local.empty());
}

TEST(Jid, RefusesWhatRfc7622Forbids) {
  for (const char* bad :
       {"", "@example.test", "alice@", "alice@example.test/", "a b@example.test",
        "a\"b@example.test", "a:b@example.test", "a<b@example.test", "alice@exa mple.test",
        "alice@example.test/\x01", "\xff@example.test", "a@b@example.test"}) {
    EXPECT_FALSE(parse_jid(bad)) << bad;
  }
  EXPECT_FALSE(parse_jid(std::string(1024, 'a') + "@example.test"));
  EXPECT_TRUE(parse_jid(std::string(1023, 'a') + "@example.test"));
}

TEST(Jid, Utf8IsCheckedStrictly) {
  EXPECT_TRUE(valid_utf8("Jürgen ✓ 𝄞"));
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));              // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));          // a surrogate
  EXPECT_FALSE(valid_utf8("\xe2\x9c"));              // cut short
  EXPECT_FALSE(valid_utf8(std::string("a\0b", 3)));  // NUL is not an XML character
}

TEST(Ns, TimestampsRoundTripInUtc) {
  EXPECT_EQ(xmpp_time(1764745200123), "2025-12-03T07:00:00.123Z");
  EXPECT_EQ(parse_xmpp_time("2025-12-03T07:00:00.123Z"), 1764745200123);
  EXPECT_EQ(parse_xmpp_time("2025-12-03T09:00:00+02:00"), 1764745200000);
  EXPECT_EQ(parse_xmpp_time("2025-12-03 07:00:00Z"), -1);
  EXPECT_EQ(parse_xmpp_time("yesterday"), -1);
}

TEST(Ns, StanzaErrorSwapsAddressesAndNamesTheCondition) {
  Element iq("iq", "jabber:client");
  iq.set_attr("id", "q1");
  iq.set_attr("from", "alice@example.test/a");
  iq.set_attr("to", "bob@example.test/b");
  iq.set_attr("type", "get");
  Element e = stanza_error(iq, "example.test", ErrorType::cancel, "service-unavailable", "no");
  EXPECT_EQ(e.attr_or("type"), "error");
  EXPECT_EQ(e.attr_or("from"), "bob@example.test/b");
  EXPECT_EQ(e.attr_or("to"), "alice@example.test/a");
  EXPECT_EQ(e.attr_or("id"), "q1");
  const Element* error = e.child("error", "jabber:client");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->attr_or("type"), "cancel");
  EXPECT_NE(error->child("service-unavailable", kStanzaErrorNs), nullptr);
  EXPECT_EQ(error->child("text", kStanzaErrorNs)->text, "no");
}

TEST(Ns, RandomIdsAreUrlSafeAndDistinct) {
  std::string a = random_id(), b = random_id();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(Ns, ArchiveIdsSortByTimeAndDiffer) {
  std::string earlier = archive_id(1764745200123);
  std::string later = archive_id(1764745200124);
  std::string much_later = archive_id(1864745200000);
  EXPECT_EQ(earlier.size(), 16u);
  EXPECT_LT(earlier, later);
  EXPECT_LT(later, much_later);
  EXPECT_NE(archive_id(1764745200123), archive_id(1764745200123)) << "48 random bits each";
  EXPECT_EQ(
      earlier.find_first_not_of("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"),
      std::string::npos);
}

}  // namespace
}  // namespace portico::xmpp
