// imap — the selected state's message commands: FETCH (RFC 9051 section 6.4.5, BINARY of RFC
// 3516, MODSEQ and CHANGEDSINCE of RFC 7162), STORE (with UNCHANGEDSINCE and MODIFIED), COPY and
// MOVE (RFC 6851, with UIDPLUS's COPYUID of RFC 4315), EXPUNGE and UID EXPUNGE, CLOSE, and
// the mapping of sequence sets ("*", "$" of RFC 5182) to UIDs. SEARCH and the reporting of other
// sessions' changes are in search.cpp's neighbour, updates.cpp.
#include <algorithm>

#include "message.h"
#include "session.h"

namespace portico::imap {

namespace {

std::string section_text(const Section& s) {
  std::string out;
  for (std::uint32_t p : s.part) {
    if (!out.empty()) out += '.';
    out += std::to_string(p);
  }
  auto fields = [&s] {
    std::string f = " (";
    for (std::size_t i = 0; i < s.fields.size(); ++i)
      f += (i ? " " : "") + astring(s.fields[i]);
    return f + ")";
  };
  auto add = [&out](std::string_view t) {
    if (!out.empty()) out += '.';
    out += t;
  };
  switch (s.text) {
    case Section::Text::none:
      break;
    case Section::Text::header:
      add("HEADER");
      break;
    case Section::Text::header_fields:
      add("HEADER.FIELDS");
      out += fields();
      break;
    case Section::Text::header_fields_not:
      add("HEADER.FIELDS.NOT");
      out += fields();
      break;
    case Section::Text::text:
      add("TEXT");
      break;
    case Section::Text::mime:
      add("MIME");
      break;
  }
  return out;
}

std::string literal(std::string_view data, bool binary = false) {
  bool nul = binary && data.find('\0') != std::string_view::npos;
  return (nul ? "~{" : "{") + std::to_string(data.size()) + "}\r\n" + std::string(data);
}

std::string partial(std::string_view data, const FetchItem& item, std::string& name) {
  if (!item.partial_origin) return std::string(data);
  name += "<" + std::to_string(*item.partial_origin) + ">";
  if (*item.partial_origin >= data.size()) return {};
  return std::string(data.substr(*item.partial_origin, item.partial_count));
}

bool sets_seen(const FetchItem& i) {
  using K = FetchItem::Kind;
  return ((i.kind == K::body_section || i.kind == K::binary) && !i.peek) || i.kind == K::rfc822 ||
         i.kind == K::rfc822_text;
}

bool needs_mime(const FetchItem& i) {
  using K = FetchItem::Kind;
  return i.kind == K::envelope || i.kind == K::bodystructure || i.kind == K::body;
}

bool needs_message(const FetchItem& i) {
  using K = FetchItem::Kind;
  return i.kind == K::body_section || i.kind == K::binary || i.kind == K::binary_size ||
         i.kind == K::rfc822 || i.kind == K::rfc822_header || i.kind == K::rfc822_text;
}

// The FETCH data items of one message, without "* n FETCH (" and ")".
std::string render(const std::vector<FetchItem>& items, const sdk::MessageInfo& m,
                   const std::string* octets, bool uid, bool modseq, bool flags_changed,
                   bool& unknown_cte) {
  std::string out;
  std::optional<PartMap> parts;
  auto add = [&out](std::string_view s) {
    if (!out.empty()) out += ' ';
    out += s;
  };
  bool has_uid = false, has_flags = false, has_modseq = false;
  for (const auto& i : items) {
    has_uid |= i.kind == FetchItem::Kind::uid;
    has_flags |= i.kind == FetchItem::Kind::flags;
    has_modseq |= i.kind == FetchItem::Kind::modseq;
  }
  if (uid && !has_uid) add("UID " + std::to_string(m.uid));
  for (const auto& i : items) {
    using K = FetchItem::Kind;
    // The MIME structure is parsed only for what needs part numbers or decoding.
    const bool top = i.kind == K::body_section && i.section.part.empty();
    if ((i.kind == K::body_section || i.kind == K::binary || i.kind == K::binary_size) && !top &&
        !parts && octets != nullptr)
      parts.emplace(*octets);
    std::string_view whole = octets != nullptr ? std::string_view(*octets) : std::string_view();
    switch (i.kind) {
      case K::uid:
        add("UID " + std::to_string(m.uid));
        break;
      case K::flags:
        add("FLAGS " + flags_text(m.flags));
        break;
      case K::internaldate:
        add("INTERNALDATE " + imap_date(m.internal_date));
        break;
      case K::rfc822_size:
        add("RFC822.SIZE " + std::to_string(m.size));
        break;
      case K::envelope:
        add("ENVELOPE " + m.envelope);
        break;
      case K::bodystructure:
        add("BODYSTRUCTURE " + m.bodystructure);
        break;
      case K::body:
        add("BODY " + m.body);
        break;
      case K::modseq:
        add("MODSEQ (" + std::to_string(m.modseq) + ")");
        break;
      case K::body_section: {
        std::string name = "BODY[" + section_text(i.section) + "]";
        auto data = top && octets != nullptr ? top_level_section(*octets, i.section)
                    : parts                  ? parts->section(i.section)
                                             : std::nullopt;
        std::string cut = partial(data ? std::string_view(*data) : std::string_view(), i, name);
        add(name + " " + literal(cut));
        break;
      }
      case K::binary:
      case K::binary_size: {
        auto b = parts ? parts->binary(i.section) : PartMap::Binary{};
        if (b.status == PartMap::Binary::Status::unknown_cte) {
          unknown_cte = true;
          return {};
        }
        std::string part = section_text(i.section);
        if (i.kind == K::binary_size) {
          add("BINARY.SIZE[" + part + "] " + std::to_string(b.octets.size()));
        } else {
          std::string name = "BINARY[" + part + "]";
          std::string cut = partial(b.octets, i, name);
          add(name + " " + literal(cut, true));
        }
        break;
      }
      case K::rfc822:
        add("RFC822 " + literal(whole));
        break;
      case K::rfc822_header:
      case K::rfc822_text: {
        std::size_t end = whole.find("\r\n\r\n");
        std::size_t cut = end == std::string_view::npos ? whole.size() : end + 4;
        if (i.kind == K::rfc822_header)
          add("RFC822.HEADER " + literal(whole.substr(0, cut)));
        else
          add("RFC822.TEXT " + literal(whole.substr(cut)));
        break;
      }
    }
  }
  if (flags_changed && !has_flags) add("FLAGS " + flags_text(m.flags));
  if (modseq && !has_modseq) add("MODSEQ (" + std::to_string(m.modseq) + ")");
  return out;
}

}  // namespace

// A whole message sent in pieces: "* n FETCH (head {size}\r\n", the octets, "tail)\r\n".
struct StreamedMessage {
  std::uint32_t uid = 0;
  std::string head;  // the items before the message and its name, e.g. "UID 7 BODY[]"
  std::string tail;  // items the server adds after it (FLAGS, MODSEQ), each with a leading space
  std::unique_ptr<sdk::MessageReader> reader;
  std::uint64_t offset = 0;
};

struct ImapSession::FetchJob {
  Command command;
  std::vector<std::uint32_t> uids;  // to fetch, ascending
  std::size_t next = 0;
  bool set_seen = false;
  bool mime = false;
  bool octets = false;
  bool modseq = false;
  bool waiting = false;  // for the output to drain
  // The last item is the whole message (BODY[], BODY.PEEK[], RFC822) and the others need no
  // octets: a large message can be streamed.
  bool streamable = false;
  std::optional<StreamedMessage> stream;
};

namespace {

bool whole_message(const FetchItem& i) {
  using K = FetchItem::Kind;
  return (i.kind == K::body_section && i.section.part.empty() &&
          i.section.text == Section::Text::none && !i.partial_origin) ||
         i.kind == K::rfc822;
}

}  // namespace

std::uint32_t ImapSession::seq_of(std::uint32_t uid) const {
  if (!selected_) return 0;
  const auto& u = selected_->uids;
  auto it = std::lower_bound(u.begin(), u.end(), uid);
  if (it == u.end() || *it != uid) return 0;
  return static_cast<std::uint32_t>(it - u.begin()) + 1;
}

sdk::UidSet ImapSession::uid_set(const SequenceSet& set, bool uid) const {
  sdk::UidSet out;
  if (!selected_) return out;
  const auto& u = selected_->uids;
  if (set.saved) {
    for (std::uint32_t x : saved_)
      out.push_back({x, x});
    return out;
  }
  for (const auto& r : set.ranges) {
    if (uid) {
      std::uint32_t max = u.empty() ? 0 : u.back();
      std::uint32_t a = r.first == kStar ? max : r.first;
      std::uint32_t b = r.last == kStar ? max : r.last;
      if (a > b) std::swap(a, b);
      out.push_back({a, b});
    } else {
      if (u.empty()) continue;
      auto n = static_cast<std::uint32_t>(u.size());
      std::uint32_t a = r.first == kStar ? n : std::min(r.first, n);
      std::uint32_t b = r.last == kStar ? n : std::min(r.last, n);
      if (a > b) std::swap(a, b);
      if (a == 0) a = 1;
      out.push_back({u[a - 1], u[b - 1]});
    }
  }
  return out;
}

namespace {

// Whether a sequence-number set names only messages that exist (RFC 9051 section 9: a number
// above the count is an error).
bool valid_numbers(const SequenceSet& set, std::size_t count) {
  if (set.saved) return true;
  for (const auto& r : set.ranges)
    if ((r.first != kStar && r.first > count) || (r.last != kStar && r.last > count) ||
        r.first == 0 || r.last == 0)
      return false;
  return true;
}

bool in_set(const sdk::UidSet& set, std::uint32_t uid) {
  for (const auto& r : set)
    if (uid >= r.first && uid <= r.last) return true;
  return false;
}

}  // namespace

void ImapSession::do_fetch(const Command& c) {
  if (!c.uid && !valid_numbers(c.set, selected_->uids.size()))
    return bad(c.tag, "Invalid message sequence number");
  auto job = std::make_shared<FetchJob>();
  job->command = c;
  sdk::UidSet set = uid_set(c.set, c.uid || c.set.saved);
  for (std::uint32_t u : selected_->uids)
    if (in_set(set, u)) job->uids.push_back(u);
  for (const auto& i : c.items) {
    job->set_seen |= sets_seen(i) && !selected_->read_only;
    job->mime |= needs_mime(i);
    job->octets |= needs_message(i);
    job->modseq |= i.kind == FetchItem::Kind::modseq;
  }
  if (c.changed_since) {
    job->modseq = true;
    condstore_ = true;
  }
  job->streamable = !c.items.empty() && whole_message(c.items.back()) &&
                    std::none_of(c.items.begin(), c.items.end() - 1, needs_message);
  if (job->modseq) condstore_ = true;
  if (c.vanished && !qresync_) return bad(c.tag, "QRESYNC is not enabled");
  fetching_ = job;
  if (c.vanished) return fetch_vanished(c, [this, job] { fetch_next(job); });
  fetch_next(job);
}

void ImapSession::fetch_next(const std::shared_ptr<FetchJob>& job) {
  if (job->next >= job->uids.size()) {
    fetching_.reset();
    return complete(job->command, "OK", "FETCH completed");
  }
  struct Batch {
    std::vector<std::pair<std::uint32_t, std::string>> responses;  // uid, items
    std::vector<std::pair<std::uint32_t, std::uint64_t>> modseqs;  // uid, new modseq
    std::uint32_t stop_uid = 0;  // the first UID left for the next batch (octet budget); 0: none
    std::optional<StreamedMessage> stream;  // a large message to send in pieces after the others
    std::string error;
    bool unknown_cte = false;
  };
  auto batch = std::make_shared<Batch>();
  // Message octets go in batches; metadata alone comes in one trip.
  std::size_t end =
      job->octets ? std::min(job->uids.size(), job->next + kFetchBatchMessages) : job->uids.size();
  std::vector<std::uint32_t> uids(job->uids.begin() + static_cast<std::ptrdiff_t>(job->next),
                                  job->uids.begin() + static_cast<std::ptrdiff_t>(end));
  work(
      [store = host_.store(), account = account_, mailbox = selected_->name, job, batch, uids,
       modseq = job->modseq || condstore_, qresync = qresync_] {
        const sdk::UidSet set = as_ranges(uids);
        std::vector<std::uint32_t> seen_now;
        if (job->set_seen) {
          sdk::Flags seen;
          seen.system = sdk::flag_seen;
          auto r = store->store_flags(account, mailbox, set, sdk::FlagOperation::add, seen, 0);
          if (r.ok())
            for (const auto& m : r.value.changed)
              seen_now.push_back(m.uid);
        }
        auto infos =
            store->fetch(account, mailbox, set, job->mime, job->command.changed_since.value_or(0));
        if (!infos.ok()) {
          batch->error = infos.message;
          return;
        }
        std::size_t octets = 0;
        for (const auto& m : infos.value) {
          std::string body;
          if (job->streamable && m.size > kStreamFetchAbove) {
            if (!batch->responses.empty()) {  // told first; this one starts the next batch
              batch->stop_uid = m.uid;
              break;
            }
            auto reader = store->open_message(account, mailbox, m.uid);
            if (!reader.ok()) continue;  // expunged meanwhile: nothing to say of it
            bool changed = std::find(seen_now.begin(), seen_now.end(), m.uid) != seen_now.end();
            const auto& items = job->command.items;
            std::vector<FetchItem> before(items.begin(), items.end() - 1);
            bool cte = false;
            StreamedMessage st;
            st.uid = m.uid;
            st.head = render(before, m, nullptr, job->command.uid || qresync, false, false, cte);
            st.head += std::string(st.head.empty() ? "" : " ") +
                       (items.back().kind == FetchItem::Kind::rfc822 ? "RFC822" : "BODY[]");
            const bool has_flags = std::any_of(items.begin(), items.end(), [](const auto& i) {
              return i.kind == FetchItem::Kind::flags;
            });
            const bool has_modseq = std::any_of(items.begin(), items.end(), [](const auto& i) {
              return i.kind == FetchItem::Kind::modseq;
            });
            st.tail = render({}, m, nullptr, false,
                             modseq && (changed || job->command.changed_since) && !has_modseq,
                             changed && !has_flags, cte);
            if (!st.tail.empty()) st.tail.insert(0, " ");
            st.reader = std::move(reader.value);
            batch->stream = std::move(st);
            batch->modseqs.emplace_back(m.uid, m.modseq);
            batch->stop_uid = m.uid + 1;
            break;
          }
          if (job->octets) {
            if (octets > 0 && octets + m.size > kFetchBatchOctets) {
              batch->stop_uid = m.uid;
              break;
            }
            auto r = store->read_message(account, mailbox, m.uid);
            if (!r.ok()) continue;  // expunged meanwhile: nothing to say of it
            body = std::move(r.value);
            octets += body.size();
          }
          bool changed = std::find(seen_now.begin(), seen_now.end(), m.uid) != seen_now.end();
          bool cte = false;
          std::string text = render(
              job->command.items, m, job->octets ? &body : nullptr, job->command.uid || qresync,
              modseq && (changed || job->command.changed_since), changed, cte);
          if (cte) {
            batch->unknown_cte = true;
            return;
          }
          batch->responses.emplace_back(m.uid, std::move(text));
          batch->modseqs.emplace_back(m.uid, m.modseq);
        }
      },
      [this, job, batch] {
        if (!batch->error.empty()) {
          fetching_.reset();
          return complete(job->command, "NO", "[SERVERBUG] FETCH failed");
        }
        if (batch->unknown_cte) {
          fetching_.reset();
          return complete(job->command, "NO", "[UNKNOWN-CTE] Cannot decode the part");
        }
        std::string out;
        for (auto& [uid, text] : batch->responses) {
          std::uint32_t seq = seq_of(uid);
          if (seq == 0) continue;
          out += "* " + std::to_string(seq) + " FETCH (" + text + ")\r\n";
        }
        for (auto [uid, modseq] : batch->modseqs)  // the client has seen these flags now
          if (modseq > selected_->reported_modseq && seq_of(uid) != 0 &&
              selected_->own.size() < kMaxPendingUids)
            selected_->own[uid] = std::max(selected_->own[uid], modseq);
        ctx_.write(out);
        if (batch->stop_uid == 0) {
          job->next = job->octets ? std::min(job->uids.size(), job->next + kFetchBatchMessages)
                                  : job->uids.size();
        } else {
          auto at = std::lower_bound(job->uids.begin(), job->uids.end(), batch->stop_uid);
          job->next = static_cast<std::size_t>(at - job->uids.begin());
        }
        if (batch->stream) {
          job->stream = std::move(batch->stream);
          if (std::uint32_t seq = seq_of(job->stream->uid); seq != 0) {
            ctx_.write("* " + std::to_string(seq) + " FETCH (" + job->stream->head + " {" +
                       std::to_string(job->stream->reader->size()) + "}\r\n");
            return stream_next(job);
          }
          job->stream.reset();  // gone from the view meanwhile: nothing to say of it
        }
        if (ctx_.output_pending() >= kOutputHighWater) {
          job->waiting = true;  // on_output_drained goes on
          return;
        }
        fetch_next(job);
      });
}

void ImapSession::stream_next(const std::shared_ptr<FetchJob>& job) {
  StreamedMessage& st = *job->stream;
  const std::uint64_t size = st.reader->size();
  if (st.offset >= size) {
    ctx_.write(st.tail + ")\r\n");
    job->stream.reset();
    if (ctx_.output_pending() >= kOutputHighWater) {
      job->waiting = true;
      return;
    }
    return fetch_next(job);
  }
  if (ctx_.output_pending() >= kOutputHighWater) {
    job->waiting = true;  // on_output_drained goes on
    return;
  }
  auto piece = std::make_shared<sdk::StoreResult<std::string>>();
  work([reader = st.reader.get(), offset = st.offset,
        piece] { *piece = reader->read(offset, kStreamChunk); },
       [this, job, piece, size] {
         StreamedMessage& s = *job->stream;
         if (!piece->ok() || (piece->value.empty() && s.offset < size)) {
           // The literal's size is promised: the connection cannot go on.
           ctx_.log(sdk::LogLevel::error,
                    "FETCH: reading UID " + std::to_string(s.uid) + " failed: " + piece->message);
           fetching_.reset();
           return ctx_.close();
         }
         s.offset += piece->value.size();
         ctx_.write(piece->value);
         stream_next(job);
       });
}

void ImapSession::on_output_drained() {
  if (fetching_ && fetching_->waiting) {
    fetching_->waiting = false;
    auto job = fetching_;
    if (job->stream) return stream_next(job);
    fetch_next(job);
  }
}

void ImapSession::do_store(const Command& c) {
  if (selected_->read_only) return complete(c, "NO", "[READ-ONLY] Mailbox is read-only");
  if (!c.uid && !valid_numbers(c.set, selected_->uids.size()))
    return bad(c.tag, "Invalid message sequence number");
  if (c.unchanged_since) condstore_ = true;
  auto result = std::make_shared<sdk::StoreResult<sdk::StoreFlagsResult>>();
  sdk::FlagOperation op = c.store_op == Command::StoreOp::add      ? sdk::FlagOperation::add
                          : c.store_op == Command::StoreOp::remove ? sdk::FlagOperation::remove
                                                                   : sdk::FlagOperation::replace;
  work([store = host_.store(), account = account_, mailbox = selected_->name,
        set = uid_set(c.set, c.uid), op, flags = flags_of(c.flags), result,
        since = c.unchanged_since.value_or(
            0)] { *result = store->store_flags(account, mailbox, set, op, flags, since); },
       [this, result, c] {
         if (!result->ok()) return complete(c, "NO", "[SERVERBUG] STORE failed");
         for (const auto& m : result->value.changed) {
           std::uint32_t seq = seq_of(m.uid);
           if (seq == 0) continue;
           selected_->own[m.uid] = m.modseq;
           if (c.silent && !condstore_) continue;
           std::string items;
           if (!c.silent) items = "FLAGS " + flags_text(m.flags);
           if (c.uid || qresync_)
             items += std::string(items.empty() ? "" : " ") + "UID " + std::to_string(m.uid);
           if (condstore_)
             items += std::string(items.empty() ? "" : " ") + "MODSEQ (" +
                      std::to_string(m.modseq) + ")";
           untagged(std::to_string(seq) + " FETCH (" + items + ")");
         }
         if (!result->value.modified.empty()) {
           std::vector<std::uint32_t> numbers;
           for (std::uint32_t uid : result->value.modified)
             if (std::uint32_t n = c.uid ? uid : seq_of(uid); n != 0) numbers.push_back(n);
           std::sort(numbers.begin(), numbers.end());
           return complete(c, "OK",
                           "[MODIFIED " + seq_set_text(numbers) + "] Conditional STORE failed");
         }
         complete(c, "OK", "STORE completed");
       });
}

void ImapSession::do_copy(const Command& c, bool move) {
  if (!c.uid && !valid_numbers(c.set, selected_->uids.size()))
    return bad(c.tag, "Invalid message sequence number");
  if (move && selected_->read_only) return complete(c, "NO", "[READ-ONLY] Mailbox is read-only");
  auto result = std::make_shared<sdk::StoreResult<sdk::CopyResult>>();
  work(
      [store = host_.store(), account = account_, from = selected_->name,
       set = uid_set(c.set, c.uid), to = store_mailbox(c.mailbox), result, move] {
        *result = move ? store->move(account, from, set, to) : store->copy(account, from, set, to);
      },
      [this, result, c, move] {
        const char* what = move ? "MOVE" : "COPY";
        if (!result->ok()) {
          if (result->error == sdk::StoreError::not_found)
            return complete(c, "NO", "[TRYCREATE] No such mailbox");
          if (result->error == sdk::StoreError::over_quota)
            return complete(c, "NO", "[OVERQUOTA] Quota exceeded");
          return complete(c, "NO", std::string("[SERVERBUG] ") + what + " failed");
        }
        const auto& r = result->value;
        // Into the selected mailbox itself: the copies are told before the OK.
        if (selected_ && selected_->name == store_mailbox(c.mailbox)) {
          for (const auto& [from, to] : r.uids)
            selected_->added.push_back(to);
          selected_->changed = true;
        }
        std::string code;
        if (!r.uids.empty()) {
          std::string from, to;
          for (const auto& [a, b] : r.uids) {
            from += (from.empty() ? "" : ",") + std::to_string(a);
            to += (to.empty() ? "" : ",") + std::to_string(b);
          }
          code = "[COPYUID " + std::to_string(r.uid_validity) + " " + from + " " + to + "] ";
        }
        if (!move) return complete(c, "OK", code + "COPY completed");
        if (!code.empty()) untagged("OK " + code + "Moved");
        std::vector<std::uint32_t> moved;
        for (const auto& [a, b] : r.uids)
          moved.push_back(a);
        ctx_.write(expunge_lines(moved));
        complete(c, "OK", "MOVE completed");
      });
}

void ImapSession::do_expunge(const Command& c) {
  if (selected_->read_only) return complete(c, "NO", "[READ-ONLY] Mailbox is read-only");
  auto result = std::make_shared<sdk::StoreResult<std::vector<std::uint32_t>>>();
  sdk::UidSet set = c.uid ? uid_set(c.set, true) : sdk::UidSet{};
  work([store = host_.store(), account = account_, mailbox = selected_->name, set,
        result] { *result = store->expunge(account, mailbox, set); },
       [this, result, c] {
         if (!result->ok()) return complete(c, "NO", "[SERVERBUG] EXPUNGE failed");
         ctx_.write(expunge_lines(result->value));
         complete(c, "OK", "EXPUNGE completed");
       });
}

void ImapSession::do_close(const Command& c) {
  if (selected_->read_only) {
    close_mailbox();
    state_ = State::authenticated;
    return complete(c, "OK", "CLOSE completed");
  }
  auto result = std::make_shared<sdk::StoreResult<std::vector<std::uint32_t>>>();
  work([store = host_.store(), account = account_, mailbox = selected_->name,
        result] { *result = store->expunge(account, mailbox, {}); },
       [this, c] {
         // RFC 9051 section 6.4.1: no untagged EXPUNGE for what CLOSE removes.
         close_mailbox();
         state_ = State::authenticated;
         complete(c, "OK", "CLOSE completed");
       });
}

}  // namespace portico::imap
