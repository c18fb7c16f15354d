// Portico core — queue commands (see queue_commands.h).
//
//   portico queue list [--config FILE]           like mailq: of every entry its id, size,
//                                                arrival time, state, next attempt and sender,
//                                                the last error, then one indented line per
//                                                recipient: pending, delivered or failed, with
//                                                the last reply of one not delivered
//   portico queue show ID [--config FILE]        the envelope as stored, and the message headers
//   portico queue delete ID... [--config FILE]   removes entries (not those being delivered)
//   portico queue inject --from A --to B [--to C...] FILE [--config FILE]
//                                                queues FILE (RFC 5322 octets, "-" for stdin)
//                                                as if received over SMTP; prints its id. Hidden
//                                                from --help: for tests and operators re-queueing
//                                                a message by hand. --from '' is the null sender.
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
#include "core/queue/envelope.h"
#include "core/queue/queue.h"

namespace portico::core::cli {

namespace {

struct QueueOptions {
  std::string config;
  std::vector<std::string> ids;
  std::string from;
  std::vector<std::string> to;
  std::string file;
};

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

// One line of at most `width` printable characters (line breaks and controls become spaces).
std::string one_line(const std::string& text, std::size_t width) {
  std::string out;
  for (unsigned char c : text) {
    out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  if (out.size() > width) out = out.substr(0, width - 3) + "...";
  return out;
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

// The queue of the configuration's data directory, or nullptr after printing why (rc set).
std::unique_ptr<QueueService> open_for(const std::string& config, int& rc) {
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

int do_list(const QueueOptions& o) {
  int rc = 0;
  auto q = open_for(o.config, rc);
  if (!q) return rc;
  auto entries = q->list();
  if (!entries.ok()) {
    std::cerr << "error: " << entries.message << "\n";
    return 1;
  }
  std::int64_t now = unix_now();
  std::printf("%-24s %8s %-20s %-7s %-20s %s\n", "ID", "SIZE", "ARRIVED", "STATE", "NEXT ATTEMPT",
              "SENDER");
  for (const auto& e : entries.value) {
    const auto& env = e.envelope;
    const bool damaged = !e.damage.empty();
    std::string sender = damaged ? "?" : env.sender.empty() ? "<>" : one_line(env.sender, 100);
    std::string next = damaged || env.held       ? "-"
                       : env.next_attempt <= now ? "now"
                                                 : time_text(env.next_attempt);
    std::printf("%-24s %8llu %-20s %-7s %-20s %s\n", e.id.c_str(),
                static_cast<unsigned long long>(e.size),
                !damaged && env.received ? time_text(env.received).c_str() : "?",
                state_text(e).c_str(), next.c_str(), sender.c_str());
    if (damaged) {
      std::printf("  damaged: %s\n", one_line(e.damage, 100).c_str());
    } else if (!env.last_error.empty()) {
      std::printf("  last error: %s\n", one_line(env.last_error, 100).c_str());
    }
    for (const auto& r : env.recipients) {
      std::string line = "    " + std::string(queue::state_name(r.state));
      line.resize(4 + 10, ' ');
      line += one_line(r.address, 100);
      if (r.state != sdk::RecipientState::delivered && !r.reply.empty()) {
        line += " (" + one_line(r.reply, 100) + ")";
      }
      std::printf("%s\n", line.c_str());
    }
    std::printf("\n");
  }
  std::printf("%zu %s\n", entries.value.size(), entries.value.size() == 1 ? "entry" : "entries");
  return 0;
}

int do_show(const QueueOptions& o) {
  int rc = 0;
  auto q = open_for(o.config, rc);
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

int do_delete(const QueueOptions& o) {
  int rc = 0;
  auto q = open_for(o.config, rc);
  if (!q) return rc;
  for (const auto& id : o.ids) {
    auto s = q->remove(id);
    if (s.ok()) {
      std::cout << "deleted " << id << "\n";
    } else {
      std::cerr << "error: " << id << ": " << error_name(s.error) << ": " << s.message << "\n";
      rc = std::max(rc, exit_code(s.error));
    }
  }
  return rc;
}

int do_inject(const QueueOptions& o) {
  int rc = 0;
  auto q = open_for(o.config, rc);
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

  auto* list = queue->add_subcommand("list", "Every queued message, oldest first");
  add_config(list);
  list->callback([o, &rc] { rc = do_list(*o); });

  auto* show = queue->add_subcommand("show", "The envelope and headers of a queued message");
  show->add_option("id", o->ids, "Queue id")->required()->expected(1);
  add_config(show);
  show->callback([o, &rc] { rc = do_show(*o); });

  auto* del = queue->add_subcommand("delete", "Remove queued messages (not while delivering)");
  del->add_option("id", o->ids, "Queue ids")->required();
  add_config(del);
  del->callback([o, &rc] { rc = do_delete(*o); });

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
