// pop — the TRANSACTION and UPDATE states (RFC 1939 sections 5 and 6; TOP and UIDL, section
// 7): the message list, marks for deletion, sending a message with output throttling, and
// removing the marked messages at QUIT.
#include <algorithm>

#include "session.h"

namespace portico::pop {

PopSession::Totals PopSession::totals() const {
  Totals t;
  for (const auto& m : messages_) {
    if (m.deleted) continue;
    ++t.count;
    t.octets += m.size;
  }
  return t;
}

std::string PopSession::left() const {
  const auto n = totals().count;
  return std::to_string(n) + (n == 1 ? " message left" : " messages left");
}

std::string PopSession::summary() const {
  const Totals t = totals();
  return std::to_string(t.count) + (t.count == 1 ? " message (" : " messages (") +
         std::to_string(t.octets) + " octets)";
}

MaildropMessage* PopSession::message_arg(std::string_view arg, std::string_view syntax) {
  const auto n = parse_number(arg);
  if (!n) {
    bad("Syntax: " + std::string(syntax));
    return nullptr;
  }
  if (*n == 0 || *n > messages_.size()) {
    err("No such message");
    return nullptr;
  }
  MaildropMessage& m = messages_[*n - 1];
  if (m.deleted) {
    err("Message " + std::to_string(*n) + " already deleted");
    return nullptr;
  }
  return &m;
}

void PopSession::do_stat() {
  const Totals t = totals();
  ok(std::to_string(t.count) + " " + std::to_string(t.octets));
}

void PopSession::do_list(const CommandLine& c, bool uidl) {
  auto value = [this, uidl](const MaildropMessage& m) {
    return uidl ? ids_.substr(m.id_offset, m.id_length) : std::to_string(m.size);
  };
  if (!c.args.empty()) {
    const MaildropMessage* m = message_arg(c.args[0], c.spec->syntax);
    if (m == nullptr) return;
    const auto number = static_cast<std::size_t>(m - messages_.data()) + 1;
    return ok(std::to_string(number) + " " + value(*m));
  }
  std::string out = uidl ? "+OK Unique-id listing follows\r\n" : "+OK " + summary() + "\r\n";
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (messages_[i].deleted) continue;
    out += std::to_string(i + 1) + " " + value(messages_[i]) + "\r\n";
  }
  out += ".\r\n";
  ctx_.write(out);
}

void PopSession::do_dele(const CommandLine& c) {
  MaildropMessage* m = message_arg(c.args[0], c.spec->syntax);
  if (m == nullptr) return;
  m->deleted = true;
  ok("Message " + std::string(c.args[0]) + " deleted");
}

void PopSession::do_rset() {
  for (auto& m : messages_)
    m.deleted = false;
  ok("Maildrop has " + summary());
}

void PopSession::do_retr(const CommandLine& c, bool top) {
  const MaildropMessage* m = message_arg(c.args[0], c.spec->syntax);
  if (m == nullptr) return;
  std::optional<std::uint32_t> lines;
  if (top) {
    lines = parse_number(c.args[1]);
    if (!lines) return bad("Syntax: " + std::string(c.spec->syntax));
  }
  retr_index(static_cast<std::size_t>(m - messages_.data()), lines);
}

void PopSession::collect_after(std::size_t from, std::uint64_t octets, std::size_t count,
                               std::vector<std::uint32_t>& uids,
                               std::vector<std::size_t>& indexes) const {
  for (std::size_t i = from; i < messages_.size() && count > 0; ++i) {
    if (messages_[i].deleted) continue;
    if (messages_[i].size > octets || messages_[i].size > kStreamAbove) break;
    octets -= messages_[i].size;
    --count;
    uids.push_back(messages_[i].uid);
    indexes.push_back(i);
  }
}

void PopSession::retr_index(std::size_t index, std::optional<std::uint32_t> lines) {
  if (auto octets = take_read_ahead(index)) {
    prefetch();
    return answer_retr(index, std::move(octets), lines);
  }
  if (prefetching_) {  // the message may be in the batch on its way: wait for it
    after_prefetch_ = PendingRetr{index, lines};
    ctx_.pause_input();
    return;
  }
  if (messages_[index].size > kStreamAbove) return stream_retr(index, lines);

  // Read this message, and when it follows the last one read, the next ones too.
  std::vector<std::uint32_t> uids{messages_[index].uid};
  std::vector<std::size_t> indexes{index};
  read_ahead_.clear();
  read_ahead_octets_ = 0;
  if (last_read_ != SIZE_MAX && index == last_read_ + 1) {
    collect_after(index + 1, kReadAheadOctets, kReadAheadMessages, uids, indexes);
  }
  last_read_ = index;
  sdk::Store* store = host_.store();
  auto results = std::make_shared<std::vector<sdk::StoreResult<std::string>>>();
  ctx_.pause_input();
  ctx_.post_work(
      [store, results, account = account_, uids = std::move(uids)] {
        *results = store->read_messages(account, "INBOX", uids);
      },
      [this, results, indexes = std::move(indexes), lines] {
        ctx_.resume_input();
        auto& first = results->front();
        if (!first.ok()) {
          if (first.error == sdk::StoreError::not_found) {
            return err("Message no longer exists (removed by another session)");
          }
          ctx_.log(sdk::LogLevel::warn, "cannot read a message: " + first.message);
          return err("[SYS/TEMP] Cannot read the message, try again later");
        }
        keep_read_ahead(*results, indexes, 1);
        answer_retr(indexes.front(), std::make_shared<const std::string>(std::move(first.value)),
                    lines);
      });
}

void PopSession::keep_read_ahead(std::vector<sdk::StoreResult<std::string>>& results,
                                 const std::vector<std::size_t>& indexes, std::size_t from) {
  for (std::size_t i = from; i < results.size() && results[i].ok(); ++i) {
    read_ahead_octets_ += results[i].value.size();
    read_ahead_.push_back(
        {indexes[i], std::make_shared<const std::string>(std::move(results[i].value))});
  }
}

// While the client works through the read-ahead, the next batch is read in the background, so
// a pipelining client never waits for the store. The batch fills what the read-ahead has used,
// so what is held, that batch included, stays within kReadAheadOctets. It waits until three
// quarters are used, for fewer and larger batches: with bench/pop's mixed sizes, a refill at half
// the bound made twice as many trips to the store as 32-message batches (about 60 µs of CPU
// each), and 10 % more CPU per message.
void PopSession::prefetch() {
  if (prefetching_ || read_ahead_.empty()) return;
  if (read_ahead_octets_ > kReadAheadOctets / 4) return;  // more than a quarter is left
  std::vector<std::uint32_t> uids;
  std::vector<std::size_t> indexes;
  const std::uint64_t room =
      read_ahead_octets_ < kReadAheadOctets ? kReadAheadOctets - read_ahead_octets_ : 0;
  collect_after(read_ahead_.back().index + 1, room, kReadAheadMessages, uids, indexes);
  if (uids.empty()) return;
  prefetching_ = true;
  sdk::Store* store = host_.store();
  auto results = std::make_shared<std::vector<sdk::StoreResult<std::string>>>();
  ctx_.post_work(
      [store, results, account = account_, uids = std::move(uids)] {
        *results = store->read_messages(account, "INBOX", uids);
      },
      [this, results, indexes = std::move(indexes)] {
        prefetching_ = false;
        if (read_ahead_.empty() || read_ahead_.back().index < indexes.front()) {
          keep_read_ahead(*results, indexes, 0);
        }
        if (after_prefetch_) {
          const PendingRetr p = *after_prefetch_;
          after_prefetch_.reset();
          ctx_.resume_input();
          retr_index(p.index, p.lines);
        }
      });
}

std::shared_ptr<const std::string> PopSession::take_read_ahead(std::size_t index) {
  while (!read_ahead_.empty() && read_ahead_.front().index < index) {
    read_ahead_octets_ -= read_ahead_.front().octets->size();
    read_ahead_.pop_front();
  }
  if (read_ahead_.empty() || read_ahead_.front().index != index) return nullptr;
  auto octets = std::move(read_ahead_.front().octets);
  read_ahead_octets_ -= octets->size();
  read_ahead_.pop_front();
  last_read_ = index;
  return octets;
}

void PopSession::answer_retr(std::size_t index, std::shared_ptr<const std::string> octets,
                             std::optional<std::uint32_t> lines) {
  if (lines) {
    ok("Top of message follows");
    const std::size_t length = top_length(*octets, *lines);
    return send_message(std::move(octets), length);
  }
  ok(std::to_string(messages_[index].size) + " octets");
  const std::size_t length = octets->size();
  send_message(std::move(octets), length);
}

void PopSession::send_message(std::shared_ptr<const std::string> octets, std::size_t length) {
  outgoing_.emplace();
  outgoing_->octets = std::move(octets);
  outgoing_->end = length;
  pump_message(false);
}

void PopSession::stream_retr(std::size_t index, std::optional<std::uint32_t> lines) {
  last_read_ = index;
  read_ahead_.clear();
  read_ahead_octets_ = 0;
  sdk::Store* store = host_.store();
  using Opened = sdk::StoreResult<std::unique_ptr<sdk::MessageReader>>;
  auto opened = std::make_shared<Opened>();
  auto first = std::make_shared<sdk::StoreResult<std::string>>();
  ctx_.pause_input();
  ctx_.post_work(
      [store, opened, first, account = account_, uid = messages_[index].uid] {
        *opened = store->open_message(account, "INBOX", uid);

        if (opened->ok()) *first = opened->value->read(0, kStreamPiece);
      },
      [this, opened, first, index, lines] {
        ctx_.resume_input();
        const auto& failed = !opened->ok() ? opened->message : first->message;
        if (!opened->ok() || !first->ok()) {
          if (opened->error == sdk::StoreError::not_found) {
            return err("Message no longer exists (removed by another session)");
          }
          ctx_.log(sdk::LogLevel::warn, "cannot read a message: " + failed);
          return err("[SYS/TEMP] Cannot read the message, try again later");
        }
        ok(lines ? std::string("Top of message follows")
                 : std::to_string(messages_[index].size) + " octets");
        outgoing_.emplace();
        outgoing_->reader = std::move(opened->value);
        if (lines) outgoing_->top.emplace(*lines);
        take_piece(std::move(first->value));
        pump_message(false);
      });
}

void PopSession::take_piece(std::string piece) {
  Outgoing& o = *outgoing_;
  o.next += piece.size();
  o.end = o.top ? o.top->take(piece) : piece.size();
  o.offset = 0;
  o.octets = std::make_shared<const std::string>(std::move(piece));
}

void PopSession::read_next_piece() {
  Outgoing& o = *outgoing_;
  if (o.reading) return;
  o.reading = true;
  auto piece = std::make_shared<sdk::StoreResult<std::string>>();
  ctx_.pause_input();
  ctx_.post_work(
      [reader = o.reader, next = o.next, piece] { *piece = reader->read(next, kStreamPiece); },
      [this, piece] {
        ctx_.resume_input();
        outgoing_->reading = false;
        if (!piece->ok() || piece->value.empty()) {
          // Part of the message is out already: only closing tells the client.
          ctx_.log(sdk::LogLevel::warn, "cannot read a message: " + piece->message);
          outgoing_.reset();
          ctx_.close();
          return;
        }
        take_piece(std::move(piece->value));
        pump_message(false);
      });
}

void PopSession::pump_message(bool ignore_high_water) {
  // One scratch buffer per I/O thread: a callback runs to its end before another starts there.
  thread_local std::string piece;
  while (outgoing_ && (ignore_high_water || ctx_.output_pending() < kOutputHighWater)) {
    Outgoing& o = *outgoing_;
    if (o.offset == o.end && o.more()) return read_next_piece();
    const std::size_t n = std::min(kMessagePiece, o.end - o.offset);
    piece.clear();
    o.stuffer.stuff(std::string_view(*o.octets).substr(o.offset, n), piece);
    o.offset += n;
    if (o.offset == o.end && !o.more()) {
      o.stuffer.finish(piece);
      outgoing_.reset();  // frees the message
    }
    ctx_.write(piece);
  }
}

void PopSession::on_output_drained() {
  if (outgoing_) pump_message(false);
}

void PopSession::update_and_quit() {
  state_ = State::update;
  std::vector<std::uint32_t> uids;
  for (const auto& m : messages_) {
    if (m.deleted) uids.push_back(m.uid);
  }
  const std::string farewell = ctx_.connection().server_hostname + " POP3 server signing off";
  if (uids.empty()) {
    lock_.reset();
    ok(farewell + " (" + left() + ")");
    ctx_.close();
    return;
  }
  sdk::UidSet set;
  set.reserve(uids.size());
  for (const auto uid : uids)
    set.push_back(sdk::UidRange{uid, uid});
  sdk::Store* store = host_.store();
  auto failure = std::make_shared<std::string>();
  ctx_.pause_input();
  ctx_.post_work(
      [store, failure, account = account_, set = std::move(set)] {
        sdk::Flags deleted;
        deleted.system = sdk::flag_deleted;
        auto flagged =
            store->store_flags(account, "INBOX", set, sdk::FlagOperation::add, deleted, 0);
        if (!flagged.ok()) {
          *failure = flagged.message;
          return;
        }
        // Only the messages this session marked: a \Deleted flag set over IMAP stays. Those
        // another session removed meanwhile are simply not there any more.
        auto removed = store->expunge(account, "INBOX", set);
        if (!removed.ok()) *failure = removed.message;
      },
      [this, failure, farewell] {
        lock_.reset();
        if (!failure->empty()) {
          ctx_.log(sdk::LogLevel::warn, "removing messages at QUIT failed: " + *failure);
          err("[SYS/TEMP] Some deleted messages were not removed");
        } else {
          ok(farewell + " (" + left() + ")");
        }
        ctx_.close();
      });
}

}  // namespace portico::pop
