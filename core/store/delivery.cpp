// Portico core — delivery and APPEND into an account, with group commit (see account.h for the
// invariants, group_commit.h for the batching).
//
// One delivery: the body is placed in bodies/ (a hard link of a file whose octets are durable
// already, or a new file written and fsync'd), then handed to the account's group commit. The
// batch's leader fsyncs bodies/ once, so every body of the batch is durable under its final
// name, and only then inserts the rows of every delivery in one IMMEDIATE transaction (each
// delivery in its own savepoint, so one delivery's failure does not undo the others) and
// commits it (one WAL fsync). Concurrent deliveries to one account therefore cost one folder
// fsync and one commit per batch instead of one each, and none returns before its batch commit.
//
// Crash at any point: before the commit, the rows are absent and the body is an orphan that
// `store check --repair` removes (the caller was not told it was delivered); after it, the
// body's name and octets were durable before the rows that name it. A small body (kInlineBody)
// is written in the rows themselves: no file, and the commit alone makes it durable.
#include <chrono>

#include "core/store/account.h"
#include "core/store/files.h"
#include "core/store/part_offsets.h"

namespace portico::core::store {

namespace {

using sdk::StoreError;

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Account::insert(const NewMessage& m, std::vector<Insertion>& into) {
  // Deliveries hold store.lock shared from the first byte of the body file to the commit;
  // `store check` holds it exclusively, so it never mistakes a body being delivered for an
  // orphan.
  FileLock delivering(store_lock_file(), FileLock::Mode::shared);
  if (m.inline_body) {
    // Nothing on disk before the commit: the rows carry the octets.
  } else if (m.link_from.empty()) {
    write_body(bodies(), m.body_name, *m.octets, FolderSync::by_caller);
  } else {
    link_body(m.link_from, bodies(), m.body_name, FolderSync::by_caller);
  }
  PendingDelivery pending{&m, &into};
  GroupCommit<PendingDelivery>::Request request;
  request.item = &pending;
  try {
    commits_.submit(request, [this](auto& batch) { commit_batch(batch); });
  } catch (...) {
    if (!m.inline_body) ::unlink((bodies() / m.body_name).c_str());
    throw;
  }
  if (!pending.inserted && !m.inline_body) ::unlink((bodies() / m.body_name).c_str());
}

void Account::commit_batch(std::vector<GroupCommit<PendingDelivery>::Request*>& batch) {
  // Every body file of the batch is durable under its name from here on (bodies kept in the
  // database need nothing before the commit).
  bool files = false;
  for (auto* request : batch)
    files = files || !request->item->message->inline_body;
  if (files) fsync_dir(bodies());
  bool any = false;
  {
    std::lock_guard lock(mutex);
    Transaction tx(db_);
    for (auto* request : batch) {
      PendingDelivery& d = *request->item;
      db_.exec("SAVEPOINT delivery");
      try {
        d.inserted = insert_rows(*d.message, *d.into);
        db_.exec("RELEASE delivery");
      } catch (...) {
        d.inserted = false;
        request->error = std::current_exception();
        db_.exec("ROLLBACK TO delivery");
        db_.exec("RELEASE delivery");
      }
      any = any || d.inserted;
    }
    if (any) tx.commit();
  }
  if (any) announce();
}

bool Account::insert_rows(const NewMessage& m, std::vector<Insertion>& into) {
  bool any = false;
  std::uint64_t used = 0;
  if (m.quota_bytes != 0) {
    auto q = db_.prepare("SELECT coalesce(sum(size), 0) FROM messages");
    q.step();
    used = static_cast<std::uint64_t>(q.int64(0));
  }
  std::int64_t body_id = 0;
  for (auto& target : into) {
    try {
      std::string name = normalize_mailbox(target.mailbox);
      if (m.quota_bytes != 0 && used + m.size > m.quota_bytes) {
        fail(StoreError::over_quota,
             "mailbox full: quota of " + std::to_string(m.quota_bytes) + " bytes exceeded");
      }
      auto found = find(name);
      MailboxRow row = found ? *found : create_row(name, "", false);
      if (body_id == 0) {
        auto ins = db_.prepare(
            "INSERT INTO bodies(file, size, envelope, bodystructure, body, data, parts) "
            "VALUES(?, ?, ?, ?, ?, ?, ?)");
        ins.bind(1, m.body_name)
            .bind(2, static_cast<std::int64_t>(m.size))
            .bind(3, m.summary->envelope)
            .bind(4, m.summary->bodystructure)
            .bind(5, m.summary->body);
        if (m.inline_body) {
          ins.bind_blob(6, *m.octets);
        } else {
          ins.bind_null(6);
        }
        ins.bind(7, encode_parts(m.summary->parts));
        ins.run();
        body_id = db_.last_insert_rowid();
        auto h = db_.prepare("INSERT INTO headers(body_id, field, value) VALUES(?, ?, ?)");
        for (const auto& [field, value] : m.summary->headers) {
          h.reset();
          h.bind(1, body_id).bind(2, field).bind(3, value).run();
        }
      }
      row.highest_modseq += 1;
      std::uint32_t uid = row.uid_next++;
      row.count += 1;
      db_.prepare(
             "INSERT INTO messages(mailbox_id, uid, body_id, modseq, flags, keywords, "
             "internal_date, size, message_key) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(1, row.id)
          .bind(2, static_cast<std::int64_t>(uid))
          .bind(3, body_id)
          .bind(4, static_cast<std::int64_t>(row.highest_modseq))
          .bind(5, static_cast<std::int64_t>(target.flags.system))
          .bind(6, keywords_text(target.flags.keywords))
          .bind(7, m.internal_date != 0 ? m.internal_date : now_seconds())
          .bind(8, static_cast<std::int64_t>(m.size))
          .bind(9, new_message_key())
          .run();
      save_counters(row);
      used += m.size;
      target.uid_validity = row.uid_validity;
      target.uid = uid;
      any = true;
    } catch (const StoreFailure& e) {
      if (e.error() == StoreError::io) throw;
      target.error = e.error();
      target.message = e.what();
    }
  }
  return any;
}

}  // namespace portico::core::store
