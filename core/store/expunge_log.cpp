// Portico core — the log of expunged UIDs of each mailbox, and what QRESYNC asks of it
// (RFC 7162 section 3.2.5.2 and 3.2.6: VANISHED (EARLIER)).
//
// Every expunge (EXPUNGE, UID EXPUNGE, the source side of MOVE) logs each UID with the MODSEQ
// of the change and the time. Entries older than sdk::kExpungeLogDays are dropped by the next
// expunge of the same mailbox, in the same transaction, and the mailbox's expunge_floor rises
// to the highest MODSEQ dropped: a question about changes since a MODSEQ at or above the floor
// is answered from the log exactly; one from below it is answered with every UID asked for that
// is missing from the mailbox, which includes everything expunged since (never less).
#include <algorithm>
#include <chrono>

#include "core/store/account.h"

namespace portico::core::store {

namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Ascending, merged ranges; `last` clamped to `max` (ranges wholly above it dropped). Empty
// input means every UID up to max.
sdk::UidSet normalized(const sdk::UidSet& in, std::uint32_t max) {
  sdk::UidSet v;
  if (in.empty()) {
    if (max > 0) v.push_back({1, max});
    return v;
  }
  for (const auto& r : in) {
    std::uint32_t a = std::min(r.first, r.last), b = std::max(r.first, r.last);
    if (a == 0) a = 1;
    b = std::min(b, max);
    if (a <= b) v.push_back({a, b});
  }
  std::sort(v.begin(), v.end(),
            [](const sdk::UidRange& x, const sdk::UidRange& y) { return x.first < y.first; });
  sdk::UidSet out;
  for (const auto& r : v) {
    if (!out.empty() && static_cast<std::uint64_t>(out.back().last) + 1 >= r.first)
      out.back().last = std::max(out.back().last, r.last);
    else
      out.push_back(r);
  }
  return out;
}

// Appends first..last (ascending, above what the set holds) to ascending ranges.
void add_range(sdk::UidSet& set, std::uint64_t first, std::uint64_t last) {
  if (first > last) return;
  auto a = static_cast<std::uint32_t>(first), b = static_cast<std::uint32_t>(last);
  if (!set.empty() && static_cast<std::uint64_t>(set.back().last) + 1 == first)
    set.back().last = b;
  else
    set.push_back({a, b});
}

}  // namespace

void Account::log_expunged(std::int64_t mailbox_id, const std::vector<std::uint32_t>& uids,
                           std::uint64_t modseq) {
  const std::int64_t now = now_seconds();
  auto log = db_.prepare("INSERT INTO expunged(mailbox_id, uid, modseq, at) VALUES(?, ?, ?, ?)");
  for (auto uid : uids) {
    log.reset();
    log.bind(1, mailbox_id)
        .bind(2, static_cast<std::int64_t>(uid))
        .bind(3, static_cast<std::int64_t>(modseq))
        .bind(4, now)
        .run();
  }
  const std::int64_t cutoff = now - sdk::kExpungeLogDays * 24 * 3600;
  // Entries are logged in MODSEQ order: the oldest one (one row of the index) says whether
  // anything is due, so an expunge does not scan the log when nothing is.
  auto oldest = db_.prepare("SELECT at FROM expunged WHERE mailbox_id = ? ORDER BY modseq LIMIT 1");
  oldest.bind(1, mailbox_id);
  if (!oldest.step() || oldest.int64(0) >= cutoff) return;
  auto old = db_.prepare("SELECT max(modseq) FROM expunged WHERE mailbox_id = ? AND at < ?");
  old.bind(1, mailbox_id).bind(2, cutoff);
  if (!old.step() || old.is_null(0)) return;
  const std::int64_t floor = old.int64(0);
  db_.prepare("DELETE FROM expunged WHERE mailbox_id = ? AND modseq <= ?")
      .bind(1, mailbox_id)
      .bind(2, floor)
      .run();
  db_.prepare("UPDATE mailboxes SET expunge_floor = max(expunge_floor, ?) WHERE id = ?")
      .bind(1, floor)
      .bind(2, mailbox_id)
      .run();
}

sdk::VanishedUids Account::vanished(const std::string& mailbox, const sdk::UidSet& uids,
                                    std::uint64_t modseq) {
  std::string name = normalize_mailbox(mailbox);
  std::lock_guard lock(mutex);
  Transaction tx(db_, false);  // one snapshot: the floor, the log and the messages agree
  MailboxRow row = require(name);
  auto f = db_.prepare("SELECT expunge_floor FROM mailboxes WHERE id = ?");
  f.bind(1, row.id);
  const std::uint64_t floor = f.step() ? static_cast<std::uint64_t>(f.int64(0)) : 0;
  const sdk::UidSet asked = normalized(uids, row.uid_next > 0 ? row.uid_next - 1 : 0);
  sdk::VanishedUids out;
  if (asked.empty()) return out;
  if (modseq >= floor) {
    auto st = db_.prepare(
        "SELECT DISTINCT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? "
        "AND " +
        uid_condition(asked) + " ORDER BY uid");
    st.bind(1, row.id).bind(2, static_cast<std::int64_t>(modseq));
    while (st.step()) {
      const auto uid = static_cast<std::uint64_t>(st.int64(0));
      add_range(out.uids, uid, uid);
    }
    return out;
  }
  out.from_log = false;
  // The ranges asked for, minus the UIDs present (ascending, all within `asked`).
  auto st = db_.prepare("SELECT uid FROM messages WHERE mailbox_id = ? AND " +
                        uid_condition(asked) + " ORDER BY uid");
  st.bind(1, row.id);
  std::size_t i = 0;
  std::uint64_t cur = asked.front().first;  // the lowest UID of asked[i] not yet accounted for
  auto next_range = [&] {
    if (++i < asked.size()) cur = asked[i].first;
  };
  while (st.step()) {
    const auto present = static_cast<std::uint64_t>(st.int64(0));
    while (i < asked.size() && asked[i].last < present) {
      add_range(out.uids, cur, asked[i].last);
      next_range();
    }
    if (i == asked.size()) break;
    if (present > cur) add_range(out.uids, cur, present - 1);
    cur = present + 1;
    if (cur > asked[i].last) next_range();
  }
  while (i < asked.size()) {
    add_range(out.uids, cur, asked[i].last);
    next_range();
  }
  return out;
}

}  // namespace portico::core::store
