// imap — SEARCH (RFC 9051 section 6.4.4; ESEARCH's RETURN options of RFC 4731, SAVE and "$" of
// RFC 5182, MODSEQ of RFC 7162), SORT and THREAD over its matches (RFC 5256: sort.h, thread.h),
// IDLE (RFC 2177), and telling the client what other sessions changed in the selected mailbox
// (RFC 9051 section 7.5.1: EXISTS, EXPUNGE, FETCH FLAGS).
//
// SEARCH reads the message list once. Header keys (HEADER, FROM, TO, CC, BCC, SUBJECT) with
// ASCII text are answered by the store's header index (values as indexed: decoded, the first
// 2,048 octets of each field). Only BODY, TEXT, SENT* and non-ASCII header text read each
// message of the mailbox, one at a time: their cost is the mailbox's octets.
#include <algorithm>

#include "message.h"
#include "session.h"
#include "sort.h"
#include "thread.h"

namespace portico::imap {

namespace {

bool uses_modseq(const SearchKey& k) {
  if (k.kind == SearchKey::Kind::modseq) return true;
  return std::any_of(k.children.begin(), k.children.end(), uses_modseq);
}

// A key matching exactly the messages of these UIDs (ascending); none: NOT ALL.
SearchKey uid_key(const std::vector<std::uint32_t>& uids) {
  SearchKey k;
  if (uids.empty()) {
    k.kind = SearchKey::Kind::not_;
    k.children = {SearchKey{}};
    return k;
  }
  k.kind = SearchKey::Kind::uid;
  for (const auto& r : as_ranges(uids))
    k.set.ranges.push_back({r.first, r.last});
  return k;
}

// Answers the header keys (FROM, TO, CC, BCC, SUBJECT, HEADER) from the store's header index,
// built at delivery from each top-level field's decoded value, instead of reading every message:
// each becomes the set of UIDs the index names. Only for ASCII text, which the index compares
// case-insensitively as SEARCH does; other text is left to the message scan.
void use_header_index(sdk::Store& store, const std::string& account, const std::string& mailbox,
                      SearchKey& key) {
  using K = SearchKey::Kind;
  std::string field;
  switch (key.kind) {
    case K::from:
      field = "from";
      break;
    case K::to:
      field = "to";
      break;
    case K::cc:
      field = "cc";
      break;
    case K::bcc:
      field = "bcc";
      break;
    case K::subject:
      field = "subject";
      break;
    case K::header:
      for (char c : key.field)
        field += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      break;
    default:
      for (auto& child : key.children)
        use_header_index(store, account, mailbox, child);
      return;
  }
  const bool ascii = std::all_of(key.text.begin(), key.text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (!ascii || field.empty() || key.text.size() > 1000) return;
  auto found = store.search_header(account, mailbox, field, key.text);
  if (!found.ok()) return;  // the scan answers instead
  key = uid_key(found.value);
}

}  // namespace

namespace {

// THREAD's data for the matches (UIDs ascending, with their numbers and keys); REFERENCES reads
// each message's header for its References field (up to its end at the store's part offsets).
std::string thread_text(sdk::Store& store, const std::string& account, const std::string& mailbox,
                        const std::string& algorithm, const std::vector<std::uint32_t>& uids,
                        const std::vector<std::uint32_t>& numbers,
                        const std::vector<SortKeys>& keys) {
  constexpr std::uint64_t kMaxHeader = 256 * 1024;
  const bool by_references = algorithm == "REFERENCES";
  std::vector<sdk::StoreResult<sdk::MessageParts>> parts;
  if (by_references) parts = store.message_parts(account, mailbox, uids);
  std::vector<ThreadInput> input(uids.size());
  for (std::size_t i = 0; i < uids.size(); ++i) {
    ThreadInput& t = input[i];
    t.number = numbers[i];
    t.date = keys[i].date;
    t.subject = keys[i].subject;
    t.reply = keys[i].reply;
    auto ids = message_ids(keys[i].message_id, 1);
    if (!ids.empty()) t.message_id = ids.front();
    if (!by_references) continue;
    if (parts[i].ok() && !parts[i].value.parts.empty()) {
      if (auto reader = store.open_message(account, mailbox, uids[i]); reader.ok()) {
        const auto end = std::min(parts[i].value.parts[0].header_end, kMaxHeader);
        auto header = reader.value->read(0, static_cast<std::size_t>(end));
        if (header.ok()) t.references = message_ids(header_value(header.value, "References"));
      }
    }
    if (t.references.empty()) t.references = message_ids(keys[i].in_reply_to, 1);
  }
  return thread(by_references ? ThreadAlgorithm::references : ThreadAlgorithm::orderedsubject,
                input);
}

}  // namespace

void ImapSession::do_search(const Command& c) {
  // "$" in a key means the saved result: UIDs either way.
  SearchKey key = c.search;
  std::vector<SearchKey*> todo{&key};
  while (!todo.empty()) {
    SearchKey* k = todo.back();
    todo.pop_back();
    if ((k->kind == SearchKey::Kind::sequence || k->kind == SearchKey::Kind::uid) && k->set.saved) {
      *k = uid_key(saved_);
    }
    for (auto& child : k->children)
      todo.push_back(&child);
  }
  const bool modseq = uses_modseq(key);
  if (modseq) condstore_ = true;
  struct Out {
    std::vector<std::uint32_t> uids;     // matching, ascending (SORT: in its order)
    std::vector<SortKeys> keys;          // SORT, THREAD: of each match
    std::vector<std::uint32_t> numbers;  // THREAD: what the response names each match by
    std::string thread;                  // THREAD: the response's data
    std::uint64_t highest_modseq = 0;
    bool failed = false;
  };
  auto out = std::make_shared<Out>();
  work(
      [store = host_.store(), account = account_, mailbox = selected_->name, view = selected_->uids,
       recent = selected_->recent, key = std::move(key), sort = c.sort,
       algorithm = c.thread_algorithm, uid = c.uid, out]() mutable {
        use_header_index(*store, account, mailbox, key);
        const bool octets = needs_octets(key);
        // SORT and THREAD need each message's ENVELOPE (its keys; RFC 5256).
        const bool keys = !sort.empty() || !algorithm.empty();
        auto infos = store->fetch(account, mailbox, {}, keys, 0);
        if (!infos.ok()) {
          out->failed = true;
          return;
        }
        SearchBounds bounds;
        bounds.max_seq = static_cast<std::uint32_t>(view.size());
        bounds.max_uid = view.empty() ? 0 : view.back();
        for (const auto& m : infos.value) {
          auto it = std::lower_bound(view.begin(), view.end(), m.uid);
          if (it == view.end() || *it != m.uid) continue;  // not announced yet
          SearchSubject subject;
          subject.seq = static_cast<std::uint32_t>(it - view.begin()) + 1;
          subject.info = &m;
          subject.recent = SelectedMailbox::in_ranges(recent, m.uid);
          std::string body;
          if (octets) {
            auto r = store->read_message(account, mailbox, m.uid);
            if (!r.ok()) continue;
            body = std::move(r.value);
            subject.octets = body;
          }
          if (matches(key, subject, bounds)) {
            out->uids.push_back(m.uid);
            out->highest_modseq = std::max(out->highest_modseq, m.modseq);
            if (keys) out->keys.push_back(sort_keys(m));
            if (!algorithm.empty()) out->numbers.push_back(uid ? m.uid : subject.seq);
          }
        }
        if (!algorithm.empty()) {
          out->thread =
              thread_text(*store, account, mailbox, algorithm, out->uids, out->numbers, out->keys);
          return;
        }
        if (!sort.empty()) {  // the matches in the order the criteria give
          std::vector<std::size_t> order(out->uids.size());
          for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
          sort_by(sort, out->keys, order);
          std::vector<std::uint32_t> sorted;
          for (std::size_t i : order)
            sorted.push_back(out->uids[i]);
          out->uids = std::move(sorted);
        }
      },
      [this, out, c, modseq] {
        if (out->failed) return complete(c, "NO", "[SERVERBUG] SEARCH failed");
        std::vector<std::uint32_t> numbers;
        for (std::uint32_t uid : out->uids)
          if (std::uint32_t n = c.uid ? uid : seq_of(uid); n != 0) numbers.push_back(n);
        if (c.name == Command::Name::thread) {
          untagged(out->thread.empty() ? "THREAD" : "THREAD " + out->thread);
          return complete(c, "OK", c.uid ? "UID THREAD completed" : "THREAD completed");
        }
        if (c.name == Command::Name::sort) {
          std::string line = "SORT";
          for (std::uint32_t n : numbers)
            line += " " + std::to_string(n);
          untagged(line);
          return complete(c, "OK", c.uid ? "UID SORT completed" : "SORT completed");
        }
        const auto& ret = c.search_return;
        auto wants = [&ret](std::string_view o) {
          return std::find(ret.begin(), ret.end(), o) != ret.end();
        };
        if (c.esearch && wants("SAVE")) saved_ = out->uids;
        if (c.esearch || rev2_) {
          bool only_save = c.esearch && ret.size() == 1 && wants("SAVE");
          if (!only_save) {
            bool all = ret.empty() || wants("ALL") || (!c.esearch && rev2_) ||
                       (ret.size() == 1 && wants("SAVE"));
            std::string line = "ESEARCH (TAG " + quote(c.tag) + ")";
            if (c.uid) line += " UID";
            if (wants("MIN") && !numbers.empty()) line += " MIN " + std::to_string(numbers.front());
            if (wants("MAX") && !numbers.empty()) line += " MAX " + std::to_string(numbers.back());
            if (wants("COUNT")) line += " COUNT " + std::to_string(numbers.size());
            if (all && !numbers.empty()) line += " ALL " + seq_set_text(numbers);
            if (modseq && !numbers.empty())
              line += " MODSEQ " + std::to_string(out->highest_modseq);
            untagged(line);
          }
        } else {
          std::string line = "SEARCH";
          for (std::uint32_t n : numbers)
            line += " " + std::to_string(n);
          if (modseq && !numbers.empty())
            line += " (MODSEQ " + std::to_string(out->highest_modseq) + ")";
          untagged(line);
        }
        complete(c, "OK", c.uid ? "UID SEARCH completed" : "SEARCH completed");
      });
}

void ImapSession::do_idle(const Command& c) {
  if (!settings_.enable_idle) return bad(c.tag, "IDLE is not enabled on this server");
  idling_ = true;
  idle_tag_ = c.tag;
  ctx_.write("+ idling\r\n");
  ctx_.set_timeouts(settings_.idle_timeout, std::chrono::milliseconds(0));
  if (selected_ && selected_->changed) sync(true, [this] { ctx_.resume_input(); });
}

void ImapSession::end_idle(bool done) {
  idling_ = false;
  use_session_timeout();
  if (done) tagged(idle_tag_, "OK", "IDLE terminated");
}

void ImapSession::on_store_change(const sdk::StoreChange& change) {
  if (!selected_ || change.mailbox != selected_->name) return;
  SelectedMailbox& b = *selected_;
  b.changed = true;
  using K = sdk::StoreChange::Kind;
  auto& into = change.kind == K::added      ? b.added
               : change.kind == K::expunged ? b.expunged
                                            : b.flagged;
  if (change.uids.empty() || into.size() + change.uids.size() > kMaxPendingUids)
    b.unknown = true;
  else
    into.insert(into.end(), change.uids.begin(), change.uids.end());
  if (idling_ && !busy_) sync(true, [this] { ctx_.resume_input(); });
}

namespace {

std::vector<std::uint32_t> sorted_unique(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

void ImapSession::sync(bool expunges, std::function<void()> done) {
  struct Out {
    std::vector<sdk::MessageInfo> messages;  // ascending UIDs
    sdk::UidRange recent{1, 0};              // claimed as \Recent with them
    bool failed = false;
    bool whole = false;  // every message of the mailbox (else only those named)
  };
  auto out = std::make_shared<Out>();
  SelectedMailbox& box = *selected_;
  // What the notifications named: new and re-flagged messages are read; expunged ones are
  // known by UID already. A notification without UIDs (or too many) reads the whole list.
  out->whole = box.unknown;
  const bool maybe_new = box.unknown || !box.added.empty();
  std::vector<std::uint32_t> wanted = sorted_unique(box.added);
  for (std::uint32_t u : box.flagged)
    wanted.push_back(u);
  wanted = sorted_unique(std::move(wanted));
  std::vector<std::uint32_t> gone = sorted_unique(box.expunged);
  box.added.clear();
  box.flagged.clear();
  box.expunged.clear();
  box.unknown = false;
  box.changed = false;
  if (!out->whole && wanted.empty() && gone.empty()) return done();
  auto apply = [this, out, expunges, gone, done = std::move(done)] {
    if (!selected_ || out->failed) return done();
    SelectedMailbox& b = *selected_;
    const auto& now = out->messages;
    auto find = [&now](std::uint32_t uid) -> const sdk::MessageInfo* {
      auto it =
          std::lower_bound(now.begin(), now.end(), uid,
                           [](const sdk::MessageInfo& m, std::uint32_t u) { return m.uid < u; });
      return it != now.end() && it->uid == uid ? &*it : nullptr;
    };
    auto is_gone = [&](std::uint32_t uid) {
      return out->whole ? find(uid) == nullptr : std::binary_search(gone.begin(), gone.end(), uid);
    };
    // Expunges (those that may not be told now wait for the next look).
    std::vector<std::uint32_t> expunged;
    for (std::uint32_t uid : b.uids)
      if (is_gone(uid)) expunged.push_back(uid);
    std::string lines;
    if (!expunges) {
      b.expunged.insert(b.expunged.end(), expunged.begin(), expunged.end());
      b.changed |= !expunged.empty();
    } else {
      lines = expunge_lines(expunged);
    }
    // Flag changes of the messages this session knows (its own changes are known already).
    for (const auto& m : now) {
      std::uint32_t seq = seq_of(m.uid);
      if (seq == 0 || m.modseq <= b.reported_modseq) continue;
      if (auto own = b.own.find(m.uid); own != b.own.end() && own->second >= m.modseq) continue;
      std::string items =
          "FLAGS " + flags_text(m.flags, b.is_recent(m.uid)) + " UID " + std::to_string(m.uid);
      if (condstore_) items += " MODSEQ (" + std::to_string(m.modseq) + ")";
      lines += "* " + std::to_string(seq) + " FETCH (" + items + ")\r\n";
    }
    // New messages: above the highest UID this session knows.
    std::uint32_t max = b.uids.empty() ? 0 : b.uids.back();
    std::size_t before = b.uids.size();
    for (const auto& m : now)
      if (m.uid > max) {
        b.uids.push_back(m.uid);
        b.uid_next = std::max(b.uid_next, m.uid + 1);
      }
    b.add_recent(out->recent);
    if (b.uids.size() != before) {
      lines += "* " + std::to_string(b.uids.size()) + " EXISTS\r\n";
      if (!rev2_) lines += "* " + std::to_string(b.recent_count()) + " RECENT\r\n";
    }
    for (const auto& m : now)
      b.highest_modseq = std::max(b.highest_modseq, m.modseq);
    // Everything up to here is known now: what this session did itself no longer needs a note.
    b.reported_modseq = std::max(b.reported_modseq, b.highest_modseq);
    std::erase_if(b.own, [&b](const auto& entry) { return entry.second <= b.reported_modseq; });
    if (!lines.empty()) ctx_.write(lines);
    done();
    // A change that came while this one was being read is told at once in IDLE.
    if (idling_ && selected_ && selected_->changed && !busy_ && expunges)
      sync(true, [this] { ctx_.resume_input(); });
  };
  if (!out->whole && wanted.empty()) return apply();  // only expunges: nothing to read
  work(
      [store = host_.store(), account = account_, mailbox = box.name, out,
       set = out->whole ? sdk::UidSet{} : as_ranges(wanted), recent = !rev2_ && maybe_new,
       claim = !box.read_only] {
        // New messages are claimed as \Recent before they are read, so that every one read is
        // either claimed here or by another session.
        if (recent)
          if (auto r = store->recent_uids(account, mailbox, claim); r.ok()) out->recent = r.value;
        auto infos = store->fetch(account, mailbox, set, false, 0);
        if (!infos.ok()) {
          out->failed = true;
          return;
        }
        out->messages = std::move(infos.value);
      },
      std::move(apply));
}

}  // namespace portico::imap
