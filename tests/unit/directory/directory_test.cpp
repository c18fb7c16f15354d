// Portico tests — the directory service on real SQLite files: administration, recipient
// resolution (accounts, aliases, loops, lists, catch-all), authentication (constant path for
// unknown users, throttling), schema versions and upgrades from each older one, and two
// processes writing at once. The address book is in address_book_test.cpp.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <crypt.h>
#include <algorithm>
#include <chrono>

#include "core/directory/directory.h"
#include "test_dir.h"

namespace portico::core {
namespace {

using namespace std::chrono_literals;
using Kind = sdk::Recipient::Kind;

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DirectoryOptions options;
    options.now = [this] { return now_; };
    options.throttle.delay_after = 3;
    options.throttle.refuse_after = 5;
    dir_ = open_directory(tmp_.path(), options);
    dir_->add_domain("Example.COM");
    dir_->add_account("alice@example.com", "Alice", 0, "wonderland");
    dir_->add_account("bob@example.com", "", 1024, "builder");
  }
  test::TempDir tmp_;
  AuthThrottle::Clock::time_point now_{};
  std::unique_ptr<DirectoryService> dir_;
};

TEST(AddressForms, NormalizedToLowerCase) {
  EXPECT_EQ(normalize_address("Alice@Example.COM"), "alice@example.com");
  EXPECT_EQ(normalize_address("alice@example.com."), "alice@example.com");
  EXPECT_EQ(normalize_address("alice"), std::nullopt);
  EXPECT_EQ(normalize_address("@example.com"), std::nullopt);
  EXPECT_EQ(normalize_address("a b@example.com"), std::nullopt);
  EXPECT_EQ(normalize_address("alice@"), std::nullopt);
  EXPECT_EQ(normalize_domain("EXAMPLE.org"), "example.org");
  EXPECT_EQ(normalize_domain("bad..name"), std::nullopt);
}

TEST_F(DirectoryTest, Domains) {
  EXPECT_TRUE(dir_->is_local_domain("example.com"));
  EXPECT_TRUE(dir_->is_local_domain("EXAMPLE.com"));
  EXPECT_FALSE(dir_->is_local_domain("example.org"));
  EXPECT_THROW(dir_->add_domain("example.com"), DirectoryError);
  auto ds = dir_->domains();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].name, "example.com");
  EXPECT_EQ(ds[0].accounts, 2u);
  EXPECT_THROW(dir_->remove_domain("example.com", false), DirectoryError);
  EXPECT_TRUE(dir_->find_account("alice@example.com"));
  dir_->remove_domain("example.com", true);
  EXPECT_FALSE(dir_->find_account("alice@example.com"));
  EXPECT_TRUE(dir_->domains().empty());
}

TEST_F(DirectoryTest, Accounts) {
  EXPECT_THROW(dir_->add_account("carol@unknown.org", "", 0, "x"), DirectoryError);
  EXPECT_THROW(dir_->add_account("ALICE@example.com", "", 0, "x"), DirectoryError);
  auto a = dir_->find_account("Alice@EXAMPLE.com");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->address, "alice@example.com");
  EXPECT_EQ(a->display_name, "Alice");
  EXPECT_TRUE(a->enabled);
  EXPECT_EQ(dir_->find_account("bob@example.com")->quota_bytes, 1024u);
  dir_->update_account("bob@example.com", "Bob", 0);
  EXPECT_EQ(dir_->find_account("bob@example.com")->display_name, "Bob");
  auto list = dir_->accounts();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].hash_scheme, "yescrypt");
  EXPECT_TRUE(list[0].has_scram);
  dir_->remove_account("bob@example.com");
  EXPECT_FALSE(dir_->find_account("bob@example.com"));
  EXPECT_THROW(dir_->remove_account("bob@example.com"), DirectoryError);
  EXPECT_THROW(dir_->set_password("nobody@example.com", "x"), DirectoryError);
}

TEST_F(DirectoryTest, ResolvesAccountsCaseInsensitively) {
  auto r = dir_->resolve("ALICE@Example.Com");
  EXPECT_EQ(r.kind, Kind::account);
  EXPECT_EQ(r.address, "alice@example.com");
  EXPECT_EQ(r.local_accounts, std::vector<std::string>{"alice@example.com"});
  EXPECT_EQ(dir_->resolve("nobody@example.com").kind, Kind::none);
  EXPECT_EQ(dir_->resolve("alice@example.org").kind, Kind::none);
  EXPECT_EQ(dir_->resolve("not an address").kind, Kind::none);
}

TEST_F(DirectoryTest, ResolvesAliasChains) {
  dir_->add_alias("postmaster@example.com", {"admins@example.com"});
  dir_->add_alias("admins@example.com", {"Alice@example.com", "bob@example.com", "ops@remote.net"});
  auto r = dir_->resolve("postmaster@example.com");
  EXPECT_EQ(r.kind, Kind::alias);
  EXPECT_EQ(r.local_accounts, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
  EXPECT_EQ(r.external, std::vector<std::string>{"ops@remote.net"});
  EXPECT_FALSE(r.loop_detected);
  EXPECT_THROW(dir_->add_alias("alice@example.com", {"bob@example.com"}), DirectoryError);
  EXPECT_THROW(dir_->add_alias("x@unknown.org", {"bob@example.com"}), DirectoryError);
  dir_->remove_alias("admins@example.com", {"ops@remote.net"});
  EXPECT_TRUE(dir_->resolve("postmaster@example.com").external.empty());
  dir_->remove_alias("postmaster@example.com", {});
  EXPECT_EQ(dir_->resolve("postmaster@example.com").kind, Kind::none);
}

TEST_F(DirectoryTest, StopsAliasLoops) {
  dir_->add_alias("a@example.com", {"b@example.com"});
  dir_->add_alias("b@example.com", {"c@example.com", "alice@example.com"});
  dir_->add_alias("c@example.com", {"a@example.com"});
  auto r = dir_->resolve("a@example.com");
  EXPECT_EQ(r.kind, Kind::alias);
  EXPECT_TRUE(r.loop_detected);
  EXPECT_EQ(r.local_accounts, std::vector<std::string>{"alice@example.com"});
  // A diamond (two routes to one account) is not a loop, and the account appears once.
  dir_->add_alias("d@example.com", {"alice@example.com", "e@example.com"});
  dir_->add_alias("e@example.com", {"alice@example.com"});
  auto d = dir_->resolve("d@example.com");
  EXPECT_FALSE(d.loop_detected);
  EXPECT_EQ(d.local_accounts, std::vector<std::string>{"alice@example.com"});
}

TEST_F(DirectoryTest, ResolvesAndExpandsLists) {
  dir_->add_list("staff@example.com", {"alice@example.com", "partner@remote.net"});
  dir_->add_list("staff@example.com", {"bob@example.com"});
  auto r = dir_->resolve("Staff@example.com");
  EXPECT_EQ(r.kind, Kind::list);
  EXPECT_EQ(r.local_accounts, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
  EXPECT_EQ(r.external, std::vector<std::string>{"partner@remote.net"});
  auto members = dir_->expand_list("staff@EXAMPLE.com");
  ASSERT_TRUE(members);
  EXPECT_EQ(*members, (std::vector<std::string>{"alice@example.com", "partner@remote.net",
                                                "bob@example.com"}));
  EXPECT_FALSE(dir_->expand_list("alice@example.com"));
  dir_->remove_list("staff@example.com", {"bob@example.com"});
  EXPECT_EQ(dir_->expand_list("staff@example.com")->size(), 2u);
  dir_->remove_list("staff@example.com", {});
  EXPECT_FALSE(dir_->expand_list("staff@example.com"));
}

TEST_F(DirectoryTest, CatchAllIsOffByDefault) {
  EXPECT_EQ(dir_->resolve("random@example.com").kind, Kind::none);
  dir_->set_catch_all("example.com", "bob@example.com");
  auto r = dir_->resolve("random@example.com");
  EXPECT_EQ(r.kind, Kind::catch_all);
  EXPECT_EQ(r.local_accounts, std::vector<std::string>{"bob@example.com"});
  EXPECT_EQ(dir_->resolve("alice@example.com").kind, Kind::account);  // accounts still win
  EXPECT_EQ(dir_->domains()[0].catch_all, "bob@example.com");
  dir_->set_catch_all("example.com", "");
  EXPECT_EQ(dir_->resolve("random@example.com").kind, Kind::none);
}

TEST_F(DirectoryTest, Authenticates) {
  auto ok = dir_->authenticate("Alice@Example.com", "wonderland", "192.0.2.1");
  EXPECT_EQ(ok.status, sdk::AuthStatus::ok);
  EXPECT_EQ(ok.user, "alice@example.com");
  EXPECT_EQ(dir_->authenticate("alice@example.com", "Wonderland", "192.0.2.1").status,
            sdk::AuthStatus::bad_credentials);
  EXPECT_EQ(dir_->authenticate("nobody@example.com", "x", "192.0.2.2").status,
            sdk::AuthStatus::bad_credentials);
  dir_->set_enabled("alice@example.com", false);
  EXPECT_EQ(dir_->authenticate("alice@example.com", "wonderland", "192.0.2.3").status,
            sdk::AuthStatus::disabled);
  // A disabled account gives nothing away to a wrong password.
  EXPECT_EQ(dir_->authenticate("alice@example.com", "nope", "192.0.2.3").status,
            sdk::AuthStatus::bad_credentials);
  dir_->set_enabled("alice@example.com", true);
  dir_->set_password("alice@example.com", "looking glass");
  EXPECT_EQ(dir_->authenticate("alice@example.com", "wonderland", "192.0.2.4").status,
            sdk::AuthStatus::bad_credentials);
  EXPECT_EQ(dir_->authenticate("alice@example.com", "looking glass", "192.0.2.4").status,
            sdk::AuthStatus::ok);
  auto c = dir_->counters();
  EXPECT_EQ(c.successes, 2u);
  EXPECT_EQ(c.disabled, 1u);
  EXPECT_EQ(c.failures, 4u);
}

TEST_F(DirectoryTest, ImportedHashesAuthenticate) {
  crypt_data data{};
  std::string sha512 = crypt_rn("imported", "$6$dovecotsalt$", &data, sizeof data);
  dir_->add_account("carol@example.com", "", 0, std::nullopt, "{SHA512-CRYPT}" + sha512);
  EXPECT_EQ(dir_->authenticate("carol@example.com", "imported", "192.0.2.1").status,
            sdk::AuthStatus::ok);
  auto list = dir_->accounts("example.com");
  auto carol = std::find_if(list.begin(), list.end(),
                            [](const auto& i) { return i.account.address == "carol@example.com"; });
  ASSERT_NE(carol, list.end());
  EXPECT_EQ(carol->hash_scheme, "sha512-crypt");
  EXPECT_FALSE(carol->has_scram);
  EXPECT_THROW(dir_->set_password_hash("carol@example.com", "plaintext"), DirectoryError);
  dir_->add_account("dave@example.com", "", 0, std::nullopt);  // no password: cannot log in
  EXPECT_EQ(dir_->authenticate("dave@example.com", "", "192.0.2.1").status,
            sdk::AuthStatus::bad_credentials);
}

TEST_F(DirectoryTest, UnknownUsersTakeTheSamePath) {
  // By structure: an unknown user costs one hash verification, like a known one.
  auto before = dir_->counters().verifications;
  dir_->authenticate("nobody@example.com", "x", "192.0.2.10");
  EXPECT_EQ(dir_->counters().verifications, before + 1);
  dir_->authenticate("alice@example.com", "x", "192.0.2.11");
  EXPECT_EQ(dir_->counters().verifications, before + 2);
  dir_->authenticate("not an address", "x", "192.0.2.12");
  EXPECT_EQ(dir_->counters().verifications, before + 3);
  // And by time: comparable, not a shortcut.
  auto time = [&](const char* user, const char* address) {
    auto start = std::chrono::steady_clock::now();
    dir_->authenticate(user, "wrong", address);
    return std::chrono::steady_clock::now() - start;
  };
  auto known = time("alice@example.com", "192.0.2.20") + time("alice@example.com", "192.0.2.21");
  auto unknown = time("ghost@example.com", "192.0.2.22") + time("ghost@example.com", "192.0.2.23");
  double ratio = std::chrono::duration<double>(unknown) / std::chrono::duration<double>(known);
  EXPECT_GT(ratio, 0.3) << "unknown users answered suspiciously fast";
  EXPECT_LT(ratio, 3.0);
}

TEST_F(DirectoryTest, ThrottlesPerAddressAndPerAccount) {
  // Three failures are answered at once, the fourth and fifth with a delay.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(dir_->authenticate("alice@example.com", "bad", "192.0.2.1").delay, 0ms);
  auto delayed = dir_->authenticate("alice@example.com", "bad", "192.0.2.1");
  EXPECT_EQ(delayed.status, sdk::AuthStatus::bad_credentials);
  EXPECT_GT(delayed.delay, 0ms);
  dir_->authenticate("alice@example.com", "bad", "192.0.2.1");
  // Now refused, even with the right password, from that address and for that account.
  EXPECT_EQ(dir_->authenticate("alice@example.com", "wonderland", "192.0.2.1").status,
            sdk::AuthStatus::throttled);
  EXPECT_EQ(dir_->authenticate("alice@example.com", "wonderland", "198.51.100.1").status,
            sdk::AuthStatus::throttled);
  EXPECT_EQ(dir_->authenticate("bob@example.com", "builder", "192.0.2.1").status,
            sdk::AuthStatus::throttled);
  EXPECT_EQ(dir_->authenticate("bob@example.com", "builder", "198.51.100.1").status,
            sdk::AuthStatus::ok);
  EXPECT_GE(dir_->counters().throttled, 3u);
  EXPECT_GE(dir_->counters().delayed, 2u);
  now_ += 16min;  // the lockout ends
  EXPECT_EQ(dir_->authenticate("alice@example.com", "wonderland", "192.0.2.1").status,
            sdk::AuthStatus::ok);
}

TEST_F(DirectoryTest, SuccessResetsTheAccountCounter) {
  for (int i = 0; i < 3; ++i)
    dir_->authenticate("alice@example.com", "bad", "192.0.2." + std::to_string(i));
  EXPECT_EQ(dir_->authenticate("alice@example.com", "wonderland", "192.0.2.50").status,
            sdk::AuthStatus::ok);
  // The account's count started over: a new failure from a fresh address is not delayed.
  EXPECT_EQ(dir_->authenticate("alice@example.com", "bad", "192.0.2.51").delay, 0ms);
}

TEST_F(DirectoryTest, RetrievalSources) {
  sdk::RetrievalSource s;
  s.account = "Alice@example.com";
  s.protocol = sdk::RetrievalSource::Protocol::imap;
  s.host = "imap.remote.net";
  s.port = 993;
  s.user = "alice.remote";
  s.secret = "s3cret";
  s.source_folder = "Archive";
  auto id = dir_->add_retrieval(s);
  s.account = "nobody@example.com";
  EXPECT_THROW(dir_->add_retrieval(s), DirectoryError);
  dir_->record_retrieval(id, 1700000000, "", 7);
  dir_->record_retrieval(id, 1700000600, "connection refused", 0);
  auto all = dir_->retrieval_sources("");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].account, "alice@example.com");
  EXPECT_EQ(all[0].protocol, sdk::RetrievalSource::Protocol::imap);
  EXPECT_EQ(all[0].secret, "s3cret");
  EXPECT_EQ(all[0].source_folder, "Archive");
  EXPECT_EQ(all[0].last_run, 1700000600);
  EXPECT_EQ(all[0].last_error, "connection refused");
  EXPECT_EQ(all[0].total_count, 7u);
  EXPECT_TRUE(dir_->retrieval_sources("bob@example.com").empty());
  dir_->remove_account("alice@example.com");  // its sources go with it
  EXPECT_TRUE(dir_->retrieval_sources("").empty());
}

TEST(AddressForms, KeepsTheLocalPartsCaseOnRequest) {
  EXPECT_EQ(normalize_address("Alice@Example.COM", true), "Alice@example.com");
  EXPECT_EQ(normalize_address("a b@example.com", true), std::nullopt);
}

TEST_F(DirectoryTest, DefaultDomainIgnoresTheLocalPartsCase) {
  EXPECT_FALSE(dir_->domains()[0].case_sensitive_local_part);
  auto ok = dir_->authenticate("ALICE@example.com", "wonderland", "192.0.2.1");
  EXPECT_EQ(ok.status, sdk::AuthStatus::ok);
  EXPECT_EQ(ok.user, "alice@example.com");
  dir_->add_alias("Team@Example.com", {"ALICE@example.com"});
  auto as = dir_->aliases("team@example.com");
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].address, "team@example.com");
  EXPECT_EQ(as[0].targets, std::vector<std::string>{"alice@example.com"});
  auto r = dir_->resolve("TEAM@example.com");
  EXPECT_EQ(r.kind, Kind::alias);
  EXPECT_EQ(r.local_accounts, std::vector<std::string>{"alice@example.com"});
}

TEST_F(DirectoryTest, CaseSensitiveDomainKeepsLocalPartsApart) {
  dir_->add_domain("Sensitive.TEST", true);
  dir_->add_account("Carol@SENSITIVE.test", "", 0, "upper");
  dir_->add_account("carol@sensitive.test", "", 0, "lower");
  EXPECT_THROW(dir_->add_account("Carol@sensitive.test", "", 0, "x"), DirectoryError);
  auto ds = dir_->domains();
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[1].name, "sensitive.test");
  EXPECT_TRUE(ds[1].case_sensitive_local_part);

  // Lookups: the local part exactly, the domain in any case.
  ASSERT_TRUE(dir_->find_account("Carol@Sensitive.Test"));
  EXPECT_EQ(dir_->find_account("Carol@Sensitive.Test")->address, "Carol@sensitive.test");
  EXPECT_EQ(dir_->find_account("carol@sensitive.test")->address, "carol@sensitive.test");
  EXPECT_FALSE(dir_->find_account("CAROL@sensitive.test"));
  auto r = dir_->resolve("Carol@SENSITIVE.test");
  EXPECT_EQ(r.kind, Kind::account);
  EXPECT_EQ(r.address, "Carol@sensitive.test");
  EXPECT_EQ(r.local_accounts, std::vector<std::string>{"Carol@sensitive.test"});
  EXPECT_EQ(dir_->resolve("CAROL@sensitive.test").kind, Kind::none);

  // Authentication: each account has its own password, and the wrong case is an unknown user.
  auto upper = dir_->authenticate("Carol@sensitive.test", "upper", "192.0.2.1");
  EXPECT_EQ(upper.status, sdk::AuthStatus::ok);
  EXPECT_EQ(upper.user, "Carol@sensitive.test");
  auto lower = dir_->authenticate("carol@Sensitive.test", "lower", "192.0.2.1");
  EXPECT_EQ(lower.status, sdk::AuthStatus::ok);
  EXPECT_EQ(lower.user, "carol@sensitive.test");
  EXPECT_EQ(dir_->authenticate("carol@sensitive.test", "upper", "192.0.2.2").status,
            sdk::AuthStatus::bad_credentials);
  EXPECT_EQ(dir_->authenticate("CAROL@sensitive.test", "upper", "192.0.2.3").status,
            sdk::AuthStatus::bad_credentials);

  // Aliases, lists and the catch-all keep the case of their addresses and targets.
  dir_->add_alias("Team@sensitive.test", {"Carol@sensitive.test", "ALICE@example.com"});
  auto t = dir_->resolve("Team@sensitive.test");
  EXPECT_EQ(t.kind, Kind::alias);
  EXPECT_EQ(t.local_accounts,
            (std::vector<std::string>{"Carol@sensitive.test", "alice@example.com"}));
  EXPECT_EQ(dir_->resolve("team@sensitive.test").kind, Kind::none);
  EXPECT_TRUE(dir_->aliases("team@sensitive.test").empty());
  dir_->add_list("Crew@sensitive.test", {"carol@sensitive.test", "Ops@Remote.net"});
  auto members = dir_->expand_list("Crew@sensitive.test");
  ASSERT_TRUE(members);
  EXPECT_EQ(*members, (std::vector<std::string>{"carol@sensitive.test", "ops@remote.net"}));
  EXPECT_FALSE(dir_->expand_list("crew@sensitive.test"));
  dir_->set_catch_all("sensitive.test", "Carol@sensitive.test");
  auto c = dir_->resolve("TEAM@sensitive.test");
  EXPECT_EQ(c.kind, Kind::catch_all);
  EXPECT_EQ(c.local_accounts, std::vector<std::string>{"Carol@sensitive.test"});
  EXPECT_EQ(dir_->resolve("Team@sensitive.test").kind, Kind::alias);

  // Back to case-insensitive is refused while upper-case local parts are stored.
  EXPECT_THROW(dir_->set_case_sensitive_local_part("sensitive.test", false), DirectoryError);
  EXPECT_THROW(dir_->set_case_sensitive_local_part("nowhere.test", true), DirectoryError);
}

TEST_F(DirectoryTest, SwitchingADomainToCaseSensitive) {
  dir_->set_case_sensitive_local_part("EXAMPLE.com", true);
  EXPECT_TRUE(dir_->domains()[0].case_sensitive_local_part);
  EXPECT_TRUE(dir_->find_account("alice@Example.com"));
  EXPECT_FALSE(dir_->find_account("Alice@example.com"));
  EXPECT_EQ(dir_->resolve("Alice@example.com").kind, Kind::none);
  // Nothing stored with upper case yet: switching back is allowed.
  dir_->set_case_sensitive_local_part("example.com", false);
  EXPECT_FALSE(dir_->domains()[0].case_sensitive_local_part);
  EXPECT_TRUE(dir_->find_account("Alice@example.com"));
}

// Makes a database this build wrote into the file an older portico wrote (schema `version`),
// undoing the migrations after it.
void downgrade(const fs::path& data_dir, int version) {
  std::string sql;
  if (version <= 2)  // 2 -> 3: the address-book columns, the (domain, address) index
    sql +=
        "DROP INDEX accounts_domain_address; CREATE INDEX accounts_domain ON accounts(domain); "
        "ALTER TABLE accounts DROP COLUMN given_name; ALTER TABLE accounts DROP COLUMN surname; "
        "ALTER TABLE accounts DROP COLUMN title; ALTER TABLE accounts DROP COLUMN department; "
        "ALTER TABLE accounts DROP COLUMN organization; ALTER TABLE accounts DROP COLUMN phones; ";
  if (version <= 1)  // 1 -> 2: per-domain case sensitivity
    sql += "ALTER TABLE domains DROP COLUMN case_sensitive_local_part; ";
  sql += "PRAGMA user_version = " + std::to_string(version);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DirectoryService::database_file(data_dir).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

// The names of a table's columns, or of the database's indexes (table "index").
std::vector<std::string> names(const fs::path& data_dir, const std::string& table) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  sqlite3_open(DirectoryService::database_file(data_dir).c_str(), &db);
  sqlite3_stmt* s = nullptr;
  std::string sql = table == "index"
                        ? "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name"
                        : "SELECT name FROM pragma_table_info('" + table + "')";
  sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  while (sqlite3_step(s) == SQLITE_ROW)
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

bool has(const std::vector<std::string>& v, const char* name) {
  return std::find(v.begin(), v.end(), name) != v.end();
}

int user_version(const fs::path& data_dir) {
  sqlite3* db = nullptr;
  sqlite3_open(DirectoryService::database_file(data_dir).c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  int version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return version;
}

TEST(DirectorySchema, UpgradesAVersion2Database) {
  test::TempDir tmp;
  {
    auto d = open_directory(tmp.path());
    d->add_domain("old.test");
    d->add_account("erin@old.test", "Erin", 512, std::nullopt);
    d->add_alias("team@old.test", {"erin@old.test"});
  }
  downgrade(tmp.path(), 2);
  ASSERT_FALSE(has(names(tmp.path(), "accounts"), "given_name"));
  ASSERT_TRUE(has(names(tmp.path(), "index"), "accounts_domain"));

  auto d = open_directory(tmp.path());
  EXPECT_EQ(user_version(tmp.path()), kDirectorySchemaVersion);
  EXPECT_EQ(kDirectorySchemaVersion, 3);
  auto columns = names(tmp.path(), "accounts");
  for (const char* column :
       {"given_name", "surname", "title", "department", "organization", "phones"})
    EXPECT_TRUE(has(columns, column)) << column;
  auto indexes = names(tmp.path(), "index");
  EXPECT_TRUE(has(indexes, "accounts_domain_address"));
  EXPECT_FALSE(has(indexes, "accounts_domain"));
  // What was there is kept; the new attributes start empty and can be set.
  auto book = d->address_book("old.test");
  ASSERT_EQ(book.people.size(), 1u);
  EXPECT_EQ(book.people[0].address, "erin@old.test");
  EXPECT_EQ(book.people[0].display_name, "Erin");
  EXPECT_TRUE(book.people[0].surname.empty());
  EXPECT_TRUE(book.people[0].phones.empty());
  ASSERT_EQ(book.groups.size(), 1u);
  EXPECT_EQ(d->find_account("erin@old.test")->quota_bytes, 512u);
  AccountAttributes a;
  a.surname = "Old";
  a.phones = std::vector<std::string>{"1", "2"};
  d->set_account_attributes("erin@old.test", a);
  EXPECT_EQ(d->address_book("").people[0].phones, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(d->accounts()[0].surname, "Old");
}

TEST(DirectorySchema, UpgradesAVersion1Database) {
  test::TempDir tmp;
  {
    auto d = open_directory(tmp.path());
    d->add_domain("old.test");
    d->add_account("dave@old.test", "", 0, std::nullopt);
  }
  // Make it the file a version-1 portico wrote: no case_sensitive_local_part column (and none
  // of the later ones).
  downgrade(tmp.path(), 1);
  ASSERT_FALSE(has(names(tmp.path(), "domains"), "case_sensitive_local_part"));

  auto d = open_directory(tmp.path());
  auto ds = d->domains();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].name, "old.test");
  EXPECT_FALSE(ds[0].case_sensitive_local_part);
  ASSERT_TRUE(d->find_account("DAVE@old.test"));
  EXPECT_EQ(d->find_account("DAVE@old.test")->address, "dave@old.test");
  d->set_case_sensitive_local_part("old.test", true);
  EXPECT_TRUE(d->domains()[0].case_sensitive_local_part);
  EXPECT_TRUE(has(names(tmp.path(), "accounts"), "phones"));  // both steps ran
  d.reset();
  EXPECT_EQ(user_version(tmp.path()), kDirectorySchemaVersion);
}

TEST(DirectorySchema, RefusesANewerDatabase) {
  test::TempDir tmp;
  { open_directory(tmp.path()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DirectoryService::database_file(tmp.path()).c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    open_directory(tmp.path());
    FAIL() << "a database from a newer version was accepted";
  } catch (const DirectoryError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(DirectorySchema, CreatesAndReopens) {
  test::TempDir tmp;
  {
    auto d = open_directory(tmp.path());
    d->add_domain("example.net");
  }
  auto d = open_directory(tmp.path());
  EXPECT_TRUE(d->is_local_domain("example.net"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DirectoryService::database_file(tmp.path()).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), kDirectorySchemaVersion);
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST(DirectoryConcurrency, TwoProcessesAddUsers) {
  test::TempDir tmp;
  { open_directory(tmp.path())->add_domain("example.com"); }
  constexpr int kPerProcess = 25;
  pid_t children[2];
  for (int c = 0; c < 2; ++c) {
    children[c] = fork();
    ASSERT_GE(children[c], 0);
    if (children[c] == 0) {
      int failures = 0;
      try {
        auto d = open_directory(tmp.path());
        for (int i = 0; i < kPerProcess; ++i) {
          auto address = "p" + std::to_string(c) + "u" + std::to_string(i) + "@example.com";
          std::optional<std::string_view> pw;
          if (i % 10 == 0) pw = "pw";
          d->add_account(address, "", 0, pw);
          d->add_alias("a" + address, {address});
        }
      } catch (const std::exception&) {
        failures = 1;
      }
      _exit(failures);
    }
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto d = open_directory(tmp.path());
  EXPECT_EQ(d->accounts().size(), 2u * kPerProcess);
  EXPECT_EQ(d->aliases().size(), 2u * kPerProcess);
  EXPECT_EQ(d->authenticate("p1u10@example.com", "pw", "192.0.2.1").status, sdk::AuthStatus::ok);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DirectoryService::database_file(tmp.path()).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "ok");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

}  // namespace
}  // namespace portico::core
