// Portico SDK — the account directory: local domains, accounts, aliases, distribution lists,
// catch-all addresses, external retrieval sources, and password authentication.
//
// Addresses compare case-insensitively in the domain, and in the local part as the domain is
// configured: case-insensitively by default, or exactly for a domain set to case-sensitive
// local parts (RFC 5321 section 2.4); case-insensitive means ASCII letters only, other bytes
// compare exactly. Every function here reads or writes the directory's
// database and may block on the disk; authenticate() also spends tens of milliseconds hashing
// on purpose. Call them from the worker pool (SessionContext::post_work / Host::post_work),
// never from an I/O thread. They are thread-safe and never throw: a failure of the storage is
// reported as Recipient::Kind::temporary_failure, AuthStatus::temporary_failure, or an empty
// answer, and logged by the core.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portico/address_book.h"

namespace portico::sdk {

struct Account {
  std::string address;       // canonical form (lower case)
  std::string display_name;  // may be empty
  bool enabled = true;
  std::uint64_t quota_bytes = 0;  // 0: unlimited
};

// What a recipient address stands for, with every alias and list expanded.
struct Recipient {
  enum class Kind {
    none,               // not a local address (unknown user, or not a local domain)
    account,            // a local account
    alias,              // an alias: see local_accounts / external
    list,               // a distribution list: see local_accounts / external
    catch_all,          // unknown in its domain, taken by the domain's catch-all address
    temporary_failure,  // the directory could not be read: try again later
  };
  Kind kind = Kind::none;
  std::string address;  // the canonical form of the address asked about
  // Local accounts the mail goes to (canonical, each once), and addresses outside the local
  // domains it is forwarded to. For Kind::account, local_accounts holds the account itself.
  // An alias or list whose every target is missing or part of a loop expands to nothing.
  std::vector<std::string> local_accounts;
  std::vector<std::string> external;
  bool loop_detected = false;  // an alias or list refers back to itself (that branch was cut)
};

// An external mailbox that a plugin polls on behalf of an account (POP/IMAP retrieval).
struct RetrievalSource {
  enum class Protocol { pop, imap };
  enum class Tls { none, starttls, implicit };
  std::int64_t id = 0;
  std::string account;  // the local account that receives the messages
  Protocol protocol = Protocol::pop;
  std::string host;
  std::uint16_t port = 0;  // 0: the protocol's default for the TLS mode
  Tls tls = Tls::implicit;
  std::string user;
  std::string secret;  // the remote password: never log it
  bool apop = false;   // POP only: authenticate with APOP
  bool leave_on_server = false;
  std::string source_folder = "INBOX";       // IMAP only
  std::string destination_folder = "INBOX";  // in the local account
  bool enabled = true;
  // State kept for the plugin that polls (see Directory::record_retrieval).
  std::int64_t last_run = 0;      // Unix time of the last attempt; 0: never
  std::string last_error;         // empty after a successful run
  std::uint64_t last_count = 0;   // messages fetched by the last run
  std::uint64_t total_count = 0;  // messages fetched since the source was added
};

enum class AuthStatus {
  ok,
  bad_credentials,    // unknown user or wrong password (never told apart)
  disabled,           // the right password for a disabled account
  throttled,          // too many failures from this address or for this account: try later
  temporary_failure,  // the directory could not be read
};

struct AuthResult {
  AuthStatus status = AuthStatus::temporary_failure;
  std::string user;  // the canonical account address when status is ok (or disabled)
  // After repeated failures: how long the protocol should wait before it sends its reply to
  // this attempt (a timer, not a blocked thread). Zero when no delay is due.
  std::chrono::milliseconds delay{0};
};

class Directory {
 public:
  // Whether mail for this domain is delivered here.
  virtual bool is_local_domain(std::string_view domain) = 0;
  // What a recipient address stands for (account, alias, list, catch-all, or none).
  virtual Recipient resolve(std::string_view address) = 0;
  // The account with this address (aliases are not followed).
  virtual std::optional<Account> find_account(std::string_view address) = 0;
  // The members of a distribution list as stored (for SMTP EXPN); nullopt when no such list.
  virtual std::optional<std::vector<std::string>> expand_list(std::string_view address) = 0;
  // Retrieval sources of one account, or of every account when `account` is empty.
  virtual std::vector<RetrievalSource> retrieval_sources(std::string_view account) = 0;
  // Records the outcome of one retrieval run (error empty on success).
  virtual void record_retrieval(std::int64_t source_id, std::int64_t run_time,
                                std::string_view error, std::uint64_t fetched) = 0;
  // Checks a user name and password. Takes the same time whether or not the user exists.
  // Failures are counted per remote address and per account; see AuthResult::delay.
  virtual AuthResult authenticate(std::string_view user, std::string_view password,
                                  std::string_view remote_address) = 0;

  // --- ABI 1.5 ---
  // A number that changes whenever the directory's content changes, by this process or by
  // another (the CLI). Cheap (no table is read): call it before reusing a cached address book.
  virtual std::uint64_t version() = 0;
  // The address book of one local domain, or of every local domain when `domain` is empty
  // (an unknown domain: an empty book). Disabled accounts are included, marked. Sorted by
  // address. Empty, with version 0, when the directory could not be read.
  virtual AddressBook address_book(std::string_view domain) = 0;

 protected:
  ~Directory() = default;
};

}  // namespace portico::sdk
