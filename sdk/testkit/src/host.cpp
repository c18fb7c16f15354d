// Portico SDK test kit — the test host (see portico/testkit/host.h).
#include "portico/testkit/host.h"

#include <algorithm>
#include <utility>

#include "core/banner/templater.h"
#include "core/directory/sasl_server.h"

namespace portico::testkit {

struct TestHost::Timer {
  std::chrono::milliseconds delay{0};
  std::uint64_t order = 0;
  std::function<void()> fn;
  bool cancelled = false;
};

class TestHost::TimerHandle final : public sdk::Scheduled {
 public:
  explicit TimerHandle(std::shared_ptr<Timer> timer) : timer_(std::move(timer)) {}
  ~TimerHandle() override { timer_->cancelled = true; }

 private:
  std::shared_ptr<Timer> timer_;
};

TestHost::TestHost(std::string hostname, std::string data_dir)
    : hostname_(std::move(hostname)),
      data_dir_(std::move(data_dir)),
      // Over whatever Auth this host (or a derived one) offers at each call.
      sasl_(std::make_unique<core::SaslServerImpl>([this] { return auth(); })) {}

TestHost::~TestHost() = default;

void TestHost::log(sdk::LogLevel level, std::string_view message) {
  static constexpr const char* names[] = {"trace", "debug", "info", "warn", "error"};
  log_.push_back(std::string(names[static_cast<int>(level)]) + ": " + std::string(message));
}

std::string TestHost::render_template(std::string_view text,
                                      const sdk::ConnectionInfo& conn) const {
  return core::render_template(text, conn);
}

void TestHost::post_work(std::function<void()> work) {
  if (work) work();
}

void TestHost::post_work_on(sdk::WorkPool, std::function<void()> work) {
  if (work) work();
}

void TestHost::connect(const sdk::OutboundRequest&, sdk::OutboundSessionFactory,
                       sdk::OutboundFailure failed) {
  if (failed) failed("no outbound connections in tests");
}

std::unique_ptr<sdk::Scheduled> TestHost::schedule(std::chrono::milliseconds delay,
                                                   std::function<void()> fn) {
  auto timer = std::make_shared<Timer>();
  timer->delay = delay;
  timer->order = next_timer_++;
  timer->fn = std::move(fn);
  timers_.push_back(timer);
  return std::make_unique<TimerHandle>(std::move(timer));
}

std::size_t TestHost::scheduled() const {
  return static_cast<std::size_t>(
      std::count_if(timers_.begin(), timers_.end(), [](const auto& t) { return !t->cancelled; }));
}

std::size_t TestHost::run_scheduled(std::size_t limit) {
  std::size_t ran = 0;
  while (ran < limit) {
    std::erase_if(timers_, [](const auto& t) { return t->cancelled; });
    if (timers_.empty()) break;
    auto next = std::min_element(timers_.begin(), timers_.end(), [](const auto& a, const auto& b) {
      return a->delay != b->delay ? a->delay < b->delay : a->order < b->order;
    });
    std::shared_ptr<Timer> timer = *next;
    timers_.erase(next);
    timer->cancelled = true;  // it runs once
    if (timer->fn) timer->fn();
    ++ran;
  }
  return ran;
}

sdk::SaslServer* TestHost::sasl() {
  return sasl_.get();
}

}  // namespace portico::testkit
