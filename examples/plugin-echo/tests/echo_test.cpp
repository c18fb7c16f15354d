// Tests of the echo plugin with the Portico SDK's test kit (Portico::testkit), as any plugin's
// own tests can be written: the plugin is made from the descriptor PORTICO_PLUGIN exports, its
// settings are validated by the core's own rules, and its sessions are driven over the core's
// own line framing, without a server.
//
// Golden transcripts: each tests/golden/NAME.in (what a client sends) must make the plugin
// answer exactly NAME.ref, whether the input arrives whole or one byte at a time. NAME.settings,
// if present, holds YAML lines for the plugin's section of the configuration.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "portico/testkit/driver.h"
#include "portico/testkit/golden.h"
#include "portico/testkit/gtest.h"
#include "portico/testkit/host.h"
#include "portico/testkit/plugin.h"
#include "portico/testkit/settings.h"

extern "C" const portico_plugin_descriptor portico_plugin;  // exported by echo.cpp

namespace {

namespace fs = std::filesystem;
namespace testkit = portico::testkit;

std::string run(const fs::path& in, bool bytewise) {
  testkit::TestHost host;
  auto plugin = testkit::create_plugin(portico_plugin, host);
  fs::path settings_file = in;
  settings_file.replace_extension(".settings");
  testkit::SessionDriver driver(
      *plugin, host, testkit::settings_for(*plugin, "echo", testkit::read_file(settings_file)));
  driver.start();
  return testkit::feed_transcript(driver, testkit::read_file(in), bytewise);
}

TEST(Echo, Transcripts) {
  testkit::expect_transcripts(ECHO_GOLDEN_DIR, run);
}

TEST(Echo, QuitClosesTheSession) {
  testkit::TestHost host;
  auto plugin = testkit::create_plugin(portico_plugin, host);
  testkit::SessionDriver driver(*plugin, host, testkit::settings_for(*plugin, "echo"));
  driver.start();
  driver.feed("quit\r\nnot echoed\r\n");
  EXPECT_EQ(driver.take(), "+OK mail.example.test echo service ready\r\n+OK bye\r\n");
  EXPECT_TRUE(driver.closed());
}

TEST(Echo, RefusesASettingItDoesNotHave) {
  testkit::TestHost host;
  auto plugin = testkit::create_plugin(portico_plugin, host);
  EXPECT_THROW(testkit::settings_for(*plugin, "echo", "max_lines: 3"), std::invalid_argument);
}

}  // namespace
