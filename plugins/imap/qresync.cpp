// imap — QRESYNC (RFC 7162 section 3.2): ENABLE QRESYNC, SELECT/EXAMINE's QRESYNC parameter,
// UID FETCH's VANISHED modifier, and VANISHED responses in place of EXPUNGE once enabled.
//
// What was expunged since a MODSEQ comes from the store's expunge log (sdk::Store::vanished),
// kept for sdk::kExpungeLogDays; a client that was away longer gets every UID it may know that
// is gone (a superset, RFC 7162 section 3.2.5.2), never less. The message sequence match data
// of SELECT is accepted and not needed: the answer never depends on it.
#include <algorithm>

#include "session.h"

namespace portico::imap {

namespace {

// The UIDs a client names (known-uids, a UID FETCH set) as store ranges; "*" is the highest
// UID there can be (the store clamps to UIDNEXT - 1).
sdk::UidSet client_uids(const SequenceSet& set) {
  sdk::UidSet out;
  for (const auto& r : set.ranges) {
    std::uint32_t a = r.first, b = r.last;
    if (a > b) std::swap(a, b);
    out.push_back({a, b});
  }
  return out;
}

std::string ranges_text(const sdk::UidSet& set) {
  std::string out;
  for (const auto& r : set) {
    if (!out.empty()) out += ',';
    out += std::to_string(r.first);
    if (r.last != r.first) out += ':' + std::to_string(r.last);
  }
  return out;
}

// The ranges without the UIDs of `view` (ascending): what is gone for a session that still
// shows `view`. Costs the view's size, not the ranges' width.
sdk::UidSet minus_view(const sdk::UidSet& ranges, const std::vector<std::uint32_t>& view) {
  sdk::UidSet out;
  for (const auto& r : ranges) {
    std::uint64_t from = r.first;
    auto it = std::lower_bound(view.begin(), view.end(), r.first);
    for (; it != view.end() && *it <= r.last; ++it) {
      if (*it > from) out.push_back({static_cast<std::uint32_t>(from), *it - 1});
      from = static_cast<std::uint64_t>(*it) + 1;
    }
    if (from <= r.last) out.push_back({static_cast<std::uint32_t>(from), r.last});
  }
  return out;
}

}  // namespace

std::string ImapSession::expunge_lines(const std::vector<std::uint32_t>& gone) {
  std::vector<std::uint32_t> told;  // ascending UIDs removed from the view
  std::string lines;
  auto& uids = selected_->uids;
  // From the highest number down, so that each EXPUNGE's number is still right when sent.
  std::vector<std::uint32_t> sorted = gone;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = uids.size(); i-- > 0;) {
    if (!std::binary_search(sorted.begin(), sorted.end(), uids[i])) continue;
    if (!qresync_) lines += "* " + std::to_string(i + 1) + " EXPUNGE\r\n";
    told.push_back(uids[i]);
    uids.erase(uids.begin() + static_cast<std::ptrdiff_t>(i));
  }
  if (qresync_ && !told.empty()) {
    std::reverse(told.begin(), told.end());
    lines = "* VANISHED " + seq_set_text(told) + "\r\n";
  }
  return lines;
}

void ImapSession::do_select_qresync(const Command& c, std::function<void()> done) {
  // Only when the client knows this mailbox as it is (RFC 7162 section 3.2.5).
  if (!c.qresync || !selected_ || c.qresync_uidvalidity != selected_->uid_validity) return done();
  struct Out {
    sdk::VanishedUids vanished;
    std::vector<sdk::MessageInfo> changed;
    bool failed = false;
  };
  auto out = std::make_shared<Out>();
  sdk::UidSet known = c.qresync_known_uids ? client_uids(*c.qresync_known_uids) : sdk::UidSet{};
  if (c.qresync_known_uids && known.empty()) known.push_back({1, kStar});
  work(
      [store = host_.store(), account = account_, mailbox = selected_->name, known, out,
       modseq = c.qresync_modseq] {
        auto v = store->vanished(account, mailbox, known, modseq);
        auto f = store->fetch(account, mailbox, {}, false, modseq);
        if (!v.ok() || !f.ok()) {
          out->failed = true;
          return;
        }
        out->vanished = std::move(v.value);
        out->changed = std::move(f.value);
      },
      [this, out, done = std::move(done)] {
        if (!selected_) return done();
        std::string lines;
        // What is in the view was there at the listing: if it went since, the next look says so.
        sdk::UidSet gone = minus_view(out->vanished.uids, selected_->uids);
        if (!out->failed && !gone.empty())
          lines += "* VANISHED (EARLIER) " + ranges_text(gone) + "\r\n";
        for (const auto& m : out->changed) {
          std::uint32_t seq = seq_of(m.uid);
          if (seq == 0) continue;  // arrived after the listing: told by the next look
          lines += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(m.uid) + " FLAGS " +
                   flags_text(m.flags, selected_->is_recent(m.uid)) + " MODSEQ (" +
                   std::to_string(m.modseq) + "))\r\n";
        }
        if (!lines.empty()) ctx_.write(lines);
        done();
      });
}

void ImapSession::fetch_vanished(const Command& c, std::function<void()> done) {
  auto out = std::make_shared<sdk::StoreResult<sdk::VanishedUids>>();
  work([store = host_.store(), account = account_, mailbox = selected_->name, out,
        set = c.set.saved ? uid_set(c.set, true) : client_uids(c.set),
        modseq =
            c.changed_since.value_or(0)] { *out = store->vanished(account, mailbox, set, modseq); },
       [this, out, done = std::move(done)] {
         if (out->ok() && selected_) {
           // UIDs still in this session's view are not gone for it yet: they are told at the
           // next point RFC 9051 section 7 allows.
           sdk::UidSet gone = minus_view(out->value.uids, selected_->uids);
           if (!gone.empty()) untagged("VANISHED (EARLIER) " + ranges_text(gone));
         }
         done();
       });
}

}  // namespace portico::imap
