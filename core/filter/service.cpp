// Portico core — the content filter stage (see service.h).
#include "core/filter/service.h"

#include <algorithm>
#include <boost/asio/strand.hpp>

#include "core/filter/http.h"
#include "core/filter/rewrite.h"
#include "core/filter/rspamd.h"

namespace portico::core::filter {

struct FilterService::Job {
  sdk::FilterRequest request;
  std::shared_ptr<sdk::IncomingMessage> message;
  sdk::FilterDone done;
  std::shared_ptr<const SpamFilterConfig> config;
  std::chrono::steady_clock::time_point started;
};

FilterService::FilterService(boost::asio::any_io_executor io, PostWork post_work, sdk::Queue& queue,
                             std::function<std::string()> hostname)
    : io_(std::move(io)),
      post_work_(std::move(post_work)),
      queue_(queue),
      hostname_(std::move(hostname)),
      config_(std::make_shared<SpamFilterConfig>()) {}

FilterService::~FilterService() = default;

void FilterService::configure(const SpamFilterConfig& config) {
  std::deque<std::shared_ptr<Job>> startable;
  {
    std::lock_guard lock(mutex_);
    config_ = std::make_shared<const SpamFilterConfig>(config);
    // A higher limit lets waiting checks start now.
    while (!waiting_.empty() && in_flight_ < limit()) {
      startable.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      ++in_flight_;
    }
    stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_);
  }
  for (auto& job : startable)
    start(std::move(job));
}

std::uint64_t FilterService::limit() const {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(1, config_->max_checks));
}

std::shared_ptr<const SpamFilterConfig> FilterService::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

bool FilterService::wants(const sdk::FilterRequest& request) const {
  const auto c = config();
  if (!c->enabled) return false;
  const bool too_big = c->max_message_size != 0 && request.size > c->max_message_size;
  const bool authenticated = !request.auth_user.empty() && !c->check_authenticated;
  if (too_big || authenticated) {
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void FilterService::check(const sdk::FilterRequest& request,
                          std::shared_ptr<sdk::IncomingMessage> message, sdk::FilterDone done) {
  auto job = std::make_shared<Job>();
  job->request = request;
  job->message = std::move(message);
  job->done = std::move(done);
  {
    std::lock_guard lock(mutex_);
    if (in_flight_ >= limit()) {
      waiting_.push_back(std::move(job));
      return;
    }
    ++in_flight_;
    stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_);
  }
  start(std::move(job));
}

void FilterService::start(std::shared_ptr<Job> job) {
  job->config = config();
  job->started = std::chrono::steady_clock::now();
  const SpamFilterConfig& c = *job->config;
  auto r = std::make_shared<HttpRequest>();
  r->address = c.address;
  r->port = c.port;
  r->target = "/checkv2";
  r->fields = request_fields(job->request, hostname_());
  r->timeout = c.timeout;
  r->max_reply = kMaxReplyBody;
  auto send = [this, job](HttpRequest& request) {
    http_post(boost::asio::make_strand(io_), std::move(request),
              [this, job](HttpReply reply) { on_reply(job, std::move(reply)); });
  };
  // A message still in memory (up to the queue's 64 KiB buffer) goes at once: the exchange
  // itself is asynchronous, and every hop between threads costs more than the copy.
  if (auto held = job->message->held_in_memory()) {
    r->body = std::string(*held);
    return send(*r);
  }
  post_work_(sdk::WorkPool::filter, [this, job, r, send] {
    // Flushed, not fsync'd: the plugin's own seal() later makes it durable.
    if (auto s = job->message->seal_unsynced(); !s.ok()) {
      HttpReply failed;
      failed.error = "cannot read the message: " + s.message;
      return on_reply(job, std::move(failed));
    }
    r->body_file = job->message->path();
    send(*r);
  });
}

void FilterService::on_reply(const std::shared_ptr<Job>& job, HttpReply reply) {
  const SpamFilterConfig& c = *job->config;
  std::optional<Decision> decision;
  std::string action;
  if (reply.status == 200) {
    std::string error;
    if (auto parsed = parse_reply(reply.body, error)) {
      action = parsed->action;
      decision = decide(*parsed, c);
    } else {
      decision = on_failure(error, c);
    }
  } else if (reply.status != 0) {
    decision = on_failure("rspamd answered HTTP " + std::to_string(reply.status) + " " +
                              client_text(reply.body.substr(0, 200)),
                          c);
  } else {
    decision = on_failure(reply.error, c);
  }
  {
    std::lock_guard lock(mutex_);
    if (!action.empty()) ++stats_.actions[action];
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - job->started).count();
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      if (seconds <= kLatencyBuckets[i]) ++stats_.latency_buckets[i];
    }
    ++stats_.latency_count;
    stats_.latency_sum += seconds;
  }
  if (decision->action != sdk::FilterAction::accept || decision->add.empty()) {
    return finish(job, *decision, job->message);
  }
  // Marked: a copy with the fields on top (and the new Subject); made here from a message in
  // memory (buffered appends only), on the filter pool from a file.
  auto mark = [this, job, d = std::move(*decision)]() mutable {
    auto made = queue_.create_incoming();
    sdk::QueueStatus s{made.error, made.message};
    if (made.ok()) {
      auto held = job->message->held_in_memory();
      std::string_view octets = held ? *held : std::string_view();
      s = rewrite_message(d, held ? &octets : nullptr, job->message->path(), *made.value);
    }
    if (!s.ok()) {
      // The copy failed (disk full, ...): the message goes on unmarked rather than lost or
      // refused for the filter's sake; the log says so.
      d.log += "; not marked: " + s.message;
      return finish(job, d, job->message);
    }
    finish(job, d, std::shared_ptr<sdk::IncomingMessage>(std::move(made.value)));
  };
  if (job->message->held_in_memory()) return mark();
  post_work_(sdk::WorkPool::filter, std::move(mark));
}

void FilterService::finish(const std::shared_ptr<Job>& job, const Decision& d,
                           std::shared_ptr<sdk::IncomingMessage> message) {
  sdk::FilterResult result;
  result.action = d.action;
  result.reply = d.reply;
  result.log = d.log + ", " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - job->started)
                                  .count()) +
               " ms";
  result.checked = d.checked;
  if (d.action == sdk::FilterAction::accept) result.message = std::move(message);
  std::shared_ptr<Job> next;
  {
    std::lock_guard lock(mutex_);
    ++stats_.outcomes[d.counted_as];
    if (!waiting_.empty() && in_flight_ <= limit()) {
      next = std::move(waiting_.front());  // takes over this check's place
      waiting_.pop_front();
    } else {
      --in_flight_;
    }
  }
  auto done = std::move(job->done);
  job->message.reset();
  if (next) start(std::move(next));
  if (done) done(std::move(result));
}

void FilterService::drop_waiting() {
  std::deque<std::shared_ptr<Job>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(waiting_);
  }
}

FilterStats FilterService::stats() const {
  std::lock_guard lock(mutex_);
  FilterStats s = stats_;
  s.enabled = config_->enabled;
  s.in_flight = in_flight_;
  s.waiting = waiting_.size();
  s.skipped = skipped_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace portico::core::filter
