// Portico core — helpers shared by the queue service's implementation files (queue.cpp,
// admin.cpp): the clock, id checks, and the boundary where every failure becomes a result, so
// that nothing the queue throws ever reaches a plugin.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

#include "core/queue/spool_files.h"

namespace portico::core::queue {

inline std::int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

inline void check_id(const std::string& id) {
  if (!valid_id(id)) {
    throw QueueFailure(sdk::QueueError::invalid, "malformed queue id \"" + id + "\"");
  }
}

// Runs `body`, turning every exception into a failed status or result.
template <class Result, class Body>
Result guarded(Body&& body) {
  try {
    return body();
  } catch (const QueueFailure& e) {
    Result r;
    r.error = e.error();
    r.message = e.what();
    return r;
  } catch (const std::exception& e) {
    Result r;
    r.error = sdk::QueueError::io;
    r.message = e.what();
    return r;
  } catch (...) {
    Result r;
    r.error = sdk::QueueError::io;
    r.message = "unknown failure";
    return r;
  }
}

}  // namespace portico::core::queue
