// Portico core — store commands (see store_commands.h):
//   portico store check [--repair] (--user ADDR | --all)   consistency of account stores
//   portico import --maildir DIR --user ADDR                 a Maildir (Dovecot, Postfix) in
//   portico export --maildir DIR --user ADDR                 an account out to a Maildir
// Each takes --config FILE for server.data_dir. They work beside a running server: the store
// coordinates through SQLite and file locks. Exit codes: 0 done (check: clean or repaired),
// 1 failure or problems left, 2 invalid configuration or usage.
#include "core/cli/store_commands.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "core/cli/commands.h"
#include "core/store/maildir.h"
#include "core/store/store.h"

namespace portico::core::cli {

namespace {

struct StoreOptions {
  std::string config;
  std::string user;
  std::string maildir;
  bool all = false;
  bool repair = false;
};

std::unique_ptr<MailStore> open_from_config(const std::string& config) {
  auto c = load_config_or_report(config);
  if (!c) return nullptr;
  return open_store(c->server.data_dir);
}

bool valid_user(const std::string& user) {
  auto at = user.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == user.size()) {
    std::cerr << "error: --user needs an address with a domain, got '" << user << "'\n";
    return false;
  }
  return true;
}

int run_check(const StoreOptions& o) {
  if (o.all == !o.user.empty()) {
    std::cerr << "error: give exactly one of --user ADDR and --all\n";
    return 2;
  }
  if (!o.all && !valid_user(o.user)) return 2;
  auto store = open_from_config(o.config);
  if (!store) return 2;
  std::vector<std::string> accounts = o.all ? store->accounts() : std::vector{o.user};
  int rc = 0;
  for (const auto& account : accounts) {
    auto report = store->check(account, o.repair);
    if (report.clean()) {
      std::cout << account << ": clean\n";
      continue;
    }
    for (const auto& p : report.problems)
      std::cout << account << ": " << p << "\n";
    for (const auto& r : report.repaired)
      std::cout << account << ": repaired: " << r << "\n";
    if (!o.repair) rc = 1;
  }
  if (accounts.empty()) std::cout << "no accounts in the store\n";
  return rc;
}

int run_maildir(const StoreOptions& o, bool import) {
  if (!valid_user(o.user)) return 2;
  auto store = open_from_config(o.config);
  if (!store) return 2;
  try {
    auto stats = import ? store::import_maildir(*store, o.maildir, o.user)
                        : store::export_maildir(*store, o.maildir, o.user);
    for (const auto& w : stats.warnings)
      std::cerr << "warning: " << w << "\n";
    std::cout << (import ? "imported " : "exported ") << stats.messages << " message(s) in "
              << stats.mailboxes << " mailbox(es) " << (import ? "from " : "to ") << o.maildir
              << " " << (import ? "into " : "from ") << o.user << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

void add_store_commands(CLI::App& app, int& rc) {
  auto options = std::make_shared<StoreOptions>();
  const char* env_config = std::getenv("PORTICO_CONFIG");
  options->config = env_config ? env_config : "config/portico.yaml";

  auto* store = app.add_subcommand("store", "Check and repair the mail store");
  store->require_subcommand(1);
  auto* check = store->add_subcommand("check", "Find (and with --repair mend) store problems");
  check->add_option("--config,-c", options->config, "Configuration file")->capture_default_str();
  check->add_option("--user", options->user, "The account's address");
  check->add_flag("--all", options->all, "Every account in the store");
  check->add_flag("--repair", options->repair, "Remove orphan and temporary files, fix counters");
  check->callback([options, &rc] { rc = run_check(*options); });

  auto add_maildir = [&](const char* name, const char* help, bool import) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("--config,-c", options->config, "Configuration file")->capture_default_str();
    sub->add_option("--maildir", options->maildir, "The Maildir folder")->required();
    sub->add_option("--user", options->user, "The account's address")->required();
    sub->callback([options, &rc, import] { rc = run_maildir(*options, import); });
  };
  add_maildir("import", "Import a Maildir (Dovecot, Postfix; Maildir++ folders) into an account",
              true);
  add_maildir("export", "Export an account to a Maildir (flags kept in the :2, suffix)", false);
}

}  // namespace portico::core::cli
