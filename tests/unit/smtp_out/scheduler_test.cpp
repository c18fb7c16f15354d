// smtp-out's delivery scheduler over the real queue: its timer chain survives a tick that runs
// before the thread that armed the timer has kept its handle (what a loaded machine does, and
// what once left the scheduler with no timer at all: deliveries stopped for good).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/queue/queue.h"
#include "portico/testkit/host.h"
#include "scheduler.h"
#include "settings.h"
#include "tests/unit/queue/queue_test.h"

namespace portico::smtpout {
namespace {

using namespace std::chrono_literals;

// The first timer fires at once on a thread of its own while schedule() waits up to 300 ms for
// that call to end, before returning the handle: the timer has fired before its maker keeps the
// handle. Later timers are only recorded. The test's side: how many timers are still to come
// (neither fired nor cancelled).
class RacingHost : public testkit::TestHost {
 public:
  explicit RacingHost(sdk::Queue* queue) : queue_(queue) {}
  ~RacingHost() { join(); }

  sdk::Queue* queue() override { return queue_; }
  std::unique_ptr<sdk::Scheduled> schedule(std::chrono::milliseconds,
                                           std::function<void()> fn) override {
    auto timer = std::make_shared<Timer>();
    bool first;
    {
      std::lock_guard lock(mutex_);
      timers_.push_back(timer);
      first = timers_.size() == 1;
    }
    if (first) {
      timer->fired = true;
      auto done = std::make_shared<std::promise<void>>();
      auto ended = done->get_future();
      std::thread fire([fn = std::move(fn), done] {
        fn();
        done->set_value();
      });
      ended.wait_for(300ms);
      std::lock_guard lock(mutex_);
      threads_.push_back(std::move(fire));
    }
    return std::make_unique<Handle>(timer);
  }

  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads)
      t.join();
  }
  std::size_t to_come() {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& t : timers_)
      n += !t->fired && !t->cancelled ? 1 : 0;
    return n;
  }
  std::size_t made() {
    std::lock_guard lock(mutex_);
    return timers_.size();
  }

 private:
  struct Timer {
    std::atomic<bool> cancelled{false};
    std::atomic<bool> fired{false};
  };
  class Handle : public sdk::Scheduled {
   public:
    explicit Handle(std::shared_ptr<Timer> timer) : timer_(std::move(timer)) {}
    ~Handle() override { timer_->cancelled = true; }

   private:
    std::shared_ptr<Timer> timer_;
  };

  sdk::Queue* queue_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Timer>> timers_;
  std::vector<std::thread> threads_;
};

TEST(SchedulerTimer, ATickBeforeTheHandleIsKeptLeavesATimerToCome) {
  core::queue_test::TempDir dir;
  auto queue = core::open_queue(dir.path());
  RacingHost host(queue.get());
  auto scheduler = std::make_shared<Scheduler>(host);
  scheduler->configure(OutSettings{});  // arms at once: the racing first timer
  host.join();
  ASSERT_GE(host.made(), 2u) << "the first tick armed the next timer";
  EXPECT_EQ(host.to_come(), 1u) << "the scheduler kept no timer that is still to fire";
  scheduler->stop();
  EXPECT_EQ(host.to_come(), 0u);
}

}  // namespace
}  // namespace portico::smtpout
