// Portico core — the directory as an address book (SDK 1.5): DirectoryService::version() and
// address_book() (see directory.h and portico/address_book.h).
//
// version() reads no table. It moves on when this service has committed a write
// (Database::commits), when PRAGMA data_version says another connection (the CLI, another
// process) has, and after any failure, so a caller reloads rather than keeps a stale copy; it
// never throws. address_book() reads the domains, accounts, aliases and lists with one query
// each (no query per row), inside one read transaction whose first statement takes the version,
// so a book and its version describe the same snapshot. It selects no password hash and no
// SCRAM column. A failure gives an empty book with version 0, logged.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/directory/directory.h"

namespace portico::core {

using namespace directory;

namespace directory {

std::string join_phones(const std::vector<std::string>& phones) {
  std::string out;
  for (const auto& phone : phones) {
    if (!out.empty()) out += '\n';
    out += phone;
  }
  return out;
}

std::vector<std::string> split_phones(std::string_view stored) {
  std::vector<std::string> out;
  while (!stored.empty()) {
    auto end = stored.find('\n');
    out.emplace_back(stored.substr(0, end));
    if (end == std::string_view::npos) break;
    stored.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace directory

std::uint64_t DirectoryService::current_version() {
  auto data_version = db_.data_version();
  auto commits = db_.commits();
  if (data_version != seen_data_version_ || commits != seen_commits_) {
    seen_data_version_ = data_version;
    seen_commits_ = commits;
    ++version_;
  }
  return version_;
}

std::uint64_t DirectoryService::version() {
  try {
    std::lock_guard lock(mutex_);
    return current_version();
  } catch (const std::exception& e) {
    spdlog::error("directory: {}", e.what());
    return ++version_;  // whatever the caller holds is now out of date
  }
}

sdk::AddressBook DirectoryService::address_book(std::string_view domain) {
  sdk::AddressBook book;
  std::string wanted;  // empty: every local domain
  if (!domain.empty()) {
    auto d = normalize_domain(domain);
    if (!d) {
      book.version = version();  // no such domain can exist: an empty book
      return book;
    }
    wanted = *d;
  }
  // The same query for one domain or for all: `column = ?1` or nothing.
  auto where = [&](const char* column) {
    return wanted.empty() ? std::string() : fmt::format(" WHERE {} = ?1", column);
  };
  try {
    std::lock_guard lock(mutex_);
    db_.read([&] {
      book.version = current_version();  // the first read: the snapshot's own version
      auto domains =
          db_.prepare(fmt::format("SELECT name FROM domains{} ORDER BY name", where("name")));
      if (!wanted.empty()) domains.bind(1, wanted);
      while (domains.step())
        book.domains.push_back(domains.text(0));
      if (book.domains.empty()) return;

      auto people = db_.prepare(fmt::format(
          "SELECT address, display_name, given_name, surname, title, department, organization, "
          "phones, enabled FROM accounts{} ORDER BY address",
          where("domain")));
      if (!wanted.empty()) people.bind(1, wanted);
      while (people.step()) {
        sdk::AddressBookPerson& p = book.people.emplace_back();
        p.address = people.text(0);
        p.display_name = people.text(1);
        p.given_name = people.text(2);
        p.surname = people.text(3);
        p.title = people.text(4);
        p.department = people.text(5);
        p.organization = people.text(6);
        p.phones = split_phones(people.text(7));
        p.enabled = people.integer(8) != 0;
      }

      // Aliases, then lists, each sorted by address; merged below. Targets and members keep the
      // order they were added in.
      using Kind = sdk::AddressBookGroup::Kind;
      auto add = [&](Kind kind, Statement& s) {
        if (!wanted.empty()) s.bind(1, wanted);
        while (s.step()) {
          if (book.groups.empty() || book.groups.back().kind != kind ||
              book.groups.back().address != s.text(0))
            book.groups.push_back({kind, s.text(0), {}});
          if (!s.is_null(1)) book.groups.back().members.push_back(s.text(1));
        }
      };
      auto aliases = db_.prepare(fmt::format(
          "SELECT address, target FROM aliases{} ORDER BY address, rowid", where("domain")));
      add(Kind::alias, aliases);
      auto first_list = static_cast<std::ptrdiff_t>(book.groups.size());
      auto lists = db_.prepare(
          fmt::format("SELECT l.address, m.member FROM lists l LEFT JOIN list_members m ON "
                      "m.list = l.address{} ORDER BY l.address, m.rowid",
                      where("l.domain")));
      add(Kind::list, lists);
      std::inplace_merge(book.groups.begin(), book.groups.begin() + first_list, book.groups.end(),
                         [](const auto& a, const auto& b) { return a.address < b.address; });
    });
  } catch (const std::exception& e) {
    spdlog::error("directory: reading the address book of {}: {}",
                  wanted.empty() ? std::string("every domain") : wanted, e.what());
    return {};
  }
  return book;
}

}  // namespace portico::core
