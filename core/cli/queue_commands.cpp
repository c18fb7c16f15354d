// Portico core — queue commands (see queue_commands.h). Entries are named by id; every command
// works on the data directory beside a running server, and one that changes an entry refuses an
// entry being delivered (busy, exit status 1) and leaves it alone.
//
//   portico queue list [--json]                  like mailq: of every entry its id, size,
//                                                arrival time, state, next attempt and sender,
//                                                the last error, then one indented line per
//                                                recipient: pending, delivered or failed, with
//                                                the last reply of one not delivered; --json:
//                                                every field of every entry (queue_list.cpp)
//   portico queue show ID                        the envelope as stored, and the message headers
//   portico queue retry ID...|--all              due now (a held entry stays held)
//   portico queue hold ID...                     kept, never delivered, until released
//   portico queue release ID...                  no longer held, and due now
//   portico queue delete ID...|--all             removes entries
//   portico queue bounce ID...                   fails every pending recipient (5.0.0 bounced by
//                                                the operator), sends the sender a delivery
//                                                status notification (RFC 3464) and removes the
//                                                entry
//   portico queue inject --from A --to B [--to C...] FILE
//                                                queues FILE (RFC 5322 octets, "-" for stdin)
//                                                as if received over SMTP; prints its id. Hidden
//                                                from --help: for tests and operators re-queueing
//                                                a message by hand. --from '' is the null sender.
// Each takes --config FILE. The commands that change entries are in queue_actions.cpp.
#include "core/cli/queue_commands.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/cli/commands.h"
#include "core/cli/queue_cli.h"
#include "core/queue/queue.h"

namespace portico::core::cli {

std::int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string time_text(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string state_text(const sdk::QueueEntry& e) {
  if (!e.damage.empty()) return "damaged";
  if (e.claimed) return "active";
  if (e.envelope.held) return "held";
  return "queued";
}

const char* error_name(sdk::QueueError e) {
  switch (e) {
    case sdk::QueueError::not_found:
      return "not found";
    case sdk::QueueError::busy:
      return "busy";
    case sdk::QueueError::invalid:
      return "invalid";
    case sdk::QueueError::damaged:
      return "damaged";
    case sdk::QueueError::too_new:
      return "too new";
    case sdk::QueueError::io:
      return "I/O error";
    case sdk::QueueError::none:
      break;
  }
  return "ok";
}

int exit_code(sdk::QueueError e) {
  return e == sdk::QueueError::invalid ? 2 : 1;
}

int report_error(const std::string& id, sdk::QueueError error, const std::string& message) {
  std::cerr << "error: " << id << ": " << error_name(error) << ": " << message << "\n";
  return exit_code(error);
}

std::unique_ptr<QueueService> open_queue_for(const std::string& config, int& rc) {
  auto c = load_config_or_report(config);
  if (!c) {
    rc = 2;
    return nullptr;
  }
  try {
    return open_queue(c->server.data_dir);
  } catch (const std::exception& e) {
    std::cerr << "error: cannot open the queue: " << e.what() << "\n";
    rc = 1;
    return nullptr;
  }
}

namespace {

int do_show(const QueueOptions& o) {
  int rc = 0;
  auto q = open_queue_for(o.config, rc);
  if (!q) return rc;
  const std::string& id = o.ids.front();
  auto text = q->envelope_text(id);
  if (!text.ok()) {
    std::cerr << "error: " << text.message << "\n";
    return exit_code(text.error);
  }
  auto entry = q->get(id);
  std::cout << "id: " << id << "\n";
  if (entry.ok()) {
    std::cout << "message: " << entry.value.message_path << " (" << entry.value.size
              << " octets)\n";
    std::cout << "state: " << state_text(entry.value);
    if (entry.value.claimed_by > 0) std::cout << " (pid " << entry.value.claimed_by << ")";
    std::cout << "\n";
  } else {
    std::cout << "state: damaged: " << entry.message << "\n";
  }
  std::cout << "\n" << text.value << "\n";
  fs::path message = q->layout().messages / id;
  std::cout << read_message_headers(message);
  return 0;
}

int do_inject(const QueueOptions& o) {
  int rc = 0;
  auto q = open_queue_for(o.config, rc);
  if (!q) return rc;
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.file != "-") {
    file.open(o.file, std::ios::binary);
    if (!file) {
      std::cerr << "error: cannot read " << o.file << "\n";
      return 1;
    }
    in = &file;
  }
  auto incoming = q->create_incoming();
  if (!incoming.ok()) {
    std::cerr << "error: " << incoming.message << "\n";
    return 1;
  }
  auto& message = *incoming.value;
  std::vector<char> buffer(64 * 1024);
  while (*in) {
    in->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    auto n = static_cast<std::size_t>(in->gcount());
    if (n == 0) break;
    if (auto s = message.append(std::string_view(buffer.data(), n)); !s.ok()) {
      std::cerr << "error: " << s.message << "\n";
      return 1;
    }
  }
  if (in->bad()) {
    std::cerr << "error: reading " << o.file << " failed\n";
    return 1;
  }
  if (auto s = message.seal(); !s.ok()) {
    std::cerr << "error: " << s.message << "\n";
    return 1;
  }
  sdk::Envelope envelope;
  envelope.sender = o.from;
  for (const auto& to : o.to)
    envelope.recipients.push_back({to, 0, "", {}, ""});
  envelope.client_address = "local";
  envelope.helo = "portico queue inject";
  auto id = q->enqueue(envelope, message);
  if (!id.ok()) {
    std::cerr << "error: " << id.message << "\n";
    return 1;
  }
  std::cout << id.value << "\n";
  return 0;
}

}  // namespace

void add_queue_commands(CLI::App& app, int& rc) {
  auto o = std::make_shared<QueueOptions>();
  const char* env_config = std::getenv("PORTICO_CONFIG");
  o->config = env_config ? env_config : "config/portico.yaml";

  auto* queue = app.add_subcommand("queue", "The outbound mail queue");
  queue->require_subcommand(1);
  auto add_config = [&](CLI::App* sub) {
    sub->add_option("--config,-c", o->config, "Configuration file")->capture_default_str();
  };
  // A command on ids; `all_help`, when given, adds --all (every entry instead of ids).
  auto on_ids = [&](const char* name, const char* help, int (*run)(const QueueOptions&),
                    const char* all_help = nullptr) {
    auto* sub = queue->add_subcommand(name, help);
    auto* ids = sub->add_option("id", o->ids, "Queue ids");
    if (all_help != nullptr) {
      auto* all = sub->add_flag("--all", o->all, all_help);
      ids->excludes(all);  // one of the two: checked by the command (exit status 2)
    } else {
      ids->required();
    }
    add_config(sub);
    sub->callback([o, &rc, run] { rc = run(*o); });
  };

  auto* list = queue->add_subcommand("list", "Every queued message, oldest first");
  list->add_flag("--json", o->json, "Every field of every entry, as JSON");
  add_config(list);
  list->callback([o, &rc] { rc = queue_list(*o); });

  auto* show = queue->add_subcommand("show", "The envelope and headers of a queued message");
  show->add_option("id", o->ids, "Queue id")->required()->expected(1);
  add_config(show);
  show->callback([o, &rc] { rc = do_show(*o); });

  on_ids("retry", "Make entries due now (held ones stay held)", queue_retry,
         "Every entry that is not held");
  on_ids("hold", "Keep entries without delivering them until released", queue_hold);
  on_ids("release", "Release held entries: due now", queue_release);
  on_ids("delete", "Remove entries (not while delivering)", queue_delete, "Every entry");
  on_ids("bounce",
         "Fail every pending recipient, send the sender a delivery status notification, remove",
         queue_bounce);

  auto* inject = queue->add_subcommand("inject", "Queue a message file (for tests and operators)");
  inject->group("");  // hidden from --help
  inject->add_option("--from", o->from, "Sender address ('' for the null sender <>)")->required();
  inject->add_option("--to", o->to, "Recipient address (repeatable)")
      ->required()
      ->allow_extra_args(false);  // one address per --to, so FILE stays positional
  inject->add_option("file", o->file, "Message file (RFC 5322), or - for stdin")->required();
  add_config(inject);
  inject->callback([o, &rc] { rc = do_inject(*o); });
}

}  // namespace portico::core::cli
