// imap — the selected state's message commands: FETCH (RFC 9051 section 6.4.5, BINARY of RFC
// 3516, MODSEQ and CHANGEDSINCE of RFC 7162), STORE (with UNCHANGEDSINCE and MODIFIED), COPY and
// MOVE (RFC 6851, with UIDPLUS's COPYUID of RFC 4315), EXPUNGE and UID EXPUNGE, CLOSE, and
// the mapping of sequence sets ("*", "$" of RFC 5182) to UIDs. SEARCH and the reporting of other
// sessions' changes are in search.cpp's neighbour, updates.cpp. FETCH reads a small message
// whole and of a larger one only the octets its items name, at the part offsets the store keeps
// (message.h); a run above kStreamFetchAbove (BODY[], BODY[2], RFC822.TEXT...) is streamed from
// the store's reader as the output drains.
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

// The name of a FETCH item that carries octets, as the response names it ("BODY[1.MIME]<0>").
std::string item_name(const FetchItem& i) {
  using K = FetchItem::Kind;
  std::string name = i.kind == K::rfc822          ? "RFC822"
                     : i.kind == K::rfc822_header ? "RFC822.HEADER"
                     : i.kind == K::rfc822_text   ? "RFC822.TEXT"
                     : i.kind == K::binary        ? "BINARY[" + section_text(i.section) + "]"
                                                  : "BODY[" + section_text(i.section) + "]";
  if (i.partial_origin) name += "<" + std::to_string(*i.partial_origin) + ">";
  return name;
}

// <origin.count> of octets already cut out (HEADER.FIELDS, BINARY).
std::string partial(std::string data, const FetchItem& item) {
  if (!item.partial_origin) return data;
  if (*item.partial_origin >= data.size()) return {};
  return data.substr(*item.partial_origin, item.partial_count);
}

// The range of an item whose octets are the message's as they are, after its <partial>;
// nullopt for other items and for parts that do not exist.
std::optional<OctetRange> plain_item_range(const FetchItem& i, const PartMap& map) {
  using K = FetchItem::Kind;
  std::optional<OctetRange> r;
  switch (i.kind) {
    case K::rfc822:
      r = map.section(Section{});
      break;
    case K::rfc822_header:
    case K::rfc822_text: {
      Section s;
      s.text = i.kind == K::rfc822_header ? Section::Text::header : Section::Text::text;
      r = map.section(s);
      break;
    }
    case K::body_section:
      if (plain_range(i.section)) r = map.section(i.section);
      break;
    default:
      break;
  }
  if (r && i.partial_origin) {
    r->begin = std::min(r->begin + *i.partial_origin, r->end);
    r->end = std::min<std::uint64_t>(r->begin + i.partial_count, r->end);
  }
  return r;
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

// Whether an item needs the store's part offsets (any section but the whole message).
bool needs_parts(const FetchItem& i) {
  using K = FetchItem::Kind;
  const bool whole = i.section.part.empty() && i.section.text == Section::Text::none;
  return ((i.kind == K::body_section || i.kind == K::binary || i.kind == K::binary_size) &&
          !whole) ||
         i.kind == K::rfc822_header || i.kind == K::rfc822_text;
}

// One message's octets as FETCH reads them: the whole message when it is small (one read),
// else just the ranges the items name, from the store's reader.
class Octets {
 public:
  explicit Octets(std::string whole) : whole_(std::move(whole)) {}
  explicit Octets(std::unique_ptr<sdk::MessageReader> reader) : reader_(std::move(reader)) {}

  std::string read(OctetRange r) const {
    if (!reader_) {
      if (r.begin >= whole_.size()) return {};
      return whole_.substr(r.begin, r.size());
    }
    std::string out;
    while (out.size() < r.size()) {
      auto piece = reader_->read(r.begin + out.size(), r.size() - out.size());
      if (!piece.ok() || piece.value.empty()) break;  // expunged or damaged: what was read
      out += piece.value;
    }
    return out;
  }

 private:
  std::string whole_;  // the message, when there is no reader
  std::unique_ptr<sdk::MessageReader> reader_;
};

// The octets the items read: their ranges added up (overlaps counted twice).
std::uint64_t octets_needed(const std::vector<FetchItem>& items, const PartMap& map) {
  using K = FetchItem::Kind;
  std::uint64_t total = 0;
  for (const auto& i : items) {
    if (auto r = plain_item_range(i, map)) {
      total += r->size();
    } else if (i.kind == K::body_section) {
      if (auto h = map.section(i.section)) total += h->size();
    } else if (i.kind == K::binary || i.kind == K::binary_size) {
      total += map.binary(i.section).content.size();
    }
  }
  return total;
}

// The FETCH data items of one message, without "* n FETCH (" and ")".
std::string render(const std::vector<FetchItem>& items, const sdk::MessageInfo& m,
                   const PartMap* map, const Octets* octets, bool uid, bool modseq,
                   bool flags_changed, bool recent, bool& unknown_cte) {
  std::string out;
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
    switch (i.kind) {
      case K::uid:
        add("UID " + std::to_string(m.uid));
        break;
      case K::flags:
        add("FLAGS " + flags_text(m.flags, recent));
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
      case K::body_section:
      case K::rfc822:
      case K::rfc822_header:
      case K::rfc822_text: {
        std::string data;
        if (map != nullptr && octets != nullptr) {
          if (auto r = plain_item_range(i, *map))
            data = octets->read(*r);
          else if (auto h = map->section(i.section))  // HEADER.FIELDS(.NOT)
            data = partial(section_octets(i.section, octets->read(*h)), i);
        }
        add(item_name(i) + " " + literal(data));
        break;
      }
      case K::binary:
      case K::binary_size: {
        auto b = map ? map->binary(i.section) : PartMap::Binary{};
        if (b.status == PartMap::Binary::Status::unknown_cte) {
          unknown_cte = true;
          return {};
        }
        std::string decoded;
        if (b.status == PartMap::Binary::Status::ok && octets != nullptr)
          decoded = decode(octets->read(b.content), b.encoding).value_or("");
        if (i.kind == K::binary_size) {
          add("BINARY.SIZE[" + section_text(i.section) + "] " + std::to_string(decoded.size()));
        } else {
          add(item_name(i) + " " + literal(partial(std::move(decoded), i), true));
        }
        break;
      }
    }
  }
  if (flags_changed && !has_flags) add("FLAGS " + flags_text(m.flags, recent));
  if (modseq && !has_modseq) add("MODSEQ (" + std::to_string(m.modseq) + ")");
  return out;
}

}  // namespace

// A large run of a message's octets sent in pieces: "* n FETCH (head {size}\r\n", the octets,
// "tail)\r\n".
struct StreamedMessage {
  std::uint32_t uid = 0;
  std::string head;  // the items before the octets and their name, e.g. "UID 7 BODY[2]"
  std::string tail;  // items the server adds after it (FLAGS, MODSEQ), each with a leading space
  std::unique_ptr<sdk::MessageReader> reader;
  std::uint64_t offset = 0;  // the next octet to send
  std::uint64_t end = 0;     // past the last
};

struct ImapSession::FetchJob {
  Command command;
  std::vector<std::uint32_t> uids;  // to fetch, ascending
  std::size_t next = 0;
  bool set_seen = false;
  bool mime = false;
  bool octets = false;
  bool parts = false;  // some item needs the store's part offsets
  sdk::UidSet recent;  // the session's \Recent UIDs
  bool modseq = false;
  bool waiting = false;  // for the output to drain
  // The last item sends a run of the message's octets as they are (BODY[section]<partial> but
  // HEADER.FIELDS, RFC822, RFC822.HEADER, RFC822.TEXT) and the others need no octets: a large
  // run can be streamed.
  bool streamable = false;
  std::optional<StreamedMessage> stream;
};

namespace {

bool plain_item(const FetchItem& i) {
  using K = FetchItem::Kind;
  return (i.kind == K::body_section && plain_range(i.section)) || i.kind == K::rfc822 ||
         i.kind == K::rfc822_header || i.kind == K::rfc822_text;
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

}  // namespace

void ImapSession::do_fetch(const Command& c) {
  if (!c.uid && !valid_numbers(c.set, selected_->uids.size()))
    return bad(c.tag, "Invalid message sequence number");
  auto job = std::make_shared<FetchJob>();
  job->command = c;
  job->recent = selected_->recent;
  sdk::UidSet set = uid_set(c.set, c.uid || c.set.saved);
  for (std::uint32_t u : selected_->uids)
    if (SelectedMailbox::in_ranges(set, u)) job->uids.push_back(u);
  for (const auto& i : c.items) {
    job->set_seen |= sets_seen(i) && !selected_->read_only;
    job->mime |= needs_mime(i);
    job->octets |= needs_message(i);
    job->parts |= needs_parts(i);
    job->modseq |= i.kind == FetchItem::Kind::modseq;
  }
  if (c.changed_since) {
    job->modseq = true;
    condstore_ = true;
  }
  job->streamable = !c.items.empty() && plain_item(c.items.back()) &&
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
        std::vector<sdk::StoreResult<sdk::MessageParts>> parts;
        if (job->parts) {
          std::vector<std::uint32_t> found;
          for (const auto& m : infos.value)
            found.push_back(m.uid);
          parts = store->message_parts(account, mailbox, found);
        }
        const auto& items = job->command.items;
        std::uint64_t octets = 0;
        for (std::size_t k = 0; k < infos.value.size(); ++k) {
          const auto& m = infos.value[k];
          sdk::MessageParts offsets;
          offsets.size = m.size;
          if (job->parts) {
            if (!parts[k].ok()) continue;  // expunged meanwhile: nothing to say of it
            offsets = std::move(parts[k].value);
          }
          const PartMap map(std::move(offsets));
          const bool changed = std::find(seen_now.begin(), seen_now.end(), m.uid) != seen_now.end();
          const bool recent = SelectedMailbox::in_ranges(job->recent, m.uid);
          const auto run = job->streamable ? plain_item_range(items.back(), map) : std::nullopt;
          if (run && run->size() > kStreamFetchAbove) {
            if (!batch->responses.empty()) {  // told first; this one starts the next batch
              batch->stop_uid = m.uid;
              break;
            }
            auto reader = store->open_message(account, mailbox, m.uid);
            if (!reader.ok()) continue;  // expunged meanwhile: nothing to say of it
            std::vector<FetchItem> before(items.begin(), items.end() - 1);
            bool cte = false;
            StreamedMessage st;
            st.uid = m.uid;
            st.head = render(before, m, nullptr, nullptr, job->command.uid || qresync, false, false,
                             recent, cte);
            st.head += std::string(st.head.empty() ? "" : " ") + item_name(items.back());
            const bool has_flags = std::any_of(items.begin(), items.end(), [](const auto& i) {
              return i.kind == FetchItem::Kind::flags;
            });
            const bool has_modseq = std::any_of(items.begin(), items.end(), [](const auto& i) {
              return i.kind == FetchItem::Kind::modseq;
            });
            st.tail = render({}, m, nullptr, nullptr, false,
                             modseq && (changed || job->command.changed_since) && !has_modseq,
                             changed && !has_flags, recent, cte);
            if (!st.tail.empty()) st.tail.insert(0, " ");
            st.reader = std::move(reader.value);
            st.offset = run->begin;
            st.end = run->end;
            batch->stream = std::move(st);
            batch->modseqs.emplace_back(m.uid, m.modseq);
            batch->stop_uid = m.uid + 1;
            break;
          }
          std::optional<Octets> source;
          if (job->octets) {
            // A small message is read whole (one read, often from the database); of a larger
            // one only the ranges the items name.
            const bool whole = m.size <= kFetchWholeBelow;
            const std::uint64_t cost = whole ? m.size : octets_needed(items, map);
            if (octets > 0 && octets + cost > kFetchBatchOctets) {
              batch->stop_uid = m.uid;
              break;
            }
            if (whole) {
              auto r = store->read_message(account, mailbox, m.uid);
              if (!r.ok()) continue;  // expunged meanwhile: nothing to say of it
              source.emplace(std::move(r.value));
            } else {
              auto r = store->open_message(account, mailbox, m.uid);
              if (!r.ok()) continue;
              source.emplace(std::move(r.value));
            }
            octets += cost;
          }
          bool cte = false;
          std::string text =
              render(items, m, &map, source ? &*source : nullptr, job->command.uid || qresync,
                     modseq && (changed || job->command.changed_since), changed, recent, cte);
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
                       std::to_string(job->stream->end - job->stream->offset) + "}\r\n");
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
  if (st.offset >= st.end) {
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
        want = std::min<std::uint64_t>(kStreamChunk, st.end - st.offset),
        piece] { *piece = reader->read(offset, static_cast<std::size_t>(want)); },
       [this, job, piece] {
         StreamedMessage& s = *job->stream;
         if (!piece->ok() || piece->value.empty()) {
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
           if (!c.silent) items = "FLAGS " + flags_text(m.flags, selected_->is_recent(m.uid));
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
