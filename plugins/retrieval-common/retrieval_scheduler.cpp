// retrieval — the scheduling of retrieval runs (see retrieval_scheduler.h).
#include "retrieval_scheduler.h"

#include <algorithm>
#include <ctime>

#include "portico/outbound.h"

namespace portico::retrieval {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kMaxBackoff = std::chrono::hours(1);
constexpr milliseconds kMaxTick = std::chrono::seconds(10);
constexpr milliseconds kMinTick = std::chrono::seconds(1);
// How long the server may take to answer (or to send the rest of a message), and to accept
// the connection.
constexpr milliseconds kReplyTimeout = std::chrono::minutes(2);
constexpr milliseconds kConnectTimeout = std::chrono::seconds(30);

std::string describe(const sdk::RetrievalSource& s) {
  return "retrieval source " + std::to_string(s.id) + " (" + s.user + "@" + s.host + " for " +
         s.account + ")";
}

std::string in_words(milliseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return s >= 120 ? std::to_string(s / 60) + " min" : std::to_string(s) + " s";
}

}  // namespace

milliseconds retrieval_backoff(milliseconds interval, int failures) {
  if (failures <= 0) return interval;
  milliseconds wait = interval;
  const milliseconds cap = std::max(interval, kMaxBackoff);
  for (int i = 1; i < failures && wait < cap; ++i)
    wait *= 2;
  return std::min(wait, cap);
}

void RetrievalScheduler::configure(const Settings& settings) {
  if (host_.directory() == nullptr || host_.store() == nullptr) return;
  {
    std::lock_guard lock(mutex_);
    settings_ = settings;
    active_ = true;
  }
  arm(milliseconds(0));
}

void RetrievalScheduler::stop() {
  std::lock_guard lock(mutex_);
  active_ = false;
  timer_.reset();
}

void RetrievalScheduler::arm(milliseconds delay) {
  std::weak_ptr<RetrievalScheduler> weak = weak_from_this();
  // Made and kept under the lock, so that the handle kept is always the newest (see the same
  // function of smtp-out's scheduler: otherwise a late thread could keep a timer that has
  // fired already, cancelling the one that was to come).
  std::lock_guard lock(mutex_);
  if (!active_) return;
  timer_ = host_.schedule(delay, [weak] {
    if (auto self = weak.lock()) self->tick();
  });
}

void RetrievalScheduler::tick() {
  Settings settings;
  {
    std::lock_guard lock(mutex_);
    if (!active_) return;
    settings = settings_;
  }
  std::vector<sdk::RetrievalSource> sources = host_.directory()->retrieval_sources("");
  std::vector<sdk::RetrievalSource> due;
  const auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    if (!active_) return;
    std::set<std::int64_t> known;
    for (auto& s : sources) {
      known.insert(s.id);
      if (s.protocol != protocol_.which || !s.enabled) continue;
      if (running_.count(s.id)) continue;
      auto& st = state_[s.id];
      if (st.due <= now) due.push_back(std::move(s));
    }
    for (auto it = state_.begin(); it != state_.end();) {  // removed sources
      it = known.count(it->first) ? std::next(it) : state_.erase(it);
    }
    std::stable_sort(due.begin(), due.end(), [&](const auto& a, const auto& b) {
      return state_[a.id].due < state_[b.id].due;
    });
    const auto slots = static_cast<std::size_t>(std::max<std::int64_t>(
        0, settings.max_threads - static_cast<std::int64_t>(running_.size())));
    if (due.size() > slots) due.resize(slots);
    for (const auto& s : due)
      running_.insert(s.id);
  }
  for (const auto& s : due)
    start(s, settings);
  arm(std::clamp(settings.interval, kMinTick, kMaxTick));
}

void RetrievalScheduler::start(const sdk::RetrievalSource& source, const Settings& settings) {
  const auto started = static_cast<std::int64_t>(std::time(nullptr));
  auto self = shared_from_this();
  auto run = std::make_shared<RunContext>();
  run->source = source;
  run->store = host_.store();
  run->directory = host_.directory();
  run->hostname = host_.hostname();
  run->finished = [self, source, started](const RunOutcome& outcome) {
    self->finished(source, started, outcome);
  };
  try {
    // Read when the run starts: the data directory is known once the server has started.
    std::string folder = settings.download_path;
    if (folder.empty()) folder = host_.data_dir() + "/" + protocol_.folder_name;
    run->spool = std::make_shared<SourceSpool>(folder, source.id);
    run->spool->open();
    // What a previous run downloaded completely but may not have delivered.
    for (const auto& uid : run->spool->pending()) {
      std::string error = run->spool->deliver(uid, source, *run->store, *run->directory, true);
      if (!error.empty()) return run->report({false, run->fetched, error});
      ++run->fetched;
    }
  } catch (const std::exception& e) {
    return run->report({false, run->fetched, e.what()});
  }

  sdk::OutboundRequest request;
  request.host = source.host;
  using Tls = sdk::RetrievalSource::Tls;
  request.tls = source.tls == Tls::implicit   ? sdk::TlsMode::implicit
                : source.tls == Tls::starttls ? sdk::TlsMode::starttls
                                              : sdk::TlsMode::none;
  request.port = source.port != 0              ? source.port
                 : source.tls == Tls::implicit ? protocol_.implicit_tls_port
                                               : protocol_.plain_port;
  request.verify_certificate = settings.verify_tls;
  request.connect_timeout = kConnectTimeout;
  request.timeout = kReplyTimeout;
  request.max_line_length = protocol_.max_line_length;
  host_.connect(
      request,
      [run, make = protocol_.make_session](sdk::SessionContext& ctx) { return make(ctx, run); },
      [run](const std::string& reason) {
        run->report({false, run->fetched, reason});
      });
}

void RetrievalScheduler::finished(const sdk::RetrievalSource& source, std::int64_t started,
                                  const RunOutcome& outcome) {
  milliseconds wait{};
  int failures = 0;
  {
    std::lock_guard lock(mutex_);
    running_.erase(source.id);
    auto& st = state_[source.id];
    st.failures = outcome.ok ? 0 : st.failures + 1;
    failures = st.failures;
    wait = retrieval_backoff(settings_.interval, failures);
    st.due = Clock::now() + wait;
  }
  if (outcome.ok) {
    if (outcome.fetched > 0) {
      host_.log(sdk::LogLevel::info,
                describe(source) + ": " + std::to_string(outcome.fetched) + " message(s)");
    }
  } else {
    host_.log(sdk::LogLevel::warn, describe(source) + ": " + outcome.error + " (failure " +
                                       std::to_string(failures) + ", next attempt in " +
                                       in_words(wait) + ")");
  }
  // The directory write may block: never on the session's I/O thread.
  std::weak_ptr<RetrievalScheduler> weak = weak_from_this();
  host_.post_work([weak, id = source.id, started, outcome] {
    auto self = weak.lock();
    if (!self) return;
    self->host_.directory()->record_retrieval(id, started, outcome.ok ? "" : outcome.error,
                                              outcome.fetched);
    self->tick();  // a slot is free
  });
}

}  // namespace portico::retrieval
