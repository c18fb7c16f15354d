// Golden transcripts of pop: every tests/golden/pop/NAME.in (client bytes) must make the real
// plugin (loaded from the build's plugin folder) answer exactly NAME.ref, both when the input
// arrives whole and when it arrives one byte at a time, each run over a fresh data directory
// (see pop_fixture.h: alice with three messages, bob with none).
//
// In NAME.in, a line "~~~" marks where the client waits for the server (after STLS, whose
// pipelined followers are discarded, RFC 2595), and a line "=== reconnect" ends the connection
// (without QUIT unless the transcript sent it) and opens a new one on the same data; the line is
// copied into the output. NAME.settings holds YAML lines for the plugin's section. NAME.setup
// holds directives, one a line: "lock ADDRESS" holds that maildrop's lock during the run;
// "implicit_tls" makes the connection start in TLS; "no_starttls" makes the listener offer no
// STLS. The stable message ids of alice's messages are written as UID1, UID2, UID3.
// Set PORTICO_UPDATE_GOLDEN=1 to write missing .ref files (then read them before committing).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "golden.h"
#include "pop_fixture.h"
#include "portico/store.h"

namespace portico::testing {
namespace {

namespace fs = std::filesystem;

std::string sibling(const fs::path& in, const char* extension) {
  fs::path p = in;
  p.replace_extension(extension);
  return fs::exists(p) ? slurp(p) : std::string();
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
    text.replace(at, from.size(), to);
}

std::string run(const fs::path& in, bool bytewise) {
  PopWorld world;
  const sdk::Settings settings = world.settings(sibling(in, ".settings"));
  DriverOptions options;
  options.listener = "127.0.0.1:110";
  std::vector<std::unique_ptr<sdk::StoreHandle>> locks;
  std::istringstream setup(sibling(in, ".setup"));
  for (std::string line; std::getline(setup, line);) {
    if (line.rfind("lock ", 0) == 0) {
      auto lock = world.services.store().lock_maildrop(line.substr(5));
      if (!lock.ok()) throw std::runtime_error("lock: " + lock.message);
      locks.push_back(std::move(lock.value));
    } else if (line == "implicit_tls") {
      options.implicit_tls = true;
    } else if (line == "no_starttls") {
      options.starttls = false;
    } else if (!line.empty()) {
      throw std::runtime_error("unknown setup directive: " + line);
    }
  }

  std::string input = slurp(in);
  std::vector<std::string> connections;
  for (std::size_t at; (at = input.find("=== reconnect\r\n")) != std::string::npos;) {
    connections.push_back(input.substr(0, at));
    input.erase(0, at + 15);
  }
  connections.push_back(input);

  std::string output;
  for (std::size_t i = 0; i < connections.size(); ++i) {
    if (i > 0) output += "=== reconnect\r\n";
    auto driver = std::make_unique<SessionDriver>(*world.plugin, world.host, settings, options);
    driver->start();
    output += feed_transcript(*driver, connections[i], bytewise);
    driver.reset();  // the connection ends (on_close when not closed yet)
  }
  for (std::size_t i = 0; i < world.alice_ids.size(); ++i)
    replace_all(output, world.alice_ids[i], "UID" + std::to_string(i + 1));
  return normalize(output);
}

TEST(PopGolden, Transcripts) {
  expect_transcripts(PORTICO_GOLDEN_DIR, run);
}

}  // namespace
}  // namespace portico::testing
