// Portico core — the outbound queue service (see queue.h).
#include "core/queue/queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

#include "core/queue/envelope.h"
#include "core/queue/incoming.h"
#include "core/queue/service_helpers.h"

namespace portico::core {

using queue::check_id;
using queue::Claim;
using queue::guarded;
using queue::QueueFailure;
using queue::unix_now;

namespace {

// The id in a temp envelope name ".tmp-<id>-<random>", or "" when it is not one.
std::string temp_owner(const std::string& name) {
  if (name.rfind(queue::kTempPrefix, 0) != 0) return {};
  std::string rest = name.substr(queue::kTempPrefix.size());
  std::size_t dash = rest.rfind('-');
  if (dash == std::string::npos) return {};
  rest.resize(dash);
  return queue::valid_id(rest) ? rest : std::string();
}

}  // namespace

QueueService::QueueService(const fs::path& data_dir, QueueOptions options)
    : layout_(data_dir), options_(options) {
  layout_.create();
  recover();
  clean();
}

QueueService::~QueueService() {
  // The claims this object still holds end with claims_. An owner leaves an empty journal, so
  // the next open has nothing to recover; should this fail, the next open recovers instead.
  if (journal_ && !journal_failed_ && !journal_->empty()) {
    try {
      journal_->checkpoint();
    } catch (const QueueFailure&) {
    }
  }
}

void QueueService::recover() {
  // The owner waits for the lock (a CLI may be recovering); anyone else only takes a free one.
  auto journal = queue::SpoolJournal::take(
      layout_.journal, layout_.removed, options_.journal_capacity,
      options_.own_journal ? options_.journal_wait : std::chrono::milliseconds(0));
  if (!journal) return;  // owned by a live process, which recovered it when it took it
  std::set<std::string> tombstones;
  for (const auto& t : queue::list_dir(layout_.removed))
    tombstones.insert(t.name);
  std::vector<queue::JournalRecord> records = journal->take_records();
  if (!records.empty() || !tombstones.empty()) {
    cleanup_.journal = queue::recover_entries(layout_, records, tombstones);
    journal->checkpoint();
  }
  if (options_.own_journal) journal_ = std::move(journal);
}

void QueueService::clean() {
  cleanup_.incoming = queue::clean_incoming(layout_.incoming);
  remove_old_claims();

  // Every id that may have leftovers: temp envelopes, message files without an envelope.
  std::set<std::string> envelopes;
  std::map<std::string, std::vector<std::string>> temps;
  for (const auto& e : queue::list_dir(layout_.envelopes)) {
    if (queue::valid_id(e.name)) {
      envelopes.insert(e.name);
    } else if (auto owner = temp_owner(e.name); !owner.empty()) {
      temps[owner].push_back(e.name);
    }
  }
  std::set<std::string> suspects;
  for (const auto& [id, names] : temps)
    suspects.insert(id);
  for (const auto& e : queue::list_dir(layout_.messages)) {
    if (!queue::valid_id(e.name) || envelopes.count(e.name) || temps.count(e.name)) continue;
    // An entry as enqueued: its envelope is the message file's attribute.
    if (queue::read_inline_envelope(layout_.messages / e.name, e.name)) continue;
    suspects.insert(e.name);
  }

  bool envelopes_changed = false, messages_changed = false;
  for (const auto& id : suspects) {
    // A temp envelope is written only while its message file is named and claimed: without
    // the file, nobody is writing it.
    bool missing = false;
    Claim claim = Claim::try_take(layout_.messages, id, &missing);
    if (!claim.held() && !missing) continue;  // a live process is working on it
    for (const auto& name : temps[id]) {
      if (queue::remove_file(layout_.envelopes / name)) {
        ++cleanup_.temp_envelopes;
        envelopes_changed = true;
      }
    }
    struct stat st {};
    bool has_envelope = ::stat((layout_.envelopes / id).c_str(), &st) == 0 ||
                        queue::read_inline_envelope(layout_.messages / id, id).has_value();
    if (claim.held() && !has_envelope && queue::remove_file(layout_.messages / id)) {
      ++cleanup_.orphan_messages;
      messages_changed = true;
    }
  }
  if (envelopes_changed) queue::fsync_dir(layout_.envelopes);
  if (messages_changed) queue::fsync_dir(layout_.messages);
}

void QueueService::remove_old_claims() {
  std::error_code ec;
  if (!fs::is_directory(layout_.old_claims, ec)) return;
  // Lock files of the claims of earlier versions; held by no one once every process of such a
  // version has gone, which an upgrade's restart ensures.
  for (const auto& e : queue::list_dir(layout_.old_claims))
    ::unlink((layout_.old_claims / e.name).c_str());
  fs::remove(layout_.old_claims, ec);
}

std::string QueueService::read_envelope_text(const std::string& id) const {
  // The file wins: it exists once the entry changed. A change between the two reads (the file
  // written, then the attribute removed) is seen by reading the file again.
  for (int attempt = 0;; ++attempt) {
    if (auto text = queue::read_file(layout_.envelopes / id, queue::kMaxEnvelopeSize)) {
      return *text;
    }
    if (auto text = queue::read_inline_envelope(layout_.messages / id, id)) return *text;
    if (attempt > 0) throw QueueFailure(sdk::QueueError::not_found, "no queue entry " + id);
  }
}

sdk::Envelope QueueService::read_envelope(const std::string& id, queue::Notes* notes) const {
  std::string text = read_envelope_text(id);
  auto parsed = queue::parse_envelope(text);
  if (!parsed.envelope) {
    throw QueueFailure(parsed.error, "envelope of " + id + ": " + parsed.message);
  }
  if (notes) *notes = std::move(parsed.notes);
  return std::move(*parsed.envelope);
}

sdk::QueueEntry QueueService::make_entry(const std::string& id, sdk::Envelope envelope) const {
  sdk::QueueEntry entry;
  entry.id = id;
  entry.envelope = std::move(envelope);
  fs::path message = layout_.messages / id;
  entry.message_path = message.string();
  struct stat st {};
  if (::stat(message.c_str(), &st) == 0) {
    entry.size = static_cast<std::uint64_t>(st.st_size);
  } else {
    entry.damage = "the message file is missing";
  }
  return entry;
}

void QueueService::write_envelope(const std::string& id, const sdk::Envelope& envelope,
                                  const queue::Notes& notes) {
  std::string text = queue::format_envelope(envelope, notes);
  if (text.size() > queue::kMaxEnvelopeSize) {
    throw QueueFailure(sdk::QueueError::invalid, "envelope larger than the queue accepts");
  }
  queue::write_durably(layout_.envelopes, id, text);
  // The attribute the entry was enqueued with is now outdated: removed durably, so that a
  // message file whose later removal a crash undoes is an orphan, never the entry again.
  queue::drop_inline_envelope(layout_.messages / id);
}

void QueueService::remove_entry(const std::string& id) {
  if (journal_owned()) {
    // The owner records the removal; once the record is durable, the batch unlinks the files
    // (no fsync: the record stands for them until the next checkpoint).
    struct stat st {};
    if (::stat((layout_.envelopes / id).c_str(), &st) != 0 &&
        ::stat((layout_.messages / id).c_str(), &st) != 0) {
      throw QueueFailure(sdk::QueueError::not_found, "no queue entry " + id);
    }
    Journaled item;
    item.record = queue::encode_record(queue::RecordType::removed, id);
    item.removed_id = id;
    journal_submit(item);
    return;
  }
  // Anyone else: a tombstone first when the journal may still hold the entry's enqueue, so that
  // its recovery does not bring the entry back. Then, with an envelope file, the envelope goes
  // first, since without it the entry is gone, and the message file's removal needs no fsync
  // (should a crash lose it, the file is an orphan the next open removes: it carries no
  // envelope of its own any more). An entry as enqueued: the message file is the entry. Either
  // removal is made durable with those of concurrent callers, one fsync per folder per batch.
  // (A tombstone for an id that turns out not to exist is harmless: the checkpoint clears it.)
  if (journal_ || queue::journal_in_use(layout_.journal)) write_tombstone(id);
  Removal removal;
  if (queue::remove_file(layout_.envelopes / id)) {
    removal.envelope_file = true;
  } else if (!queue::remove_file(layout_.messages / id)) {
    throw QueueFailure(sdk::QueueError::not_found, "no queue entry " + id);
  }
  store::GroupRequest<Removal> request;
  request.item = &removal;
  removals_.submit(request, [this](auto& batch) { commit_removals(batch); });
  if (removal.envelope_file) queue::remove_file(layout_.messages / id);
}

void QueueService::write_tombstone(const std::string& id) {
  const fs::path file = layout_.removed / id;
  queue::Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640));
  if (fd.get() < 0) queue::io_error("create", file);
  queue::fsync_dir(layout_.removed);
}

void QueueService::journal_submit(Journaled& item) {
  store::GroupRequest<Journaled> request;
  request.item = &item;
  try {
    journaled_.submit(request, [this](auto& batch) { commit_journal(batch); });
  } catch (...) {
    // After a failed write or fdatasync the journal's state is unknown: it is not written again
    // (its recovery may yet bring back an entry whose enqueue failed: a duplicate, never a loss).
    journal_failed_ = true;
    throw;
  }
}

void QueueService::commit_journal(std::vector<store::GroupRequest<Journaled>*>& batch) {
  std::vector<std::string*> records;
  records.reserve(batch.size());
  for (auto* request : batch)
    records.push_back(&request->item->record);
  // Once a removal's record is durable, its files go, before any checkpoint may drop the record
  // that stands for their removal.
  std::size_t unlinked = 0;
  journal_->commit(records, [&](std::size_t durable) {
    for (; unlinked < durable; ++unlinked) {
      const std::string& id = batch[unlinked]->item->removed_id;
      if (id.empty()) continue;
      ::unlink((layout_.envelopes / id).c_str());
      ::unlink((layout_.messages / id).c_str());
    }
  });
}

void QueueService::commit_removals(std::vector<store::GroupRequest<Removal>*>& batch) {
  bool envelopes = false, messages = false;
  for (const auto* request : batch)
    (request->item->envelope_file ? envelopes : messages) = true;
  if (envelopes) queue::fsync_dir(layout_.envelopes);
  if (messages) queue::fsync_dir(layout_.messages);
}

Claim QueueService::take_claim(const std::string& id, bool* was_ours) {
  check_id(id);
  if (was_ours) *was_ours = false;
  {
    std::lock_guard lock(claims_mutex_);
    auto it = claims_.find(id);
    if (it != claims_.end()) {
      Claim ours = std::move(it->second);
      claims_.erase(it);
      if (was_ours) *was_ours = true;
      return ours;
    }
  }
  return claim_existing(id);
}

Claim QueueService::claim_existing(const std::string& id) {
  bool missing = false;
  Claim claim = Claim::try_take(layout_.messages, id, &missing);
  if (claim.held()) return claim;
  if (!missing) throw busy_failure(id);
  // No message file: either no such entry, or a damaged one whose message was lost (which has
  // an envelope file: an entry as enqueued is its message file). The latter has nothing to
  // lock, and no delivery can be holding it (there is nothing to send), so the operator may
  // still hold, bounce or delete it.
  struct stat st {};
  if (::stat((layout_.envelopes / id).c_str(), &st) != 0) {
    throw QueueFailure(sdk::QueueError::not_found, "no queue entry " + id);
  }
  return {};
}

template <class Change>
void QueueService::modify(const std::string& id, bool keep, Change change) {
  bool was_ours = false;
  Claim claim = take_claim(id, &was_ours);
  // Ours is kept for the worker, done or failed; a claim taken for the call ends with it.
  auto give_back = [&] {
    if (keep && was_ours) {
      std::lock_guard lock(claims_mutex_);
      claims_[id] = std::move(claim);
    }
  };
  try {
    queue::Notes notes;
    sdk::Envelope envelope = read_envelope(id, &notes);
    if constexpr (std::is_invocable_v<Change, sdk::Envelope&, queue::Notes&>) {
      change(envelope, notes);
    } else {
      change(envelope);
    }
    write_envelope(id, envelope, notes);
  } catch (...) {
    give_back();
    throw;
  }
  give_back();
}

sdk::QueueResult<std::unique_ptr<sdk::IncomingMessage>> QueueService::create_incoming() {
  using R = sdk::QueueResult<std::unique_ptr<sdk::IncomingMessage>>;
  return guarded<R>([&] {
    R r;
    r.value = std::make_unique<queue::IncomingFile>(layout_.incoming);
    return r;
  });
}

sdk::QueueResult<std::string> QueueService::enqueue(const sdk::Envelope& envelope,
                                                    sdk::IncomingMessage& message) {
  using R = sdk::QueueResult<std::string>;
  return guarded<R>([&] {
    if (!message.sealed()) throw QueueFailure(sdk::QueueError::invalid, "message not sealed");
    // Sealed without fsync (seal_unsynced): this enqueue's fsync makes its octets durable. A
    // writer other than ours must have made them durable itself.
    const auto* file = dynamic_cast<const queue::IncomingFile*>(&message);
    const bool synced = file == nullptr || file->synced();
    if (envelope.recipients.empty()) {
      throw QueueFailure(sdk::QueueError::invalid, "no recipients");
    }
    if (envelope.recipients.size() > queue::kMaxRecipients) {
      throw QueueFailure(sdk::QueueError::invalid, "too many recipients");
    }
    sdk::Envelope stored = envelope;
    std::int64_t now = unix_now();
    if (stored.received == 0) stored.received = now;
    if (stored.next_attempt == 0) stored.next_attempt = now;

    std::string text = queue::format_envelope(stored, {});
    if (text.size() > queue::kMaxEnvelopeSize) {
      throw QueueFailure(sdk::QueueError::invalid, "envelope larger than the queue accepts");
    }

    PendingEnqueue pending;
    pending.id = queue::new_queue_id();
    const std::string& id = pending.id;
    const fs::path target = layout_.messages / id;
    const fs::path envelope_path = layout_.envelopes / id;
    // The entry is claimed from before its message file has a name in messages/, so no cleaner
    // takes it for an orphan while its envelope is on the way.
    Claim claim = Claim::take_file(message.path());
    if (!claim.held()) throw QueueFailure(sdk::QueueError::busy, "message is being queued");
    bool linked = false;
    try {
      // The envelope rides on the message file where it can. With the journal, the message's
      // octets and envelope go into it, and its one fdatasync for the batch stands for the
      // fsyncs of the file and of messages/ (recovery writes the file again should a crash lose
      // it). Without, one fsync makes both durable before the file has its name in messages/,
      // so a visible entry is always whole.
      pending.inline_envelope = queue::set_inline_envelope(claim.fd(), message.path(), id, text);
      std::optional<std::string> body;
      if (pending.inline_envelope && journal_owned()) {
        body = queue::read_small_file(claim.fd(), message.path(), journal_->max_message());
      }
      if (!body && (pending.inline_envelope || !synced)) {
        queue::fsync_fd(claim.fd(), message.path());
      }
      queue::link_or_copy(message.path(), target);
      linked = true;
      if (!claim.same_file(target)) {
        // A copy (another file system), made durable: the claim moves to the copy, which
        // carries no attribute. Until then only a cleaner (another process's open) may have
        // taken it for an orphan; then this enqueue fails.
        pending.inline_envelope = false;
        body.reset();
        claim = Claim::try_take(layout_.messages, id);
        if (!claim.held()) throw QueueFailure(sdk::QueueError::io, "queued copy lost: " + id);
      }
      if (body) {
        Journaled item;
        item.record = queue::encode_record(queue::RecordType::enqueued, id, text, *body);
        body.reset();
        journal_submit(item);
        R r;
        r.value = id;
        return r;
      }
      // Otherwise an envelope file: this call's own durable write; the folder fsyncs are the
      // batch's.
      if (!pending.inline_envelope) pending.temp = queue::write_temp(layout_.envelopes, id, text);
      store::GroupRequest<PendingEnqueue> request;
      request.item = &pending;
      enqueues_.submit(request, [this](auto& batch) { commit_enqueues(batch); });
    } catch (...) {
      // Nothing of this entry may stay: the envelope first (without it there is no entry),
      // then the message. Best effort: a leftover is removed by the next open.
      if (pending.renamed) {
        ::unlink(envelope_path.c_str());
        try {
          queue::fsync_dir(layout_.envelopes);
        } catch (const QueueFailure&) {
        }
      } else if (!pending.temp.empty()) {
        ::unlink(pending.temp.c_str());
      }
      if (linked) {
        ::unlink(target.c_str());
        if (pending.inline_envelope) {  // the name was the entry: its removal made durable
          try {
            queue::fsync_dir(layout_.messages);
          } catch (const QueueFailure&) {
          }
        }
      }
      throw;  // the claim ends with this scope, after the cleanup
    }
    R r;
    r.value = id;
    return r;
  });
}

void QueueService::commit_enqueues(std::vector<store::GroupRequest<PendingEnqueue>*>& batch) {
  // Every message of the batch is durable under its name before any envelope has its own, so a
  // visible envelope always has its message.
  queue::fsync_dir(layout_.messages);
  bool any = false;
  for (auto* request : batch) {
    PendingEnqueue& p = *request->item;
    if (p.inline_envelope) continue;  // durable with its message
    const fs::path name = layout_.envelopes / p.id;
    if (::rename(p.temp.c_str(), name.c_str()) == 0) {
      p.renamed = true;
      any = true;
      continue;
    }
    try {
      queue::io_error("rename", p.temp);
    } catch (...) {
      request->error = std::current_exception();
    }
  }
  // One fsync makes every rename of the batch durable; a failure fails the whole batch.
  if (any) queue::fsync_dir(layout_.envelopes);
}

void QueueService::refresh_cache() {
  // Re-read only envelopes whose inode changed (each write renames a new file into place),
  // forget the ones that are gone. In place: an unchanged entry costs a lookup, no allocation.
  // An entry as enqueued is keyed by its message file's inode (its attribute never changes),
  // one with an envelope file by the file's.
  for (auto& [id, c] : cache_)
    c.seen = false;
  for (auto& [name, where] : entry_names(&cache_)) {
    auto [it, added] = cache_.try_emplace(name);
    Cached& c = it->second;
    if (!added && c.inode == where.inode && c.envelope_file == where.envelope_file) {
      c.seen = true;
      continue;
    }
    c = Cached{};
    c.inode = where.inode;
    c.envelope_file = where.envelope_file;
    try {
      sdk::Envelope env = read_envelope(it->first);
      c.next_attempt = env.next_attempt;
      c.held = env.held;
      for (const auto& r : env.recipients)
        c.pending += r.state == sdk::RecipientState::pending ? 1 : 0;
    } catch (const QueueFailure& f) {
      if (f.error() == sdk::QueueError::not_found) continue;  // removed meanwhile: not seen
      c.damaged = true;
    }
    c.seen = true;
  }
  std::erase_if(cache_, [](const auto& item) { return !item.second.seen; });
  scanned_ = std::chrono::steady_clock::now();
  scanned_at_ = unix_now();
}

sdk::QueueResult<std::vector<sdk::QueueEntry>> QueueService::claim_due(std::int64_t now,
                                                                       std::size_t max) {
  using R = sdk::QueueResult<std::vector<sdk::QueueEntry>>;
  return guarded<R>([&] {
    R r;
    if (max == 0) return r;
    std::lock_guard scan(scan_mutex_);
    refresh_cache();

    std::vector<std::pair<std::int64_t, std::string>> due;
    {
      std::lock_guard lock(claims_mutex_);
      for (const auto& [id, c] : cache_) {
        if (!c.damaged && !c.held && c.next_attempt <= now && !claims_.count(id)) {
          due.emplace_back(c.next_attempt, id);
        }
      }
    }
    std::sort(due.begin(), due.end());
    for (const auto& [when, id] : due) {
      if (r.value.size() >= max) break;
      // An entry whose message file is gone (damaged) is handed out without a lock, as it
      // is: the worker finds the damage in the entry and settles it.
      bool missing = false;
      Claim claim = Claim::try_take(layout_.messages, id, &missing);
      if (!claim.held() && !missing) continue;
      // Read again under the claim: another process may have changed or removed it.
      sdk::Envelope env;
      try {
        env = read_envelope(id);
      } catch (const QueueFailure&) {
        continue;
      }
      if (env.held || env.next_attempt > now) continue;
      r.value.push_back(make_entry(id, std::move(env)));
      std::lock_guard lock(claims_mutex_);
      claims_[id] = std::move(claim);
    }
    return r;
  });
}

sdk::QueueStatus QueueService::update_recipients(const std::string& id,
                                                 const std::vector<sdk::RecipientUpdate>& updates) {
  return guarded<sdk::QueueStatus>([&] {
    modify(id, true, [&](sdk::Envelope& env) {
      for (const auto& u : updates) {
        if (u.index >= env.recipients.size()) {
          throw QueueFailure(sdk::QueueError::invalid,
                             "recipient index " + std::to_string(u.index) + " out of range");
        }
        env.recipients[u.index].state = u.state;
        env.recipients[u.index].reply = u.reply;
      }
    });
    return sdk::QueueStatus{};
  });
}

sdk::QueueStatus QueueService::set_note(const std::string& id, const std::string& name,
                                        const std::string& value) {
  return guarded<sdk::QueueStatus>([&] {
    if (!queue::valid_note_name(name))
      throw QueueFailure(sdk::QueueError::invalid, "bad note name \"" + name + "\"");
    modify(id, true, [&](sdk::Envelope&, queue::Notes& notes) {
      if (value.empty()) {
        notes.erase(name);
      } else {
        notes[name] = value;
      }
    });
    return sdk::QueueStatus{};
  });
}

sdk::QueueResult<std::string> QueueService::note(const std::string& id, const std::string& name) {
  return guarded<sdk::QueueResult<std::string>>([&] {
    check_id(id);
    queue::Notes notes;
    read_envelope(id, &notes);
    sdk::QueueResult<std::string> r;
    if (auto it = notes.find(name); it != notes.end()) r.value = it->second;
    return r;
  });
}

sdk::QueueStatus QueueService::defer(const std::string& id, std::int64_t next_attempt,
                                     const std::string& error) {
  return guarded<sdk::QueueStatus>([&] {
    modify(id, false, [&](sdk::Envelope& env) {
      ++env.attempts;
      env.next_attempt = next_attempt;
      env.last_error = error;
    });
    return sdk::QueueStatus{};
  });
}

sdk::QueueStatus QueueService::fail(const std::string& id, const std::string& reason) {
  return guarded<sdk::QueueStatus>([&] {
    modify(id, false, [&](sdk::Envelope& env) {
      ++env.attempts;
      for (auto& rcpt : env.recipients) {
        if (rcpt.state != sdk::RecipientState::pending) continue;
        rcpt.state = sdk::RecipientState::failed;
        rcpt.reply = reason;
      }
      env.last_error = reason;
      env.held = true;
    });
    return sdk::QueueStatus{};
  });
}

sdk::QueueStatus QueueService::complete(const std::string& id) {
  return guarded<sdk::QueueStatus>([&] {
    const Claim claim = take_claim(id);  // held until the entry is gone (or this throws)
    remove_entry(id);
    return sdk::QueueStatus{};
  });
}

sdk::QueueStatus QueueService::remove(const std::string& id) {
  return complete(id);
}

sdk::QueueStatus QueueService::release(const std::string& id) {
  return guarded<sdk::QueueStatus>([&] {
    check_id(id);
    std::lock_guard lock(claims_mutex_);
    auto it = claims_.find(id);
    if (it == claims_.end()) {
      throw QueueFailure(sdk::QueueError::invalid, id + " is not claimed here");
    }
    claims_.erase(it);  // and with it the claim
    return sdk::QueueStatus{};
  });
}

std::map<std::string, QueueService::EntryName> QueueService::entry_names(
    const std::map<std::string, Cached>* known) const {
  std::map<std::string, EntryName> out;
  for (auto& e : queue::list_dir(layout_.envelopes)) {
    if (queue::valid_id(e.name)) out.emplace(std::move(e.name), EntryName{e.inode, true});
  }
  for (auto& e : queue::list_dir(layout_.messages)) {
    if (!queue::valid_id(e.name) || out.count(e.name)) continue;
    if (known) {  // an entry as enqueued seen before under this inode: its attribute is as read
      auto it = known->find(e.name);
      if (it != known->end() && !it->second.envelope_file && it->second.inode == e.inode) {
        out.emplace(std::move(e.name), EntryName{e.inode, false});
        continue;
      }
    }
    // Only a name whose file carries its envelope: not an orphan, nor an enqueue in progress.
    if (!queue::read_inline_envelope(layout_.messages / e.name, e.name)) continue;
    out.emplace(std::move(e.name), EntryName{e.inode, false});
  }
  return out;
}

std::vector<QueueService::EntryWithNotes> QueueService::list_entries(bool with_notes) {
  std::vector<EntryWithNotes> out;
  for (const auto& [name, where] : entry_names()) {
    EntryWithNotes item;
    try {
      item.first = make_entry(name, read_envelope(name, with_notes ? &item.second : nullptr));
    } catch (const QueueFailure& f) {
      if (f.error() == sdk::QueueError::not_found) continue;  // removed meanwhile
      item.first = make_entry(name, {});
      item.first.damage = f.what();
    }
    item.first.claimed_by = Claim::holder(layout_.messages, name);
    item.first.claimed = item.first.claimed_by != 0;
    out.push_back(std::move(item));
  }
  // Ids start with the time they were made, so this is oldest first.
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first.id < b.first.id; });
  return out;
}

sdk::QueueResult<std::vector<sdk::QueueEntry>> QueueService::list() {
  using R = sdk::QueueResult<std::vector<sdk::QueueEntry>>;
  return guarded<R>([&] {
    R r;
    for (auto& item : list_entries(false))
      r.value.push_back(std::move(item.first));
    return r;
  });
}

sdk::QueueResult<std::vector<QueueService::EntryWithNotes>> QueueService::list_with_notes() {
  using R = sdk::QueueResult<std::vector<EntryWithNotes>>;
  return guarded<R>([&] {
    R r;
    r.value = list_entries(true);
    return r;
  });
}

sdk::QueueResult<sdk::QueueEntry> QueueService::get(const std::string& id) {
  using R = sdk::QueueResult<sdk::QueueEntry>;
  return guarded<R>([&] {
    check_id(id);
    R r;
    try {
      r.value = make_entry(id, read_envelope(id));
    } catch (const QueueFailure& f) {
      if (f.error() != sdk::QueueError::not_found) throw;
      throw QueueFailure(sdk::QueueError::not_found, "no queue entry " + id);
    }
    r.value.claimed_by = Claim::holder(layout_.messages, id);
    r.value.claimed = r.value.claimed_by != 0;
    return r;
  });
}

sdk::QueueResult<std::string> QueueService::envelope_text(const std::string& id) {
  using R = sdk::QueueResult<std::string>;
  return guarded<R>([&] {
    check_id(id);
    R r;
    r.value = read_envelope_text(id);  // not_found: "no queue entry <id>"
    return r;
  });
}

std::unique_ptr<QueueService> open_queue(const fs::path& data_dir, QueueOptions options) {
  return std::make_unique<QueueService>(data_dir, options);
}

std::string read_message_headers(const fs::path& message, std::size_t limit) {
  std::ifstream in(message, std::ios::binary);
  std::string out, line;
  while (out.size() < limit && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    out += line;
    out += '\n';
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace portico::core
