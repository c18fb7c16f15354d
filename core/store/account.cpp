// Portico core — an account of the embedded store: opening, and mailbox operations
// (RFC 3501/9051 CREATE, RENAME, DELETE, SUBSCRIBE, LIST/STATUS data; RFC 6154 special use).
#include "core/store/account.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "core/store/files.h"
#include "core/store/schema.h"

namespace portico::core::store {

namespace {

using sdk::StoreError;

// The mailboxes every account starts with: name, RFC 6154 attribute.
constexpr std::pair<const char*, const char*> default_mailboxes[] = {
    {"INBOX", ""},        {"Sent", "\\Sent"}, {"Drafts", "\\Drafts"},
    {"Trash", "\\Trash"}, {"Junk", "\\Junk"}, {"Archive", "\\Archive"},
};

constexpr const char* special_uses[] = {"\\All",  "\\Archive", "\\Drafts", "\\Flagged",
                                        "\\Junk", "\\Sent",    "\\Trash"};

// Longest mailbox name accepted, in octets.
constexpr std::size_t max_mailbox_name = 512;

MailboxRow row_of(Statement& st) {
  MailboxRow r;
  r.id = st.int64(0);
  r.name = st.text(1);
  r.special_use = st.text(2);
  r.subscribed = st.int64(3) != 0;
  r.uid_validity = static_cast<std::uint32_t>(st.int64(4));
  r.uid_next = static_cast<std::uint32_t>(st.int64(5));
  r.highest_modseq = static_cast<std::uint64_t>(st.int64(6));
  r.count = static_cast<std::uint32_t>(st.int64(7));
  return r;
}

constexpr const char* mailbox_columns =
    "SELECT id, name, special_use, subscribed, uid_validity, uid_next, highest_modseq, "
    "message_count FROM mailboxes ";

}  // namespace

std::string normalize_mailbox(const std::string& name) {
  auto bad = [&](const std::string& why) {
    fail(StoreError::invalid_name, "mailbox name '" + name + "': " + why);
  };
  if (name.empty()) bad("empty");
  if (name.size() > max_mailbox_name) bad("too long");
  if (name.front() == '/' || name.back() == '/' || name.find("//") != std::string::npos) {
    bad("empty hierarchy level");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '*' || c == '%') bad("forbidden character");
  }
  std::string upper = name.substr(0, 5);
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "INBOX" && (name.size() == 5 || name[5] == '/')) return "INBOX" + name.substr(5);
  return name;
}

std::string keywords_text(const std::vector<std::string>& keywords) {
  std::vector<std::string> k = keywords;
  std::sort(k.begin(), k.end());
  k.erase(std::unique(k.begin(), k.end()), k.end());
  std::string out;
  for (const auto& w : k) {
    if (w.empty()) continue;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::vector<std::string> keywords_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string uid_condition(const sdk::UidSet& uids) {
  if (uids.empty()) return "1";
  std::string out = "(";
  for (std::size_t i = 0; i < uids.size(); ++i) {
    if (i) out += " OR ";
    out += "uid BETWEEN " + std::to_string(std::min(uids[i].first, uids[i].last)) + " AND " +
           std::to_string(std::max(uids[i].first, uids[i].last));
  }
  return out + ")";
}

Account::Account(const fs::path& root, std::string address)
    : address_(std::move(address)), root_(root), db_([&] {
        std::error_code ec;
        fs::create_directories(root / "bodies", ec);
        if (ec) fail(StoreError::io, "cannot create " + root.string() + ": " + ec.message());
        return root / "meta.sqlite";
      }()) {
  migrate(db_);
  Transaction tx(db_);
  auto st = db_.prepare("SELECT count(*) FROM mailboxes");
  st.step();
  if (st.int64(0) == 0) {
    for (auto [name, use] : default_mailboxes)
      create_row(name, use, true);
  }
  tx.commit();
}

std::uint32_t Account::next_uid_validity() {
  auto now = static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  auto st = db_.prepare("SELECT value FROM meta WHERE key='last_uid_validity'");
  std::int64_t last = st.step() ? st.int64(0) : 0;
  std::int64_t next = std::max<std::int64_t>(now & 0x7fffffff, last + 1);
  db_.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('last_uid_validity', ?)")
      .bind(1, next)
      .run();
  return static_cast<std::uint32_t>(next);
}

MailboxRow Account::create_row(const std::string& name, const std::string& special_use,
                               bool subscribed) {
  MailboxRow r;
  r.name = name;
  r.special_use = special_use;
  r.subscribed = subscribed;
  r.uid_validity = next_uid_validity();
  db_.prepare(
         "INSERT INTO mailboxes(name, special_use, subscribed, uid_validity, uid_next, "
         "highest_modseq, message_count) VALUES(?, ?, ?, ?, 1, 1, 0)")
      .bind(1, name)
      .bind(2, special_use)
      .bind(3, subscribed ? 1 : 0)
      .bind(4, static_cast<std::int64_t>(r.uid_validity))
      .run();
  r.id = db_.last_insert_rowid();
  return r;
}

std::optional<MailboxRow> Account::find(const std::string& name) {
  auto st = db_.prepare(std::string(mailbox_columns) + "WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return row_of(st);
}

sdk::UidRange Account::recent(const std::string& mailbox, bool claim) {
  std::string name = normalize_mailbox(mailbox);
  std::lock_guard lock(mutex);
  // Looked at in a read transaction first: a SELECT with nothing new takes no write lock.
  auto look = [&] {
    MailboxRow row = require(name);
    auto st = db_.prepare("SELECT recent_uid FROM mailboxes WHERE id = ?");
    st.bind(1, row.id);
    sdk::UidRange range;
    range.first = st.step() ? static_cast<std::uint32_t>(st.int64(0)) : row.uid_next;
    range.last = row.uid_next - 1;
    return std::make_pair(row, range);
  };
  {
    Transaction snapshot(db_, false);
    auto [row, range] = look();
    snapshot.commit();
    if (!claim || range.first > range.last) return range;
  }
  Transaction tx(db_);
  auto [row, range] = look();  // again under the write lock: another process may have claimed
  if (range.first <= range.last)
    db_.prepare("UPDATE mailboxes SET recent_uid = ? WHERE id = ?")
        .bind(1, static_cast<std::int64_t>(row.uid_next))
        .bind(2, row.id)
        .run();
  tx.commit();
  return range;
}

MailboxRow Account::require(const std::string& name) {
  auto row = find(normalize_mailbox(name));
  if (!row) fail(StoreError::not_found, "no mailbox '" + name + "'");
  return *row;
}

void Account::save_counters(const MailboxRow& row) {
  db_.prepare(
         "UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, message_count = ? WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(row.uid_next))
      .bind(2, static_cast<std::int64_t>(row.highest_modseq))
      .bind(3, static_cast<std::int64_t>(row.count))
      .bind(4, row.id)
      .run();
}

std::vector<sdk::MailboxInfo> Account::list() {
  std::lock_guard lock(mutex);
  std::map<std::int64_t, std::uint32_t> unseen;
  auto u = db_.prepare(
      "SELECT mailbox_id, count(*) FROM messages WHERE (flags & 1) = 0 GROUP BY mailbox_id");
  while (u.step())
    unseen[u.int64(0)] = static_cast<std::uint32_t>(u.int64(1));
  std::vector<sdk::MailboxInfo> out;
  auto st = db_.prepare(std::string(mailbox_columns) + "ORDER BY name");
  while (st.step()) {
    MailboxRow r = row_of(st);
    sdk::MailboxInfo info;
    info.name = r.name;
    info.special_use = r.special_use;
    info.subscribed = r.subscribed;
    info.uid_validity = r.uid_validity;
    info.uid_next = r.uid_next;
    info.highest_modseq = r.highest_modseq;
    info.messages = r.count;
    info.unseen = unseen[r.id];
    out.push_back(std::move(info));
  }
  for (auto& m : out) {
    std::string prefix = m.name + "/";
    m.has_children = std::any_of(out.begin(), out.end(), [&](const sdk::MailboxInfo& o) {
      return o.name.compare(0, prefix.size(), prefix) == 0;
    });
  }
  return out;
}

sdk::MailboxInfo Account::status(const std::string& mailbox) {
  std::string name = normalize_mailbox(mailbox);
  for (auto& m : list()) {
    if (m.name == name) return m;
  }
  fail(StoreError::not_found, "no mailbox '" + mailbox + "'");
}

void Account::create(const std::string& mailbox, const std::string& special_use) {
  std::string name = normalize_mailbox(mailbox);
  if (!special_use.empty() && std::find(std::begin(special_uses), std::end(special_uses),
                                        special_use) == std::end(special_uses)) {
    fail(StoreError::invalid_name, "unknown special use '" + special_use + "'");
  }
  std::lock_guard lock(mutex);
  Transaction tx(db_);
  if (find(name)) fail(StoreError::exists, "mailbox '" + name + "' exists");
  create_row(name, special_use, false);
  tx.commit();
}

void Account::rename(const std::string& from_name, const std::string& to_name) {
  std::string from = normalize_mailbox(from_name);
  std::string to = normalize_mailbox(to_name);
  if (from == "INBOX") {
    // RFC 3501 6.3.5: renaming INBOX moves its messages to a new mailbox; INBOX stays, empty.
    {
      std::lock_guard lock(mutex);
      Transaction tx(db_);
      if (find(to)) fail(StoreError::exists, "mailbox '" + to + "' exists");
      create_row(to, "", false);
      tx.commit();
    }
    copy("INBOX", {}, to, true);
    return;
  }
  if (to == "INBOX") fail(StoreError::exists, "mailbox 'INBOX' exists");
  if (to.compare(0, from.size() + 1, from + "/") == 0) {
    fail(StoreError::invalid_name, "cannot rename a mailbox into itself");
  }
  std::lock_guard lock(mutex);
  Transaction tx(db_);
  require(from);
  if (find(to)) fail(StoreError::exists, "mailbox '" + to + "' exists");
  db_.prepare(
         "UPDATE mailboxes SET name = ?1 || substr(name, ?3) WHERE name = ?2 OR "
         "substr(name, 1, ?3) = ?2 || '/'")
      .bind(1, to)
      .bind(2, from)
      .bind(3, static_cast<std::int64_t>(from.size() + 1))
      .run();
  tx.commit();
  announce();
}

void Account::remove(const std::string& mailbox) {
  std::string name = normalize_mailbox(mailbox);
  if (name == "INBOX") fail(StoreError::forbidden, "INBOX cannot be deleted");
  std::vector<std::string> files;
  {
    std::lock_guard lock(mutex);
    Transaction tx(db_);
    MailboxRow row = require(name);
    std::vector<std::int64_t> bodies;
    auto st = db_.prepare("SELECT DISTINCT body_id FROM messages WHERE mailbox_id = ?");
    st.bind(1, row.id);
    while (st.step())
      bodies.push_back(st.int64(0));
    db_.prepare("DELETE FROM messages WHERE mailbox_id = ?").bind(1, row.id).run();
    db_.prepare("DELETE FROM expunged WHERE mailbox_id = ?").bind(1, row.id).run();
    db_.prepare("DELETE FROM mailboxes WHERE id = ?").bind(1, row.id).run();
    files = drop_unreferenced(bodies);
    tx.commit();
  }
  unlink_bodies(files);
  announce();
}

void Account::subscribe(const std::string& mailbox, bool on) {
  std::string name = normalize_mailbox(mailbox);
  std::lock_guard lock(mutex);
  Transaction tx(db_);
  MailboxRow row = require(name);
  db_.prepare("UPDATE mailboxes SET subscribed = ? WHERE id = ?")
      .bind(1, on ? 1 : 0)
      .bind(2, row.id)
      .run();
  tx.commit();
}

sdk::Usage Account::usage() {
  std::lock_guard lock(mutex);
  auto st = db_.prepare("SELECT count(*), coalesce(sum(size), 0) FROM messages");
  st.step();
  return {static_cast<std::uint64_t>(st.int64(1)), static_cast<std::uint64_t>(st.int64(0))};
}

std::vector<std::string> Account::drop_unreferenced(const std::vector<std::int64_t>& candidates) {
  std::vector<std::string> files;
  auto st = db_.prepare(
      "DELETE FROM bodies WHERE id = ? AND NOT EXISTS "
      "(SELECT 1 FROM messages WHERE body_id = bodies.id) RETURNING file");
  for (auto id : candidates) {
    st.reset();
    st.bind(1, id);
    while (st.step())
      files.push_back(st.text(0));
  }
  return files;
}

void Account::unlink_bodies(const std::vector<std::string>& files) {
  // After the commit: a crash between the commit and here leaves orphan files, which
  // `store check --repair` removes; never a row without its file.
  for (const auto& f : files)
    ::unlink((bodies() / f).c_str());
}

std::uint64_t Account::change_counter() {
  int fd = ::open(changes_file().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::uint64_t v = 0;
  if (::pread(fd, &v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) v = 0;
  ::close(fd);
  return v;
}

void Account::announce() {
  // A new value in the changes file: watchers (inotify, or the poll fallback) in this and other
  // processes compare it with what they saw last and then query the database.
  std::uint64_t v = std::chrono::steady_clock::now().time_since_epoch().count() ^
                    (static_cast<std::uint64_t>(::getpid()) << 40);
  auto key = new_message_key();
  v ^= std::stoull(key, nullptr, 16);
  int fd = ::open(changes_file().c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  [[maybe_unused]] auto n = ::pwrite(fd, &v, sizeof v, 0);
  ::close(fd);
}

}  // namespace portico::core::store
