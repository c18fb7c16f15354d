// Test support — the SDK test kit's session driver, with the core's real services behind it.
//
// The driver, the settings validation and the transcript check are the SDK's test kit
// (sdk/testkit: what third-party plugin authors use too). What only the project's own tests
// have is here: TestServices opens the real directory, store and queue in a temporary data
// directory, and TestHost hands them to plugins. Used by the golden-transcript tests of every
// protocol: each transcript is fed whole and then one byte at a time, and must give the same
// output.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/directory/directory.h"
#include "core/queue/queue.h"
#include "core/reports/reports.h"
#include "core/store/store.h"
#include "portico/plugin.h"
#include "portico/testkit/driver.h"
#include "portico/testkit/host.h"
#include "portico/testkit/settings.h"

namespace portico::testing {

using testkit::DriverOptions;
using testkit::SessionDriver;

// The real services over a fresh temporary data directory, removed afterwards.
class TestServices {
 public:
  TestServices();
  ~TestServices();
  const std::filesystem::path& data_dir() const { return dir_; }
  core::DirectoryService& directory() { return *directory_; }
  core::MailStore& store() { return *store_; }
  core::QueueService& queue() { return *queue_; }
  core::ReportService& reports() { return *reports_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<core::DirectoryService> directory_;
  std::unique_ptr<core::MailStore> store_;
  std::unique_ptr<core::QueueService> queue_;
  std::unique_ptr<core::ReportService> reports_;
};

// The test kit's host (work inline, timers run only by run_scheduled(), no outbound
// connections) with the real services.
class TestHost final : public testkit::TestHost {
 public:
  explicit TestHost(TestServices& services)
      : testkit::TestHost("mail.example.test", services.data_dir().string()), services_(services) {}
  sdk::Directory* directory() override { return &services_.directory(); }
  sdk::Auth* auth() override { return &services_.directory(); }
  sdk::Store* store() override { return &services_.store(); }
  sdk::Queue* queue() override { return &services_.queue(); }
  sdk::Reports* reports() override { return &services_.reports(); }
  sdk::Filter* filter() override { return nullptr; }  // no spam filter in unit tests

 private:
  TestServices& services_;
};

// The plugin's settings as the core would validate them: its schema's defaults, with
// `yaml_lines` (e.g. "max_bad_commands: 3\nenable_vrfy: true") applied under plugins.<name>.
// Throws with the validator's messages when they do not validate.
inline sdk::Settings validated_settings(const sdk::Plugin& plugin, const std::string& name,
                                        const std::string& yaml_lines = "") {
  return testkit::settings_for(plugin, name, yaml_lines);
}

// Output with the parts that change between runs replaced ("queued as ID").
std::string normalize(std::string text);

}  // namespace portico::testing
