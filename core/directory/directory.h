// Portico core — the account directory service: the one implementation of sdk::Directory and
// sdk::Auth, and the administration API behind `portico domain|user|alias|list|retrieval`.
//
// Storage is <data_dir>/directory.sqlite (see database.h). Domains are stored and compared in
// lower case (ASCII). Local parts follow their domain's setting: case-insensitive by default
// (stored and compared in lower case), or case-sensitive (stored and compared exactly as given,
// RFC 5321 section 2.4). An address in a domain that is not local keeps the case-insensitive
// form. Authentication takes the same path
// whether or not the user exists (an unknown user is checked against a dummy yescrypt hash; an
// unknown SCRAM user gets a stable fake salt), counts failures per remote address and per
// account (see throttle.h), and logs outcomes without secrets. Every member is thread-safe;
// database access is serialized by one mutex, hashing runs outside it. The address book
// (address_book.cpp) is read in one query per table inside one read transaction, with the
// version of that snapshot; it never holds a password hash or SCRAM secret.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/directory/database.h"
#include "core/directory/passwords.h"
#include "core/directory/throttle.h"
#include "portico/auth.h"
#include "portico/directory.h"

namespace portico::core {

namespace fs = std::filesystem;

struct DirectoryOptions {
  ThrottlePolicy throttle;
  AuthThrottle::Now now;  // the throttle's clock (tests); empty: steady_clock
};

// Authentication counters since the service opened, for metrics.
struct AuthCounters {
  std::uint64_t attempts = 0;  // password checks and SASL exchanges that reached a verdict
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;   // bad credentials
  std::uint64_t disabled = 0;   // right password, disabled account
  std::uint64_t throttled = 0;  // refused without checking
  std::uint64_t delayed = 0;    // failures answered with a delay
  std::uint64_t temporary_failures = 0;
  std::uint64_t verifications = 0;  // hash verifications run (dummy ones included)
};

struct DomainInfo {
  std::string name;
  std::string catch_all;  // empty: off
  std::uint64_t accounts = 0;
  bool case_sensitive_local_part = false;
};

// The address-book attributes of an account (see sdk::AddressBookPerson). In a change, a field
// left unset keeps its value, and an empty string clears it.
struct AccountAttributes {
  std::optional<std::string> display_name;
  std::optional<std::string> given_name;
  std::optional<std::string> surname;
  std::optional<std::string> title;
  std::optional<std::string> department;
  std::optional<std::string> organization;
  std::optional<std::vector<std::string>> phones;  // replaces every number; empty: none
};

struct AccountInfo {
  sdk::Account account;
  bool has_password = false;
  bool has_scram = false;   // false for imported hashes until the password is set here
  std::string hash_scheme;  // "yescrypt", "sha512-crypt", "bcrypt", "" (none)
  std::string given_name;   // the address-book attributes ('' when unset)
  std::string surname;
  std::string title;
  std::string department;
  std::string organization;
  std::vector<std::string> phones;
};

struct AliasInfo {
  std::string address;
  std::vector<std::string> targets;
};

struct ListInfo {
  std::string address;
  std::vector<std::string> members;
};

// What a SASL SCRAM session needs of an account, every value base64-encoded as GNU SASL's server
// decodes it (its header calls StoredKey and ServerKey hex-encoded; 2.2.0 decodes base64, which
// the exchange tests pin down). `real` is false for a made-up entry (unknown user, no SCRAM
// secret): its keys match no password.
struct ScramCredentials {
  std::uint32_t iterations = directory::kScramIterations;
  std::string salt_base64;
  std::string stored_key_base64;
  std::string server_key_base64;
  bool real = false;
  bool enabled = false;
};

// Lower-cases and checks an address ("local@domain"); nullopt when malformed. With
// keep_local_case, only the domain is lower-cased (the form for a case-sensitive domain).
std::optional<std::string> normalize_address(std::string_view address,
                                             bool keep_local_case = false);
// Lower-cases and checks a domain name (a trailing dot is dropped); nullopt when malformed.
std::optional<std::string> normalize_domain(std::string_view domain);

namespace directory {
// The stored form of an account's phone numbers (accounts.phones): joined with "\n"; '' for none.
std::string join_phones(const std::vector<std::string>& phones);
std::vector<std::string> split_phones(std::string_view stored);
}  // namespace directory

class DirectoryService final : public sdk::Directory, public sdk::Auth {
 public:
  // Opens or creates the database; throws DirectoryError (e.g. a schema newer than supported).
  explicit DirectoryService(const fs::path& data_dir, DirectoryOptions options = {});
  ~DirectoryService();
  DirectoryService(const DirectoryService&) = delete;
  DirectoryService& operator=(const DirectoryService&) = delete;

  static fs::path database_file(const fs::path& data_dir) { return data_dir / "directory.sqlite"; }

  // sdk::Directory
  bool is_local_domain(std::string_view domain) override;
  sdk::Recipient resolve(std::string_view address) override;
  std::optional<sdk::Account> find_account(std::string_view address) override;
  std::optional<std::vector<std::string>> expand_list(std::string_view address) override;
  std::vector<sdk::RetrievalSource> retrieval_sources(std::string_view account) override;
  void record_retrieval(std::int64_t source_id, std::int64_t run_time, std::string_view error,
                        std::uint64_t fetched) override;
  sdk::AuthResult authenticate(std::string_view user, std::string_view password,
                               std::string_view remote_address) override;
  // A counter that moves on when this service commits a change or when PRAGMA data_version says
  // another connection did (see address_book.cpp).
  std::uint64_t version() override;
  sdk::AddressBook address_book(std::string_view domain) override;

  // sdk::Auth (see sasl.cpp)
  std::vector<std::string> mechanisms(bool tls_active, bool allow_plaintext_without_tls,
                                      bool disable_login) const override;
  std::unique_ptr<sdk::SaslSession> start(std::string_view mechanism,
                                          std::string_view remote_address,
                                          std::string_view service) override;
  std::unique_ptr<sdk::SaslSession> start_in_domain(std::string_view mechanism,
                                                    std::string_view remote_address,
                                                    std::string_view service,
                                                    std::string_view domain) override;

  AuthCounters counters() const;

  // The stored form of an address: domain in lower case, local part in lower case unless its
  // domain is local and case-sensitive. nullopt when malformed; throws DirectoryError when the
  // database fails.
  std::optional<std::string> canonical_address(std::string_view address);

  // Administration. Each change is one transaction; refusals throw DirectoryError with a
  // sentence for the operator.
  void add_domain(std::string_view name, bool case_sensitive_local_part = false);
  // Switching to case-insensitive is refused while the domain has an account, alias, list or
  // catch-all whose local part has upper-case letters (it could no longer be found).
  void set_case_sensitive_local_part(std::string_view domain, bool case_sensitive);
  std::vector<DomainInfo> domains();
  // Refused while the domain has accounts, aliases or lists, unless force (which removes them).
  void remove_domain(std::string_view name, bool force);
  // target empty: catch-all off.
  void set_catch_all(std::string_view domain, std::string_view target);

  // Exactly one of password / password_hash may be given (neither: no password, login refused).
  // The attributes given are stored in the same transaction (attributes.display_name, when
  // set, wins over display_name).
  void add_account(std::string_view address, std::string_view display_name,
                   std::uint64_t quota_bytes, std::optional<std::string_view> password,
                   std::optional<std::string_view> password_hash = std::nullopt,
                   const AccountAttributes& attributes = {});
  void set_password(std::string_view address, std::string_view password);
  void set_password_hash(std::string_view address, std::string_view hash);
  void set_enabled(std::string_view address, bool enabled);
  void update_account(std::string_view address, std::optional<std::string_view> display_name,
                      std::optional<std::uint64_t> quota_bytes);
  // Changes the attributes that are set (and the quota, when given) in one transaction. Refuses
  // control characters in any of them, and an empty phone number.
  void set_account_attributes(std::string_view address, const AccountAttributes& attributes,
                              std::optional<std::uint64_t> quota_bytes = std::nullopt);
  void remove_account(std::string_view address);
  std::vector<AccountInfo> accounts(std::string_view domain = {});

  void add_alias(std::string_view address, const std::vector<std::string>& targets);
  // targets empty: the whole alias.
  void remove_alias(std::string_view address, const std::vector<std::string>& targets);
  std::vector<AliasInfo> aliases(std::string_view address = {});

  // Creates the list when needed, then adds the members.
  void add_list(std::string_view address, const std::vector<std::string>& members);
  // members empty: the whole list.
  void remove_list(std::string_view address, const std::vector<std::string>& members);
  std::vector<ListInfo> lists(std::string_view address = {});

  // Returns the new source's id. The account must exist.
  std::int64_t add_retrieval(const sdk::RetrievalSource& source);
  void remove_retrieval(std::int64_t id);

  // For SASL sessions (sasl.cpp).
  ScramCredentials scram_credentials(std::string_view account, directory::ScramHash hash);
  bool refused(std::string_view remote_address, std::string_view account);
  // The verdict of an exchange whose secret was checked elsewhere (SCRAM): counts, throttles,
  // logs, exactly like authenticate().
  sdk::AuthResult conclude(std::string_view account, std::string_view remote_address,
                           std::string_view mechanism, bool verified, bool exists, bool enabled);
  sdk::AuthResult throttled_result(std::string_view account, std::string_view remote_address,
                                   std::string_view mechanism);

 private:
  struct Expansion;
  void init_sasl();
  void expand(const std::string& address, int depth, std::vector<std::string>& path,
              Expansion& out);
  bool domain_exists(const std::string& domain);
  // Whether the (normalized) domain is local and compares local parts case-sensitively.
  bool local_part_case_sensitive(const std::string& domain);
  // canonical_address() for callers holding mutex_.
  std::optional<std::string> canonical(std::string_view address);
  std::string canonical_or_throw(std::string_view address);
  std::string require_local(const std::string& address);  // its domain, or throws
  void require_unused(const std::string& address);        // no account/alias/list has it
  // version() for callers holding mutex_; throws DirectoryError when data_version fails.
  std::uint64_t current_version();

  directory::Database db_;
  std::mutex mutex_;  // guards db_
  AuthThrottle throttle_;
  std::string dummy_hash_;
  std::string fake_salt_key_;  // keyed MAC for made-up SCRAM salts; stable across restarts
  struct Sasl;                 // the GNU SASL context (sasl.cpp)
  struct SaslDeleter {
    void operator()(Sasl* sasl) const;
  };
  std::unique_ptr<Sasl, SaslDeleter> sasl_;
  struct Counters {
    std::atomic<std::uint64_t> attempts{0}, successes{0}, failures{0}, disabled{0}, throttled{0},
        delayed{0}, temporary_failures{0}, verifications{0};
  };
  std::unique_ptr<Counters> counters_;
  // version(): moves on (under mutex_) when db_.data_version() or db_.commits() differ from the
  // values last seen; atomic so that a failure can move it on without the lock.
  std::atomic<std::uint64_t> version_{1};
  std::int64_t seen_data_version_ = 0;
  std::uint64_t seen_commits_ = 0;
};

// The factory the server calls once at startup (throws DirectoryError). One service per process:
// the host hands the same object to plugins as sdk::Directory& and sdk::Auth&, and keeps it alive
// until every plugin is unloaded. The CLI opens its own, per command.
inline std::unique_ptr<DirectoryService> open_directory(const fs::path& data_dir,
                                                        DirectoryOptions options = {}) {
  return std::make_unique<DirectoryService>(data_dir, std::move(options));
}

}  // namespace portico::core
