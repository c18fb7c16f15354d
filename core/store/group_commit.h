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
};

template <class Item>
class GroupCommit {
 public:
  using Request = GroupRequest<Item>;

  // Blocks until `request` ran in a batch; `run(batch)` is called by the leader without the
  // batcher's lock held. Rethrows the request's failure.
  template <class Run>
  void submit(Request& request, Run&& run) {
    std::unique_lock lock(mutex_);
    pending_.push_back(&request);
    while (!request.done) {
      if (leading_) {
        done_.wait(lock);
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
      for (Request* r : batch)
        r->done = true;
      leading_ = false;
      ++batches_;
      done_.notify_all();
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
  std::condition_variable done_;
  std::vector<Request*> pending_;
  bool leading_ = false;
  std::size_t batches_ = 0;
};

}  // namespace portico::core::store
