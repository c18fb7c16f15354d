// ldap sessions over the real directory: binds (DN, address, wrong password, anonymous,
// plaintext refused), the root DSE, each filter kind, scopes, domains a user may see, size
// limit, paged results, sorting, attribute selection, compare, Who am I?, StartTLS, refused
// writes, malformed and oversized PDUs, PDUs split anywhere, and the notice of disconnection.
#include <gtest/gtest.h>
#include <ldap.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "core/directory/directory.h"
#include "core/plugins/loader.h"
#include "ldap_client.h"
#include "session_driver.h"

namespace portico::testing {
namespace {

namespace c = ldap_client;

constexpr const char* kAlice = "uid=alice,ou=people,dc=example,dc=test";
constexpr const char* kBase = "dc=example,dc=test";

struct LdapWorld {
  LdapWorld() {
    auto& d = services.directory();
    d.add_domain("example.test");
    d.add_domain("other.test");
    core::AccountAttributes alice;
    alice.given_name = "Alice";
    alice.surname = "Smith";
    alice.display_name = "Alice Smith";
    alice.title = "Engineer";
    alice.department = "R&D";
    alice.phones = std::vector<std::string>{"+1 555-0100"};
    d.add_account("alice@example.test", "", 0, std::string_view("secret"), std::nullopt, alice);
    core::AccountAttributes bob;
    bob.given_name = "Bob";
    bob.surname = "Jones";
    d.add_account("bob@example.test", "", 0, std::string_view("secret"), std::nullopt, bob);
    d.add_account("carol@example.test", "", 0, std::nullopt);
    d.add_account("eve@example.test", "Eve Disabled", 0, std::nullopt);
    d.set_enabled("eve@example.test", false);
    d.add_account("dave@other.test", "Dave Other", 0, std::string_view("secret"));
    d.add_alias("sales@example.test", {"alice@example.test", "bob@example.test"});
    d.add_list("team@example.test", {"alice@example.test", "bob@example.test", "x@remote.example"});
    auto scan = core::load_plugins(PORTICO_PLUGIN_DIR,
                                   [&](const std::string&) -> sdk::Host& { return host; });
    for (auto& p : scan.loaded)
      if (p.name == "ldap") plugin = p.instance;
    if (!plugin) throw std::runtime_error("ldap.so not found in " PORTICO_PLUGIN_DIR);
  }

  std::unique_ptr<SessionDriver> connect(const std::string& yaml = "", bool tls = true) {
    DriverOptions o;
    o.listener = "127.0.0.1:389";
    o.implicit_tls = tls;
    auto d = std::make_unique<SessionDriver>(*plugin, host,
                                             validated_settings(*plugin, "ldap", yaml), o);
    d->start();
    return d;
  }

  TestServices services;
  TestHost host{services};
  std::shared_ptr<sdk::Plugin> plugin;
};

std::vector<c::Message> roundtrip(SessionDriver& d, const std::string& bytes) {
  d.feed(bytes);
  return c::parse(d.take());
}

// Binds as alice (by DN), and checks it worked.
void bind_alice(SessionDriver& d) {
  auto m = roundtrip(d, c::bind(1, kAlice, "secret"));
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].op, LDAP_RES_BIND);
  ASSERT_EQ(m[0].code, LDAP_SUCCESS) << m[0].text;
}

std::set<std::string> dns(const std::vector<c::Message>& messages) {
  std::set<std::string> out;
  for (const auto& m : messages)
    if (m.op == LDAP_RES_SEARCH_ENTRY) out.insert(m.dn);
  return out;
}

const c::Message& done(const std::vector<c::Message>& messages) {
  if (messages.empty() || messages.back().op != LDAP_RES_SEARCH_RESULT)
    throw std::runtime_error("no SearchResultDone");
  return messages.back();
}

std::set<std::string> find(SessionDriver& d, const c::F& filter, int id = 2) {
  auto m = roundtrip(d, c::search(id, kBase, LDAP_SCOPE_SUBTREE, filter, {"1.1"}));
  EXPECT_EQ(done(m).code, LDAP_SUCCESS) << done(m).text;
  return dns(m);
}

TEST(LdapSession, RootDseIsReadableBeforeABindAndNamesWhatIsSupported) {
  LdapWorld w;
  auto d = w.connect("", false);
  EXPECT_TRUE(d->raw_input());
  auto m = roundtrip(*d, c::search(1, "", LDAP_SCOPE_BASE, c::present("objectClass"), {"+"}));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].dn, "");
  const auto* contexts = m[0].attribute("namingContexts");
  ASSERT_NE(contexts, nullptr);
  EXPECT_EQ(*contexts, (std::vector<std::string>{"dc=example,dc=test", "dc=other,dc=test"}));
  const auto* ext = m[0].attribute("supportedExtension");
  ASSERT_NE(ext, nullptr);
  EXPECT_NE(std::find(ext->begin(), ext->end(), LDAP_EXOP_START_TLS), ext->end());
  EXPECT_NE(std::find(ext->begin(), ext->end(), LDAP_EXOP_WHO_AM_I), ext->end());
  EXPECT_EQ(*m[0].attribute("supportedLDAPVersion"), std::vector<std::string>{"3"});
  ASSERT_NE(m[0].attribute("supportedControl"), nullptr);
  EXPECT_EQ(m[0].attribute("objectClass"), nullptr);  // a user attribute, not asked for
  EXPECT_EQ(done(m).code, LDAP_SUCCESS);
}

TEST(LdapSession, SearchBeforeBindAndAnonymousBindAreRefusedByDefault) {
  LdapWorld w;
  auto d = w.connect();
  auto m = roundtrip(*d, c::search(1, kBase, LDAP_SCOPE_SUBTREE, c::present("objectClass")));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].code, LDAP_STRONG_AUTH_REQUIRED);
  m = roundtrip(*d, c::bind(2, "", ""));
  EXPECT_EQ(m.at(0).code, LDAP_INAPPROPRIATE_AUTH);
  m = roundtrip(*d, c::bind(3, kAlice, ""));  // unauthenticated bind, RFC 4513 5.1.2
  EXPECT_EQ(m.at(0).code, LDAP_UNWILLING_TO_PERFORM);
}

TEST(LdapSession, AnonymousAccessWhenAllowedSeesEveryDomain) {
  LdapWorld w;
  auto d = w.connect("allow_anonymous: true");
  auto m = roundtrip(*d, c::bind(1, "", ""));
  EXPECT_EQ(m.at(0).code, LDAP_SUCCESS);
  m = roundtrip(
      *d, c::search(2, "", LDAP_SCOPE_SUBTREE, c::eq("objectClass", "inetOrgPerson"), {"mail"}));
  EXPECT_EQ(dns(m), (std::set<std::string>{kAlice, "uid=bob,ou=people,dc=example,dc=test",
                                           "uid=carol,ou=people,dc=example,dc=test",
                                           "uid=dave,ou=people,dc=other,dc=test"}));
}

TEST(LdapSession, BindByDnOrAddressAndWrongPassword) {
  LdapWorld w;
  auto d = w.connect();
  auto m = roundtrip(*d, c::bind(1, kAlice, "wrong"));
  EXPECT_EQ(m.at(0).code, LDAP_INVALID_CREDENTIALS);
  m = roundtrip(*d, c::bind(2, "uid=nobody,ou=people,dc=example,dc=test", "secret"));
  EXPECT_EQ(m.at(0).code, LDAP_INVALID_CREDENTIALS);
  m = roundtrip(*d, c::bind(3, "bob@example.test", "secret"));
  EXPECT_EQ(m.at(0).code, LDAP_SUCCESS);
  m = roundtrip(*d, c::extended(4, LDAP_EXOP_WHO_AM_I));
  EXPECT_EQ(m.at(0).value, std::optional<std::string>("dn:uid=bob,ou=people,dc=example,dc=test"));
  m = roundtrip(*d, c::bind(5, "UID=Alice, OU=People, DC=Example, DC=Test", "secret"));
  EXPECT_EQ(m.at(0).code, LDAP_SUCCESS);
  m = roundtrip(*d, c::extended(6, LDAP_EXOP_WHO_AM_I));
  EXPECT_EQ(m.at(0).value, std::optional<std::string>(std::string("dn:") + kAlice));
  m = roundtrip(*d, c::bind(7, kAlice, "secret", 2));
  EXPECT_EQ(m.at(0).code, LDAP_PROTOCOL_ERROR);
  m = roundtrip(*d, c::extended(8, LDAP_EXOP_WHO_AM_I));  // a failed bind leaves it anonymous
  EXPECT_EQ(m.at(0).value, std::optional<std::string>(""));
}

TEST(LdapSession, PasswordBeforeTlsIsRefusedAndStartTlsThenAllowsIt) {
  LdapWorld w;
  auto d = w.connect("", false);
  auto m = roundtrip(*d, c::bind(1, kAlice, "secret"));
  EXPECT_EQ(m.at(0).code, LDAP_CONFIDENTIALITY_REQUIRED);
  m = roundtrip(*d, c::extended(2, LDAP_EXOP_START_TLS));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].code, LDAP_SUCCESS);
  EXPECT_EQ(m[0].name, std::optional<std::string>(LDAP_EXOP_START_TLS));
  EXPECT_TRUE(d->tls());
  m = roundtrip(*d, c::bind(3, kAlice, "secret"));
  EXPECT_EQ(m.at(0).code, LDAP_SUCCESS);
  m = roundtrip(*d, c::extended(4, LDAP_EXOP_START_TLS));
  EXPECT_EQ(m.at(0).code, LDAP_OPERATIONS_ERROR);
}

TEST(LdapSession, EveryFilterKindMatchesWithItsRules) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  const std::string bob = "uid=bob,ou=people,dc=example,dc=test";
  const std::string carol = "uid=carol,ou=people,dc=example,dc=test";
  EXPECT_EQ(find(*d, c::eq("mail", "ALICE@example.test")), std::set<std::string>{kAlice});
  EXPECT_EQ(find(*d, c::eq("cn", "  alice   SMITH ")), std::set<std::string>{kAlice});
  EXPECT_EQ(find(*d, c::sub("cn", std::nullopt, {"smi"}, std::nullopt)),
            std::set<std::string>{kAlice});
  EXPECT_EQ(find(*d, c::sub("mail", "b", {}, "@example.test")), std::set<std::string>{bob});
  EXPECT_EQ(find(*d, c::eq("telephoneNumber", "+15550100")), std::set<std::string>{kAlice});
  EXPECT_EQ(find(*d, c::and_({c::eq("objectClass", "person"), c::ge("sn", "J")})),
            (std::set<std::string>{kAlice, bob}));  // Smith, Jones; not carol
  EXPECT_EQ(find(*d, c::and_({c::eq("objectClass", "person"), c::le("givenName", "B")})),
            std::set<std::string>{kAlice});
  EXPECT_EQ(find(*d, c::approx("givenName", "bob")), std::set<std::string>{bob});
  EXPECT_EQ(find(*d, c::and_({c::present("title"), c::not_(c::eq("uid", "bob"))})),
            std::set<std::string>{kAlice});
  EXPECT_EQ(find(*d, c::or_({c::eq("uid", "bob"), c::eq("uid", "carol")})),
            (std::set<std::string>{bob, carol}));
  EXPECT_EQ(find(*d, c::ext("givenName", "caseExactMatch", "alice")), std::set<std::string>{});
  EXPECT_EQ(find(*d, c::ext("givenName", "caseExactMatch", "Alice")),
            std::set<std::string>{kAlice});
  // Thunderbird's query (an unknown attribute in an OR is Undefined, not an error).
  EXPECT_EQ(find(*d, c::or_({c::sub("cn", std::nullopt, {"jon"}, std::nullopt),
                             c::sub("mail", std::nullopt, {"jon"}, std::nullopt),
                             c::sub("givenName", std::nullopt, {"jon"}, std::nullopt),
                             c::sub("sn", std::nullopt, {"jon"}, std::nullopt),
                             c::eq("nosuchattr", "x")})),
            std::set<std::string>{bob});
  // NOT of Undefined stays Undefined: nothing.
  EXPECT_EQ(find(*d, c::not_(c::eq("nosuchattr", "x"))), std::set<std::string>{});
  // Aliases and lists.
  auto m =
      roundtrip(*d, c::search(3, kBase, LDAP_SCOPE_SUBTREE, c::eq("mail", "team@example.test")));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].dn, "cn=team,ou=lists,dc=example,dc=test");
  EXPECT_EQ(*m[0].attribute("member"),
            (std::vector<std::string>{kAlice, "uid=bob,ou=people,dc=example,dc=test"}));
  EXPECT_EQ(find(*d, c::eq("member", "UID=alice,OU=people,DC=example,DC=test")),
            std::set<std::string>{"cn=team,ou=lists,dc=example,dc=test"});
  EXPECT_EQ(find(*d, c::eq("rfc822MailMember", "bob@example.test")),
            (std::set<std::string>{"cn=team,ou=lists,dc=example,dc=test",
                                   "cn=sales,ou=aliases,dc=example,dc=test"}));
}

TEST(LdapSession, PeopleCarryTheirAttributesAndNeverSecrets) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  auto m =
      roundtrip(*d, c::search(2, kAlice, LDAP_SCOPE_BASE, c::present("objectClass"), {"*", "+"}));
  ASSERT_EQ(m.size(), 2u);
  const auto& e = m[0];
  EXPECT_EQ(*e.attribute("cn"), std::vector<std::string>{"Alice Smith"});
  EXPECT_EQ(*e.attribute("sn"), std::vector<std::string>{"Smith"});
  EXPECT_EQ(*e.attribute("givenName"), std::vector<std::string>{"Alice"});
  EXPECT_EQ(*e.attribute("mail"), std::vector<std::string>{"alice@example.test"});
  EXPECT_EQ(*e.attribute("uid"), std::vector<std::string>{"alice"});
  EXPECT_EQ(*e.attribute("telephoneNumber"), std::vector<std::string>{"+1 555-0100"});
  EXPECT_EQ(*e.attribute("title"), std::vector<std::string>{"Engineer"});
  EXPECT_EQ(*e.attribute("ou"), std::vector<std::string>{"R&D"});
  EXPECT_EQ(*e.attribute("entryDN"), std::vector<std::string>{kAlice});
  EXPECT_EQ(*e.attribute("structuralObjectClass"), std::vector<std::string>{"inetOrgPerson"});
  for (const auto& [name, values] : e.attributes) {
    EXPECT_EQ(name.find("assword"), std::string::npos) << name;
    for (const auto& v : values)
      EXPECT_EQ(v.find("$y$"), std::string::npos) << name;
  }
  // Only what is asked; 1.1 is nothing; typesOnly leaves the values out.
  m = roundtrip(*d,
                c::search(3, kAlice, LDAP_SCOPE_BASE, c::present("objectClass"), {"MAIL", "sn"}));
  EXPECT_EQ(m.at(0).attributes.size(), 2u);
  m = roundtrip(*d, c::search(4, kAlice, LDAP_SCOPE_BASE, c::present("objectClass"), {"1.1"}));
  EXPECT_TRUE(m.at(0).attributes.empty());
  m = roundtrip(*d,
                c::search(5, kAlice, LDAP_SCOPE_BASE, c::present("objectClass"), {"cn"}, 0, true));
  ASSERT_EQ(m.at(0).attributes.size(), 1u);
  EXPECT_TRUE(m[0].attributes[0].second.empty());
}

TEST(LdapSession, ScopesAndTheDomainsAUserMaySee) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  auto m =
      roundtrip(*d, c::search(2, kBase, LDAP_SCOPE_ONELEVEL, c::present("objectClass"), {"1.1"}));
  EXPECT_EQ(dns(m),
            (std::set<std::string>{"ou=people,dc=example,dc=test", "ou=aliases,dc=example,dc=test",
                                   "ou=lists,dc=example,dc=test"}));
  m = roundtrip(*d, c::search(3, "ou=people,dc=example,dc=test", LDAP_SCOPE_ONELEVEL,
                              c::present("objectClass"), {"1.1"}));
  EXPECT_EQ(dns(m).size(), 3u);  // alice, bob, carol; eve is disabled
  m = roundtrip(*d,
                c::search(4, "dc=other,dc=test", LDAP_SCOPE_SUBTREE, c::present("objectClass")));
  EXPECT_EQ(done(m).code, LDAP_NO_SUCH_OBJECT);
  m = roundtrip(*d, c::search(5, "not a dn", LDAP_SCOPE_SUBTREE, c::present("objectClass")));
  EXPECT_EQ(done(m).code, LDAP_INVALID_DN_SYNTAX);
  auto all = w.connect("visible_domains: all");
  bind_alice(*all);
  m = roundtrip(
      *all, c::search(2, "dc=other,dc=test", LDAP_SCOPE_SUBTREE, c::eq("uid", "dave"), {"1.1"}));
  EXPECT_EQ(dns(m), std::set<std::string>{"uid=dave,ou=people,dc=other,dc=test"});
}

TEST(LdapSession, SizeLimitPagedResultsAndSorting) {
  LdapWorld w;
  auto d = w.connect("size_limit: 2");
  bind_alice(*d);
  auto m = roundtrip(
      *d, c::search(2, kBase, LDAP_SCOPE_SUBTREE, c::eq("objectClass", "person"), {"1.1"}));
  EXPECT_EQ(dns(m).size(), 2u);
  EXPECT_EQ(done(m).code, LDAP_SIZELIMIT_EXCEEDED);
  // Pages of one, sorted by sn descending: Smith, Jones, carol (sn = cn = "carol").
  auto unlimited = w.connect();
  bind_alice(*unlimited);
  std::vector<std::string> order;
  std::string cookie;
  for (int page = 0; page < 5; ++page) {
    m = roundtrip(*unlimited,
                  c::search(10 + page, kBase, LDAP_SCOPE_SUBTREE, c::eq("objectClass", "person"),
                            {"sn"}, 0, false, {c::paged(1, cookie), c::sort("sn", true)}));
    ASSERT_EQ(done(m).code, LDAP_SUCCESS) << done(m).text;
    for (const auto& e : m)
      if (e.op == LDAP_RES_SEARCH_ENTRY) order.push_back(e.attribute("sn")->at(0));
    if (page == 0) {
      EXPECT_EQ(c::sort_result(done(m)), LDAP_SUCCESS);
    }
    cookie = c::paged_cookie(done(m));
    if (cookie.empty()) break;
  }
  EXPECT_EQ(order, (std::vector<std::string>{"Smith", "Jones", "carol"}));
  // A cookie that is not ours.
  m = roundtrip(*unlimited, c::search(20, kBase, LDAP_SCOPE_SUBTREE, c::present("objectClass"), {},
                                      0, false, {c::paged(1, "bogus")}));
  EXPECT_EQ(done(m).code, LDAP_UNWILLING_TO_PERFORM);
  // A paged results control with an empty value: malformed, answered, nothing else happens.
  m = roundtrip(*unlimited, c::search(22, kBase, LDAP_SCOPE_SUBTREE, c::present("objectClass"), {},
                                      0, false, {{LDAP_CONTROL_PAGEDRESULTS, false, ""}}));
  EXPECT_EQ(done(m).code, LDAP_PROTOCOL_ERROR);
  // An unknown critical control.
  m = roundtrip(*unlimited, c::search(21, kBase, LDAP_SCOPE_SUBTREE, c::present("objectClass"), {},
                                      0, false, {{"1.2.3.4.5", true, std::nullopt}}));
  EXPECT_EQ(done(m).code, LDAP_UNAVAILABLE_CRITICAL_EXTENSION);
}

TEST(LdapSession, TheOldestUnfinishedPagedSearchIsTheOneGivenUp) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  // Twelve paged searches left after their first page (cookies past 9, whose decimal strings
  // do not sort by age); eight are kept per connection, the last eight.
  std::vector<std::string> cookies;
  for (int id = 2; id <= 13; ++id) {
    auto m = roundtrip(*d, c::search(id, kBase, LDAP_SCOPE_SUBTREE, c::eq("objectClass", "person"),
                                     {"1.1"}, 0, false, {c::paged(1)}));
    cookies.push_back(c::paged_cookie(done(m)));
    ASSERT_FALSE(cookies.back().empty());
  }
  auto next_page = [&](int id, const std::string& cookie) {
    return done(roundtrip(*d,
                          c::search(id, kBase, LDAP_SCOPE_SUBTREE, c::eq("objectClass", "person"),
                                    {"1.1"}, 0, false, {c::paged(1, cookie)})))
        .code;
  };
  for (std::size_t i = 0; i < cookies.size(); ++i)
    EXPECT_EQ(next_page(20 + static_cast<int>(i), cookies[i]),
              i < 4 ? LDAP_UNWILLING_TO_PERFORM : LDAP_SUCCESS)
        << i;
}

TEST(LdapSession, VirtualListViewByOffsetAndByValue) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  auto names = [](const std::vector<c::Message>& m) {
    std::vector<std::string> out;
    for (const auto& e : m)
      if (e.op == LDAP_RES_SEARCH_ENTRY) out.push_back(e.attribute("cn")->at(0));
    return out;
  };
  // Sorted by cn: Alice Smith, Bob Jones, carol. Offset 2 with one after: Bob, carol.
  auto m = roundtrip(*d, c::search(2, kBase, LDAP_SCOPE_SUBTREE, c::eq("objectClass", "person"),
                                   {"cn"}, 0, false, {c::sort("cn"), c::vlv(0, 1, 2, 0)}));
  EXPECT_EQ(done(m).code, LDAP_SUCCESS) << done(m).text;
  EXPECT_EQ(names(m), (std::vector<std::string>{"Bob Jones", "carol"}));
  auto a = c::vlv_answer(done(m));
  EXPECT_EQ(a.target, 2);
  EXPECT_EQ(a.count, 3);
  EXPECT_EQ(a.code, 0);
  // From the first cn >= "b", one before it.
  m = roundtrip(*d, c::search(3, kBase, LDAP_SCOPE_SUBTREE, c::eq("objectClass", "person"), {"cn"},
                              0, false, {c::sort("cn"), c::vlv(1, 0, "b")}));
  EXPECT_EQ(names(m), (std::vector<std::string>{"Alice Smith", "Bob Jones"}));
  EXPECT_EQ(c::vlv_answer(done(m)).target, 2);
  // Without a sort control: sortControlMissing (60).
  m = roundtrip(*d, c::search(4, kBase, LDAP_SCOPE_SUBTREE, c::eq("objectClass", "person"), {"cn"},
                              0, false, {c::vlv(0, 1, 1, 0)}));
  EXPECT_EQ(done(m).code, 60);
}

TEST(LdapSession, CompareAndRefusedWrites) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  auto m = roundtrip(*d, c::compare(2, kAlice, "sn", "SMITH"));
  EXPECT_EQ(m.at(0).code, LDAP_COMPARE_TRUE);
  m = roundtrip(*d, c::compare(3, kAlice, "sn", "Jones"));
  EXPECT_EQ(m.at(0).code, LDAP_COMPARE_FALSE);
  m = roundtrip(*d, c::compare(4, kAlice, "mobile", "1"));
  EXPECT_EQ(m.at(0).code, LDAP_NO_SUCH_ATTRIBUTE);
  auto before = d->bad_commands();
  m = roundtrip(*d, c::del(5, kAlice));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].op, LDAP_RES_DELETE);
  EXPECT_EQ(m[0].code, LDAP_UNWILLING_TO_PERFORM);
  EXPECT_EQ(d->bad_commands(), before + 1);
  m = roundtrip(*d, c::extended(6, "1.2.3.4"));
  EXPECT_EQ(m.at(0).code, LDAP_PROTOCOL_ERROR);
}

TEST(LdapSession, APduSplitAnywhereGivesTheSameAnswers) {
  LdapWorld w;
  std::string requests = c::bind(1, kAlice, "secret") +
                         c::search(2, kBase, LDAP_SCOPE_SUBTREE,
                                   c::or_({c::sub("cn", std::nullopt, {"smi"}, std::nullopt),
                                           c::eq("mail", "bob@example.test")}),
                                   {"cn", "mail"}) +
                         c::extended(3, LDAP_EXOP_WHO_AM_I);
  // Fed whole, the search runs while Who am I? is answered: the answers may come in another
  // order (LDAP is asynchronous), but they are the same answers.
  auto whole = w.connect();
  whole->feed(requests);
  auto expected = c::split(whole->take());
  auto bytes = w.connect();
  for (char ch : requests)
    bytes->feed(std::string_view(&ch, 1));
  auto got = c::split(bytes->take());
  ASSERT_EQ(expected.size(), 5u);  // bind, two entries, done, who am i
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
  // Unbind ends the connection and what is outstanding with it (RFC 4511 section 4.3).
  bytes->feed(c::unbind(4));
  EXPECT_TRUE(bytes->closed());
  // Half a PDU: nothing answered, the command timeout applies.
  auto half = w.connect();
  std::string bind = c::bind(1, kAlice, "secret");
  half->feed(bind.substr(0, bind.size() / 2));
  EXPECT_EQ(half->take(), "");
  EXPECT_TRUE(half->in_command());
  half->feed(bind.substr(bind.size() / 2));
  EXPECT_EQ(c::parse(half->take()).at(0).code, LDAP_SUCCESS);
  EXPECT_FALSE(half->in_command());
}

TEST(LdapSession, AnAbandonedSearchSendsNothingAndOthersGoOn) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  // The search is still queued for the worker pool when the abandon arrives.
  auto m = roundtrip(*d, c::search(2, kBase, LDAP_SCOPE_SUBTREE, c::present("objectClass")) +
                             c::abandon(3, 2) + c::extended(4, LDAP_EXOP_WHO_AM_I));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].id, 4);
  // Abandoning what is done or unknown is no error and gets no answer either (RFC 4511 4.11).
  m = roundtrip(*d, c::abandon(5, 2) + c::abandon(6, 999));
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(d->closed());
}

TEST(LdapSession, RequestsBeyondTheOutstandingLimitWaitTheirTurn) {
  LdapWorld w;
  auto d = w.connect("max_outstanding_requests: 1");
  bind_alice(*d);
  std::string three;
  for (int id = 2; id <= 4; ++id)
    three += c::search(id, kAlice, LDAP_SCOPE_BASE, c::present("objectClass"), {"1.1"});
  auto m = roundtrip(*d, three);
  std::vector<int> done_ids;
  for (const auto& x : m)
    if (x.op == LDAP_RES_SEARCH_RESULT) done_ids.push_back(x.id);
  EXPECT_EQ(done_ids, (std::vector<int>{2, 3, 4}));
  EXPECT_FALSE(d->paused());
}

TEST(LdapSession, MalformedOrHugePdusEndWithANoticeOfDisconnection) {
  LdapWorld w;
  for (const std::string& bad :
       {std::string("\x30\x84\x7f\xff\xff\xff\x02\x01\x01", 9),  // claims 2 GB
        std::string("\x04\x03"
                    "abc",
                    5),                                         // not a SEQUENCE
        std::string("\x30\x05\x02\x01\x00\x42\x00", 7),         // message id 0
        std::string("\x30\x06\x02\x01\x01\x7f\x01\x00", 8)}) {  // unknown operation
    auto d = w.connect();
    d->feed(bad);
    auto m = c::parse(d->take());
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].id, 0);
    EXPECT_EQ(m[0].op, LDAP_RES_EXTENDED);
    EXPECT_EQ(m[0].code, LDAP_PROTOCOL_ERROR);
    EXPECT_EQ(m[0].name, std::optional<std::string>(LDAP_NOTICE_OF_DISCONNECTION));
    EXPECT_TRUE(d->closed());
  }
  auto idle = w.connect();
  idle->end(sdk::CloseReason::session_timeout);
  auto m = c::parse(idle->take());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].name, std::optional<std::string>(LDAP_NOTICE_OF_DISCONNECTION));
  EXPECT_EQ(m[0].code, LDAP_UNAVAILABLE);
}

// The book looks at the directory's version at most once a millisecond (BookCache), so each
// change is followed by a pause longer than that.
TEST(LdapSession, ADirectoryChangeIsSeenByTheNextSearch) {
  LdapWorld w;
  auto d = w.connect();
  bind_alice(*d);
  EXPECT_EQ(find(*d, c::eq("uid", "frank")), std::set<std::string>{});
  core::AccountAttributes frank;
  frank.surname = "Frank";
  w.services.directory().add_account("frank@example.test", "", 0, std::nullopt, std::nullopt,
                                     frank);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(find(*d, c::eq("uid", "frank"), 3),
            std::set<std::string>{"uid=frank,ou=people,dc=example,dc=test"});
  // And through another process's connection to the same database (as the CLI writes).
  core::DirectoryService cli(w.services.data_dir());
  cli.set_account_attributes("frank@example.test", [] {
    core::AccountAttributes a;
    a.title = "Chef";
    return a;
  }());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(find(*d, c::eq("title", "chef"), 4),
            std::set<std::string>{"uid=frank,ou=people,dc=example,dc=test"});
}

TEST(LdapSession, ABaseDnFromTheSettings) {
  LdapWorld w;
  auto d = w.connect("base_dn: [\"example.test: o=Example Corp,c=US\"]");
  auto m = roundtrip(*d, c::bind(1, "alice@example.test", "secret"));
  ASSERT_EQ(m.at(0).code, LDAP_SUCCESS);
  m = roundtrip(*d, c::search(2, "o=example corp, c=us", LDAP_SCOPE_SUBTREE,
                              c::or_({c::eq("uid", "alice"), c::eq("o", "Example Corp")}), {"*"}));
  EXPECT_EQ(dns(m), (std::set<std::string>{"o=Example Corp,c=US",
                                           "uid=alice,ou=people,o=Example Corp,c=US"}));
  EXPECT_EQ(*m.at(0).attribute("objectClass"), (std::vector<std::string>{"top", "organization"}));
  m = roundtrip(*d, c::extended(3, LDAP_EXOP_WHO_AM_I));
  EXPECT_EQ(m.at(0).value,
            std::optional<std::string>("dn:uid=alice,ou=people,o=Example Corp,c=US"));
  m = roundtrip(*d, c::search(4, kBase, LDAP_SCOPE_SUBTREE, c::present("objectClass")));
  EXPECT_EQ(done(m).code, LDAP_NO_SUCH_OBJECT);
}

}  // namespace
}  // namespace portico::testing
