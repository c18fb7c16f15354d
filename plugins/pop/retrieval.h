// pop — POP retrieval: polling the external POP3 mailboxes of local accounts.
//
// Every retrieval interval each enabled POP source of the directory is due; at most
// retrieval_max_threads run at once, each on its own outbound connection from the core (so a
// slow source holds one slot and stalls no other). A run first delivers what a previous run
// left complete in the download folder, then connects (implicit TLS, STLS or plain, as the
// source says; certificates verified unless retrieval_verify_tls is off) and fetches what is
// new by UIDL (see retrieval_session.h). Each run's outcome goes to the directory (last run,
// last error, counts: `portico retrieval status`); a failed source is retried after the
// interval doubled per consecutive failure, up to an hour (or the interval, if longer).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "portico/host.h"
#include "retrieval_session.h"
#include "settings.h"

namespace portico::pop {

// The wait before the next attempt after `failures` consecutive failures (0: success).
std::chrono::milliseconds retrieval_backoff(std::chrono::milliseconds interval, int failures);

class RetrievalScheduler : public std::enable_shared_from_this<RetrievalScheduler> {
 public:
  explicit RetrievalScheduler(sdk::Host& host) : host_(host) {}
  // Starts polling, or applies new settings to the next runs.
  void configure(const PopSettings& settings);
  // Stops starting runs (runs under way finish on their own).
  void stop();
  // One scheduling pass: starts the sources that are due, as slots allow. Public for tests.
  void tick();

 private:
  void start(const sdk::RetrievalSource& source, const PopSettings& settings);
  void finished(const sdk::RetrievalSource& source, std::int64_t started,
                const RunOutcome& outcome);
  void arm(std::chrono::milliseconds delay);

  sdk::Host& host_;
  std::mutex mutex_;  // guards what follows
  PopSettings settings_;
  bool active_ = false;
  std::unique_ptr<sdk::Scheduled> timer_;
  std::set<std::int64_t> running_;
  struct SourceState {
    std::chrono::steady_clock::time_point due{};
    int failures = 0;
  };
  std::map<std::int64_t, SourceState> state_;
};

}  // namespace portico::pop
