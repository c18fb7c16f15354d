// The core's DNS resolver (libunbound): IP literals answered without a lookup, names from
// /etc/hosts, a name that cannot exist (RFC 6761 ".invalid") never answered with addresses, and
// malformed names refused before any query.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/dns/resolver.h"

namespace portico::core {
namespace {

TEST(Dns, IpLiteralsNeedNoLookup) {
  DnsResolver dns;
  auto a = dns.addresses("192.0.2.7");
  EXPECT_EQ(a.status, sdk::DnsStatus::ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.7"});
  auto b = dns.addresses("[2001:db8::1]");
  EXPECT_EQ(b.status, sdk::DnsStatus::ok);
  EXPECT_EQ(b.addresses, std::vector<std::string>{"2001:db8::1"});
  std::string bare;
  EXPECT_TRUE(ip_literal("[::1]", &bare));
  EXPECT_EQ(bare, "::1");
  EXPECT_FALSE(ip_literal("mail.example.test"));
  EXPECT_FALSE(ip_literal("999.1.1.1"));
}

TEST(Dns, LocalhostComesFromTheHostsFile) {
  DnsResolver dns;
  auto a = dns.addresses("localhost");
  ASSERT_EQ(a.status, sdk::DnsStatus::ok) << a.error;
  const bool loopback = std::any_of(a.addresses.begin(), a.addresses.end(), [](const auto& s) {
    return s == "127.0.0.1" || s == "::1";
  });
  EXPECT_TRUE(loopback);
}

TEST(Dns, AReservedInvalidNameHasNoAddressesAndNoMx) {
  DnsResolver dns;
  auto a = dns.addresses("no-such-host.invalid");
  EXPECT_NE(a.status, sdk::DnsStatus::ok);
  EXPECT_TRUE(a.addresses.empty());
  auto mx = dns.mx("no-such-domain.invalid");
  EXPECT_NE(mx.status, sdk::DnsStatus::ok);
  EXPECT_TRUE(mx.records.empty());
}

TEST(Dns, MalformedNamesAreRefusedWithoutAQuery) {
  DnsResolver dns;
  EXPECT_EQ(dns.addresses("").status, sdk::DnsStatus::no_such_name);
  EXPECT_EQ(dns.addresses(std::string(300, 'a')).status, sdk::DnsStatus::no_such_name);
  EXPECT_EQ(dns.addresses(std::string("a\0b", 3)).status, sdk::DnsStatus::no_such_name);
}

}  // namespace
}  // namespace portico::core
