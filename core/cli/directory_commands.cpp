// Portico core — `portico domain|user|alias|list|retrieval ...` (see directory_commands.h).
//
// Each command validates the configuration, opens <data_dir>/directory.sqlite, makes one change
// in one transaction and exits: safe while the server runs. Passwords come from a prompt with
// echo off, or one line on stdin with --password-stdin; they and retrieval secrets are never
// printed (lists show "****"). `user add|set` take the address-book attributes (given name,
// surname, title, department, organization, phone numbers): an option left out keeps its
// value. Exit codes: 0 done, 1 refused or failed, 2 usage or invalid configuration.
#include "core/cli/directory_commands.h"

#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/cli/commands.h"
#include "core/config/units.h"
#include "core/directory/directory.h"
#include "core/log/log.h"

namespace portico::core::cli {

namespace {

// A mistake in how the command was called (exit code 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Everything the directory commands parse into; lives as long as the CLI::App.
struct Args {
  std::string config;
  std::string name;  // domain, address, list, account
  std::string target;
  std::vector<std::string> targets;
  AccountAttributes attributes;  // user add|set: only the options given are set
  std::string quota;
  std::string password_hash;
  bool password_stdin = false;
  bool force = false;
  bool case_sensitive = false;       // domain add --case-sensitive-local-part
  std::string case_sensitive_value;  // domain set --case-sensitive-local-part true|false
  // retrieval
  std::string protocol = "pop";
  std::string host;
  std::uint16_t port = 0;
  std::string tls = "implicit";
  std::string user;
  bool secret_stdin = false;
  bool apop = false;
  bool leave_on_server = false;
  std::string source_folder = "INBOX";
  std::string destination_folder = "INBOX";
  bool disabled = false;
  std::int64_t id = 0;
  bool json = false;  // retrieval status --json
};

using Action = std::function<int(DirectoryService&)>;

int run(const Args& args, const Action& action) {
  configure_logging("warn", "text");
  auto config = load_config_or_report(args.config);
  if (!config) return 2;
  try {
    auto directory = open_directory(config->server.data_dir);
    return action(*directory);
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

std::string read_line_from_stdin(const char* what) {
  std::string line;
  if (!std::getline(std::cin, line)) throw UsageError(fmt::format("no {} on standard input", what));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw UsageError(fmt::format("empty {}", what));
  return line;
}

// Reads a line from the terminal with echo off.
std::string prompt_hidden(const char* prompt) {
  std::cerr << prompt << std::flush;
  termios old_mode{};
  bool restore = tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (restore) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (restore) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  if (!ok) throw UsageError("no password given");
  return line;
}

std::string read_password(bool from_stdin) {
  if (from_stdin) return read_line_from_stdin("password");
  if (!isatty(STDIN_FILENO))
    throw UsageError("no terminal to ask for the password: use --password-stdin");
  std::string first = prompt_hidden("New password: ");
  if (first.empty()) throw UsageError("empty password");
  std::string again = prompt_hidden("Repeat password: ");
  if (first != again) throw std::runtime_error("the passwords do not match; nothing changed");
  return first;
}

std::optional<std::uint64_t> quota_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto q = parse_size(text);
  if (!q) throw UsageError(fmt::format("--quota '{}' is not a size (e.g. 500MB, 2GB, 0)", text));
  return q;
}

std::string quota_text(std::uint64_t bytes) {
  return bytes == 0 ? "unlimited" : format_size(bytes);
}

// The options of `user add` and `user set` for the address-book attributes: each sets its
// field only when given; --phone is repeatable and replaces every number, --no-phones clears
// them.
void add_attribute_options(CLI::App* sub, Args& a) {
  using Field = std::optional<std::string> AccountAttributes::*;
  static constexpr std::tuple<const char*, Field, const char*> fields[] = {
      {"--display-name,--name", &AccountAttributes::display_name, "Display name"},
      {"--given-name", &AccountAttributes::given_name, "Given (first) name"},
      {"--surname", &AccountAttributes::surname, "Surname (family name)"},
      {"--title", &AccountAttributes::title, "Job title"},
      {"--department", &AccountAttributes::department, "Department"},
      {"--organization", &AccountAttributes::organization, "Organization"},
  };
  for (auto [name, field, help] : fields)
    sub->add_option_function<std::string>(
        name, [&a, field = field](const std::string& value) { a.attributes.*field = value; },
        fmt::format("{} (address book; \"\" clears it)", help));
  auto* phone =
      sub->add_option_function<std::vector<std::string>>(
             "--phone",
             [&a](const std::vector<std::string>& phones) { a.attributes.phones = phones; },
             "Phone number (address book); repeat for several: they replace all "
             "the account's numbers")
          ->allow_extra_args(false);
  sub->add_flag_callback(
         "--no-phones", [&a] { a.attributes.phones.emplace(); },
         "Remove every phone number of the account")
      ->excludes(phone);
}

// The address-book attributes of an account on one line ("" when it has none): key="value",
// with a backslash before each '"' and '\'.
std::string attributes_text(const AccountInfo& info) {
  std::string out;
  auto add = [&out](const char* key, const std::string& value) {
    if (value.empty()) return;
    out += fmt::format("  {}=\"", key);
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  };
  add("name", info.account.display_name);
  add("given-name", info.given_name);
  add("surname", info.surname);
  add("title", info.title);
  add("department", info.department);
  add("organization", info.organization);
  add("phones", fmt::format("{}", fmt::join(info.phones, ", ")));
  return out;
}

void add_config_option(CLI::App* sub, Args& a) {
  sub->add_option("--config,-c", a.config, "Configuration file")->capture_default_str();
}

// A subcommand whose callback runs `action` against the directory and sets rc.
CLI::App* command(CLI::App* parent, const char* name, const char* help, Args& a, int& rc,
                  std::function<int(DirectoryService&)> action) {
  auto* sub = parent->add_subcommand(name, help);
  add_config_option(sub, a);
  sub->callback([&a, &rc, action = std::move(action)] { rc = run(a, action); });
  return sub;
}

void add_domain_commands(CLI::App& app, Args& a, int& rc) {
  auto* domain = app.add_subcommand("domain", "Local domains and their catch-all addresses");
  domain->require_subcommand(1);
  auto* add = command(domain, "add", "Add a local domain", a, rc, [&a](DirectoryService& d) {
    d.add_domain(a.name, a.case_sensitive);
    std::cout << "domain " << *normalize_domain(a.name) << " added"
              << (a.case_sensitive ? " (case-sensitive local parts)\n" : "\n");
    return 0;
  });
  add->add_option("domain", a.name, "Domain name")->required();
  add->add_flag("--case-sensitive-local-part", a.case_sensitive,
                "Compare local parts exactly (Alice@ and alice@ are different addresses); "
                "default: case-insensitively");
  auto* set =
      command(domain, "set", "Change a domain's settings", a, rc, [&a](DirectoryService& d) {
        const std::string& v = a.case_sensitive_value;
        bool sensitive;
        if (v == "true" || v == "yes" || v == "on")
          sensitive = true;
        else if (v == "false" || v == "no" || v == "off")
          sensitive = false;
        else
          throw UsageError(
              fmt::format("--case-sensitive-local-part '{}': expected true or false", v));
        d.set_case_sensitive_local_part(a.name, sensitive);
        std::cout << "local parts of " << *normalize_domain(a.name) << " now compare "
                  << (sensitive ? "case-sensitively\n" : "case-insensitively\n");
        return 0;
      });
  set->add_option("domain", a.name, "Domain name")->required();
  set->add_option("--case-sensitive-local-part", a.case_sensitive_value,
                  "true: compare local parts exactly; false: case-insensitively")
      ->required();
  command(domain, "list", "List the local domains", a, rc, [](DirectoryService& d) {
    for (const auto& info : d.domains())
      std::cout << fmt::format(
          "{}  accounts={}  catch-all={}  local-part={}\n", info.name, info.accounts,
          info.catch_all.empty() ? "off" : info.catch_all,
          info.case_sensitive_local_part ? "case-sensitive" : "case-insensitive");
    return 0;
  });
  auto* remove = command(domain, "remove", "Remove a domain (refused while it has users)", a, rc,
                         [&a](DirectoryService& d) {
                           d.remove_domain(a.name, a.force);
                           std::cout << "domain " << *normalize_domain(a.name) << " removed\n";
                           return 0;
                         });
  remove->add_option("domain", a.name, "Domain name")->required();
  remove->add_flag("--force", a.force, "Also remove its accounts, aliases and lists");
  auto* catch_all = command(
      domain, "catch-all", "Deliver mail for unknown addresses of a domain to ADDRESS, or 'off'", a,
      rc, [&a](DirectoryService& d) {
        bool off = a.target == "off";
        d.set_catch_all(a.name, off ? "" : a.target);
        std::cout << "catch-all of " << *normalize_domain(a.name) << (off ? " off\n" : " set\n");
        return 0;
      });
  catch_all->add_option("domain", a.name, "Domain name")->required();
  catch_all->add_option("address", a.target, "Address, or 'off'")->required();
}

void add_user_commands(CLI::App& app, Args& a, int& rc) {
  auto* user = app.add_subcommand("user", "Accounts: addresses, passwords, quotas");
  user->require_subcommand(1);
  auto* add = command(
      user, "add", "Add an account (asks for its password)", a, rc, [&a](DirectoryService& d) {
        auto quota = quota_of(a.quota).value_or(0);
        if (!a.password_hash.empty()) {
          d.add_account(a.name, "", quota, std::nullopt, a.password_hash, a.attributes);
        } else {
          std::string pw = read_password(a.password_stdin);
          d.add_account(a.name, "", quota, pw, std::nullopt, a.attributes);
        }
        std::cout << "account " << d.canonical_address(a.name).value_or(a.name) << " added\n";
        return 0;
      });
  add->add_option("address", a.name, "Address (local@domain)")->required();
  add_attribute_options(add, a);
  add->add_option("--quota", a.quota, "Mailbox quota, e.g. 1GB (0: unlimited)");
  add->add_flag("--password-stdin", a.password_stdin, "Read the password as one line of stdin");
  add->add_option("--password-hash", a.password_hash,
                  "Import a crypt(3) hash ($y$, $6$, $2b$) instead of a password")
      ->excludes("--password-stdin");

  auto* passwd =
      command(user, "passwd", "Set an account's password", a, rc, [&a](DirectoryService& d) {
        if (!a.password_hash.empty()) {
          d.set_password_hash(a.name, a.password_hash);
        } else {
          if (!d.find_account(a.name)) throw std::runtime_error("no account " + a.name);
          d.set_password(a.name, read_password(a.password_stdin));
        }
        std::cout << "password of " << d.canonical_address(a.name).value_or(a.name) << " changed\n";
        return 0;
      });
  passwd->add_option("address", a.name, "Address")->required();
  passwd->add_flag("--password-stdin", a.password_stdin, "Read the password as one line of stdin");
  passwd->add_option("--password-hash", a.password_hash, "Import a crypt(3) hash")
      ->excludes("--password-stdin");

  auto* list =
      command(user, "list", "List accounts (of one domain)", a, rc, [&a](DirectoryService& d) {
        for (const auto& info : d.accounts(a.name)) {
          std::string password = info.hash_scheme.empty() ? "none" : info.hash_scheme;
          if (info.has_scram) password += "+scram";
          std::cout << fmt::format("{}  {}  quota={}  password={}{}\n", info.account.address,
                                   info.account.enabled ? "enabled" : "disabled",
                                   quota_text(info.account.quota_bytes), password,
                                   attributes_text(info));
        }
        return 0;
      });
  list->add_option("domain", a.name, "Only this domain");

  auto* set = command(user, "set",
                      "Change an account's quota or address-book attributes (the options "
                      "given; the others are kept)",
                      a, rc, [&a](DirectoryService& d) {
                        d.set_account_attributes(a.name, a.attributes, quota_of(a.quota));
                        std::cout << "account " << d.canonical_address(a.name).value_or(a.name)
                                  << " updated\n";
                        return 0;
                      });
  set->add_option("address", a.name, "Address")->required();
  add_attribute_options(set, a);
  set->add_option("--quota", a.quota, "Mailbox quota, e.g. 1GB (0: unlimited)");

  for (bool enable : {false, true}) {
    command(user, enable ? "enable" : "disable",
            enable ? "Allow an account to log in again" : "Refuse an account's logins", a, rc,
            [&a, enable](DirectoryService& d) {
              d.set_enabled(a.name, enable);
              std::cout << "account " << d.canonical_address(a.name).value_or(a.name)
                        << (enable ? " enabled\n" : " disabled\n");
              return 0;
            })
        ->add_option("address", a.name, "Address")
        ->required();
  }
  command(user, "remove", "Remove an account (its mail store is left in place)", a, rc,
          [&a](DirectoryService& d) {
            d.remove_account(a.name);
            std::cout << "account " << d.canonical_address(a.name).value_or(a.name) << " removed\n";
            return 0;
          })
      ->add_option("address", a.name, "Address")
      ->required();
}

void add_alias_and_list_commands(CLI::App& app, Args& a, int& rc) {
  auto* alias = app.add_subcommand("alias", "Aliases: one address delivered to others");
  alias->require_subcommand(1);
  auto* add = command(alias, "add", "Add targets to an alias (local or remote addresses)", a, rc,
                      [&a](DirectoryService& d) {
                        d.add_alias(a.name, a.targets);
                        std::cout << "alias " << d.canonical_address(a.name).value_or(a.name)
                                  << " updated\n";
                        return 0;
                      });
  add->add_option("address", a.name, "Alias address")->required();
  add->add_option("targets", a.targets, "Target addresses")->required();
  command(alias, "list", "List aliases", a, rc, [&a](DirectoryService& d) {
    for (const auto& info : d.aliases(a.name))
      std::cout << fmt::format("{} -> {}\n", info.address, fmt::join(info.targets, ", "));
    return 0;
  })->add_option("address", a.name, "Only this alias");
  auto* remove = command(
      alias, "remove", "Remove an alias, or some of its targets", a, rc, [&a](DirectoryService& d) {
        d.remove_alias(a.name, a.targets);
        std::cout << "alias " << d.canonical_address(a.name).value_or(a.name) << " updated\n";
        return 0;
      });
  remove->add_option("address", a.name, "Alias address")->required();
  remove->add_option("targets", a.targets, "Targets to remove (default: the whole alias)");

  auto* list = app.add_subcommand("list", "Distribution lists (expanded by SMTP EXPN)");
  list->require_subcommand(1);
  auto* ladd = command(
      list, "add", "Create a list and/or add members to it", a, rc, [&a](DirectoryService& d) {
        d.add_list(a.name, a.targets);
        std::cout << "list " << d.canonical_address(a.name).value_or(a.name) << " updated\n";
        return 0;
      });
  ladd->add_option("list", a.name, "List address")->required();
  ladd->add_option("members", a.targets, "Member addresses");
  command(list, "list", "List the distribution lists", a, rc, [](DirectoryService& d) {
    for (const auto& info : d.lists())
      std::cout << fmt::format("{}  members={}\n", info.address, info.members.size());
    return 0;
  });
  auto* lremove = command(
      list, "remove", "Remove a list, or some of its members", a, rc, [&a](DirectoryService& d) {
        d.remove_list(a.name, a.targets);
        std::cout << "list " << d.canonical_address(a.name).value_or(a.name) << " updated\n";
        return 0;
      });
  lremove->add_option("list", a.name, "List address")->required();
  lremove->add_option("members", a.targets, "Members to remove (default: the whole list)");
  command(list, "members", "Print a list's members", a, rc,
          [&a](DirectoryService& d) {
            auto found = d.lists(a.name);
            if (found.empty()) throw std::runtime_error("no list " + a.name);
            for (const auto& m : found.front().members)
              std::cout << m << "\n";
            return 0;
          })
      ->add_option("list", a.name, "List address")
      ->required();
}

void add_retrieval_commands(CLI::App& app, Args& a, int& rc) {
  auto* retrieval =
      app.add_subcommand("retrieval", "External POP/IMAP mailboxes fetched for an account");
  retrieval->require_subcommand(1);
  auto* add = command(retrieval, "add", "Add a retrieval source to an account", a, rc,
                      [&a](DirectoryService& d) {
                        sdk::RetrievalSource r;
                        r.account = a.name;
                        r.protocol = a.protocol == "imap" ? sdk::RetrievalSource::Protocol::imap
                                                          : sdk::RetrievalSource::Protocol::pop;
                        r.host = a.host;
                        r.port = a.port;
                        r.tls = a.tls == "none"       ? sdk::RetrievalSource::Tls::none
                                : a.tls == "starttls" ? sdk::RetrievalSource::Tls::starttls
                                                      : sdk::RetrievalSource::Tls::implicit;
                        r.user = a.user;
                        if (a.secret_stdin) r.secret = read_line_from_stdin("secret");
                        r.apop = a.apop;
                        r.leave_on_server = a.leave_on_server;
                        r.source_folder = a.source_folder;
                        r.destination_folder = a.destination_folder;
                        r.enabled = !a.disabled;
                        if (r.apop && r.protocol != sdk::RetrievalSource::Protocol::pop)
                          throw UsageError("--apop applies to --protocol pop only");
                        auto id = d.add_retrieval(r);
                        std::cout << "retrieval source " << id << " added\n";
                        return 0;
                      });
  add->add_option("account", a.name, "Local account receiving the messages")->required();
  add->add_option("--protocol", a.protocol, "pop or imap")
      ->check(CLI::IsMember({"pop", "imap"}))
      ->capture_default_str();
  add->add_option("--host", a.host, "Remote server")->required();
  add->add_option("--port", a.port, "Remote port (default: the protocol's for the TLS mode)");
  add->add_option("--tls", a.tls, "none, starttls or implicit")
      ->check(CLI::IsMember({"none", "starttls", "implicit"}))
      ->capture_default_str();
  add->add_option("--user", a.user, "Remote user name")->required();
  add->add_flag("--secret-stdin", a.secret_stdin, "Read the remote password as one line of stdin");
  add->add_flag("--apop", a.apop, "POP: log in with APOP");
  add->add_flag("--leave-on-server", a.leave_on_server, "Do not delete fetched messages");
  add->add_option("--source-folder", a.source_folder, "IMAP: folder to fetch")
      ->capture_default_str();
  add->add_option("--destination-folder", a.destination_folder, "Local folder to deliver to")
      ->capture_default_str();
  add->add_flag("--disabled", a.disabled, "Add it disabled");

  command(retrieval, "list", "List retrieval sources (secrets are not shown)", a, rc,
          [&a](DirectoryService& d) {
            for (const auto& r : d.retrieval_sources(a.name)) {
              bool pop = r.protocol == sdk::RetrievalSource::Protocol::pop;
              const char* tls = r.tls == sdk::RetrievalSource::Tls::none       ? "none"
                                : r.tls == sdk::RetrievalSource::Tls::starttls ? "starttls"
                                                                               : "implicit";
              std::string line = fmt::format("{}  {}  {}://{}@{}{}  tls={}  secret={}", r.id,
                                             r.account, pop ? "pop" : "imap", r.user, r.host,
                                             r.port == 0 ? "" : fmt::format(":{}", r.port), tls,
                                             r.secret.empty() ? "none" : "****");
              if (!pop) line += "  folder=" + r.source_folder;
              if (r.apop) line += "  apop";
              if (r.leave_on_server) line += "  leave-on-server";
              line +=
                  fmt::format("  -> {}  {}  last_run={}", r.destination_folder,
                              r.enabled ? "enabled" : "disabled",
                              r.last_run == 0 ? std::string("never") : std::to_string(r.last_run));
              if (!r.last_error.empty()) line += "  last_error=\"" + r.last_error + "\"";
              std::cout << line << "\n";
            }
            return 0;
          })
      ->add_option("account", a.name, "Only this account");
  auto* status = command(
      retrieval, "status", "Last run, counts and last error of each retrieval source", a, rc,
      [&a](DirectoryService& d) {
        const auto sources = d.retrieval_sources(a.name);
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        auto when = [](std::int64_t t) {
          if (t == 0) return std::string("never");
          const std::time_t tt = static_cast<std::time_t>(t);
          std::tm tm{};
          gmtime_r(&tt, &tm);
          char buf[32];
          std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
          return std::string(buf);
        };
        auto state = [](const sdk::RetrievalSource& r) {
          return !r.enabled             ? "disabled"
                 : r.last_run == 0      ? "never"
                 : r.last_error.empty() ? "ok"
                                        : "failing";
        };
        if (a.json) {
          std::cout << "[";
          bool first = true;
          for (const auto& r : sources) {
            std::cout << (first ? "" : ",")
                      << fmt::format(
                             "{{\"id\":{},\"account\":\"{}\",\"protocol\":\"{}\",\"host\":\"{}\","
                             "\"user\":\"{}\",\"state\":\"{}\",\"last_run\":{},\"last_count\":{},"
                             "\"total_count\":{},\"last_error\":\"{}\"}}",
                             r.id, json_escape(r.account),
                             r.protocol == sdk::RetrievalSource::Protocol::pop ? "pop" : "imap",
                             json_escape(r.host), json_escape(r.user), state(r), r.last_run,
                             r.last_count, r.total_count, json_escape(r.last_error));
            first = false;
          }
          std::cout << "]\n";
          return 0;
        }
        std::cout << fmt::format("{:<4} {:<24} {:<32} {:<8} {:<21} {:>6} {:>8}  {}\n", "ID",
                                 "ACCOUNT", "SOURCE", "STATE", "LAST RUN", "LAST", "TOTAL",
                                 "LAST ERROR");
        for (const auto& r : sources) {
          std::string last = when(r.last_run);
          if (r.last_run != 0 && now >= r.last_run) {
            last += fmt::format(" ({}s ago)", now - r.last_run);
          }
          std::cout << fmt::format(
              "{:<4} {:<24} {:<32} {:<8} {:<21} {:>6} {:>8}  {}\n", r.id, r.account,
              fmt::format("{}://{}@{}",
                          r.protocol == sdk::RetrievalSource::Protocol::pop ? "pop" : "imap",
                          r.user, r.host),
              state(r), last, r.last_count, r.total_count, r.last_error);
        }
        return 0;
      });
  status->add_option("account", a.name, "Only this account");
  status->add_flag("--json", a.json, "One JSON array");
  command(retrieval, "remove", "Remove a retrieval source", a, rc,
          [&a](DirectoryService& d) {
            d.remove_retrieval(a.id);
            std::cout << "retrieval source " << a.id << " removed\n";
            return 0;
          })
      ->add_option("id", a.id, "Source id (see retrieval list)")
      ->required();
}

}  // namespace

void add_directory_commands(CLI::App& app, int& rc) {
  // Parsed values must outlive this call: they live as long as the process.
  static Args args;
  const char* env_config = std::getenv("PORTICO_CONFIG");
  args.config = env_config ? env_config : "config/portico.yaml";
  add_domain_commands(app, args, rc);
  add_user_commands(app, args, rc);
  add_alias_and_list_commands(app, args, rc);
  add_retrieval_commands(app, args, rc);
}

}  // namespace portico::core::cli
