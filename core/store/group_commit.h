// Portico core — group commit: threads that each need the same kind of durable step (a folder
// fsync and a SQLite commit) hand their work to one of them, which does it once for all.
//
// A caller submits a request and blocks. If no batch is running, it becomes the leader: it takes
// every request waiting (at most kMaxGroupCommit), runs them as one batch, marks them done and
// wakes the others; a caller whose request is still waiting then leads the next batch. While a
// batch runs, new requests gather for the next one, so the batch size follows the load with no
// added delay: a lone caller runs a batch of one at once.
//
// Guarantees: submit() returns only after the batch holding the request has run to its end, and
// rethrows the request's own failure, or the batch's failure when the batch as a whole failed
// (e.g. the commit), so no caller is told "durable" for work that was not made durable.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <vector>

namespace portico::core::store {

// Requests one batch takes at most (bounds the length of one transaction).
inline constexpr std::size_t kMaxGroupCommit = 64;

// A request: what to commit, and its outcome. `error` may be set by the batch for this request
// alone; the batcher sets it for every request of a batch that failed as a whole.
template <class Item>
struct GroupRequest {
  Item* item = nullptr;
  std::exception_ptr error;
  bool done = false;
  std::condition_variable* wake = nullptr;  // the submitter's, set by submit()
};

template <class Item>
class GroupCommit {
 public:
  using Request = GroupRequest<Item>;

  // Blocks until `request` ran in a batch; `run(batch)` is called by the leader without the
  // batcher's lock held. Rethrows the request's failure.
  //
  // Each submitter sleeps on a condition variable of its own: a leader wakes the members of
  // its batch, which are done, and the first request still waiting, which leads next; no one
  // else is woken, so a batch costs one wakeup per member instead of one per waiter.
  template <class Run>
  void submit(Request& request, Run&& run) {
    std::condition_variable wake;
    std::unique_lock lock(mutex_);
    request.wake = &wake;
    pending_.push_back(&request);
    while (!request.done) {
      if (leading_) {
        wake.wait(lock);
        continue;
      }
      leading_ = true;
      const std::size_t n = std::min(pending_.size(), kMaxGroupCommit);
      std::vector<Request*> batch(pending_.begin(), pending_.begin() + static_cast<long>(n));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
      lock.unlock();
      try {
        run(batch);
      } catch (...) {
        for (Request* r : batch) {
          if (!r->error) r->error = std::current_exception();
        }
      }
      lock.lock();
      leading_ = false;
      ++batches_;
      // Under the lock: a woken submitter may return and end its condition variable as soon
      // as it can take the lock again.
      for (Request* r : batch) {
        r->done = true;
        if (r != &request) r->wake->notify_one();
      }
      if (!pending_.empty()) pending_.front()->wake->notify_one();
    }
    if (request.error) std::rethrow_exception(request.error);
  }

  // Batches run so far (for tests and metrics).
  std::size_t batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  std::mutex mutex_;
  std::vector<Request*> pending_;
  bool leading_ = false;
  std::size_t batches_ = 0;
};

}  // namespace portico::core::store
