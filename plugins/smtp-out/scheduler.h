// smtp-out — the delivery scheduler: from the queue to the other servers and back.
//
// Every queue_scan_interval it claims due queue entries (a few per delivery thread), groups
// each message's pending recipients by next hop (routing.h) and hands one Job per next hop to
// that destination. At most max_delivery_threads connections are open at once, and at most
// max_connections_per_destination of them to one destination; each connection, once its first
// job is done, takes the destination's next waiting job (several messages over one
// connection). A connection with no job left waits, idle, up to connection_reuse_time for the
// destination's next one (a new message goes to such a connection before a new one is opened),
// unless another destination waits for its delivery slot. So a slow or dead destination holds
// only its own few connections while every other message proceeds.
//
// A connection attempt walks the destination's hosts in order (MX preference), from the next
// outbound_ip (rotating), once more from the system's own address when fallback_to_primary_ip
// is on and the first try failed, and once more without STARTTLS when the TLS handshake failed
// and tls_fallback_to_plain is on. When every host fails, the job and the destination's other
// waiting jobs fail temporarily with the last reason.
//
// When every job of a message is done, its outcomes are recorded in the queue (durably), the
// sender is sent what the recipients' NOTIFY asks (failures now; a delay notice once after
// delay_notice_after; success, as "relayed", when the next hop had no DSN extension to pass the
// request on to), and the entry is completed, or deferred per retry_schedule, or — past
// message_lifetime — its remaining recipients fail and are reported. A crash loses nothing:
// entries are claimed, not taken, and a message whose outcomes were not recorded yet is sent
// again (RFC 1047's window: between the remote's final reply and the queue's record).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "delivery.h"
#include "portico/host.h"
#include "routing.h"
#include "settings.h"

namespace portico::smtpout {

class Scheduler : public std::enable_shared_from_this<Scheduler> {
 public:
  explicit Scheduler(sdk::Host& host) : host_(host) {}
  // Starts delivering, or applies new settings to what starts next.
  void configure(const OutSettings& settings);
  // Starts nothing more; claimed entries not yet handed to a connection are released.
  void stop();
  // One pass: claims due entries as slots allow. Public for tests.
  void tick();

  // What is in delivery now (for tests and logs).
  std::size_t in_delivery() const;

 private:
  struct Message;      // a claimed queue entry in delivery
  struct Target;       // one destination: waiting jobs and open connections
  struct Attempt;      // one connection attempt for a target
  struct PendingJob {  // a job waiting for a connection
    std::shared_ptr<Message> message;
    Job job;
  };

  void arm(std::chrono::milliseconds delay);
  void claimed(std::vector<sdk::QueueEntry> entries);
  void add_job(const std::shared_ptr<Target>& target, PendingJob job);
  void resolved(const std::shared_ptr<Target>& target, const Resolution& resolution);
  // Opens connections while the target has waiting jobs and free connection slots.
  void pump(const std::shared_ptr<Target>& target);
  void try_host(const std::shared_ptr<Attempt>& attempt);
  void host_failed(const std::shared_ptr<Attempt>& attempt, const std::string& reason,
                   bool tls_failed);
  void connection_over(const std::shared_ptr<Target>& target);
  // A connection out of jobs asks to wait for the next (ClientHooks::park, unpark).
  Park park(const std::shared_ptr<Attempt>& attempt, std::function<bool(bool)> wake);
  bool unpark(const std::shared_ptr<Attempt>& attempt);
  void forget_parked(const std::shared_ptr<Attempt>& attempt);  // under mutex_
  // Every recipient of `job` ends with `outcome`.
  void settle(const std::shared_ptr<Message>& message, const Job& job, Outcome outcome,
              const std::string& status, const std::string& reason);
  void job_done(const std::shared_ptr<Message>& message, const Job& job,
                std::vector<RecipientOutcome> outcomes, const std::string& remote_mta,
                bool dsn_passed);
  void finish(const std::shared_ptr<Message>& message);  // on the delivery pool
  std::string next_local_address();

  sdk::Host& host_;
  mutable std::mutex mutex_;  // guards everything below
  OutSettings settings_;
  bool active_ = false;
  bool claiming_ = false;
  bool tick_soon_ = false;  // a pass is asked for and has not started yet
  std::unique_ptr<sdk::Scheduled> timer_;
  std::map<std::string, std::shared_ptr<Message>> messages_;  // by queue id
  std::map<std::string, std::shared_ptr<Target>> targets_;    // by destination key
  std::size_t next_ip_ = 0;
  std::int64_t connections_ = 0;  // open or being opened, over every destination
};

}  // namespace portico::smtpout
