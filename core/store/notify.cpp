// Portico core — store change notifications (see notify.h).
#include "core/store/notify.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace portico::core::store {

namespace {

// The poll fallback: how often the changes files are re-read without an inotify event.
constexpr int poll_interval_ms = 1000;

class SubscriptionHandle : public sdk::StoreHandle {
 public:
  SubscriptionHandle(Notifier& notifier, std::uint64_t id) : notifier_(notifier), id_(id) {}
  ~SubscriptionHandle() override { notifier_.unsubscribe(id_); }

 private:
  Notifier& notifier_;
  std::uint64_t id_;
};

}  // namespace

Notifier::Notifier() {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);  // -1: the poll fallback alone
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() {
  stop_ = true;
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  ::close(wake_fd_);
}

std::unique_ptr<sdk::StoreHandle> Notifier::subscribe(std::shared_ptr<Account> account,
                                                      const std::string& mailbox,
                                                      sdk::StoreChangeCallback callback) {
  Subscription sub;
  sub.mailbox = normalize_mailbox(mailbox);
  // The counter first: a change committed between the two reads is then looked at again.
  sub.counter = account->change_counter();
  {
    std::lock_guard lock(account->mutex);
    auto row = account->find(sub.mailbox);
    if (!row) fail(sdk::StoreError::not_found, "no mailbox '" + mailbox + "'");
    sub.uid_validity = row->uid_validity;
    sub.uid_next = row->uid_next;
    sub.modseq = row->highest_modseq;
  }
  sub.account = std::move(account);
  sub.callback = std::move(callback);
  std::uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    add_watch(sub);
    by_root_[sub.account->root().string()].push_back(id);
    subscriptions_.emplace(id, std::move(sub));
  }
  return std::make_unique<SubscriptionHandle>(*this, id);
}

void Notifier::unsubscribe(std::uint64_t id) {
  // Waits for a callback in progress; the recursive mutex lets a callback end its own
  // subscription.
  std::lock_guard callbacks(callback_mutex_);
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return;
  const std::string root = it->second.account->root().string();
  subscriptions_.erase(it);
  auto& ids = by_root_[root];
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  if (!ids.empty()) return;
  // The account's last subscriber gone: stop watching its changes file.
  by_root_.erase(root);
  for (auto w = watches_.begin(); w != watches_.end(); ++w) {
    if (w->second == root) {
      inotify_rm_watch(inotify_fd_, w->first);
      watches_.erase(w);
      return;
    }
  }
}

void Notifier::add_watch(Subscription& sub) {
  if (inotify_fd_ < 0) return;
  std::string root = sub.account->root().string();
  for (const auto& [wd, r] : watches_) {
    if (r == root) return;
  }
  // The file must exist to be watched; watching it (not the folder) avoids events for every
  // WAL write.
  fs::path file = sub.account->changes_file();
  if (!fs::exists(file)) {
    FILE* f = std::fopen(file.c_str(), "ab");
    if (f) std::fclose(f);
  }
  int wd = inotify_add_watch(inotify_fd_, file.c_str(), IN_MODIFY | IN_CLOSE_WRITE);
  if (wd >= 0) watches_[wd] = root;
}

void Notifier::run() {
  alignas(inotify_event) char buf[4096];
  auto last_full = std::chrono::steady_clock::now();
  while (!stop_) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int n = ::poll(fds, inotify_fd_ >= 0 ? 2 : 1, poll_interval_ms);
    if (stop_) break;
    if (n > 0 && (fds[0].revents & POLLIN)) {
      std::uint64_t v;
      [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
    }
    bool all = false;
    std::vector<std::string> roots;
    if (n > 0 && inotify_fd_ >= 0 && (fds[1].revents & POLLIN)) {
      ssize_t got;
      while ((got = ::read(inotify_fd_, buf, sizeof buf)) > 0) {
        std::lock_guard lock(mutex_);
        for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= got;) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
          if (ev->mask & IN_Q_OVERFLOW) all = true;  // events were lost: look at everything
          auto w = watches_.find(ev->wd);
          if (w != watches_.end()) roots.push_back(w->second);
          at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_full >= std::chrono::milliseconds(poll_interval_ms)) all = true;
    if (all) {
      last_full = now;
      scan(nullptr);
    } else if (!roots.empty()) {
      std::sort(roots.begin(), roots.end());
      roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
      auto ids = subscribers_of(roots);
      scan(&ids);
    }
  }
}

std::vector<std::uint64_t> Notifier::subscribers_of(const std::vector<std::string>& roots) {
  std::lock_guard lock(mutex_);
  std::vector<std::uint64_t> ids;
  for (const auto& root : roots) {
    auto it = by_root_.find(root);
    if (it != by_root_.end()) ids.insert(ids.end(), it->second.begin(), it->second.end());
  }
  return ids;
}

// Re-reads the changes file of each account of `ids` (of every subscription when null) and,
// where it moved, asks the database.
void Notifier::scan(const std::vector<std::uint64_t>* only) {
  std::lock_guard callbacks(callback_mutex_);
  std::vector<std::uint64_t> ids;
  if (only != nullptr) {
    ids = *only;
  } else {
    std::lock_guard lock(mutex_);
    for (auto& [id, sub] : subscriptions_)
      ids.push_back(id);
  }
  std::map<Account*, std::uint64_t> counters;
  for (auto id : ids) {
    Subscription* sub;
    {
      std::lock_guard lock(mutex_);
      auto it = subscriptions_.find(id);
      if (it == subscriptions_.end()) continue;
      sub = &it->second;
    }
    Account* account = sub->account.get();
    if (!counters.count(account)) counters[account] = account->change_counter();
    if (counters[account] == sub->counter) continue;
    sub->counter = counters[account];
    try {
      deliver(id, *sub);
    } catch (const std::exception&) {
      // The database is busy or gone for now; the next change or poll tries again.
      sub->counter = 0;
    }
  }
}

void Notifier::deliver(std::uint64_t id, Subscription& sub) {
  std::vector<std::uint32_t> added, flagged, expunged;
  std::uint64_t highest = 0;
  {
    std::lock_guard lock(sub.account->mutex);
    auto row = sub.account->find(sub.mailbox);
    if (!row) return;
    if (row->uid_validity != sub.uid_validity) {
      // The mailbox was deleted and re-created: start over from its present state.
      sub.uid_validity = row->uid_validity;
      sub.uid_next = 1;
      sub.modseq = 0;
    }
    if (row->highest_modseq <= sub.modseq) return;
    for (auto uid : sub.account->expunged_since(row->id, sub.modseq)) {
      if (uid < sub.uid_next) expunged.push_back(uid);
    }
    for (auto [uid, modseq] : sub.account->changed_since(row->id, sub.modseq)) {
      (uid >= sub.uid_next ? added : flagged).push_back(uid);
    }
    sub.uid_next = row->uid_next;
    sub.modseq = row->highest_modseq;
    highest = row->highest_modseq;
  }
  // Copies: a callback may end this subscription, destroying `sub`.
  auto callback = sub.callback;
  std::string address = sub.account->address();
  std::string mailbox = sub.mailbox;
  auto send = [&](sdk::StoreChange::Kind kind, std::vector<std::uint32_t>& uids) {
    if (uids.empty()) return;
    {
      std::lock_guard lock(mutex_);
      if (!subscriptions_.count(id)) return;  // ended by an earlier callback
    }
    sdk::StoreChange change{kind, address, mailbox, std::move(uids), highest};
    try {
      callback(change);
    } catch (...) {
      // A subscriber's exception must not stop the watcher.
    }
  };
  send(sdk::StoreChange::Kind::expunged, expunged);
  send(sdk::StoreChange::Kind::added, added);
  send(sdk::StoreChange::Kind::flags, flagged);
}

}  // namespace portico::core::store
