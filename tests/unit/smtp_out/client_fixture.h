// smtp-out tests — what the client session tests share: a scheduler stand-in that records every
// hook call in order, Jobs over message files in a temporary folder, and a SessionContext that
// forwards to the test kit's driver but can fail the TLS handshake and fake a full output
// buffer (the driver's handshake always succeeds and its output never backs up). TempDir is in
// temp_dir.h.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client_session.h"
#include "delivery.h"
#include "portico/testkit/driver.h"
#include "portico/testkit/host.h"
#include "temp_dir.h"

namespace portico::smtpout::testing {

// A Job for `recipients` (all of the envelope's), its message written into `dir`.
inline Job make_job(const TempDir& dir, const std::string& id,
                    const std::vector<std::string>& recipients,
                    const std::string& message = "Subject: test\r\n\r\nHello.\r\n") {
  Job job;
  job.id = id;
  job.envelope.sender = "alice@example.test";
  for (const auto& r : recipients) {
    sdk::QueueRecipient q;
    q.address = r;
    job.envelope.recipients.push_back(q);
    job.recipients.push_back(job.envelope.recipients.size() - 1);
  }
  job.message_path = dir.write(id + ".eml", message);
  job.size = message.size();
  return job;
}

// The scheduler's side: next jobs to hand out, and a log of every hook call.
struct Scheduler {
  std::deque<Job> more;
  std::vector<std::string> events;  // "next_job", "next_job:none", "job_done:ID", "closed"
  std::vector<std::pair<std::string, std::vector<RecipientOutcome>>> done;
  std::vector<ConnectionReport> reports;

  ClientHooks hooks() {
    ClientHooks h;
    h.next_job = [this]() -> std::optional<Job> {
      if (more.empty()) {
        events.push_back("next_job:none");
        return std::nullopt;
      }
      Job j = std::move(more.front());
      more.pop_front();
      events.push_back("next_job:" + j.id);
      return j;
    };
    h.job_done = [this](const Job& job, std::vector<RecipientOutcome> outcomes,
                        const ConnectionReport&) {
      events.push_back("job_done:" + job.id);
      done.emplace_back(job.id, std::move(outcomes));
    };
    h.closed = [this](const ConnectionReport& report) {
      events.push_back("closed");
      reports.push_back(report);
    };
    return h;
  }

  const std::vector<RecipientOutcome>& outcomes(const std::string& id) const {
    for (const auto& d : done) {
      if (d.first == id) return d.second;
    }
    static const std::vector<RecipientOutcome> none;
    return none;
  }
};

// Forwards to the driver, except that start_tls() can accept and never finish (the handshake
// failed: the core closes the connection) and output_pending() can claim a full buffer.
class ForwardingContext final : public sdk::SessionContext {
 public:
  sdk::SessionContext* target = nullptr;
  bool fail_tls = false;
  std::size_t pending = 0;  // added to the driver's output_pending()
  int start_tls_calls = 0;

  const sdk::ConnectionInfo& connection() const override { return target->connection(); }
  const sdk::Settings& settings() const override { return target->settings(); }
  std::string banner() const override { return target->banner(); }
  void write(std::string_view bytes) override { target->write(bytes); }
  std::size_t output_pending() const override { return target->output_pending() + pending; }
  void set_max_line_length(std::size_t bytes) override { target->set_max_line_length(bytes); }
  void read_bytes(std::size_t count) override { target->read_bytes(count); }
  void set_in_command(bool in_command) override { target->set_in_command(in_command); }
  void pause_input() override { target->pause_input(); }
  void resume_input() override { target->resume_input(); }
  bool bad_command() override { return target->bad_command(); }
  bool starttls_available() const override { return target->starttls_available(); }
  bool is_tls() const override { return target->is_tls(); }
  bool start_tls() override {
    ++start_tls_calls;
    return fail_tls ? true : target->start_tls();
  }
  void close() override { target->close(); }
  void post_work(std::function<void()> work, std::function<void()> done) override {
    target->post_work(std::move(work), std::move(done));
  }
  void log(sdk::LogLevel level, std::string_view message) override { target->log(level, message); }
  void post_after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    target->post_after(delay, std::move(fn));
  }
  std::string tls_description() const override { return target->tls_description(); }
  std::size_t input_pending() const override { return target->input_pending(); }
  void post_work_on(sdk::WorkPool pool, std::function<void()> work,
                    std::function<void()> done) override {
    target->post_work_on(pool, std::move(work), std::move(done));
  }
  bool tls_verified() const override { return target->tls_verified(); }
  void set_raw_input(bool raw) override { target->set_raw_input(raw); }
  void set_timeouts(std::chrono::milliseconds s, std::chrono::milliseconds c) override {
    target->set_timeouts(s, c);
  }
  std::uint64_t start_timer(std::chrono::milliseconds d, std::function<void()> fn) override {
    return target->start_timer(d, std::move(fn));
  }
  void cancel_timer(std::uint64_t id) override { target->cancel_timer(id); }
  std::shared_ptr<sdk::SessionHandle> handle() override { return target->handle(); }
  std::shared_ptr<sdk::SessionHandle> hold() override { return target->hold(); }
  bool start_compression() override { return target->start_compression(); }
  bool is_websocket() const override { return false; }
  void set_output_limit(std::size_t) override {}
};

// One client connection under test: the driver, the forwarding context and the session.
struct Connection {
  testkit::TestHost host;
  ForwardingContext context;
  ClientSession* session = nullptr;  // owned by the driver
  std::unique_ptr<testkit::SessionDriver> driver;

  Connection(ClientOptions options, ClientHooks hooks, Job first,
             testkit::DriverOptions driver_options = {}) {
    driver = std::make_unique<testkit::SessionDriver>(
        [this, options = std::move(options), hooks = std::move(hooks),
         first = std::move(first)](sdk::SessionContext& ctx) mutable {
          context.target = &ctx;
          auto s = std::make_unique<ClientSession>(context, std::move(options), std::move(hooks),
                                                   std::move(first));
          session = s.get();
          return s;
        },
        host, driver_options);
    driver->start();
  }
  // Feeds the server's bytes; returns what the client wrote meanwhile.
  std::string feed(std::string_view server) {
    driver->feed(server);
    return driver->take();
  }
};

inline ClientOptions default_options() {
  ClientOptions o;
  o.remote_host = "mx.example.net";
  o.helo_name = "mail.example.test";
  return o;
}

}  // namespace portico::smtpout::testing
