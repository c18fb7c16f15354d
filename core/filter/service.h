// Portico core — the content filter stage (sdk::Filter): every message a plugin hands over is
// checked by rspamd (/checkv2) before the plugin answers its client, at most max_checks at once.
//
// Guarantees: at most SpamFilterConfig::max_checks checks are in flight (reading the message,
// asking rspamd, writing the marked copy); the next ones wait in arrival order, and their
// sessions' input stays paused meanwhile, so waiting costs no buffering. Nothing blocks an I/O
// thread: the message is read and rewritten on the filter pool, the HTTP exchange is
// asynchronous with one timeout for all of it. Every check ends in exactly one `done`: rspamd's
// verdict as the operator's spam_filter.on_* settings map it, or, when rspamd is down, slow or
// unintelligible, spam_filter.on_failure (accept unmarked, or a temporary failure). A reload
// applies new settings to the checks that start afterwards.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/config/config.h"
#include "portico/filter.h"
#include "portico/host.h"
#include "portico/queue.h"

namespace portico::core::filter {

struct Decision;
struct HttpReply;

// Upper bounds (seconds) of the check latency histogram's buckets.
inline constexpr std::array<double, 11> kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5,   1,    2.5,   5,    10};

struct FilterStats {
  bool enabled = false;
  std::map<std::string, std::uint64_t> actions;   // rspamd's action -> checks
  std::map<std::string, std::uint64_t> outcomes;  // accepted, marked, tempfailed, rejected, failed
  std::uint64_t skipped = 0;                      // not checked: too big or authenticated
  std::uint64_t in_flight = 0;
  std::uint64_t waiting = 0;
  std::uint64_t max_in_flight = 0;  // the most at once since the start
  std::array<std::uint64_t, kLatencyBuckets.size()> latency_buckets{};  // cumulative counts
  std::uint64_t latency_count = 0;
  double latency_sum = 0;  // seconds
};

class FilterService final : public sdk::Filter {
 public:
  using PostWork = std::function<void(sdk::WorkPool, std::function<void()>)>;
  // `io`: where HTTP exchanges run; `post_work`: the core's pools; `queue` makes the marked
  // copies; `hostname`: this server's name, told to rspamd.
  FilterService(boost::asio::any_io_executor io, PostWork post_work, sdk::Queue& queue,
                std::function<std::string()> hostname);
  ~FilterService();

  // The settings (at start and at each reload).
  void configure(const SpamFilterConfig& config);

  bool wants(const sdk::FilterRequest& request) const override;
  void check(const sdk::FilterRequest& request, std::shared_ptr<sdk::IncomingMessage> message,
             sdk::FilterDone done) override;

  FilterStats stats() const;
  // Drops the checks still waiting for a slot, without answering them (the server is going
  // away: their sessions' connections must go before the I/O context does).
  void drop_waiting();

 private:
  struct Job;
  void start(std::shared_ptr<Job> job);
  void on_reply(const std::shared_ptr<Job>& job, HttpReply reply);
  void finish(const std::shared_ptr<Job>& job, const Decision& d,
              std::shared_ptr<sdk::IncomingMessage> message);
  std::shared_ptr<const SpamFilterConfig> config() const;
  // Checks allowed at once (under mutex_).
  std::uint64_t limit() const;

  boost::asio::any_io_executor io_;
  PostWork post_work_;
  sdk::Queue& queue_;
  std::function<std::string()> hostname_;

  mutable std::mutex mutex_;  // guards what follows
  std::shared_ptr<const SpamFilterConfig> config_;
  std::deque<std::shared_ptr<Job>> waiting_;
  std::uint64_t in_flight_ = 0;
  FilterStats stats_;  // all but enabled, in_flight, waiting and skipped, filled in by stats()
  mutable std::atomic<std::uint64_t> skipped_{0};
};

}  // namespace portico::core::filter
