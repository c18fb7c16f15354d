// Fuzz target: smtp-out's client session (plugins/smtp-out/client_session.cpp) fed arbitrary
// server bytes, whole and split at an input-chosen point, with options and a final drop chosen
// by the first byte, over two Jobs. Traps when the contract with the scheduler breaks: closed()
// not exactly once or not last, job_done() twice for a Job or missing for a Job taken, the first
// Job both untouched and done, or an outcome missing or of the wrong class.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client_session.h"
#include "portico/testkit/driver.h"
#include "portico/testkit/host.h"

namespace {

using namespace portico;

const std::string& message_path() {
  static const std::string path = [] {
    const auto p = std::filesystem::temp_directory_path() /
                   ("portico-fuzz-smtp-client-" + std::to_string(::getpid()) + ".eml");
    std::ofstream(p, std::ios::binary) << "Subject: x\r\n\r\n.dot\r\nbody\r\n";
    return p.string();
  }();
  return path;
}

smtpout::Job job(const std::string& id, std::size_t recipients) {
  smtpout::Job j;
  j.id = id;
  j.envelope.sender = "a@example.test";
  for (std::size_t i = 0; i < recipients; ++i) {
    sdk::QueueRecipient r;
    r.address = "r" + std::to_string(i) + "@example.net";
    r.notify = sdk::notify_failure;
    r.orcpt = "rfc822;" + r.address;
    j.envelope.recipients.push_back(r);
    j.recipients.push_back(i);
  }
  j.message_path = message_path();
  j.size = 30;
  return j;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  const std::uint8_t flags = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  static testkit::TestHost host;
  std::vector<std::string> events;
  int closed = 0, first_done = 0, second_done = 0, second_taken = 0;
  bool untouched = false, bad_outcome = false;
  smtpout::ClientHooks hooks;
  hooks.next_job = [&]() -> std::optional<smtpout::Job> {
    if (second_taken > 0) return std::nullopt;
    ++second_taken;
    return job("second", 1);
  };
  hooks.job_done = [&](const smtpout::Job& j, std::vector<smtpout::RecipientOutcome> outcomes,
                       const smtpout::ConnectionReport&) {
    if (closed > 0) bad_outcome = true;
    (j.id == "first" ? first_done : second_done)++;
    if (outcomes.size() != j.recipients.size()) bad_outcome = true;
    for (const auto& o : outcomes) {
      const char klass = o.outcome == smtpout::Outcome::delivered   ? '2'
                         : o.outcome == smtpout::Outcome::permanent ? '5'
                                                                    : '4';
      if (o.status.empty() || o.status[0] != klass || o.reply.empty()) bad_outcome = true;
    }
  };
  hooks.closed = [&](const smtpout::ConnectionReport& report) {
    ++closed;
    untouched = report.first_job_untouched;
  };
  smtpout::ClientOptions options;
  options.remote_host = "mx.example.net";
  options.helo_name = "mail.example.test";
  options.starttls = (flags & 1) != 0;
  options.require_tls = (flags & 2) != 0;
  if ((flags & 4) != 0) {
    options.auth_user = "u";
    options.auth_password = "p";
    options.allow_auth_without_tls = (flags & 8) != 0;
  }
  {
    testkit::SessionDriver driver(
        [&](sdk::SessionContext& ctx) {
          return std::make_unique<smtpout::ClientSession>(ctx, options, hooks, job("first", 2));
        },
        host);
    driver.start();
    const std::size_t cut = (flags >> 4) * input.size() / 16;
    driver.feed(input.substr(0, cut));
    driver.feed(input.substr(cut));
    driver.take();
    if ((flags & 0x80) != 0) driver.disconnect();
  }
  if (closed != 1 || bad_outcome) __builtin_trap();
  if (first_done > 1 || second_done != second_taken) __builtin_trap();
  if (untouched != (first_done == 0)) __builtin_trap();
  return 0;
}
