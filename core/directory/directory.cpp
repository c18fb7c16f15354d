// Portico core — the directory service: lookups and password authentication (see
// directory.h). Administration is in admin.cpp, SASL in sasl.cpp, the address book and
// version() in address_book.cpp.
#include "core/directory/directory.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <algorithm>

namespace portico::core {

using namespace directory;

namespace {

// How deep aliases and lists may nest before expansion stops.
constexpr int kMaxExpansionDepth = 16;

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// A user name or address as it may appear in a log line (no control characters, bounded).
std::string loggable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 128)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  return out;
}

}  // namespace

std::optional<std::string> normalize_domain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 253) return std::nullopt;
  std::string out;
  for (char c : domain) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '@' || c == ',' || c == '<' || c == '>') return std::nullopt;
    out.push_back(lower(c));
  }
  if (out.front() == '.' || out.find("..") != std::string::npos) return std::nullopt;
  return out;
}

std::optional<std::string> normalize_address(std::string_view address, bool keep_local_case) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return std::nullopt;
  auto domain = normalize_domain(address.substr(at + 1));
  if (!domain) return std::nullopt;
  std::string out;
  for (char c : address.substr(0, at)) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == ',' || c == '<' || c == '>') return std::nullopt;
    out.push_back(keep_local_case ? c : lower(c));
  }
  return out + "@" + *domain;
}

DirectoryService::DirectoryService(const fs::path& data_dir, DirectoryOptions options)
    : db_(database_file(data_dir)),
      throttle_(options.throttle, std::move(options.now)),
      counters_(std::make_unique<Counters>()) {
  // A stable key for the fake SCRAM salts of unknown users, so that asking twice for the same
  // unknown user, even across restarts, gives the same salt as a real user would.
  db_.write([&] {
    auto get = db_.prepare("SELECT value FROM meta WHERE key = 'fake_salt_key'");
    if (get.step()) {
      fake_salt_key_ = hex_decode(get.text(0));
      return;
    }
    fake_salt_key_ = random_bytes(32);
    db_.prepare("INSERT INTO meta (key, value) VALUES ('fake_salt_key', ?)")
        .bind(1, hex_encode(fake_salt_key_))
        .run();
  });
  // What an unknown user's password is checked against: the same cost as a real one.
  dummy_hash_ = hash_password(base64_encode(random_bytes(18)));
  seen_data_version_ = db_.data_version();
  seen_commits_ = db_.commits();
  init_sasl();
}

DirectoryService::~DirectoryService() = default;

AuthCounters DirectoryService::counters() const {
  const Counters& c = *counters_;
  return {c.attempts.load(),           c.successes.load(),    c.failures.load(),
          c.disabled.load(),           c.throttled.load(),    c.delayed.load(),
          c.temporary_failures.load(), c.verifications.load()};
}

bool DirectoryService::domain_exists(const std::string& domain) {
  auto s = db_.prepare("SELECT 1 FROM domains WHERE name = ?");
  s.bind(1, domain);
  return s.step();
}

bool DirectoryService::local_part_case_sensitive(const std::string& domain) {
  auto s = db_.prepare("SELECT case_sensitive_local_part FROM domains WHERE name = ?");
  s.bind(1, domain);
  return s.step() && s.integer(0) != 0;
}

std::optional<std::string> DirectoryService::canonical(std::string_view address) {
  auto exact = normalize_address(address, true);
  if (!exact) return std::nullopt;
  if (local_part_case_sensitive(exact->substr(exact->rfind('@') + 1))) return exact;
  return normalize_address(address);
}

std::optional<std::string> DirectoryService::canonical_address(std::string_view address) {
  std::lock_guard lock(mutex_);
  return canonical(address);
}

bool DirectoryService::is_local_domain(std::string_view domain) {
  auto d = normalize_domain(domain);
  if (!d) return false;
  try {
    std::lock_guard lock(mutex_);
    return domain_exists(*d);
  } catch (const std::exception& e) {
    spdlog::error("directory: {}", e.what());
    return false;
  }
}

struct DirectoryService::Expansion {
  std::vector<std::string> local;
  std::vector<std::string> external;
  bool loop = false;
};

namespace {

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

std::vector<std::string> column(Statement& s) {
  std::vector<std::string> out;
  while (s.step())
    out.push_back(s.text(0));
  return out;
}

}  // namespace

// Follows one address: an account is a leaf, an alias or list expands to its targets, an
// address outside the local domains is external. `path` holds the addresses being expanded,
// so a loop is cut where it closes (a target reached twice by different routes is not a loop).
void DirectoryService::expand(const std::string& address, int depth, std::vector<std::string>& path,
                              Expansion& out) {
  if (std::find(path.begin(), path.end(), address) != path.end() || depth > kMaxExpansionDepth) {
    out.loop = true;
    return;
  }
  auto domain = address.substr(address.rfind('@') + 1);
  if (!domain_exists(domain)) {
    add_unique(out.external, address);
    return;
  }
  auto account = db_.prepare("SELECT 1 FROM accounts WHERE address = ?");
  account.bind(1, address);
  if (account.step()) {
    add_unique(out.local, address);
    return;
  }
  auto targets = column(
      db_.prepare("SELECT target FROM aliases WHERE address = ? ORDER BY rowid").bind(1, address));
  if (targets.empty())
    targets = column(db_.prepare("SELECT member FROM list_members WHERE list = ? ORDER BY rowid")
                         .bind(1, address));
  path.push_back(address);
  for (const auto& t : targets)
    expand(t, depth + 1, path, out);
  path.pop_back();
}

sdk::Recipient DirectoryService::resolve(std::string_view address) {
  sdk::Recipient r;
  auto a = normalize_address(address);
  if (!a) return r;
  r.address = *a;
  auto domain = a->substr(a->rfind('@') + 1);
  try {
    std::lock_guard lock(mutex_);
    db_.exec("BEGIN");  // one consistent snapshot for the whole expansion
    struct End {
      Database& db;
      ~End() {
        try {
          db.exec("COMMIT");
        } catch (...) {
        }
      }
    } end{db_};
    if (!domain_exists(domain)) return r;
    if (local_part_case_sensitive(domain)) {
      *a = *normalize_address(address, true);
      r.address = *a;
    }
    auto kind_of = [&](const char* sql) {
      auto s = db_.prepare(sql);
      s.bind(1, *a);
      return s.step();
    };
    std::string start = *a;
    if (kind_of("SELECT 1 FROM accounts WHERE address = ?")) {
      r.kind = sdk::Recipient::Kind::account;
    } else if (kind_of("SELECT 1 FROM aliases WHERE address = ?")) {
      r.kind = sdk::Recipient::Kind::alias;
    } else if (kind_of("SELECT 1 FROM lists WHERE address = ?")) {
      r.kind = sdk::Recipient::Kind::list;
    } else {
      auto s = db_.prepare("SELECT catch_all FROM domains WHERE name = ?");
      s.bind(1, domain);
      if (!s.step() || s.is_null(0) || s.text(0).empty()) return r;
      r.kind = sdk::Recipient::Kind::catch_all;
      start = s.text(0);
    }
    Expansion e;
    std::vector<std::string> path;
    expand(start, 0, path, e);
    r.local_accounts = std::move(e.local);
    r.external = std::move(e.external);
    r.loop_detected = e.loop;
    if (e.loop) spdlog::warn("directory: alias loop while resolving {}", loggable(*a));
  } catch (const std::exception& e) {
    spdlog::error("directory: resolving {}: {}", loggable(*a), e.what());
    r = {};
    r.kind = sdk::Recipient::Kind::temporary_failure;
    r.address = *a;
  }
  return r;
}

std::optional<sdk::Account> DirectoryService::find_account(std::string_view address) {
  try {
    std::lock_guard lock(mutex_);
    auto a = canonical(address);
    if (!a) return std::nullopt;
    auto s =
        db_.prepare("SELECT address, display_name, enabled, quota FROM accounts WHERE address = ?");
    s.bind(1, *a);
    if (!s.step()) return std::nullopt;
    return sdk::Account{s.text(0), s.text(1), s.integer(2) != 0,
                        static_cast<std::uint64_t>(s.integer(3))};
  } catch (const std::exception& e) {
    spdlog::error("directory: {}", e.what());
    return std::nullopt;
  }
}

std::optional<std::vector<std::string>> DirectoryService::expand_list(std::string_view address) {
  auto a = normalize_address(address);
  if (!a) return std::nullopt;
  try {
    auto found = lists(address);
    if (found.empty()) return std::nullopt;
    return std::move(found.front().members);
  } catch (const std::exception& e) {
    spdlog::error("directory: {}", e.what());
    return std::nullopt;
  }
}

namespace {

sdk::RetrievalSource::Protocol protocol_of(const std::string& s) {
  return s == "imap" ? sdk::RetrievalSource::Protocol::imap : sdk::RetrievalSource::Protocol::pop;
}

sdk::RetrievalSource::Tls tls_of(const std::string& s) {
  if (s == "none") return sdk::RetrievalSource::Tls::none;
  if (s == "starttls") return sdk::RetrievalSource::Tls::starttls;
  return sdk::RetrievalSource::Tls::implicit;
}

}  // namespace

std::vector<sdk::RetrievalSource> DirectoryService::retrieval_sources(std::string_view account) {
  std::vector<sdk::RetrievalSource> out;
  try {
    std::lock_guard lock(mutex_);
    std::string a;
    if (!account.empty()) {
      auto n = canonical(account);
      if (!n) return out;
      a = *n;
    }
    auto s = db_.prepare(
        "SELECT id, account, protocol, host, port, tls, user, secret, apop, leave_on_server, "
        "source_folder, destination_folder, enabled, last_run, last_error, last_count, "
        "total_count FROM retrieval_sources WHERE ?1 = '' OR account = ?1 ORDER BY id");
    s.bind(1, a);
    while (s.step()) {
      sdk::RetrievalSource r;
      r.id = s.integer(0);
      r.account = s.text(1);
      r.protocol = protocol_of(s.text(2));
      r.host = s.text(3);
      r.port = static_cast<std::uint16_t>(s.integer(4));
      r.tls = tls_of(s.text(5));
      r.user = s.text(6);
      r.secret = s.text(7);
      r.apop = s.integer(8) != 0;
      r.leave_on_server = s.integer(9) != 0;
      r.source_folder = s.text(10);
      r.destination_folder = s.text(11);
      r.enabled = s.integer(12) != 0;
      r.last_run = s.integer(13);
      r.last_error = s.text(14);
      r.last_count = static_cast<std::uint64_t>(s.integer(15));
      r.total_count = static_cast<std::uint64_t>(s.integer(16));
      out.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    spdlog::error("directory: {}", e.what());
    out.clear();
  }
  return out;
}

void DirectoryService::record_retrieval(std::int64_t source_id, std::int64_t run_time,
                                        std::string_view error, std::uint64_t fetched) {
  try {
    std::lock_guard lock(mutex_);
    db_.write([&] {
      db_.prepare(
             "UPDATE retrieval_sources SET last_run = ?, last_error = ?, last_count = ?, "
             "total_count = total_count + ? WHERE id = ?")
          .bind(1, run_time)
          .bind(2, error)
          .bind(3, static_cast<std::int64_t>(fetched))
          .bind(4, static_cast<std::int64_t>(fetched))
          .bind(5, source_id)
          .run();
    });
  } catch (const std::exception& e) {
    spdlog::error("directory: recording retrieval {}: {}", source_id, e.what());
  }
}

bool DirectoryService::refused(std::string_view remote_address, std::string_view account) {
  return throttle_.refused(remote_address, account);
}

sdk::AuthResult DirectoryService::throttled_result(std::string_view account,
                                                   std::string_view remote_address,
                                                   std::string_view mechanism) {
  ++counters_->throttled;
  spdlog::warn("auth: {} for {} from {} refused: too many failures", mechanism, loggable(account),
               loggable(remote_address));
  return {sdk::AuthStatus::throttled, {}, std::chrono::milliseconds(0)};
}

sdk::AuthResult DirectoryService::conclude(std::string_view account,
                                           std::string_view remote_address,
                                           std::string_view mechanism, bool verified, bool exists,
                                           bool enabled) {
  ++counters_->attempts;
  if (!verified || !exists) {
    ++counters_->failures;
    auto delay = throttle_.record_failure(remote_address, account);
    if (delay.count() > 0) ++counters_->delayed;
    spdlog::info("auth: {} failed for {} from {}{}", mechanism, loggable(account),
                 loggable(remote_address),
                 delay.count() > 0 ? fmt::format(" (reply delayed {}ms)", delay.count()) : "");
    return {sdk::AuthStatus::bad_credentials, {}, delay};
  }
  if (!enabled) {
    ++counters_->disabled;
    spdlog::info("auth: {} for disabled account {} from {}", mechanism, loggable(account),
                 loggable(remote_address));
    return {sdk::AuthStatus::disabled, std::string(account), std::chrono::milliseconds(0)};
  }
  ++counters_->successes;
  throttle_.record_success(remote_address, account);
  spdlog::info("auth: {} succeeded for {} from {}", mechanism, loggable(account),
               loggable(remote_address));
  return {sdk::AuthStatus::ok, std::string(account), std::chrono::milliseconds(0)};
}

sdk::AuthResult DirectoryService::authenticate(std::string_view user, std::string_view password,
                                               std::string_view remote_address) {
  std::optional<std::string> normalized;
  try {
    std::lock_guard lock(mutex_);
    normalized = canonical(user);
  } catch (const std::exception& e) {
    ++counters_->temporary_failures;
    spdlog::error("auth: directory unavailable: {}", e.what());
    return {sdk::AuthStatus::temporary_failure, {}, std::chrono::milliseconds(0)};
  }
  // A malformed name is still counted (and hashed): it looks like any unknown user.
  std::string account = normalized ? *normalized : std::string(user.substr(0, 256));
  if (throttle_.refused(remote_address, account))
    return throttled_result(account, remote_address, "password");
  std::string hash;
  bool exists = false, enabled = false;
  if (normalized) {
    try {
      std::lock_guard lock(mutex_);
      auto s = db_.prepare("SELECT password_hash, enabled FROM accounts WHERE address = ?");
      s.bind(1, account);
      if (s.step()) {
        hash = s.text(0);
        enabled = s.integer(1) != 0;
        exists = !hash.empty();
      }
    } catch (const std::exception& e) {
      ++counters_->temporary_failures;
      spdlog::error("auth: directory unavailable: {}", e.what());
      return {sdk::AuthStatus::temporary_failure, {}, std::chrono::milliseconds(0)};
    }
  }
  // Always one verification, against the dummy hash when there is no real one.
  bool verified = verify_password(password, exists ? hash : dummy_hash_);
  ++counters_->verifications;
  return conclude(account, remote_address, "password", verified, exists, enabled);
}

ScramCredentials DirectoryService::scram_credentials(std::string_view account, ScramHash hash) {
  ScramCredentials c;
  {
    std::lock_guard lock(mutex_);
    auto s = db_.prepare(hash == ScramHash::sha1
                             ? "SELECT scram_iterations, scram_salt, scram_sha1_stored_key, "
                               "scram_sha1_server_key, enabled FROM accounts WHERE address = ?"
                             : "SELECT scram_iterations, scram_salt, scram_sha256_stored_key, "
                               "scram_sha256_server_key, enabled FROM accounts WHERE address = ?");
    s.bind(1, account);
    if (s.step() && s.integer(0) > 0 && !s.text(2).empty()) {
      c.iterations = static_cast<std::uint32_t>(s.integer(0));
      c.salt_base64 = s.text(1);
      c.stored_key_base64 = base64_encode(hex_decode(s.text(2)));
      c.server_key_base64 = base64_encode(hex_decode(s.text(3)));
      c.real = true;
      c.enabled = s.integer(4) != 0;
      return c;
    }
  }
  // Unknown user, or no SCRAM secret: a salt that stays the same for this name, and keys that
  // match no password.
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), fake_salt_key_.data(), static_cast<int>(fake_salt_key_.size()),
       reinterpret_cast<const unsigned char*>(account.data()), account.size(), mac, &len);
  c.salt_base64 = base64_encode(std::string_view(reinterpret_cast<const char*>(mac), 16));
  std::size_t key_size = hash == ScramHash::sha1 ? 20 : 32;
  c.stored_key_base64 = base64_encode(random_bytes(key_size));
  c.server_key_base64 = base64_encode(random_bytes(key_size));
  return c;
}

}  // namespace portico::core
