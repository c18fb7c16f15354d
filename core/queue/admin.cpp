// Portico core — the operator's actions on queue entries (hold, release, retry, bounce; what
// `portico queue` runs, like Postfix's postsuper -h/-H/-r and a bounce) and the queue's figures
// per state (for `portico status` and /metrics). See queue.h.
//
// Every action takes the entry's claim for itself, so an entry a worker is delivering is
// refused as busy and never changed under it, and rewrites the envelope durably (temp file,
// fsync, rename, folder fsync) before it returns.
#include <set>
#include <string>
#include <vector>

#include "core/queue/queue.h"
#include "core/queue/service_helpers.h"

namespace portico::core {

using queue::check_id;
using queue::Claim;
using queue::guarded;
using queue::QueueFailure;

namespace {

// The note of an interrupted bounce: the recipients it failed, by index ("0,2,5").
constexpr const char* kBounceNote = "bounce";

std::set<std::size_t> parse_indices(const std::string& text, std::size_t limit) {
  std::set<std::size_t> out;
  std::size_t value = 0;
  bool digits = false;
  for (char c : text + ",") {
    if (c >= '0' && c <= '9' && value < limit) {
      value = value * 10 + static_cast<std::size_t>(c - '0');
      digits = true;
    } else if (c == ',') {
      if (digits && value < limit) out.insert(value);
      value = 0;
      digits = false;
    } else {
      value = limit;  // malformed: this item is dropped
    }
  }
  return out;
}

std::string join_indices(const std::set<std::size_t>& indices) {
  std::string out;
  for (std::size_t i : indices) {
    if (!out.empty()) out += ',';
    out += std::to_string(i);
  }
  return out;
}

}  // namespace

QueueFailure QueueService::busy_failure(const std::string& id) const {
  const std::int64_t pid = Claim::holder(layout_.messages, id);
  return QueueFailure(sdk::QueueError::busy,
                      id + " is being delivered" +
                          (pid > 0 ? " (by process " + std::to_string(pid) + ")" : "") +
                          "; left alone");
}

Claim QueueService::take_free_claim(const std::string& id) {
  check_id(id);
  {
    std::lock_guard lock(claims_mutex_);
    if (claims_.count(id)) throw busy_failure(id);
  }
  return claim_existing(id);
}

template <class Change>
void QueueService::operate(const std::string& id, Change change) {
  const Claim claim = take_free_claim(id);  // held until this returns or throws
  queue::Notes notes;
  sdk::Envelope envelope;
  try {
    envelope = read_envelope(id, &notes);
  } catch (const QueueFailure& f) {
    if (f.error() != sdk::QueueError::not_found) throw;
    throw QueueFailure(sdk::QueueError::not_found, "no queue entry " + id);
  }
  if (change(envelope, notes)) write_envelope(id, envelope, notes);
}

sdk::QueueResult<bool> QueueService::hold(const std::string& id) {
  using R = sdk::QueueResult<bool>;
  return guarded<R>([&] {
    R r;
    operate(id, [&](sdk::Envelope& env, queue::Notes&) {
      r.value = !env.held;
      env.held = true;
      return r.value;
    });
    return r;
  });
}

sdk::QueueResult<bool> QueueService::release_held(const std::string& id, std::int64_t now) {
  using R = sdk::QueueResult<bool>;
  return guarded<R>([&] {
    R r;
    operate(id, [&](sdk::Envelope& env, queue::Notes&) {
      r.value = env.held;
      env.held = false;
      env.next_attempt = now;
      return r.value;
    });
    return r;
  });
}

sdk::QueueResult<bool> QueueService::retry_now(const std::string& id, std::int64_t now) {
  using R = sdk::QueueResult<bool>;
  return guarded<R>([&] {
    R r;
    operate(id, [&](sdk::Envelope& env, queue::Notes&) {
      r.value = !env.held;
      if (env.held || env.next_attempt <= now) return false;  // held, or due already
      env.next_attempt = now;
      return true;
    });
    return r;
  });
}

sdk::QueueResult<BounceOutcome> QueueService::bounce(const std::string& id, sdk::Reports& reports,
                                                     const std::string& status,
                                                     const std::string& reason) {
  using R = sdk::QueueResult<BounceOutcome>;
  return guarded<R>([&] {
    R r;
    const Claim claim = take_free_claim(id);  // held until this returns or throws
    queue::Notes notes;
    sdk::Envelope env;
    try {
      env = read_envelope(id, &notes);
    } catch (const QueueFailure& f) {
      if (f.error() != sdk::QueueError::not_found) throw;
      throw QueueFailure(sdk::QueueError::not_found, "no queue entry " + id);
    }
    // 1. Durably: the pending recipients failed, the entry held, the note of who to report.
    std::set<std::size_t> failing;
    if (auto it = notes.find(kBounceNote); it != notes.end())
      failing = parse_indices(it->second, env.recipients.size());
    bool changed = !env.held;
    for (std::size_t i = 0; i < env.recipients.size(); ++i) {
      auto& rcpt = env.recipients[i];
      if (rcpt.state != sdk::RecipientState::pending) continue;
      rcpt.state = sdk::RecipientState::failed;
      rcpt.reply = status + " " + reason;
      failing.insert(i);
      changed = true;
    }
    if (changed) {
      env.held = true;
      env.last_error = reason;
      if (!failing.empty()) notes[kBounceNote] = join_indices(failing);
      write_envelope(id, env, notes);
    }
    // 2. The report, durable (delivered or queued) before the entry goes.
    if (!failing.empty()) {
      std::vector<sdk::ReportRecipient> recipients;
      for (std::size_t i : failing) {
        sdk::ReportRecipient rr;
        rr.index = i;
        rr.action = sdk::ReportAction::failed;
        rr.status = status;
        rr.diagnostic = reason;
        recipients.push_back(std::move(rr));
      }
      const std::string message = (layout_.messages / id).string();
      auto reported = reports.report(env, message, recipients, 0);
      if (!reported.ok()) {
        throw QueueFailure(
            reported.error == sdk::QueueError::none ? sdk::QueueError::io : reported.error,
            "the report to the sender could not be sent (" + reported.message + "); " + id +
                " is held, bounce it again");
      }
      r.value.report = reported.value;
    }
    r.value.failed = failing.size();
    // 3. The entry goes.
    remove_entry(id);
    return r;
  });
}

sdk::QueueResult<QueueStats> QueueService::stats(std::int64_t now, std::chrono::seconds max_age) {
  using R = sdk::QueueResult<QueueStats>;
  return guarded<R>([&] {
    R r;
    std::lock_guard scan(scan_mutex_);
    if (scanned_at_ == 0 || std::chrono::steady_clock::now() - scanned_ >= max_age) {
      refresh_cache();
    }
    QueueStats& s = r.value;
    s.scanned_at = scanned_at_;
    for (const auto& [id, c] : cache_) {
      if (c.damaged) {
        ++s.damaged;
        continue;
      }
      s.recipients_pending += c.pending;
      if (c.held) {
        ++s.held;
      } else if (c.next_attempt <= now) {
        ++s.active;
      } else {
        ++s.deferred;
      }
    }
    return r;
  });
}

}  // namespace portico::core
