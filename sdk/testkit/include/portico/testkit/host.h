// Portico SDK test kit — a Host for testing a plugin without a server.
//
// TestHost gives a plugin what the core would, minus the network and the data: the server's
// banner templater (the core's own), work run at once on the calling thread, timers that fire
// only when the test says (run_scheduled), and the core's SASL exchange over whatever Auth the
// test supplies (none by default). Directory, store, queue, reports and DNS are absent (nullptr)
// unless a derived class supplies them; outbound connections always fail. Log lines are kept for
// the test to read. Not thread-safe: one test thread drives it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "portico/host.h"
#include "portico/outbound.h"
#include "portico/sasl.h"

namespace portico::core {
class SaslServerImpl;  // the core's SASL exchange, compiled into the test kit
}

namespace portico::testkit {

class TestHost : public sdk::Host {
 public:
  explicit TestHost(std::string hostname = "mail.example.test", std::string data_dir = "/tmp");
  ~TestHost();

  // sdk::Host
  void log(sdk::LogLevel level, std::string_view message) override;
  std::string hostname() const override { return hostname_; }
  std::string data_dir() const override { return data_dir_; }
  std::string render_template(std::string_view text,
                              const sdk::ConnectionInfo& conn) const override;
  void post_work(std::function<void()> work) override;
  sdk::Directory* directory() override { return nullptr; }
  sdk::Auth* auth() override { return nullptr; }
  sdk::Store* store() override { return nullptr; }
  sdk::Queue* queue() override { return nullptr; }
  void connect(const sdk::OutboundRequest& request, sdk::OutboundSessionFactory open,
               sdk::OutboundFailure failed) override;
  std::unique_ptr<sdk::Scheduled> schedule(std::chrono::milliseconds delay,
                                           std::function<void()> fn) override;
  sdk::Dns* dns() override { return nullptr; }
  sdk::SaslServer* sasl() override;
  void post_work_on(sdk::WorkPool pool, std::function<void()> work) override;
  sdk::Reports* reports() override { return nullptr; }
  sdk::Filter* filter() override { return nullptr; }

  // The test's side.
  // Every line logged so far, as "level: message".
  const std::vector<std::string>& log_lines() const { return log_; }
  // Runs every scheduled call not cancelled, in order of due time (ignoring the clock), and
  // those they schedule in turn, up to `limit` calls; returns how many ran.
  std::size_t run_scheduled(std::size_t limit = 1000);
  // Scheduled calls waiting.
  std::size_t scheduled() const;

 private:
  struct Timer;
  class TimerHandle;
  std::string hostname_;
  std::string data_dir_;
  std::vector<std::string> log_;
  std::vector<std::shared_ptr<Timer>> timers_;
  std::uint64_t next_timer_ = 0;
  std::unique_ptr<core::SaslServerImpl> sasl_;
};

}  // namespace portico::testkit
