// smtp-out — the delivery scheduler (see scheduler.h).
#include "scheduler.h"

#include <algorithm>
#include <ctime>
#include <fstream>

#include "client_session.h"
#include "portico/outbound.h"
#include "portico/queue.h"
#include "portico/reports.h"

namespace portico::smtpout {

namespace {

using std::chrono::milliseconds;

// An MX answer is used for this long before it is asked again (the resolver's own cache, when
// on, keeps it for its TTL; this only spares the look-up per connection).
constexpr auto kResolveReuse = std::chrono::minutes(1);
// How long a connection to one address may take, TLS handshake included.
constexpr milliseconds kConnectTimeout = std::chrono::seconds(30);
// Longest line a server may send in a reply (RFC 5321 section 4.5.3.1.5 says 512).
constexpr std::size_t kMaxReplyLine = 8192;
// Messages claimed and held in memory per delivery thread: enough that a destination at its
// connection cap leaves work for every other one.
constexpr std::size_t kClaimedPerThread = 4;
// Messages up to this size are read when claimed (at most max_delivery_threads times
// kClaimedPerThread of them are held at once: 6.4 MiB with the default 50 threads).
constexpr std::uint64_t kReadWhenClaimed = 32 * 1024;

// The whole file, when it has the `size` octets the queue said; null otherwise (or when it
// cannot be read: the session's reader then reads it, and reports why it cannot).
std::shared_ptr<const std::string> read_small(const std::string& path, std::uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  auto data = std::make_shared<std::string>(static_cast<std::size_t>(size), '\0');
  in.read(data->data(), static_cast<std::streamsize>(data->size()));
  if (!in || static_cast<std::uint64_t>(in.gcount()) != size ||
      in.peek() != std::ifstream::traits_type::eof()) {
    return nullptr;
  }
  return data;
}

std::int64_t unix_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

const char* outcome_word(Outcome o) {
  switch (o) {
    case Outcome::delivered:
      return "sent";
    case Outcome::temporary:
      return "deferred";
    case Outcome::permanent:
      return "bounced";
  }
  return "?";
}

}  // namespace

struct Scheduler::Message {
  sdk::QueueEntry entry;
  std::size_t jobs_open = 0;
  std::vector<RecipientOutcome> outcomes;
  std::map<std::size_t, std::string> remote_mta;  // by recipient index
  std::set<std::size_t> dsn_passed;               // NOTIFY handed on to the next hop
  std::string last_error;
  std::string tls_note;
};

struct Scheduler::Target {
  Destination destination;
  std::deque<PendingJob> waiting;
  std::int64_t connections = 0;
  bool resolving = false;
  std::vector<HostPort> hosts;  // to try, in order
  std::chrono::steady_clock::time_point resolved_at{};
  std::set<std::string> without_tls;  // hosts whose TLS handshake failed (tls_fallback_to_plain)
  std::vector<std::shared_ptr<Attempt>> idle;  // open connections parked, waiting for a job
  std::size_t woken = 0;  // parked connections woken for a waiting job, not yet taken one

  // Jobs waiting that no woken connection is already coming for.
  bool unserved() const { return waiting.size() > woken; }
  // The most recently parked connection leaves `idle`; its wake. `for_job`: it is woken for a
  // waiting job (counted in `woken` until it asks for one). Under mutex_.
  std::function<bool(bool)> take_idle(bool for_job);
};

struct Scheduler::Attempt {
  std::shared_ptr<Target> target;
  PendingJob first;
  std::vector<HostPort> hosts;
  std::size_t host_index = 0;
  std::string local_address;  // the outbound IP this attempt started from
  bool from_primary = false;  // the one more try from the system's own address
  bool plain = false;         // the one more try without STARTTLS
  std::string last_error;
  // Once connected and out of jobs (ClientHooks::park): in target->idle with its wake, or woken
  // and counted in target->woken until it asks for its next job.
  bool parked = false;
  bool woken = false;
  std::function<bool(bool)> wake;

  // It asks for its job, or is gone: no longer counted as coming. Under mutex_.
  void woken_no_more() {
    if (!woken) return;
    woken = false;
    --target->woken;
  }
};

std::function<bool(bool)> Scheduler::Target::take_idle(bool for_job) {
  auto a = std::move(idle.back());
  idle.pop_back();
  a->parked = false;
  if (for_job) {
    a->woken = true;
    ++woken;
  }
  return std::move(a->wake);
}

void Scheduler::configure(const OutSettings& settings) {
  if (host_.queue() == nullptr) {
    host_.log(sdk::LogLevel::warn, "no queue in this server: nothing to deliver");
    return;
  }
  {
    std::lock_guard lock(mutex_);
    settings_ = settings;
    active_ = true;
  }
  arm(milliseconds(0));
}

void Scheduler::stop() {
  std::vector<std::string> release;
  std::vector<std::pair<std::shared_ptr<Message>, Job>> abandoned;
  std::vector<std::function<bool(bool)>> idle;
  {
    std::lock_guard lock(mutex_);
    active_ = false;
    timer_.reset();
    std::map<std::string, std::size_t> waiting_jobs;
    for (auto& [key, target] : targets_) {
      while (!target->idle.empty())
        idle.push_back(target->take_idle(false));
      for (auto& p : target->waiting) {
        ++waiting_jobs[p.job.id];
        abandoned.emplace_back(p.message, std::move(p.job));
      }
      target->waiting.clear();
    }
    // A message none of whose jobs has started is simply let go of, as it was.
    for (const auto& [id, count] : waiting_jobs) {
      auto it = messages_.find(id);
      if (it != messages_.end() && it->second->jobs_open == count) {
        release.push_back(id);
        messages_.erase(it);
      }
    }
  }
  for (auto& wake : idle)
    wake(true);  // parked connections quit
  for (const auto& id : release)
    host_.queue()->release(id);
  for (auto& [message, job] : abandoned) {
    bool known;
    {
      std::lock_guard lock(mutex_);
      known = messages_.count(job.id) != 0;
    }
    if (known) settle(message, job, Outcome::temporary, "4.3.2", "not attempted: server stopping");
  }
}

std::size_t Scheduler::in_delivery() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

void Scheduler::arm(milliseconds delay) {
  std::weak_ptr<Scheduler> weak = weak_from_this();
  // Made and kept under the lock: the handle kept is always the newest. (Made before it, a
  // handle could be kept after a newer one had replaced it, by a thread that lost the CPU in
  // between; if that older timer had fired already, the newer one was cancelled by the
  // replacement and no tick was left to come.)
  std::lock_guard lock(mutex_);
  if (!active_) return;
  timer_ = host_.schedule(delay, [weak] {
    if (auto self = weak.lock()) self->tick();
  });
}

void Scheduler::tick() {
  std::size_t free = 0;
  milliseconds interval;
  {
    std::lock_guard lock(mutex_);
    if (!active_) return;
    tick_soon_ = false;
    interval = settings_.queue_scan_interval;
    const auto max = static_cast<std::size_t>(settings_.max_delivery_threads) * kClaimedPerThread;
    if (!claiming_ && messages_.size() < max) {
      free = max - messages_.size();
      claiming_ = true;
    }
  }
  if (free > 0) {
    auto claimed_entries = host_.queue()->claim_due(unix_now(), free);
    {
      std::lock_guard lock(mutex_);
      claiming_ = false;
    }
    if (!claimed_entries.ok()) {
      host_.log(sdk::LogLevel::error, "cannot read the queue: " + claimed_entries.message);
    } else if (!claimed_entries.value.empty()) {
      claimed(std::move(claimed_entries.value));
    }
  }
  arm(interval);
}

void Scheduler::claimed(std::vector<sdk::QueueEntry> entries) {
  // Small messages are read now, on this pool, so that their sessions need not come back to it.
  std::vector<std::shared_ptr<const std::string>> octets(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size <= kReadWhenClaimed && entries[i].damage.empty()) {
      octets[i] = read_small(entries[i].message_path, entries[i].size);
    }
  }
  std::vector<std::pair<std::shared_ptr<Target>, PendingJob>> jobs;
  std::vector<std::shared_ptr<Message>> nothing_to_do;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t e = 0; e < entries.size(); ++e) {
      auto& entry = entries[e];
      auto message = std::make_shared<Message>();
      message->entry = std::move(entry);
      const sdk::Envelope& env = message->entry.envelope;
      auto groups = group_by_destination(env, settings_);
      message->jobs_open = groups.size();
      messages_[message->entry.id] = message;
      if (groups.empty()) nothing_to_do.push_back(message);
      for (auto& group : groups) {
        Job job;
        job.id = message->entry.id;
        job.envelope = env;
        job.recipients = group.recipients;
        job.message_path = message->entry.message_path;
        job.octets = octets[e];
        job.size = message->entry.size;
        job.eight_bit = env.eight_bit_mime;
        job.needs_smtputf8 = env.smtputf8 || needs_utf8(env.sender);
        for (auto i : group.recipients)
          job.needs_smtputf8 = job.needs_smtputf8 || needs_utf8(env.recipients[i].address);
        auto& target = targets_[group.key];
        if (!target) {
          target = std::make_shared<Target>();
          target->destination = group;
          target->hosts = group.hosts;
        }
        jobs.emplace_back(target, PendingJob{message, std::move(job)});
      }
    }
  }
  for (auto& m : nothing_to_do) {
    host_.post_work_on(sdk::WorkPool::delivery,
                       [self = shared_from_this(), m] { self->finish(m); });
  }
  for (auto& [target, job] : jobs)
    add_job(target, std::move(job));
}

void Scheduler::add_job(const std::shared_ptr<Target>& target, PendingJob job) {
  bool resolve = false;
  bool cached = true;
  std::uint16_t port = 25;
  {
    std::lock_guard lock(mutex_);
    target->waiting.push_back(std::move(job));
    if (target->destination.key.rfind("mx:", 0) == 0) {
      if (target->resolving) return;  // the look-up in flight pumps when it ends
      const bool stale = target->hosts.empty() ||
                         std::chrono::steady_clock::now() - target->resolved_at > kResolveReuse;
      if (stale) {
        target->resolving = true;
        resolve = true;
        cached = settings_.enable_dns_caching;
        port = settings_.mx_port;
      }
    }
  }
  if (!resolve) return pump(target);
  sdk::Dns* dns = host_.dns();
  const std::string domain = target->destination.domain;
  host_.post_work_on(sdk::WorkPool::dns,
                     [self = shared_from_this(), target, dns, domain, cached, port] {
                       Resolution r;
                       if (dns == nullptr) {
                         r.kind = Resolution::Kind::temporary;
                         r.status = "4.4.3";
                         r.reason = "no DNS resolver in this server";
                       } else {
                         r = resolve_hosts(*dns, domain, cached, port);
                       }
                       self->resolved(target, r);
                     });
}

void Scheduler::resolved(const std::shared_ptr<Target>& target, const Resolution& resolution) {
  std::deque<PendingJob> failed;
  {
    std::lock_guard lock(mutex_);
    target->resolving = false;
    if (resolution.kind == Resolution::Kind::hosts) {
      target->hosts = resolution.hosts;
      target->resolved_at = std::chrono::steady_clock::now();
    } else {
      target->hosts.clear();
      failed.swap(target->waiting);
    }
  }
  if (resolution.kind == Resolution::Kind::hosts) return pump(target);
  const Outcome o =
      resolution.kind == Resolution::Kind::permanent ? Outcome::permanent : Outcome::temporary;
  for (auto& p : failed)
    settle(p.message, p.job, o, resolution.status, resolution.reason);
}

void Scheduler::pump(const std::shared_ptr<Target>& target) {
  std::vector<std::shared_ptr<Attempt>> attempts;
  std::vector<std::function<bool(bool)>> wake;   // parked connections of this target
  std::vector<std::function<bool(bool)>> evict;  // parked connections elsewhere: they quit
  {
    std::lock_guard lock(mutex_);
    // Jobs not yet promised to a woken connection go first to parked ones, then to new ones.
    while (target->unserved() && !target->idle.empty())
      wake.push_back(target->take_idle(true));
    while (target->unserved() && !target->hosts.empty() &&
           target->connections < settings_.max_connections_per_destination &&
           connections_ < settings_.max_delivery_threads) {
      auto a = std::make_shared<Attempt>();
      a->target = target;
      a->first = std::move(target->waiting.front());
      target->waiting.pop_front();
      a->hosts = target->hosts;
      a->local_address = next_local_address();
      ++target->connections;
      ++connections_;
      attempts.push_back(std::move(a));
    }
    // Every delivery slot taken while some only idle: one of those makes room (its closing
    // pumps this target again).
    if (target->unserved() && !target->hosts.empty() &&
        target->connections < settings_.max_connections_per_destination &&
        connections_ >= settings_.max_delivery_threads) {
      for (auto& [key, other] : targets_) {
        if (other == target || other->idle.empty()) continue;
        evict.push_back(other->take_idle(false));
        break;
      }
    }
  }
  for (auto& w : wake)
    w(false);  // false: that session is gone, and its closed() pumps this target again
  for (auto& w : evict)
    w(true);
  for (auto& a : attempts)
    try_host(a);
}

Park Scheduler::park(const std::shared_ptr<Attempt>& a, std::function<bool(bool)> wake) {
  std::lock_guard lock(mutex_);
  const auto& target = a->target;
  if (!active_) return Park::quit;
  if (target->unserved()) return Park::retry;
  // Another destination waits for a delivery slot: this one is freed rather than kept.
  if (connections_ >= settings_.max_delivery_threads) {
    for (const auto& [key, other] : targets_) {
      if (other != target && other->unserved()) return Park::quit;
    }
  }
  a->parked = true;
  a->wake = std::move(wake);
  target->idle.push_back(a);
  return Park::parked;
}

bool Scheduler::unpark(const std::shared_ptr<Attempt>& a) {
  std::lock_guard lock(mutex_);
  if (!a->parked) return false;
  forget_parked(a);
  return true;
}

void Scheduler::forget_parked(const std::shared_ptr<Attempt>& a) {
  auto& idle = a->target->idle;
  if (a->parked) idle.erase(std::remove(idle.begin(), idle.end(), a), idle.end());
  a->parked = false;
  a->wake = nullptr;
  a->woken_no_more();
}

std::string Scheduler::next_local_address() {
  if (settings_.outbound_ips.empty()) return {};
  return settings_.outbound_ips[next_ip_++ % settings_.outbound_ips.size()];
}

void Scheduler::try_host(const std::shared_ptr<Attempt>& a) {
  OutSettings settings;
  bool plain = a->plain;
  {
    std::lock_guard lock(mutex_);
    settings = settings_;
    if (a->host_index < a->hosts.size() &&
        a->target->without_tls.count(a->hosts[a->host_index].host)) {
      plain = true;
    }
  }
  if (a->host_index >= a->hosts.size()) {
    // Every host failed: this job and the destination's other waiting ones wait for their
    // next attempt (the destination is down for now).
    std::deque<PendingJob> waiting;
    {
      std::lock_guard lock(mutex_);
      waiting.swap(a->target->waiting);
    }
    const std::string reason = a->last_error.empty() ? "no host could be reached" : a->last_error;
    settle(a->first.message, a->first.job, Outcome::temporary, "4.4.1", reason);
    for (auto& p : waiting)
      settle(p.message, p.job, Outcome::temporary, "4.4.1", reason);
    return connection_over(a->target);
  }
  const HostPort& hp = a->hosts[a->host_index];
  sdk::OutboundRequest request;
  request.host = hp.host;
  request.port = hp.port;
  request.tls =
      settings.enable_tls_if_supported && !plain ? sdk::TlsMode::starttls : sdk::TlsMode::none;
  request.verify_certificate = settings.verify_tls;
  request.tls_name = hp.host;
  request.local_address = a->from_primary ? std::string() : a->local_address;
  request.connect_timeout = kConnectTimeout;
  request.timeout = settings.command_timeout;
  request.max_line_length = kMaxReplyLine;

  ClientOptions options;
  options.helo_name = host_.hostname();
  options.remote_host = hp.host;
  options.reply_timeout = settings.command_timeout;
  options.reuse_time = settings.connection_reuse_time;
  options.starttls = request.tls == sdk::TlsMode::starttls;
  options.require_tls = settings.verify_tls && request.tls == sdk::TlsMode::starttls;
  if (a->target->destination.is_relay) {
    options.auth_user = settings.relay_user;
    options.auth_password = settings.relay_password;
  }

  std::weak_ptr<Scheduler> weak = weak_from_this();
  ClientHooks hooks;
  hooks.next_job = [weak, a]() -> std::optional<Job> {
    auto self = weak.lock();
    if (!self) return std::nullopt;
    std::lock_guard lock(self->mutex_);
    const auto& target = a->target;
    a->woken_no_more();
    if (!self->active_ || target->waiting.empty()) return std::nullopt;
    PendingJob p = std::move(target->waiting.front());
    target->waiting.pop_front();
    return std::move(p.job);
  };
  hooks.job_done = [weak, host = hp.host](const Job& job, std::vector<RecipientOutcome> outcomes,
                                          const ConnectionReport& report) {
    auto self = weak.lock();
    if (!self) return;
    std::shared_ptr<Message> message;
    {
      std::lock_guard lock(self->mutex_);
      auto it = self->messages_.find(job.id);
      if (it == self->messages_.end()) return;
      message = it->second;
      if (!report.tls.empty() || !report.greeting.empty()) {
        message->tls_note =
            host + ": " +
            (report.tls.empty()
                 ? std::string("no TLS")
                 : report.tls + (report.tls_verified ? ", certificate verified"
                                                     : ", certificate not verified"));
      }
    }
    self->job_done(message, job, std::move(outcomes), host, report.dsn_supported);
  };
  hooks.park = [weak, a](std::function<bool(bool)> wake) {
    auto self = weak.lock();
    return self ? self->park(a, std::move(wake)) : Park::quit;
  };
  hooks.unpark = [weak, a] {
    auto self = weak.lock();
    return !self || self->unpark(a);
  };
  hooks.closed = [weak, a](const ConnectionReport& report) {
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->mutex_);
      self->forget_parked(a);
    }
    self->host_.log(sdk::LogLevel::info, "connection to " + a->hosts[a->host_index].host +
                                             " ended" +
                                             (report.tls.empty() ? "" : " (" + report.tls + ")") +
                                             (report.error.empty() ? "" : ": " + report.error));
    if (report.first_job_untouched) return self->host_failed(a, report.error, report.tls_failed);
    self->connection_over(a->target);
  };

  Job first = a->first.job;
  host_.connect(
      request,
      [options, hooks, first](sdk::SessionContext& ctx) -> std::unique_ptr<sdk::Session> {
        return std::make_unique<ClientSession>(ctx, options, hooks, first);
      },
      [weak, a](const std::string& reason) {
        if (auto self = weak.lock()) self->host_failed(a, reason, false);
      });
}

void Scheduler::host_failed(const std::shared_ptr<Attempt>& a, const std::string& reason,
                            bool tls_failed) {
  bool fallback_plain = false;
  bool fallback_primary = false;
  {
    std::lock_guard lock(mutex_);
    const std::string& host = a->hosts[a->host_index].host;
    a->last_error = host + ": " + reason;
    if (tls_failed && settings_.tls_fallback_to_plain && !a->plain) {
      a->target->without_tls.insert(host);
      fallback_plain = true;
    } else if (!a->from_primary && !a->local_address.empty() && settings_.fallback_to_primary_ip) {
      fallback_primary = true;
    }
  }
  host_.log(sdk::LogLevel::info, "cannot deliver to " + a->last_error +
                                     (fallback_plain     ? "; trying again without STARTTLS"
                                      : fallback_primary ? "; trying again from the primary IP"
                                                         : ""));
  if (fallback_plain) {
    a->plain = true;
  } else if (fallback_primary) {
    a->from_primary = true;
  } else {
    ++a->host_index;
    a->from_primary = false;
    a->plain = false;
  }
  try_host(a);
}

void Scheduler::connection_over(const std::shared_ptr<Target>& target) {
  std::vector<std::shared_ptr<Target>> others;
  {
    std::lock_guard lock(mutex_);
    --target->connections;
    --connections_;
    for (const auto& [key, t] : targets_) {
      if (t != target && !t->waiting.empty()) others.push_back(t);
    }
  }
  // The freed delivery thread goes to this destination first, then to any other that waits.
  pump(target);
  for (const auto& t : others)
    pump(t);
}

void Scheduler::settle(const std::shared_ptr<Message>& message, const Job& job, Outcome outcome,
                       const std::string& status, const std::string& reason) {
  std::vector<RecipientOutcome> outcomes;
  for (auto i : job.recipients)
    outcomes.push_back({i, outcome, reason, status});
  job_done(message, job, std::move(outcomes), "", false);
}

void Scheduler::job_done(const std::shared_ptr<Message>& message, const Job& job,
                         std::vector<RecipientOutcome> outcomes, const std::string& remote_mta,
                         bool dsn_passed) {
  for (const auto& o : outcomes) {
    const std::string& address = job.envelope.recipients.at(o.index).address;
    host_.log(o.outcome == Outcome::delivered ? sdk::LogLevel::info : sdk::LogLevel::warn,
              job.id + ": to=<" + address +
                  ">, relay=" + (remote_mta.empty() ? "none" : remote_mta) + ", dsn=" + o.status +
                  ", status=" + outcome_word(o.outcome) + " (" + o.reply + ")");
  }
  bool last = false;
  {
    std::lock_guard lock(mutex_);
    for (auto& o : outcomes) {
      if (!remote_mta.empty()) message->remote_mta[o.index] = remote_mta;
      if (dsn_passed) message->dsn_passed.insert(o.index);
      if (o.outcome == Outcome::temporary) message->last_error = o.reply;
      message->outcomes.push_back(std::move(o));
    }
    last = --message->jobs_open == 0;
  }
  if (last) {
    host_.post_work_on(sdk::WorkPool::delivery,
                       [self = shared_from_this(), message] { self->finish(message); });
  }
}

void Scheduler::finish(const std::shared_ptr<Message>& message) {
  sdk::Queue* queue = host_.queue();
  sdk::Reports* reports = host_.reports();
  OutSettings settings;
  {
    std::lock_guard lock(mutex_);
    settings = settings_;
  }
  const std::string& id = message->entry.id;
  sdk::Envelope env = message->entry.envelope;
  const std::int64_t now = unix_now();
  const auto lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(settings.message_lifetime).count();
  const bool expired = now >= env.received + lifetime;

  std::vector<sdk::RecipientUpdate> updates;
  std::vector<sdk::ReportRecipient> report;
  auto remote = [&](std::size_t i) {
    auto it = message->remote_mta.find(i);
    return it == message->remote_mta.end() ? std::string() : it->second;
  };
  for (const auto& o : message->outcomes) {
    auto& r = env.recipients.at(o.index);
    r.reply = o.reply;
    if (o.outcome == Outcome::delivered) {
      r.state = sdk::RecipientState::delivered;
      // The next hop took over NOTIFY when it had the DSN extension; else we say "relayed".
      if (!message->dsn_passed.count(o.index))
        report.push_back({o.index, sdk::ReportAction::relayed, o.status, o.reply, remote(o.index)});
    } else if (o.outcome == Outcome::permanent) {
      r.state = sdk::RecipientState::failed;
      report.push_back({o.index, sdk::ReportAction::failed, o.status, o.reply, remote(o.index)});
    } else if (expired) {
      r.state = sdk::RecipientState::failed;
      r.reply = "delivery time expired: " + o.reply;
      report.push_back({o.index, sdk::ReportAction::failed, "5.4.7", r.reply, remote(o.index)});
    }
    updates.push_back({o.index, r.state, r.reply});
  }
  auto erase = [&] {
    // A slot is free: look for due messages now, in one pass for every slot freed before it
    // runs.
    bool soon = false;
    {
      std::lock_guard lock(mutex_);
      messages_.erase(id);
      soon = !tick_soon_;
      tick_soon_ = true;
    }
    if (soon) arm(milliseconds(0));
  };
  // Every recipient settled and nobody to tell: the entry simply goes (a crash before that
  // leaves it as it was, to be sent again: the in-flight window of docs/design-notes.md). This
  // spares the envelope's rewrite and its fsync for almost every message.
  const bool settled = std::none_of(env.recipients.begin(), env.recipients.end(), [](auto& r) {
    return r.state == sdk::RecipientState::pending;
  });
  if (settled && report.empty()) {
    if (auto s = queue->complete(id); !s.ok())
      host_.log(sdk::LogLevel::error, id + ": cannot remove the finished entry: " + s.message);
    return erase();
  }
  if (auto s = queue->update_recipients(id, updates); !s.ok()) {
    host_.log(sdk::LogLevel::error, id + ": cannot record the outcomes: " + s.message);
    queue->release(id);
    return erase();
  }
  if (!report.empty() && reports != nullptr) {
    auto sent = reports->report(env, message->entry.message_path, report, 0);
    if (!sent.ok()) {
      host_.log(sdk::LogLevel::error,
                id + ": cannot send the delivery report: " + sent.message + "; entry held");
      queue->fail(id, "the delivery report could not be sent: " + sent.message);
      return erase();
    }
    if (sent.value.reported > 0) {
      host_.log(sdk::LogLevel::info, id + ": delivery report to <" + env.sender + "> (" +
                                         std::to_string(sent.value.reported) + " recipient(s)), " +
                                         sent.value.id);
    }
  }
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < env.recipients.size(); ++i) {
    if (env.recipients[i].state == sdk::RecipientState::pending) pending.push_back(i);
  }
  if (pending.empty()) {
    if (auto s = queue->complete(id); !s.ok())
      host_.log(sdk::LogLevel::error, id + ": cannot remove the finished entry: " + s.message);
    return erase();
  }
  // Still pending: once, after delay_notice_after, the sender hears that it is delayed.
  const auto notice =
      std::chrono::duration_cast<std::chrono::seconds>(settings.delay_notice_after).count();
  if (notice > 0 && now - env.received >= notice && reports != nullptr) {
    auto noted = queue->note(id, "delay-notified");
    if (noted.ok() && noted.value.empty()) {
      std::vector<sdk::ReportRecipient> delayed;
      for (auto i : pending) {
        delayed.push_back(
            {i, sdk::ReportAction::delayed, "4.4.7", env.recipients[i].reply, remote(i)});
      }
      auto sent =
          reports->report(env, message->entry.message_path, delayed, env.received + lifetime);
      if (sent.ok()) queue->set_note(id, "delay-notified", std::to_string(now));
    }
  }
  if (!message->tls_note.empty()) queue->set_note(id, "tls", message->tls_note);
  const auto wait =
      std::chrono::duration_cast<std::chrono::seconds>(settings.retry_after(env.attempts + 1))
          .count();
  const std::int64_t next = std::min(now + wait, env.received + lifetime);
  if (auto s = queue->defer(id, next, message->last_error); !s.ok())
    host_.log(sdk::LogLevel::error, id + ": cannot defer: " + s.message);
  erase();
}

}  // namespace portico::smtpout
