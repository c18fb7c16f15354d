// Golden transcripts of the smtp-out client session: for every tests/golden/smtp-out/NAME.in
// (what the server sends; a "~~~" line marks where the server waits for the client), the
// session run on the Jobs of NAME.job must write exactly NAME.ref, with a "~~~" line after
// what it wrote in answer to each segment of NAME.in — so a pipelined group shows as one block
// and one command at a time as one command per segment. The input is fed whole (per segment)
// and one byte at a time. NAME.outcomes, when present, is every job_done() and the closing
// report as text, checked the same way. PORTICO_UPDATE_GOLDEN=1 writes missing .ref and
// .outcomes files (read them before committing).
//
// NAME.job, one setting a line ("#" starts a comment):
//   starttls off | require_tls on | auth USER PASSWORD | auth_without_tls on | server_starttls off
//   job ID                  starts a Job (the first is the connection's, the others next_job's)
//   from ADDRESS            the sender ("<>": the null sender)
//   to ADDRESS [notify=success,failure,delay|never] [orcpt=TYPE;ADDRESS]
//   ret full|headers   envid TEXT   size N   eight_bit   smtputf8
//   message FILE            the message (a file beside the transcript; default plain.eml)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "client_fixture.h"
#include "portico/testkit/golden.h"
#include "portico/testkit/gtest.h"

namespace portico::smtpout::testing {
namespace {

struct Script {
  ClientOptions options = default_options();
  testkit::DriverOptions driver;
  std::vector<Job> jobs;
};

std::uint32_t parse_notify(const std::string& value) {
  std::uint32_t bits = 0;
  std::stringstream in(value);
  std::string word;
  while (std::getline(in, word, ',')) {
    if (word == "success") bits |= sdk::notify_success;
    if (word == "failure") bits |= sdk::notify_failure;
    if (word == "delay") bits |= sdk::notify_delay;
    if (word == "never") bits |= sdk::notify_never;
  }
  return bits;
}

Script read_script(const fs::path& job_file) {
  Script script;
  std::ifstream in(job_file);
  std::string line;
  std::vector<bool> sized;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::stringstream words(line);
    std::string key, value;
    words >> key;
    std::getline(words >> std::ws, value);
    if (key == "starttls") {
      script.options.starttls = value == "on";
    } else if (key == "require_tls") {
      script.options.require_tls = value == "on";
    } else if (key == "auth") {
      std::stringstream(value) >> script.options.auth_user >> script.options.auth_password;
    } else if (key == "auth_without_tls") {
      script.options.allow_auth_without_tls = value == "on";
    } else if (key == "server_starttls") {
      script.driver.starttls = value == "on";
    } else if (key == "job") {
      Job job;
      job.id = value;
      job.envelope.sender = "alice@example.test";
      job.message_path = (job_file.parent_path() / "plain.eml").string();
      script.jobs.push_back(job);
      sized.push_back(false);
    } else {
      if (script.jobs.empty()) throw std::runtime_error("no job before: " + line);
      Job& job = script.jobs.back();
      if (key == "from") {
        job.envelope.sender = value == "<>" ? "" : value;
      } else if (key == "to") {
        std::stringstream parts(value);
        sdk::QueueRecipient r;
        parts >> r.address;
        std::string param;
        while (parts >> param) {
          if (param.rfind("notify=", 0) == 0) r.notify = parse_notify(param.substr(7));
          if (param.rfind("orcpt=", 0) == 0) r.orcpt = param.substr(6);
        }
        job.envelope.recipients.push_back(r);
        job.recipients.push_back(job.envelope.recipients.size() - 1);
      } else if (key == "ret") {
        job.envelope.ret = value == "full" ? sdk::DsnRet::full : sdk::DsnRet::headers;
      } else if (key == "envid") {
        job.envelope.envid = value;
      } else if (key == "size") {
        job.size = std::stoull(value);
        sized.back() = true;
      } else if (key == "eight_bit") {
        job.eight_bit = true;
      } else if (key == "smtputf8") {
        job.needs_smtputf8 = true;
      } else if (key == "message") {
        job.message_path = (job_file.parent_path() / value).string();
      } else {
        throw std::runtime_error("unknown line in " + job_file.string() + ": " + line);
      }
    }
  }
  for (std::size_t i = 0; i < script.jobs.size(); ++i) {
    if (!sized[i]) script.jobs[i].size = fs::file_size(script.jobs[i].message_path);
  }
  if (script.jobs.empty()) throw std::runtime_error("no job in " + job_file.string());
  return script;
}

const char* name_of(Outcome o) {
  switch (o) {
    case Outcome::delivered:
      return "delivered";
    case Outcome::temporary:
      return "temporary";
    case Outcome::permanent:
      return "permanent";
  }
  return "?";
}

std::string describe(const Scheduler& s) {
  std::string out;
  for (const auto& [id, outcomes] : s.done) {
    out += "job_done " + id + "\n";
    for (const auto& o : outcomes) {
      out += "  " + std::to_string(o.index) + " " + name_of(o.outcome) + " " + o.status + " " +
             o.reply + "\n";
    }
  }
  for (const auto& r : s.reports) {
    out += "closed host=" + r.remote_host + " address=" + r.remote_address + "\n";
    out += "  greeting=" + r.greeting + "\n";
    out += "  tls=" + r.tls + " verified=" + std::to_string(r.tls_verified) +
           " tls_failed=" + std::to_string(r.tls_failed) +
           " dsn=" + std::to_string(r.dsn_supported) +
           " first_job_untouched=" + std::to_string(r.first_job_untouched) + "\n";
    out += "  error=" + r.error + "\n";
  }
  return out;
}

std::string run(const fs::path& in, bool bytewise) {
  fs::path job_file = in;
  job_file.replace_extension(".job");
  Script script = read_script(job_file);
  Scheduler scheduler;
  for (std::size_t i = 1; i < script.jobs.size(); ++i)
    scheduler.more.push_back(script.jobs[i]);
  std::string output;
  {
    Connection conn(script.options, scheduler.hooks(), script.jobs[0], script.driver);
    output = conn.driver->take();
    // Each segment of the server's input, and after it what the client wrote in answer.
    std::string input = testkit::read_file(in);
    constexpr std::string_view kWait = "~~~\r\n";
    std::string_view rest = input;
    while (true) {
      const std::size_t at = rest.find(kWait);
      const std::string segment(rest.substr(0, at));
      output += testkit::feed_transcript(*conn.driver, segment, bytewise);
      if (at == std::string_view::npos) break;
      output += "~~~\r\n";
      rest.remove_prefix(at + kWait.size());
    }
  }
  // The outcomes, compared as a second golden file.
  fs::path outcomes_file = in;
  outcomes_file.replace_extension(".outcomes");
  const std::string outcomes = describe(scheduler);
  if (!fs::exists(outcomes_file) && testkit::update_requested()) {
    std::ofstream(outcomes_file, std::ios::binary) << outcomes;
  }
  EXPECT_TRUE(fs::exists(outcomes_file)) << outcomes_file << " is missing";
  if (fs::exists(outcomes_file)) {
    const std::string expected = testkit::read_file(outcomes_file);
    EXPECT_EQ(testkit::describe_difference(expected, outcomes), "")
        << in.filename() << (bytewise ? " (byte at a time)" : " (whole)") << " outcomes";
  }
  return output;
}

TEST(SmtpOutGolden, Transcripts) {
  testkit::expect_transcripts(PORTICO_GOLDEN_DIR, run);
}

}  // namespace
}  // namespace portico::smtpout::testing
