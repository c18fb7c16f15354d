// Portico core — store check and repair of one account.
//
// Finds: temp files and orphan bodies (files no metadata names: a crash between the body's
// fsync and the commit, or between a commit and an unlink); bodies rows whose file is missing;
// bodies rows no message uses; UIDNEXT at or below the largest UID; HIGHESTMODSEQ below a
// message's or an expunge's MODSEQ; a wrong message count; SQLite's own quick_check.
// It holds store.lock exclusively, so deliveries in progress (any process) finish first and
// none starts meanwhile; repairs run in one transaction.
#include "core/store/check.h"

#include <unistd.h>

#include <set>

#include "core/store/files.h"

namespace portico::core::store {

void check_account(Account& account, bool repair, StoreCheckReport& report) {
  FileLock exclusive(account.store_lock_file(), FileLock::Mode::exclusive);
  std::lock_guard lock(account.mutex);
  Database& db = account.db();
  auto problem = [&](const std::string& what, const std::string& fix) {
    report.problems.push_back(what);
    if (repair) report.repaired.push_back(fix);
  };

  {
    auto st = db.prepare("PRAGMA quick_check");
    while (st.step()) {
      if (st.text(0) != "ok") report.problems.push_back("database: " + st.text(0));
    }
  }

  Transaction tx(db);
  std::set<std::string> known;
  {
    auto st = db.prepare("SELECT file FROM bodies WHERE data IS NULL");
    while (st.step())
      known.insert(st.text(0));
  }
  std::set<std::string> present;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(account.bodies(), ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(temp_prefix, 0) == 0) {
      problem("temp file " + name + " (an interrupted delivery)", "removed " + name);
      if (repair) ::unlink(e.path().c_str());
    } else if (!known.count(name)) {
      problem("orphan body " + name + " (no message refers to it)", "removed " + name);
      if (repair) ::unlink(e.path().c_str());
    } else {
      present.insert(name);
    }
  }
  for (const auto& name : known) {
    if (present.count(name)) continue;
    problem("body file " + name + " is missing", "dropped the messages of missing body " + name);
    if (repair) {
      db.prepare(
            "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id IN (SELECT "
            "mailbox_id FROM messages WHERE body_id = (SELECT id FROM bodies WHERE file = ?))")
          .bind(1, name)
          .run();
      db.prepare("DELETE FROM messages WHERE body_id = (SELECT id FROM bodies WHERE file = ?)")
          .bind(1, name)
          .run();
      db.prepare("DELETE FROM bodies WHERE file = ?").bind(1, name).run();
    }
  }
  {
    auto st = db.prepare(
        "SELECT file FROM bodies WHERE NOT EXISTS (SELECT 1 FROM messages WHERE body_id = "
        "bodies.id)");
    std::vector<std::string> unused;
    while (st.step())
      unused.push_back(st.text(0));
    for (const auto& name : unused) {
      problem("body " + name + " is used by no message", "removed unused body " + name);
      if (repair) {
        db.prepare("DELETE FROM bodies WHERE file = ?").bind(1, name).run();
        ::unlink((account.bodies() / name).c_str());
      }
    }
  }
  auto st = db.prepare(
      "SELECT b.id, b.name, b.uid_next, b.highest_modseq, b.message_count, "
      "(SELECT coalesce(max(uid), 0) FROM messages WHERE mailbox_id = b.id), "
      "(SELECT max(coalesce((SELECT max(modseq) FROM messages WHERE mailbox_id = b.id), 0), "
      "coalesce((SELECT max(modseq) FROM expunged WHERE mailbox_id = b.id), 0))), "
      "(SELECT count(*) FROM messages WHERE mailbox_id = b.id), "
      "(SELECT coalesce(max(uid), 0) FROM expunged WHERE mailbox_id = b.id) "
      "FROM mailboxes b ORDER BY b.name");
  struct Row {
    std::int64_t id;
    std::string name;
    std::int64_t uid_next, highest, count, max_uid, max_modseq, real_count;
  };
  std::vector<Row> rows;
  while (st.step()) {
    rows.push_back({st.int64(0), st.text(1), st.int64(2), st.int64(3), st.int64(4),
                    std::max(st.int64(5), st.int64(8)), st.int64(6), st.int64(7)});
  }
  for (const auto& [id, name, uid_next, highest, count, max_uid, max_modseq, real_count] : rows) {
    auto fix = [&, mailbox_id = id](const char* column, std::int64_t value) {
      if (!repair) return;
      db.prepare(std::string("UPDATE mailboxes SET ") + column + " = ? WHERE id = ?")
          .bind(1, value)
          .bind(2, mailbox_id)
          .run();
    };
    if (uid_next <= max_uid) {
      problem(name + ": UIDNEXT " + std::to_string(uid_next) + " not above UID " +
                  std::to_string(max_uid),
              name + ": UIDNEXT set to " + std::to_string(max_uid + 1));
      fix("uid_next", max_uid + 1);
    }
    if (highest < max_modseq) {
      problem(name + ": HIGHESTMODSEQ " + std::to_string(highest) + " below MODSEQ " +
                  std::to_string(max_modseq),
              name + ": HIGHESTMODSEQ set to " + std::to_string(max_modseq + 1));
      fix("highest_modseq", max_modseq + 1);
    }
    if (count != real_count) {
      problem(name + ": message count " + std::to_string(count) + ", actually " +
                  std::to_string(real_count),
              name + ": message count set to " + std::to_string(real_count));
      fix("message_count", real_count);
    }
  }
  if (repair) tx.commit();
}

}  // namespace portico::core::store
