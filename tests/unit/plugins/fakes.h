// Test doubles for plugin tests: a Host and a SessionContext that record what a plugin does.
//
// FakeHost is the SDK test kit's TestHost. FakeSessionContext collects
// every write into `output`, counts bad commands against a limit like the core does, and runs
// post_work's work and completion inline, so a session test is a plain sequence of calls.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/host.h"
#include "portico/session.h"
#include "portico/settings.h"
#include "portico/testkit/host.h"

namespace portico::test {

// The SDK test kit's host: no services, work inline, the core's templater.
using FakeHost = portico::testkit::TestHost;

class FakeSessionContext final : public sdk::SessionContext {
 public:
  FakeSessionContext(const sdk::Host& host, sdk::Settings settings, std::string banner_template)
      : host_(host), settings_(std::move(settings)), banner_(std::move(banner_template)) {
    info_.id = 1;
    info_.protocol = "lineproto";
    info_.remote_address = "192.0.2.7";
    info_.remote_port = 40000;
    info_.local_address = "127.0.0.1";
    info_.local_port = 7070;
    info_.listener = "127.0.0.1:7070";
    info_.server_hostname = host.hostname();
  }

  const sdk::ConnectionInfo& connection() const override { return info_; }
  const sdk::Settings& settings() const override { return settings_; }
  std::string banner() const override { return host_.render_template(banner_, info_); }
  void write(std::string_view bytes) override { output.append(bytes); }
  std::size_t output_pending() const override { return 0; }
  std::size_t input_pending() const override { return 0; }
  void set_max_line_length(std::size_t bytes) override { max_line_length = bytes; }
  void read_bytes(std::size_t count) override { bytes_requested = count; }
  void set_in_command(bool on) override { in_command = on; }
  void pause_input() override { paused = true; }
  void resume_input() override { paused = false; }
  bool bad_command() override { return ++bad_commands >= max_bad_commands; }
  bool starttls_available() const override { return offer_starttls && !tls; }
  bool is_tls() const override { return tls; }
  bool start_tls() override {
    if (!starttls_available()) return false;
    tls_requested = true;
    return true;
  }
  void close() override { closed = true; }
  void post_work(std::function<void()> work, std::function<void()> done) override {
    work();
    if (!closed) done();
  }
  void log(sdk::LogLevel, std::string_view message) override { logged.emplace_back(message); }
  void post_after(std::chrono::milliseconds, std::function<void()> fn) override {
    if (!closed) fn();
  }
  std::string tls_description() const override { return tls ? "TLSv1.3 TEST" : ""; }
  void post_work_on(sdk::WorkPool, std::function<void()> work,
                    std::function<void()> done) override {
    post_work(std::move(work), std::move(done));
  }
  bool tls_verified() const override { return tls; }
  void set_raw_input(bool) override {}
  void set_timeouts(std::chrono::milliseconds, std::chrono::milliseconds) override {}
  std::uint64_t start_timer(std::chrono::milliseconds, std::function<void()>) override { return 0; }
  void cancel_timer(std::uint64_t) override {}
  std::shared_ptr<sdk::SessionHandle> handle() override { return nullptr; }
  std::shared_ptr<sdk::SessionHandle> hold() override { return nullptr; }
  bool start_compression() override { return false; }
  bool is_websocket() const override { return false; }
  void set_output_limit(std::size_t) override {}

  // Returns and clears what was written so far.
  std::string take() { return std::exchange(output, {}); }

  std::string output;
  std::vector<std::string> logged;
  std::size_t max_line_length = 0;
  std::size_t bytes_requested = 0;
  bool in_command = false;
  bool paused = false;
  int bad_commands = 0;
  int max_bad_commands = 8;
  bool offer_starttls = false;
  bool tls = false;
  bool tls_requested = false;
  bool closed = false;

 private:
  const sdk::Host& host_;
  sdk::ConnectionInfo info_;
  sdk::Settings settings_;
  std::string banner_;
};

}  // namespace portico::test
