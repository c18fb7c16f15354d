// Portico core — the `portico queue` commands that change entries: retry, hold, release, delete
// and bounce (see queue_commands.cpp for the list). Each goes through the queue's per-entry
// claims: an entry a worker is delivering is reported busy and left alone.
//
// Output, one line per entry on stdout: "retried ID (due now)", "held ID" ("held ID (already
// held)"), "released ID (due now)", "deleted ID", and for bounce "bounced ID: N recipient(s)
// failed; report ..." (delivered to the sender's mailbox here, queued as QID for the sender,
// or "no report (null sender or NOTIFY)"). With --all, a last line sums up. Failures go to
// stderr as "error: ID: <kind>: <message>" (kinds: not found, busy, held, not held, ...).
// Exit status: 0 when every entry was done, 1 when one was not (unknown, busy, held, not held,
// I/O), 2 for usage: a malformed id, ids together with --all or neither, a bad configuration.
#include <algorithm>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "core/cli/commands.h"
#include "core/cli/queue_cli.h"
#include "core/directory/directory.h"
#include "core/log/log.h"
#include "core/reports/reports.h"
#include "core/store/store.h"

namespace portico::core::cli {

namespace {

// The ids a command works on: those given, or with --all every entry (nullopt after a usage
// error, printed).
std::optional<std::vector<std::string>> targets(const QueueOptions& o, QueueService& q, int& rc) {
  if (o.all == !o.ids.empty()) {
    std::cerr << "error: give queue ids, or --all\n";
    rc = 2;
    return std::nullopt;
  }
  if (!o.all) return o.ids;
  auto entries = q.list();
  if (!entries.ok()) {
    std::cerr << "error: " << entries.message << "\n";
    rc = 1;
    return std::nullopt;
  }
  std::vector<std::string> ids;
  for (const auto& e : entries.value)
    ids.push_back(e.id);
  return ids;
}

// Runs `act` on each id; `act` prints its success and returns its exit status.
int each(const QueueOptions& o, const std::function<int(QueueService&, const std::string&)>& act) {
  int rc = 0;
  auto q = open_queue_for(o.config, rc);
  if (!q) return rc;
  auto ids = targets(o, *q, rc);
  if (!ids) return rc;
  for (const auto& id : *ids)
    rc = std::max(rc, act(*q, id));
  return rc;
}

}  // namespace

int queue_retry(const QueueOptions& o) {
  std::size_t retried = 0, held = 0, failed = 0;
  const int rc = each(o, [&](QueueService& q, const std::string& id) {
    auto r = q.retry_now(id, unix_now());
    if (!r.ok()) {
      ++failed;
      return report_error(id, r.error, r.message);
    }
    if (!r.value) {
      ++held;
      if (o.all) return 0;  // --all: every entry not held
      std::cerr << "error: " << id << ": held: release it to make it due (portico queue release "
                << id << ")\n";
      return 1;
    }
    ++retried;
    std::cout << "retried " << id << " (due now)\n";
    return 0;
  });
  if (o.all && rc != 2) {
    std::cout << retried << " retried, " << held << " held (left alone), " << failed
              << " not retried\n";
  }
  return rc;
}

int queue_hold(const QueueOptions& o) {
  return each(o, [&](QueueService& q, const std::string& id) {
    auto r = q.hold(id);
    if (!r.ok()) return report_error(id, r.error, r.message);
    std::cout << "held " << id << (r.value ? "" : " (already held)") << "\n";
    return 0;
  });
}

int queue_release(const QueueOptions& o) {
  return each(o, [&](QueueService& q, const std::string& id) {
    auto r = q.release_held(id, unix_now());
    if (!r.ok()) return report_error(id, r.error, r.message);
    if (!r.value) {
      std::cerr << "error: " << id << ": not held: left alone (portico queue retry " << id
                << " makes it due)\n";
      return 1;
    }
    std::cout << "released " << id << " (due now)\n";
    return 0;
  });
}

int queue_delete(const QueueOptions& o) {
  std::size_t deleted = 0, failed = 0;
  const int rc = each(o, [&](QueueService& q, const std::string& id) {
    auto s = q.remove(id);
    if (!s.ok()) {
      ++failed;
      return report_error(id, s.error, s.message);
    }
    ++deleted;
    std::cout << "deleted " << id << "\n";
    return 0;
  });
  if (o.all && rc != 2) std::cout << deleted << " deleted, " << failed << " not deleted\n";
  return rc;
}

int queue_bounce(const QueueOptions& o) {
  configure_logging("warn", "text");
  auto config = load_config_or_report(o.config);
  if (!config) return 2;
  // The report goes where the server would send it: into the store for a local sender, into
  // the queue from <> for a remote one (core/reports/reports.h).
  std::unique_ptr<DirectoryService> directory;
  std::unique_ptr<MailStore> store;
  std::unique_ptr<QueueService> queue;
  try {
    directory = open_directory(config->server.data_dir);
    store = open_store(config->server.data_dir);
    queue = open_queue(config->server.data_dir);
  } catch (const std::exception& e) {
    std::cerr << "error: cannot open the data directory " << config->server.data_dir.string()
              << ": " << e.what() << "\n";
    return 1;
  }
  const std::string hostname = config->server.hostname;
  ReportService reports([hostname] { return hostname; }, *directory, *store, *queue);
  int rc = 0;
  auto ids = targets(o, *queue, rc);
  if (!ids) return rc;
  for (const auto& id : *ids) {
    auto sender = queue->get(id);
    auto r = queue->bounce(id, reports);
    if (!r.ok()) {
      rc = std::max(rc, report_error(id, r.error, r.message));
      continue;
    }
    const std::string to = sender.ok() ? sender.value.envelope.sender : "";
    std::cout << "bounced " << id << ": " << r.value.failed << " recipient(s) failed; ";
    if (r.value.report.reported == 0) {
      std::cout << (r.value.failed == 0 ? "nothing to report"
                                        : "no report (null sender or NOTIFY)");
    } else if (r.value.report.id == "local") {
      std::cout << "report delivered to " << to << " here";
    } else {
      std::cout << "report queued as " << r.value.report.id << " for " << to;
    }
    std::cout << "\n";
  }
  return rc;
}

}  // namespace portico::core::cli
