// Portico core — what the `portico queue` command files share: their options, opening the
// queue of the configuration's data directory, and how a queue error is printed and exits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/queue/queue.h"

namespace portico::core::cli {

struct QueueOptions {
  std::string config;
  std::vector<std::string> ids;
  bool all = false;   // retry/delete --all
  bool json = false;  // list --json
  std::string from;
  std::vector<std::string> to;
  std::string file;
};

std::int64_t unix_now();
// "2026-11-25T10:00:00Z"
std::string time_text(std::int64_t t);
// "damaged", "active" (a worker holds it), "held" or "queued".
std::string state_text(const sdk::QueueEntry& e);
const char* error_name(sdk::QueueError e);
// 2 for a malformed id (a usage error), 1 for every other failure.
int exit_code(sdk::QueueError e);
// "error: ID: <kind>: <message>" on stderr; returns exit_code(error).
int report_error(const std::string& id, sdk::QueueError error, const std::string& message);

// The queue of the configuration's data directory, or nullptr after printing why (rc set).
std::unique_ptr<QueueService> open_queue_for(const std::string& config, int& rc);

int queue_list(const QueueOptions& o);  // queue_list.cpp
// queue_actions.cpp
int queue_delete(const QueueOptions& o);
int queue_retry(const QueueOptions& o);
int queue_hold(const QueueOptions& o);
int queue_release(const QueueOptions& o);
int queue_bounce(const QueueOptions& o);

}  // namespace portico::core::cli
