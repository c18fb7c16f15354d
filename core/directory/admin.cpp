// Portico core — directory administration: domains, accounts, aliases, lists, catch-all and
// retrieval sources (see directory.h). Each change is one IMMEDIATE transaction, so the CLI
// and a running server (separate processes) never see half of it. Password hashing and SCRAM
// key derivation run before the transaction, outside the lock. Address-book attributes are
// checked (no control characters, no empty phone number) before it too.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <ctime>

#include "core/directory/directory.h"

namespace portico::core {

using namespace directory;

namespace {

std::string address_or_throw(std::string_view address) {
  auto a = normalize_address(address);
  if (!a) throw DirectoryError(fmt::format("'{}' is not a valid address (local@domain)", address));
  return *a;
}

std::string domain_or_throw(std::string_view domain) {
  auto d = normalize_domain(domain);
  if (!d) throw DirectoryError(fmt::format("'{}' is not a valid domain name", domain));
  return *d;
}

std::string domain_of(const std::string& address) {
  return address.substr(address.rfind('@') + 1);
}

std::int64_t now_unix() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

// The columns a password sets: hash and both SCRAM secrets (one salt, both hashes).
struct PasswordColumns {
  std::string hash;
  std::int64_t iterations = 0;
  std::string salt;
  std::string sha1_stored, sha1_server, sha256_stored, sha256_server;
};

PasswordColumns columns_for_password(std::string_view password) {
  PasswordColumns c;
  c.hash = hash_password(password);
  std::string salt = random_bytes(16);
  auto s1 = scram_secret(ScramHash::sha1, password, salt, kScramIterations);
  auto s256 = scram_secret(ScramHash::sha256, password, salt, kScramIterations);
  c.iterations = kScramIterations;
  c.salt = base64_encode(salt);
  c.sha1_stored = hex_encode(s1.stored_key);
  c.sha1_server = hex_encode(s1.server_key);
  c.sha256_stored = hex_encode(s256.stored_key);
  c.sha256_server = hex_encode(s256.server_key);
  return c;
}

PasswordColumns columns_for_hash(std::string_view hash) {
  hash = strip_scheme_prefix(hash);
  if (!is_supported_hash(hash))
    throw DirectoryError(
        "unsupported password hash: expected a crypt(3) string starting with "
        "$y$ (yescrypt), $6$ (sha512-crypt) or $2b$ (bcrypt)");
  PasswordColumns c;
  c.hash = std::string(hash);
  return c;
}

void store_password(Database& db, const std::string& address, const PasswordColumns& c) {
  db.prepare(
        "UPDATE accounts SET password_hash = ?, scram_iterations = ?, scram_salt = ?, "
        "scram_sha1_stored_key = ?, scram_sha1_server_key = ?, scram_sha256_stored_key = ?, "
        "scram_sha256_server_key = ?, password_changed = ? WHERE address = ?")
      .bind(1, c.hash)
      .bind(2, c.iterations)
      .bind(3, c.salt)
      .bind(4, c.sha1_stored)
      .bind(5, c.sha1_server)
      .bind(6, c.sha256_stored)
      .bind(7, c.sha256_server)
      .bind(8, now_unix())
      .bind(9, address)
      .run();
}

// Refuses what would break a one-line listing or an LDAP entry: control characters (a newline
// too), and empty phone numbers (the stored form could not tell them apart from none).
void check_attributes(const AccountAttributes& a) {
  auto check = [](const char* what, std::string_view value) {
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f)
        throw DirectoryError(fmt::format("the {} may not contain control characters", what));
    }
  };
  const std::pair<const char*, const std::optional<std::string>*> fields[] = {
      {"display name", &a.display_name}, {"given name", &a.given_name},
      {"surname", &a.surname},           {"title", &a.title},
      {"department", &a.department},     {"organization", &a.organization},
  };
  for (auto [what, value] : fields)
    if (*value) check(what, **value);
  if (a.phones)
    for (const auto& phone : *a.phones) {
      if (phone.empty()) throw DirectoryError("a phone number may not be empty");
      check("phone number", phone);
    }
}

// Sets the attributes that are given, in one UPDATE (inside the caller's transaction); false
// when there is no such account.
bool store_attributes(Database& db, const std::string& address, const AccountAttributes& a,
                      std::optional<std::uint64_t> quota_bytes) {
  std::vector<std::pair<const char*, std::string>> columns;
  if (a.display_name) columns.emplace_back("display_name", *a.display_name);
  if (a.given_name) columns.emplace_back("given_name", *a.given_name);
  if (a.surname) columns.emplace_back("surname", *a.surname);
  if (a.title) columns.emplace_back("title", *a.title);
  if (a.department) columns.emplace_back("department", *a.department);
  if (a.organization) columns.emplace_back("organization", *a.organization);
  if (a.phones) columns.emplace_back("phones", join_phones(*a.phones));
  if (columns.empty() && !quota_bytes) {
    auto s = db.prepare("SELECT 1 FROM accounts WHERE address = ?");
    s.bind(1, address);
    return s.step();
  }
  std::vector<std::string> assignments;
  for (const auto& column : columns)
    assignments.push_back(fmt::format("{} = ?", column.first));
  if (quota_bytes) assignments.emplace_back("quota = ?");
  auto s = db.prepare(
      fmt::format("UPDATE accounts SET {} WHERE address = ?", fmt::join(assignments, ", ")));
  int index = 1;
  for (const auto& column : columns)
    s.bind(index++, column.second);
  if (quota_bytes) s.bind(index++, static_cast<std::int64_t>(*quota_bytes));
  s.bind(index, address).run();
  return db.changes() > 0;
}

std::string scheme_of(const std::string& hash) {
  if (hash.starts_with("$y$")) return "yescrypt";
  if (hash.starts_with("$6$")) return "sha512-crypt";
  if (hash.starts_with("$2")) return "bcrypt";
  return hash.empty() ? "" : "other";
}

}  // namespace

std::string DirectoryService::canonical_or_throw(std::string_view address) {
  auto a = canonical(address);
  if (!a) throw DirectoryError(fmt::format("'{}' is not a valid address (local@domain)", address));
  return *a;
}

std::string DirectoryService::require_local(const std::string& address) {
  auto domain = domain_of(address);
  if (!domain_exists(domain))
    throw DirectoryError(fmt::format(
        "{} is not a local domain (add it with: portico domain add {})", domain, domain));
  return domain;
}

void DirectoryService::require_unused(const std::string& address) {
  static constexpr std::pair<const char*, const char*> kinds[] = {
      {"SELECT 1 FROM accounts WHERE address = ?", "an account"},
      {"SELECT 1 FROM aliases WHERE address = ?", "an alias"},
      {"SELECT 1 FROM lists WHERE address = ?", "a list"},
  };
  for (auto [sql, what] : kinds) {
    auto s = db_.prepare(sql);
    s.bind(1, address);
    if (s.step()) throw DirectoryError(fmt::format("{} is already {}", address, what));
  }
}

void DirectoryService::add_domain(std::string_view name, bool case_sensitive_local_part) {
  auto d = domain_or_throw(name);
  std::lock_guard lock(mutex_);
  db_.write([&] {
    if (domain_exists(d)) throw DirectoryError(fmt::format("domain {} already exists", d));
    db_.prepare("INSERT INTO domains (name, created, case_sensitive_local_part) VALUES (?, ?, ?)")
        .bind(1, d)
        .bind(2, now_unix())
        .bind(3, std::int64_t{case_sensitive_local_part})
        .run();
  });
  spdlog::info("directory: domain {} added{}", d,
               case_sensitive_local_part ? " (case-sensitive local parts)" : "");
}

void DirectoryService::set_case_sensitive_local_part(std::string_view domain, bool case_sensitive) {
  auto d = domain_or_throw(domain);
  std::lock_guard lock(mutex_);
  db_.write([&] {
    if (!domain_exists(d)) throw DirectoryError(fmt::format("no domain {}", d));
    if (!case_sensitive) {
      // Addresses stored with upper-case letters could no longer be found once lookups
      // lower-case the local part. (Domains are always stored in lower case, so the
      // comparison below only sees local parts.)
      auto s = db_.prepare(
          "SELECT address FROM accounts WHERE domain = ?1 AND address <> lower(address) "
          "UNION SELECT address FROM aliases WHERE domain = ?1 AND address <> lower(address) "
          "UNION SELECT address FROM lists WHERE domain = ?1 AND address <> lower(address) "
          "UNION SELECT target FROM aliases WHERE target LIKE '%@' || ?1 AND target <> "
          "lower(target) "
          "UNION SELECT member FROM list_members WHERE member LIKE '%@' || ?1 AND member <> "
          "lower(member) "
          "UNION SELECT catch_all FROM domains WHERE catch_all LIKE '%@' || ?1 AND catch_all <> "
          "lower(catch_all) LIMIT 1");
      s.bind(1, d);
      if (s.step())
        throw DirectoryError(fmt::format(
            "{} has upper-case letters in its local part; remove or rename such addresses "
            "before making {} case-insensitive",
            s.text(0), d));
    }
    db_.prepare("UPDATE domains SET case_sensitive_local_part = ? WHERE name = ?")
        .bind(1, std::int64_t{case_sensitive})
        .bind(2, d)
        .run();
  });
  spdlog::info("directory: local parts of {} now compare {}", d,
               case_sensitive ? "case-sensitively" : "case-insensitively");
}

std::vector<DomainInfo> DirectoryService::domains() {
  std::lock_guard lock(mutex_);
  std::vector<DomainInfo> out;
  auto s = db_.prepare(
      "SELECT name, COALESCE(catch_all, ''), (SELECT COUNT(*) FROM accounts a WHERE a.domain = "
      "d.name), case_sensitive_local_part FROM domains d ORDER BY name");
  while (s.step())
    out.push_back(
        {s.text(0), s.text(1), static_cast<std::uint64_t>(s.integer(2)), s.integer(3) != 0});
  return out;
}

void DirectoryService::remove_domain(std::string_view name, bool force) {
  auto d = domain_or_throw(name);
  std::lock_guard lock(mutex_);
  db_.write([&] {
    if (!domain_exists(d)) throw DirectoryError(fmt::format("no domain {}", d));
    if (!force) {
      auto s = db_.prepare(
          "SELECT (SELECT COUNT(*) FROM accounts WHERE domain = ?1), (SELECT COUNT(*) FROM "
          "aliases WHERE domain = ?1), (SELECT COUNT(*) FROM lists WHERE domain = ?1)");
      s.bind(1, d);
      s.step();
      if (s.integer(0) + s.integer(1) + s.integer(2) > 0)
        throw DirectoryError(fmt::format(
            "domain {} still has {} account(s), {} alias target(s), {} list(s); remove them "
            "first or use --force",
            d, s.integer(0), s.integer(1), s.integer(2)));
    }
    // Foreign keys cascade to accounts, aliases, lists, members and retrieval sources.
    db_.prepare("DELETE FROM domains WHERE name = ?").bind(1, d).run();
  });
  spdlog::info("directory: domain {} removed{}", d, force ? " (forced)" : "");
}

void DirectoryService::set_catch_all(std::string_view domain, std::string_view target) {
  auto d = domain_or_throw(domain);
  std::string t = target.empty() ? std::string() : address_or_throw(target);
  std::lock_guard lock(mutex_);
  if (!t.empty()) t = canonical_or_throw(target);
  db_.write([&] {
    if (!domain_exists(d)) throw DirectoryError(fmt::format("no domain {}", d));
    auto s = db_.prepare("UPDATE domains SET catch_all = ? WHERE name = ?");
    if (t.empty())
      s.bind_null(1);
    else
      s.bind(1, t);
    s.bind(2, d).run();
  });
  spdlog::info("directory: catch-all of {} {}", d, t.empty() ? "off" : "set to " + t);
}

void DirectoryService::add_account(std::string_view address, std::string_view display_name,
                                   std::uint64_t quota_bytes,
                                   std::optional<std::string_view> password,
                                   std::optional<std::string_view> password_hash,
                                   const AccountAttributes& attributes) {
  auto a = address_or_throw(address);
  if (password && password_hash)
    throw DirectoryError("give a password or a password hash, not both");
  check_attributes(attributes);
  std::optional<PasswordColumns> pw;
  if (password) pw = columns_for_password(*password);
  if (password_hash) pw = columns_for_hash(*password_hash);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    auto domain = require_local(a);
    require_unused(a);
    db_.prepare(
           "INSERT INTO accounts (address, domain, display_name, quota, created) VALUES (?, ?, "
           "?, ?, ?)")
        .bind(1, a)
        .bind(2, domain)
        .bind(3, display_name)
        .bind(4, static_cast<std::int64_t>(quota_bytes))
        .bind(5, now_unix())
        .run();
    if (pw) store_password(db_, a, *pw);
    store_attributes(db_, a, attributes, std::nullopt);
  });
  spdlog::info("directory: account {} added", a);
}

namespace {

void require_changed(Database& db, const std::string& address) {
  if (db.changes() == 0) throw DirectoryError(fmt::format("no account {}", address));
}

}  // namespace

void DirectoryService::set_password(std::string_view address, std::string_view password) {
  auto a = address_or_throw(address);
  auto pw = columns_for_password(password);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    store_password(db_, a, pw);
    require_changed(db_, a);
  });
  spdlog::info("directory: password of {} changed", a);
}

void DirectoryService::set_password_hash(std::string_view address, std::string_view hash) {
  auto a = address_or_throw(address);
  auto pw = columns_for_hash(hash);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    store_password(db_, a, pw);
    require_changed(db_, a);
  });
  spdlog::info("directory: password hash of {} replaced", a);
}

void DirectoryService::set_enabled(std::string_view address, bool enabled) {
  auto a = address_or_throw(address);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    db_.prepare("UPDATE accounts SET enabled = ? WHERE address = ?")
        .bind(1, std::int64_t{enabled})
        .bind(2, a)
        .run();
    require_changed(db_, a);
  });
  spdlog::info("directory: account {} {}", a, enabled ? "enabled" : "disabled");
}

void DirectoryService::update_account(std::string_view address,
                                      std::optional<std::string_view> display_name,
                                      std::optional<std::uint64_t> quota_bytes) {
  AccountAttributes attributes;
  if (display_name) attributes.display_name = std::string(*display_name);
  set_account_attributes(address, attributes, quota_bytes);
}

void DirectoryService::set_account_attributes(std::string_view address,
                                              const AccountAttributes& attributes,
                                              std::optional<std::uint64_t> quota_bytes) {
  auto a = address_or_throw(address);
  check_attributes(attributes);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    if (!store_attributes(db_, a, attributes, quota_bytes))
      throw DirectoryError(fmt::format("no account {}", a));
  });
  spdlog::info("directory: account {} updated", a);
}

void DirectoryService::remove_account(std::string_view address) {
  auto a = address_or_throw(address);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    db_.prepare("DELETE FROM accounts WHERE address = ?").bind(1, a).run();
    require_changed(db_, a);
  });
  spdlog::info("directory: account {} removed", a);
}

std::vector<AccountInfo> DirectoryService::accounts(std::string_view domain) {
  std::string d = domain.empty() ? std::string() : domain_or_throw(domain);
  std::lock_guard lock(mutex_);
  std::vector<AccountInfo> out;
  auto s = db_.prepare(
      "SELECT address, display_name, enabled, quota, password_hash, scram_sha256_stored_key, "
      "given_name, surname, title, department, organization, phones "
      "FROM accounts WHERE ?1 = '' OR domain = ?1 ORDER BY domain, address");
  s.bind(1, d);
  while (s.step()) {
    AccountInfo info;
    info.account = {s.text(0), s.text(1), s.integer(2) != 0,
                    static_cast<std::uint64_t>(s.integer(3))};
    std::string hash = s.text(4);
    info.has_password = !hash.empty();
    info.hash_scheme = scheme_of(hash);
    info.has_scram = !s.text(5).empty();
    info.given_name = s.text(6);
    info.surname = s.text(7);
    info.title = s.text(8);
    info.department = s.text(9);
    info.organization = s.text(10);
    info.phones = split_phones(s.text(11));
    out.push_back(std::move(info));
  }
  return out;
}

void DirectoryService::add_alias(std::string_view address,
                                 const std::vector<std::string>& targets) {
  auto a = address_or_throw(address);
  if (targets.empty()) throw DirectoryError("an alias needs at least one target");
  std::vector<std::string> ts;
  for (const auto& t : targets)
    ts.push_back(address_or_throw(t));
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  ts.clear();
  for (const auto& t : targets)
    ts.push_back(canonical_or_throw(t));
  db_.write([&] {
    auto domain = require_local(a);
    auto existing = db_.prepare("SELECT 1 FROM aliases WHERE address = ?");
    existing.bind(1, a);
    if (!existing.step()) require_unused(a);
    for (const auto& t : ts) {
      if (t == a) throw DirectoryError(fmt::format("{} cannot be an alias of itself", a));
      db_.prepare("INSERT OR IGNORE INTO aliases (address, domain, target) VALUES (?, ?, ?)")
          .bind(1, a)
          .bind(2, domain)
          .bind(3, t)
          .run();
    }
  });
  spdlog::info("directory: alias {} -> {}", a, fmt::join(ts, ", "));
}

void DirectoryService::remove_alias(std::string_view address,
                                    const std::vector<std::string>& targets) {
  auto a = address_or_throw(address);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    if (targets.empty()) {
      db_.prepare("DELETE FROM aliases WHERE address = ?").bind(1, a).run();
      if (db_.changes() == 0) throw DirectoryError(fmt::format("no alias {}", a));
    }
    for (const auto& t : targets) {
      auto n = canonical_or_throw(t);
      db_.prepare("DELETE FROM aliases WHERE address = ? AND target = ?")
          .bind(1, a)
          .bind(2, n)
          .run();
      if (db_.changes() == 0) throw DirectoryError(fmt::format("{} is not a target of {}", n, a));
    }
  });
  spdlog::info("directory: alias {} changed", a);
}

std::vector<AliasInfo> DirectoryService::aliases(std::string_view address) {
  std::string a = address.empty() ? std::string() : address_or_throw(address);
  std::lock_guard lock(mutex_);
  if (!a.empty()) a = canonical_or_throw(address);
  std::vector<AliasInfo> out;
  auto s = db_.prepare(
      "SELECT address, target FROM aliases WHERE ?1 = '' OR address = ?1 ORDER BY address, rowid");
  s.bind(1, a);
  while (s.step()) {
    if (out.empty() || out.back().address != s.text(0)) out.push_back({s.text(0), {}});
    out.back().targets.push_back(s.text(1));
  }
  return out;
}

void DirectoryService::add_list(std::string_view address, const std::vector<std::string>& members) {
  auto a = address_or_throw(address);
  std::vector<std::string> ms;
  for (const auto& m : members)
    ms.push_back(address_or_throw(m));
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  ms.clear();
  for (const auto& m : members)
    ms.push_back(canonical_or_throw(m));
  db_.write([&] {
    auto domain = require_local(a);
    auto existing = db_.prepare("SELECT 1 FROM lists WHERE address = ?");
    existing.bind(1, a);
    if (!existing.step()) {
      require_unused(a);
      db_.prepare("INSERT INTO lists (address, domain) VALUES (?, ?)")
          .bind(1, a)
          .bind(2, domain)
          .run();
    }
    for (const auto& m : ms) {
      if (m == a) throw DirectoryError(fmt::format("{} cannot be a member of itself", a));
      db_.prepare("INSERT OR IGNORE INTO list_members (list, member) VALUES (?, ?)")
          .bind(1, a)
          .bind(2, m)
          .run();
    }
  });
  spdlog::info("directory: list {} updated", a);
}

void DirectoryService::remove_list(std::string_view address,
                                   const std::vector<std::string>& members) {
  auto a = address_or_throw(address);
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(address);
  db_.write([&] {
    if (members.empty()) {
      db_.prepare("DELETE FROM lists WHERE address = ?").bind(1, a).run();
      if (db_.changes() == 0) throw DirectoryError(fmt::format("no list {}", a));
    }
    for (const auto& m : members) {
      auto n = canonical_or_throw(m);
      db_.prepare("DELETE FROM list_members WHERE list = ? AND member = ?")
          .bind(1, a)
          .bind(2, n)
          .run();
      if (db_.changes() == 0) throw DirectoryError(fmt::format("{} is not a member of {}", n, a));
    }
  });
  spdlog::info("directory: list {} changed", a);
}

std::vector<ListInfo> DirectoryService::lists(std::string_view address) {
  std::string a = address.empty() ? std::string() : address_or_throw(address);
  std::lock_guard lock(mutex_);
  if (!a.empty()) a = canonical_or_throw(address);
  std::vector<ListInfo> out;
  auto s = db_.prepare(
      "SELECT l.address, m.member FROM lists l LEFT JOIN list_members m ON m.list = l.address "
      "WHERE ?1 = '' OR l.address = ?1 ORDER BY l.address, m.rowid");
  s.bind(1, a);
  while (s.step()) {
    if (out.empty() || out.back().address != s.text(0)) out.push_back({s.text(0), {}});
    if (!s.is_null(1)) out.back().members.push_back(s.text(1));
  }
  return out;
}

std::int64_t DirectoryService::add_retrieval(const sdk::RetrievalSource& r) {
  auto a = address_or_throw(r.account);
  if (r.host.empty()) throw DirectoryError("a retrieval source needs a host");
  if (r.user.empty()) throw DirectoryError("a retrieval source needs a user name");
  if (r.apop && r.protocol != sdk::RetrievalSource::Protocol::pop)
    throw DirectoryError("APOP is a POP option");
  const char* tls = r.tls == sdk::RetrievalSource::Tls::none       ? "none"
                    : r.tls == sdk::RetrievalSource::Tls::starttls ? "starttls"
                                                                   : "implicit";
  std::lock_guard lock(mutex_);
  a = canonical_or_throw(r.account);
  auto id = db_.write([&] {
    auto s = db_.prepare("SELECT 1 FROM accounts WHERE address = ?");
    s.bind(1, a);
    if (!s.step()) throw DirectoryError(fmt::format("no account {}", a));
    db_.prepare(
           "INSERT INTO retrieval_sources (account, protocol, host, port, tls, user, secret, "
           "apop, leave_on_server, source_folder, destination_folder, enabled) VALUES (?, ?, ?, "
           "?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, a)
        .bind(2, r.protocol == sdk::RetrievalSource::Protocol::imap ? "imap" : "pop")
        .bind(3, r.host)
        .bind(4, std::int64_t{r.port})
        .bind(5, tls)
        .bind(6, r.user)
        .bind(7, r.secret)
        .bind(8, std::int64_t{r.apop})
        .bind(9, std::int64_t{r.leave_on_server})
        .bind(10, r.source_folder)
        .bind(11, r.destination_folder)
        .bind(12, std::int64_t{r.enabled})
        .run();
    return db_.last_insert_rowid();
  });
  spdlog::info("directory: retrieval source {} added for {} ({}@{})", id, a, r.user, r.host);
  return id;
}

void DirectoryService::remove_retrieval(std::int64_t id) {
  std::lock_guard lock(mutex_);
  db_.write([&] {
    db_.prepare("DELETE FROM retrieval_sources WHERE id = ?").bind(1, id).run();
    if (db_.changes() == 0) throw DirectoryError(fmt::format("no retrieval source {}", id));
  });
  spdlog::info("directory: retrieval source {} removed", id);
}

}  // namespace portico::core
