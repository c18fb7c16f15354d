// Portico core — change notifications of the embedded store (for IMAP IDLE, POP sessions).
//
// Every commit that changes an account writes a new value into <account>/changes. One watcher
// thread per store follows those files with inotify (and re-reads them every second in case
// an event is missed, e.g. on a network file system), so changes made by this process and by
// any other process sharing the data directory are seen the same way. For each subscription
// it then asks the database what moved past the modseq it saw last: messages at or above the
// old UIDNEXT are new, other changed messages had their flags changed, and the expunged log
// names removed UIDs. Callbacks run on the watcher thread, one at a time.
//
// Cost: an inotify event names the changes file that moved, so only the subscriptions of that
// account are looked at (an index by account); the once-a-second fallback reads every watched
// account's changes file (one open and pread per account). A new subscription wakes nothing:
// it starts from the state it read when it was made.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/store/account.h"
#include "portico/store.h"

namespace portico::core::store {

class Notifier {
 public:
  Notifier();
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Starts watching; the returned handle ends the subscription (waiting for a running
  // callback, unless destroyed from inside one).
  std::unique_ptr<sdk::StoreHandle> subscribe(std::shared_ptr<Account> account,
                                              const std::string& mailbox,
                                              sdk::StoreChangeCallback callback);
  void unsubscribe(std::uint64_t id);

 private:
  struct Subscription {
    std::shared_ptr<Account> account;
    std::string mailbox;
    sdk::StoreChangeCallback callback;
    std::uint32_t uid_validity = 0;
    std::uint32_t uid_next = 1;
    std::uint64_t modseq = 0;
    std::uint64_t counter = 0;  // the changes file value last acted on
  };
  void run();
  void add_watch(Subscription& sub);
  // Looks at the subscriptions `ids` (every one when null) whose account's changes file moved.
  void scan(const std::vector<std::uint64_t>* ids);
  std::vector<std::uint64_t> subscribers_of(const std::vector<std::string>& roots);
  void deliver(std::uint64_t id, Subscription& sub);

  std::mutex mutex_;                     // subscriptions_, watches_
  std::recursive_mutex callback_mutex_;  // held while callbacks run
  std::map<std::uint64_t, Subscription> subscriptions_;
  std::map<int, std::string> watches_;  // inotify watch descriptor -> account root
  std::map<std::string, std::vector<std::uint64_t>> by_root_;  // account root -> subscriptions
  std::uint64_t next_id_ = 1;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stop, or a new subscription
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace portico::core::store
