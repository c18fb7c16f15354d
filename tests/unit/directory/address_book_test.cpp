// Portico tests — the directory as an address book (SDK 1.5): version() moves on after every
// kind of write, by this service or by another connection on the same file (as the CLI's), and
// stays put without one; address_book() of one domain, of all, of an unknown one; attributes
// round-trip; aliases and lists with their members; sorted by address; never a secret; an empty
// book with version 0 when the database fails.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "core/directory/directory.h"
#include "test_dir.h"

namespace portico::core {
namespace {

using Kind = sdk::AddressBookGroup::Kind;

// Runs SQL on the directory's file through a connection of its own (as another process would).
void sql(const fs::path& data_dir, const char* statements) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DirectoryService::database_file(data_dir).c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char* error = nullptr;
  int rc = sqlite3_exec(db, statements, nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

// Every string a book holds, for looking for what must not be there.
std::vector<std::string> strings_of(const sdk::AddressBook& book) {
  std::vector<std::string> out = book.domains;
  for (const auto& p : book.people) {
    for (const auto* s : {&p.address, &p.display_name, &p.given_name, &p.surname, &p.title,
                          &p.department, &p.organization})
      out.push_back(*s);
    out.insert(out.end(), p.phones.begin(), p.phones.end());
  }
  for (const auto& g : book.groups) {
    out.push_back(g.address);
    out.insert(out.end(), g.members.begin(), g.members.end());
  }
  return out;
}

std::vector<std::string> addresses(const std::vector<sdk::AddressBookPerson>& people) {
  std::vector<std::string> out;
  for (const auto& p : people)
    out.push_back(p.address);
  return out;
}

class AddressBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = open_directory(tmp_.path());
    dir_->add_domain("example.com");
    dir_->add_domain("example.org");
    dir_->add_account("zoe@example.com", "Zoe", 0, std::nullopt);
    dir_->add_account("Amy@Example.com", "", 0, std::nullopt);
    dir_->add_account("max@example.org", "", 0, std::nullopt);
  }
  test::TempDir tmp_;
  std::unique_ptr<DirectoryService> dir_;
};

TEST_F(AddressBookTest, VersionStaysPutWithoutWrites) {
  auto v = dir_->version();
  EXPECT_NE(v, 0u);
  EXPECT_EQ(dir_->version(), v);
  // Reads of every kind leave it alone.
  dir_->resolve("zoe@example.com");
  dir_->find_account("amy@example.com");
  dir_->accounts();
  dir_->aliases();
  dir_->lists();
  dir_->domains();
  dir_->retrieval_sources("");
  dir_->authenticate("zoe@example.com", "wrong", "192.0.2.1");
  auto book = dir_->address_book("");
  EXPECT_EQ(book.version, v);
  EXPECT_EQ(dir_->version(), v);
  // So does a second service that only reads (the CLI listing users).
  auto other = open_directory(tmp_.path());
  other->accounts();
  other->address_book("example.com");
  EXPECT_EQ(dir_->version(), v);
}

TEST_F(AddressBookTest, VersionMovesOnAfterEveryKindOfWrite) {
  sdk::RetrievalSource source;
  source.account = "zoe@example.com";
  source.host = "pop.remote.net";
  source.user = "zoe";
  std::int64_t source_id = 0;
  AccountAttributes title;
  title.title = "Engineer";
  const std::vector<std::pair<const char*, std::function<void()>>> writes = {
      {"add_domain", [&] { dir_->add_domain("example.net"); }},
      {"set_case_sensitive_local_part",
       [&] { dir_->set_case_sensitive_local_part("example.net", true); }},
      {"set_catch_all", [&] { dir_->set_catch_all("example.com", "zoe@example.com"); }},
      {"add_account", [&] { dir_->add_account("new@example.com", "", 0, std::nullopt); }},
      {"set_password", [&] { dir_->set_password("new@example.com", "password"); }},
      {"set_password_hash",
       [&] { dir_->set_password_hash("new@example.com", "$6$salt$abcdefghijklmnop"); }},
      {"set_enabled", [&] { dir_->set_enabled("new@example.com", false); }},
      {"update_account", [&] { dir_->update_account("new@example.com", "New", 10); }},
      {"set_account_attributes", [&] { dir_->set_account_attributes("new@example.com", title); }},
      {"add_alias", [&] { dir_->add_alias("team@example.com", {"zoe@example.com"}); }},
      {"remove_alias", [&] { dir_->remove_alias("team@example.com", {}); }},
      {"add_list", [&] { dir_->add_list("all@example.com", {"zoe@example.com"}); }},
      {"remove_list", [&] { dir_->remove_list("all@example.com", {}); }},
      {"add_retrieval", [&] { source_id = dir_->add_retrieval(source); }},
      {"record_retrieval", [&] { dir_->record_retrieval(source_id, 1700000000, "", 1); }},
      {"remove_retrieval", [&] { dir_->remove_retrieval(source_id); }},
      {"remove_account", [&] { dir_->remove_account("new@example.com"); }},
      {"remove_domain", [&] { dir_->remove_domain("example.net", true); }},
  };
  auto v = dir_->version();
  for (const auto& [name, write] : writes) {
    write();
    auto now = dir_->version();
    EXPECT_NE(now, v) << "no new version after " << name;
    EXPECT_EQ(dir_->version(), now) << "a second call after " << name;
    v = now;
  }
}

TEST_F(AddressBookTest, VersionSeesAnotherConnectionsWrites) {
  auto other = open_directory(tmp_.path());  // as `portico user ...` opens it
  auto v = dir_->version();
  other->add_account("cli@example.com", "", 0, std::nullopt);
  auto after_add = dir_->version();
  EXPECT_NE(after_add, v);
  EXPECT_EQ(dir_->version(), after_add);
  AccountAttributes phones;
  phones.phones = std::vector<std::string>{"+1 555 0100"};
  other->set_account_attributes("cli@example.com", phones);
  EXPECT_NE(dir_->version(), after_add);
  // And a plain SQLite connection, as an older portico or an operator's sqlite3 would write.
  auto before = dir_->version();
  sql(tmp_.path(), "UPDATE accounts SET title = 'Boss' WHERE address = 'zoe@example.com'");
  EXPECT_NE(dir_->version(), before);
  // The other service sees this one's writes too.
  auto theirs = other->version();
  dir_->add_alias("x@example.com", {"zoe@example.com"});
  EXPECT_NE(other->version(), theirs);
}

TEST_F(AddressBookTest, ABookCarriesTheVersionOfWhatItHolds) {
  auto book = dir_->address_book("");
  EXPECT_EQ(book.version, dir_->version());
  auto other = open_directory(tmp_.path());
  other->add_account("late@example.com", "", 0, std::nullopt);
  EXPECT_NE(dir_->version(), book.version);  // the cached book is out of date
  auto again = dir_->address_book("");
  EXPECT_EQ(again.version, dir_->version());
  EXPECT_EQ(again.people.size(), book.people.size() + 1);
}

TEST_F(AddressBookTest, OneDomainOrAll) {
  auto all = dir_->address_book("");
  EXPECT_EQ(all.domains, (std::vector<std::string>{"example.com", "example.org"}));
  EXPECT_EQ(addresses(all.people),
            (std::vector<std::string>{"amy@example.com", "max@example.org", "zoe@example.com"}));
  auto com = dir_->address_book("EXAMPLE.com.");
  EXPECT_EQ(com.domains, std::vector<std::string>{"example.com"});
  EXPECT_EQ(addresses(com.people),
            (std::vector<std::string>{"amy@example.com", "zoe@example.com"}));
  EXPECT_EQ(com.people[1].display_name, "Zoe");
  EXPECT_EQ(com.version, all.version);
  auto org = dir_->address_book("example.org");
  EXPECT_EQ(addresses(org.people), std::vector<std::string>{"max@example.org"});
}

TEST_F(AddressBookTest, UnknownDomainGivesAnEmptyBookWithTheVersion) {
  for (const char* domain : {"unknown.test", "not a domain", ".."}) {
    auto book = dir_->address_book(domain);
    EXPECT_TRUE(book.domains.empty()) << domain;
    EXPECT_TRUE(book.people.empty()) << domain;
    EXPECT_TRUE(book.groups.empty()) << domain;
    EXPECT_EQ(book.version, dir_->version()) << domain;
  }
  // A directory with no domain at all.
  test::TempDir empty;
  auto d = open_directory(empty.path());
  auto book = d->address_book("");
  EXPECT_TRUE(book.domains.empty());
  EXPECT_TRUE(book.people.empty());
  EXPECT_NE(book.version, 0u);
}

TEST_F(AddressBookTest, AttributesRoundTrip) {
  AccountAttributes a;
  a.display_name = "Zoë Washburne";
  a.given_name = "Zoë";
  a.surname = "Washburne";
  a.title = "First Mate";
  a.department = "Crew";
  a.organization = "Serenity";
  a.phones = std::vector<std::string>{"+1 555 0100", "(555) 0199 ext. 2"};
  dir_->set_account_attributes("ZOE@example.com", a);
  auto book = dir_->address_book("example.com");
  ASSERT_EQ(book.people.size(), 2u);
  const auto& zoe = book.people[1];
  EXPECT_EQ(zoe.address, "zoe@example.com");
  EXPECT_EQ(zoe.display_name, "Zoë Washburne");
  EXPECT_EQ(zoe.given_name, "Zoë");
  EXPECT_EQ(zoe.surname, "Washburne");
  EXPECT_EQ(zoe.title, "First Mate");
  EXPECT_EQ(zoe.department, "Crew");
  EXPECT_EQ(zoe.organization, "Serenity");
  EXPECT_EQ(zoe.phones, (std::vector<std::string>{"+1 555 0100", "(555) 0199 ext. 2"}));
  EXPECT_TRUE(zoe.enabled);
  // The listing shows them as well.
  auto info = dir_->accounts("example.com")[1];
  EXPECT_EQ(info.given_name, "Zoë");
  EXPECT_EQ(info.organization, "Serenity");
  EXPECT_EQ(info.phones.size(), 2u);
  EXPECT_EQ(info.account.display_name, "Zoë Washburne");

  // Unset fields are kept; an empty string or an empty list clears; the quota is separate.
  AccountAttributes change;
  change.title = "";
  change.phones = std::vector<std::string>{};
  dir_->set_account_attributes("zoe@example.com", change, 2048);
  const auto after = dir_->address_book("example.com").people[1];
  EXPECT_EQ(after.title, "");
  EXPECT_TRUE(after.phones.empty());
  EXPECT_EQ(after.surname, "Washburne");
  EXPECT_EQ(after.display_name, "Zoë Washburne");
  EXPECT_EQ(dir_->find_account("zoe@example.com")->quota_bytes, 2048u);

  // At creation, in the same call.
  AccountAttributes born;
  born.given_name = "Kaylee";
  born.phones = std::vector<std::string>{"42"};
  dir_->add_account("kaylee@example.com", "Kaylee Frye", 0, std::nullopt, std::nullopt, born);
  auto kaylee = dir_->address_book("example.com").people[1];
  EXPECT_EQ(kaylee.address, "kaylee@example.com");
  EXPECT_EQ(kaylee.display_name, "Kaylee Frye");
  EXPECT_EQ(kaylee.given_name, "Kaylee");
  EXPECT_EQ(kaylee.phones, std::vector<std::string>{"42"});

  // Disabled accounts stay in the book, marked.
  dir_->set_enabled("kaylee@example.com", false);
  EXPECT_FALSE(dir_->address_book("example.com").people[1].enabled);
}

TEST_F(AddressBookTest, RefusesWhatWouldBreakAListing) {
  AccountAttributes newline;
  newline.surname = "Wash\nburne";
  EXPECT_THROW(dir_->set_account_attributes("zoe@example.com", newline), DirectoryError);
  AccountAttributes empty_phone;
  empty_phone.phones = std::vector<std::string>{"1", ""};
  EXPECT_THROW(dir_->set_account_attributes("zoe@example.com", empty_phone), DirectoryError);
  AccountAttributes bad_phone;
  bad_phone.phones = std::vector<std::string>{"1\n2"};
  EXPECT_THROW(dir_->set_account_attributes("zoe@example.com", bad_phone), DirectoryError);
  EXPECT_THROW(dir_->add_account("new@example.com", "", 0, std::nullopt, std::nullopt, newline),
               DirectoryError);
  EXPECT_FALSE(dir_->find_account("new@example.com"));
  AccountAttributes fine;
  fine.title = "x";
  EXPECT_THROW(dir_->set_account_attributes("nobody@example.com", fine), DirectoryError);
  EXPECT_THROW(dir_->set_account_attributes("nobody@example.com", {}), DirectoryError);
  // Nothing of the refused changes was stored.
  EXPECT_EQ(dir_->address_book("").people[2].address, "zoe@example.com");
  EXPECT_TRUE(dir_->address_book("").people[2].surname.empty());
}

TEST_F(AddressBookTest, AliasesAndListsWithTheirMembers) {
  dir_->add_alias("sales@example.com", {"zoe@example.com", "partner@remote.net"});
  dir_->add_alias("Admin@example.com", {"amy@example.com"});
  dir_->add_list("staff@example.com", {"zoe@example.com", "amy@example.com"});
  dir_->add_list("board@example.com", {});  // a list with no member yet
  dir_->add_list("crew@example.org", {"max@example.org"});
  dir_->add_alias("help@example.org", {"max@example.org"});

  auto book = dir_->address_book("example.com");
  ASSERT_EQ(book.groups.size(), 4u);
  EXPECT_EQ(book.groups[0].address, "admin@example.com");
  EXPECT_EQ(book.groups[0].kind, Kind::alias);
  EXPECT_EQ(book.groups[0].members, std::vector<std::string>{"amy@example.com"});
  EXPECT_EQ(book.groups[1].address, "board@example.com");
  EXPECT_EQ(book.groups[1].kind, Kind::list);
  EXPECT_TRUE(book.groups[1].members.empty());
  EXPECT_EQ(book.groups[2].address, "sales@example.com");
  EXPECT_EQ(book.groups[2].kind, Kind::alias);
  EXPECT_EQ(book.groups[2].members,
            (std::vector<std::string>{"zoe@example.com", "partner@remote.net"}));
  EXPECT_EQ(book.groups[3].address, "staff@example.com");
  EXPECT_EQ(book.groups[3].kind, Kind::list);
  EXPECT_EQ(book.groups[3].members,
            (std::vector<std::string>{"zoe@example.com", "amy@example.com"}));

  // Every domain: sorted by the whole address, aliases and lists together.
  auto all = dir_->address_book("");
  std::vector<std::pair<std::string, Kind>> groups;
  for (const auto& g : all.groups)
    groups.emplace_back(g.address, g.kind);
  EXPECT_EQ(groups, (std::vector<std::pair<std::string, Kind>>{
                        {"admin@example.com", Kind::alias},
                        {"board@example.com", Kind::list},
                        {"crew@example.org", Kind::list},
                        {"help@example.org", Kind::alias},
                        {"sales@example.com", Kind::alias},
                        {"staff@example.com", Kind::list},
                    }));
}

TEST_F(AddressBookTest, SortedByAddress) {
  dir_->add_domain("Sensitive.test", true);
  for (const char* a : {"walt@example.com", "bob@example.com", "Carol@sensitive.test",
                        "carol@sensitive.test", "al@example.org", "MIKE@example.com"})
    dir_->add_account(a, "", 0, std::nullopt);
  for (const char* a : {"z@example.com", "c@example.org", "a@sensitive.test"})
    dir_->add_alias(a, {"bob@example.com"});
  for (const char* a : {"y@example.com", "b@example.org", "B@sensitive.test"})
    dir_->add_list(a, {"bob@example.com"});
  auto book = dir_->address_book("");
  auto by_address = [](const auto& a, const auto& b) { return a.address < b.address; };
  EXPECT_TRUE(std::is_sorted(book.people.begin(), book.people.end(), by_address));
  EXPECT_TRUE(std::is_sorted(book.groups.begin(), book.groups.end(), by_address));
  EXPECT_TRUE(std::is_sorted(book.domains.begin(), book.domains.end()));
  EXPECT_EQ(book.people.size(), 9u);
  EXPECT_EQ(book.groups.size(), 6u);
  // Case-sensitive local parts keep their case, and sort byte by byte.
  auto people = addresses(book.people);
  EXPECT_NE(std::find(people.begin(), people.end(), "Carol@sensitive.test"), people.end());
  EXPECT_NE(std::find(people.begin(), people.end(), "mike@example.com"), people.end());
}

TEST_F(AddressBookTest, NeverASecret) {
  dir_->add_account("secret@example.com", "", 0, "correct horse battery staple");
  sdk::RetrievalSource source;
  source.account = "secret@example.com";
  source.host = "pop.remote.net";
  source.user = "remote-user";
  source.secret = "retrieval-secret";
  dir_->add_retrieval(source);
  std::vector<std::string> secrets;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DirectoryService::database_file(tmp_.path()).c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT password_hash, scram_salt, scram_sha1_stored_key, "
                       "scram_sha1_server_key, scram_sha256_stored_key, scram_sha256_server_key "
                       "FROM accounts WHERE address = 'secret@example.com'",
                       -1, &s, nullptr);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    for (int i = 0; i < 6; ++i)
      secrets.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, i)));
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  secrets.emplace_back("correct horse battery staple");
  secrets.emplace_back("retrieval-secret");
  secrets.emplace_back("$y$");
  for (const auto& text : strings_of(dir_->address_book(""))) {
    for (const auto& secret : secrets) {
      ASSERT_FALSE(secret.empty());
      EXPECT_EQ(text.find(secret), std::string::npos) << text;
    }
  }
}

TEST_F(AddressBookTest, AFailingDatabaseGivesAnEmptyBookWithVersionZero) {
  dir_->add_alias("team@example.com", {"zoe@example.com"});
  // Another connection takes the accounts table away: the book cannot be read.
  sql(tmp_.path(), "ALTER TABLE accounts RENAME TO accounts_elsewhere");
  auto book = dir_->address_book("");
  EXPECT_EQ(book.version, 0u);
  EXPECT_TRUE(book.domains.empty());
  EXPECT_TRUE(book.people.empty());
  EXPECT_TRUE(book.groups.empty());
  auto v = dir_->version();
  EXPECT_NE(v, 0u);
  // The transaction was ended: the service goes on once the table is back.
  sql(tmp_.path(), "ALTER TABLE accounts_elsewhere RENAME TO accounts");
  EXPECT_NE(dir_->version(), v);
  auto again = dir_->address_book("");
  EXPECT_EQ(again.people.size(), 3u);
  EXPECT_EQ(again.groups.size(), 1u);
  dir_->add_account("after@example.com", "", 0, std::nullopt);
}

}  // namespace
}  // namespace portico::core
