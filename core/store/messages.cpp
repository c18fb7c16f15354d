// Portico core — message operations of an account: FETCH metadata,
// STORE (RFC 3501 6.4.6, RFC 7162 UNCHANGEDSINCE and MODSEQ), COPY/MOVE (RFC 4315 COPYUID,
// RFC 6851), EXPUNGE / UID EXPUNGE, and header SEARCH from the index. See account.h for the
// invariants.
#include "core/store/account.h"

#include <algorithm>

#include "core/store/files.h"

namespace portico::core::store {

namespace {

using sdk::StoreError;

std::string like_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

std::vector<sdk::MessageInfo> Account::fetch(const std::string& mailbox, const sdk::UidSet& uids,
                                             bool with_mime, std::uint64_t changed_since) {
  std::string name = normalize_mailbox(mailbox);
  std::lock_guard lock(mutex);
  MailboxRow row = require(name);
  std::string sql =
      "SELECT m.uid, m.modseq, m.flags, m.keywords, m.internal_date, m.size, m.message_key";
  sql += with_mime ? ", b.envelope, b.bodystructure, b.body FROM messages m JOIN bodies b ON "
                     "b.id = m.body_id"
                   : " FROM messages m";
  sql += " WHERE m.mailbox_id = ? AND m.modseq > ? AND " + uid_condition(uids) + " ORDER BY m.uid";
  auto st = db_.prepare(sql);
  st.bind(1, row.id).bind(2, static_cast<std::int64_t>(changed_since));
  std::vector<sdk::MessageInfo> out;
  while (st.step()) {
    sdk::MessageInfo info;
    info.uid = static_cast<std::uint32_t>(st.int64(0));
    info.modseq = static_cast<std::uint64_t>(st.int64(1));
    info.flags.system = static_cast<std::uint32_t>(st.int64(2));
    info.flags.keywords = keywords_list(st.text(3));
    info.internal_date = st.int64(4);
    info.size = static_cast<std::uint64_t>(st.int64(5));
    info.id = st.text(6);
    if (with_mime) {
      info.envelope = st.text(7);
      info.bodystructure = st.text(8);
      info.body = st.text(9);
    }
    out.push_back(std::move(info));
  }
  return out;
}

Body Account::body(const std::string& mailbox, std::uint32_t uid) {
  auto found = bodies_of(mailbox, {uid});
  if (!found[0]) fail(StoreError::not_found, "no message with UID " + std::to_string(uid));
  return std::move(*found[0]);
}

std::vector<std::optional<Body>> Account::bodies_of(const std::string& mailbox,
                                                    const std::vector<std::uint32_t>& uids) {
  std::string name = normalize_mailbox(mailbox);
  std::lock_guard lock(mutex);
  Transaction snapshot(db_, false);
  MailboxRow row = require(name);
  std::vector<std::optional<Body>> out;
  out.reserve(uids.size());
  for (const auto uid : uids) {
    auto st = db_.prepare(
        "SELECT b.file, b.data IS NOT NULL, b.data, b.size, b.parts IS NOT NULL, b.parts "
        "FROM messages m JOIN bodies b "
        "ON b.id = m.body_id WHERE m.mailbox_id = ? AND m.uid = ?");
    st.bind(1, row.id).bind(2, static_cast<std::int64_t>(uid));
    if (!st.step()) {
      out.emplace_back();
      continue;
    }
    Body body;
    if (st.int64(1) != 0) {
      body.data = st.blob(2);
    } else {
      body.file = bodies() / st.text(0);
    }
    body.size = static_cast<std::uint64_t>(st.int64(3));
    if (st.int64(4) != 0) body.parts = st.text(5);
    out.emplace_back(std::move(body));
  }
  snapshot.commit();
  return out;
}

sdk::StoreFlagsResult Account::store_flags(const std::string& mailbox, const sdk::UidSet& uids,
                                           sdk::FlagOperation op, const sdk::Flags& flags,
                                           std::uint64_t unchanged_since) {
  std::string name = normalize_mailbox(mailbox);
  sdk::StoreFlagsResult result;
  {
    std::lock_guard lock(mutex);
    Transaction tx(db_);
    MailboxRow row = require(name);
    auto st = db_.prepare(
        "SELECT uid, modseq, flags, keywords, internal_date, size, message_key FROM messages "
        "WHERE mailbox_id = ? AND " +
        uid_condition(uids) + " ORDER BY uid");
    st.bind(1, row.id);
    std::uint64_t modseq = row.highest_modseq + 1;
    while (st.step()) {
      sdk::MessageInfo info;
      info.uid = static_cast<std::uint32_t>(st.int64(0));
      info.modseq = static_cast<std::uint64_t>(st.int64(1));
      if (unchanged_since != 0 && info.modseq > unchanged_since) {
        result.modified.push_back(info.uid);
        continue;
      }
      sdk::Flags before{static_cast<std::uint32_t>(st.int64(2)), keywords_list(st.text(3))};
      sdk::Flags after = before;
      if (op == sdk::FlagOperation::replace) {
        after = flags;
      } else if (op == sdk::FlagOperation::add) {
        after.system |= flags.system;
        after.keywords.insert(after.keywords.end(), flags.keywords.begin(), flags.keywords.end());
      } else {
        after.system &= ~flags.system;
        std::erase_if(after.keywords, [&](const std::string& k) {
          return std::find(flags.keywords.begin(), flags.keywords.end(), k) != flags.keywords.end();
        });
      }
      after.keywords = keywords_list(keywords_text(after.keywords));
      if (after == before) continue;  // RFC 7162 3.1.3: no change, no new MODSEQ
      info.modseq = modseq;
      info.flags = after;
      info.internal_date = st.int64(4);
      info.size = static_cast<std::uint64_t>(st.int64(5));
      info.id = st.text(6);
      result.changed.push_back(std::move(info));
    }
    if (result.changed.empty()) return result;
    auto up = db_.prepare(
        "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?");
    for (const auto& info : result.changed) {
      up.reset();
      up.bind(1, static_cast<std::int64_t>(info.flags.system))
          .bind(2, keywords_text(info.flags.keywords))
          .bind(3, static_cast<std::int64_t>(modseq))
          .bind(4, row.id)
          .bind(5, static_cast<std::int64_t>(info.uid))
          .run();
    }
    row.highest_modseq = modseq;
    save_counters(row);
    tx.commit();
  }
  announce();
  return result;
}

sdk::CopyResult Account::copy(const std::string& from_name, const sdk::UidSet& uids,
                              const std::string& to_name, bool move) {
  std::string from = normalize_mailbox(from_name);
  std::string to = normalize_mailbox(to_name);
  sdk::CopyResult result;
  {
    std::lock_guard lock(mutex);
    Transaction tx(db_);
    MailboxRow source = require(from);
    auto found = find(to);
    if (!found) fail(StoreError::not_found, "[TRYCREATE] no mailbox '" + to_name + "'");
    MailboxRow target = *found;
    result.uid_validity = target.uid_validity;
    auto st = db_.prepare(
        "SELECT uid, body_id, flags, keywords, internal_date, size FROM messages "
        "WHERE mailbox_id = ? AND " +
        uid_condition(uids) + " ORDER BY uid");
    st.bind(1, source.id);
    auto ins = db_.prepare(
        "INSERT INTO messages(mailbox_id, uid, body_id, modseq, flags, keywords, internal_date, "
        "size, message_key) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    bool same = source.id == target.id;
    std::uint64_t target_modseq = target.highest_modseq + 1;
    while (st.step()) {
      std::uint32_t uid = target.uid_next++;
      ins.reset();
      ins.bind(1, target.id)
          .bind(2, static_cast<std::int64_t>(uid))
          .bind(3, st.int64(1))
          .bind(4, static_cast<std::int64_t>(target_modseq))
          .bind(5, st.int64(2))
          .bind(6, st.text(3))
          .bind(7, st.int64(4))
          .bind(8, st.int64(5))
          .bind(9, new_message_key())
          .run();
      result.uids.emplace_back(static_cast<std::uint32_t>(st.int64(0)), uid);
    }
    if (result.uids.empty()) return result;
    target.count += static_cast<std::uint32_t>(result.uids.size());
    target.highest_modseq = target_modseq;
    if (same) source = target;
    if (move) {
      std::uint64_t source_modseq = source.highest_modseq + 1;
      auto del = db_.prepare("DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
      std::vector<std::uint32_t> moved;
      for (auto [old_uid, new_uid] : result.uids) {
        del.reset();
        del.bind(1, source.id).bind(2, static_cast<std::int64_t>(old_uid)).run();
        moved.push_back(old_uid);
      }
      log_expunged(source.id, moved, source_modseq);
      source.count -= static_cast<std::uint32_t>(result.uids.size());
      source.highest_modseq = source_modseq;
      if (same) target = source;
    }
    save_counters(target);
    if (!same) save_counters(source);
    tx.commit();
  }
  announce();
  return result;
}

std::vector<std::uint32_t> Account::expunge(const std::string& mailbox, const sdk::UidSet& uids) {
  std::string name = normalize_mailbox(mailbox);
  std::vector<std::uint32_t> gone;
  std::vector<std::string> files;
  {
    std::lock_guard lock(mutex);
    Transaction tx(db_);
    MailboxRow row = require(name);
    std::vector<std::int64_t> body_ids;
    auto st = db_.prepare(
        "SELECT uid, body_id FROM messages WHERE mailbox_id = ? AND (flags & 8) != 0 AND " +
        uid_condition(uids) + " ORDER BY uid");
    st.bind(1, row.id);
    while (st.step()) {
      gone.push_back(static_cast<std::uint32_t>(st.int64(0)));
      body_ids.push_back(st.int64(1));
    }
    if (gone.empty()) return gone;
    std::uint64_t modseq = row.highest_modseq + 1;
    auto del = db_.prepare("DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
    for (auto uid : gone) {
      del.reset();
      del.bind(1, row.id).bind(2, static_cast<std::int64_t>(uid)).run();
    }
    log_expunged(row.id, gone, modseq);
    row.highest_modseq = modseq;
    row.count -= static_cast<std::uint32_t>(gone.size());
    save_counters(row);
    files = drop_unreferenced(body_ids);
    tx.commit();
  }
  unlink_bodies(files);
  announce();
  return gone;
}

std::vector<std::uint32_t> Account::search_header(const std::string& mailbox,
                                                  const std::string& field,
                                                  const std::string& text) {
  std::string name = normalize_mailbox(mailbox);
  std::string f = field;
  for (auto& c : f)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::lock_guard lock(mutex);
  MailboxRow row = require(name);
  auto st = db_.prepare(
      "SELECT m.uid FROM messages m WHERE m.mailbox_id = ? AND EXISTS (SELECT 1 FROM headers h "
      "WHERE h.body_id = m.body_id AND h.field = ? AND h.value LIKE ? ESCAPE '\\') "
      "ORDER BY m.uid");
  st.bind(1, row.id).bind(2, f).bind(3, like_pattern(text));
  std::vector<std::uint32_t> out;
  while (st.step())
    out.push_back(static_cast<std::uint32_t>(st.int64(0)));
  return out;
}

std::vector<std::uint32_t> Account::expunged_since(std::int64_t mailbox_id, std::uint64_t modseq) {
  auto st =
      db_.prepare("SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid");
  st.bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(modseq));
  std::vector<std::uint32_t> out;
  while (st.step())
    out.push_back(static_cast<std::uint32_t>(st.int64(0)));
  return out;
}

std::vector<std::pair<std::uint32_t, std::uint64_t>> Account::changed_since(std::int64_t mailbox_id,
                                                                            std::uint64_t modseq) {
  auto st = db_.prepare(
      "SELECT uid, modseq FROM messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid");
  st.bind(1, mailbox_id).bind(2, static_cast<std::int64_t>(modseq));
  std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
  while (st.step()) {
    out.emplace_back(static_cast<std::uint32_t>(st.int64(0)),
                     static_cast<std::uint64_t>(st.int64(1)));
  }
  return out;
}

}  // namespace portico::core::store
