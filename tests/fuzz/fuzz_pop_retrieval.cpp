// Fuzz target: the POP retrieval client (plugins/pop/retrieval_session.cpp) fed arbitrary
// server replies, whole and split at an input-chosen point, on the real store and directory in
// a temporary data directory. Traps when a run ends without reporting its outcome exactly once,
// when a run that reports success wrote nothing past QUIT, or when a message is delivered that
// the input never completed (more deliveries than RETR terminators the input holds).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "retrieval_session.h"
#include "retrieval_spool.h"
#include "session_driver.h"

namespace {

using namespace portico;

struct World {
  testing::TestServices services;
  testing::TestHost host{services};
  World() {
    services.directory().add_domain("example.test");
    services.directory().add_account("alice@example.test", "", 0, std::string_view("x"),
                                     std::nullopt);
  }
};

World& world() {
  static World w;
  return w;
}

std::int64_t next_source = 1;

int count_terminators(std::string_view s) {
  int n = 0;
  for (std::size_t at = s.find(".\n"); at != std::string_view::npos; at = s.find(".\n", at + 1)) {
    if (at == 0 || s[at - 1] == '\n') ++n;
  }
  for (std::size_t at = s.find(".\r\n"); at != std::string_view::npos;
       at = s.find(".\r\n", at + 1)) {
    if (at == 0 || s[at - 1] == '\n') ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024 || size < 1) return 0;
  World& w = world();
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto run = std::make_shared<pop::RunContext>();
  run->source.id = next_source++;  // a fresh seen list per input
  run->source.account = "alice@example.test";
  run->source.host = "remote.test";
  run->source.user = "u";
  run->source.secret = "s";
  run->source.apop = (data[0] & 1) != 0;
  run->source.leave_on_server = (data[0] & 2) != 0;
  run->source.tls =
      (data[0] & 4) != 0 ? sdk::RetrievalSource::Tls::starttls : sdk::RetrievalSource::Tls::none;
  run->spool =
      std::make_shared<pop::SourceSpool>(w.services.data_dir() / "retrieval", run->source.id);
  run->spool->open();
  run->store = &w.services.store();
  run->directory = &w.services.directory();
  run->hostname = "mail.example.test";
  int reports = 0;
  std::optional<pop::RunOutcome> outcome;
  run->finished = [&](const pop::RunOutcome& o) {
    ++reports;
    outcome = o;
  };
  {
    testing::SessionDriver driver(
        [run](sdk::SessionContext& ctx) {
          return std::make_unique<pop::RetrievalSession>(ctx, run);
        },
        w.host);
    driver.start();
    const std::size_t cut = data[0] % (input.size() + 1);
    driver.feed(input.substr(0, cut));
    driver.feed(input.substr(cut));
    const std::string sent = driver.take();
    if (outcome && outcome->ok && sent.find("QUIT\r\n") == std::string::npos) __builtin_trap();
  }
  if (reports != 1) __builtin_trap();
  if (outcome->fetched > static_cast<std::uint64_t>(count_terminators(input))) __builtin_trap();
  return 0;
}
