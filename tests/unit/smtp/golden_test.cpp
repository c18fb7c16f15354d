// Golden transcripts of smtp-in: every tests/golden/smtp-in/NAME.in (client bytes) must make
// the real plugin (loaded from the build's plugin folder) answer exactly NAME.ref, both when
// the input arrives whole and when it arrives one byte at a time. NAME.settings, if present,
// holds YAML lines for the plugin's section; a line "~~~" in NAME.in marks where the client
// waits for the reply (after STARTTLS, whose pipelined followers are discarded, RFC 3207). The data
// directory is new for every run, with the domain example.test, the accounts alice and bob
// (password "secret"), the list team@example.test and the alias postmaster@example.test -> alice.
// Set PORTICO_UPDATE_GOLDEN=1 to write missing .ref files (then read them before committing).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "golden.h"
#include "session_driver.h"
#include "smtp_plugin.h"

namespace portico::testing {
namespace {

namespace fs = std::filesystem;

void populate(TestServices& s) {
  auto& d = s.directory();
  d.add_domain("example.test");
  d.add_account("alice@example.test", "Alice", 0, std::string_view("secret"), std::nullopt);
  d.add_account("bob@example.test", "", 0, std::string_view("secret"), std::nullopt);
  d.add_list("team@example.test", {"alice@example.test", "bob@example.test"});
  d.add_alias("postmaster@example.test", {"alice@example.test"});
}

std::string run(const fs::path& in, bool bytewise) {
  TestServices services;
  populate(services);
  TestHost host(services);
  std::shared_ptr<sdk::Plugin> plugin = load_smtp_in(host);
  fs::path settings_file = in;
  settings_file.replace_extension(".settings");
  const std::string yaml = fs::exists(settings_file) ? slurp(settings_file) : std::string();
  SessionDriver driver(*plugin, host, validated_settings(*plugin, "smtp-in", yaml));
  driver.start();
  return normalize(feed_transcript(driver, slurp(in), bytewise));
}

TEST(SmtpGolden, Transcripts) {
  expect_transcripts(PORTICO_GOLDEN_DIR, run);
}

}  // namespace
}  // namespace portico::testing
