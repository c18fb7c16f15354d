// Portico core — the mail store the server creates and hands to plugins (sdk::Store), plus
// the administration the CLI needs (check/repair, the list of accounts).
//
// open_store() builds the embedded backend: one folder per account under <data_dir>/store,
// metadata in SQLite (WAL), immutable body files (see account.h, files.h). Another backend
// (PostgreSQL metadata, shared bodies) would be another MailStore chosen here.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "portico/store.h"

namespace portico::core {

namespace fs = std::filesystem;

// What `portico store check` found in one account, and what --repair mended.
struct StoreCheckReport {
  std::string account;
  std::vector<std::string> problems;  // one line each; empty: clean
  std::vector<std::string> repaired;  // one line each, when repairing
  bool clean() const { return problems.empty(); }
};

class MailStore : public sdk::Store {
 public:
  virtual ~MailStore() = default;
  // The addresses of accounts that have a store.
  virtual std::vector<std::string> accounts() = 0;
  // Finds (and with repair mends) orphan bodies and temp files, bodies missing from disk, and
  // counters below what the messages hold (UIDNEXT, HIGHESTMODSEQ, message counts). Waits for
  // deliveries in progress (in any process) to finish first. Throws nothing; a failure to
  // check at all is reported as a problem.
  virtual StoreCheckReport check(const std::string& account, bool repair) = 0;
};

// The store under data_dir (created if missing). Throws std::runtime_error when the folder is
// unusable.
std::unique_ptr<MailStore> open_store(const fs::path& data_dir);

}  // namespace portico::core
