// Test support — real services for protocol tests (see session_driver.h).
#include "session_driver.h"

#include <unistd.h>

#include <regex>
#include <stdexcept>

namespace portico::testing {

namespace fs = std::filesystem;

TestServices::TestServices() {
  char tmpl[] = "/tmp/portico-driver-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  directory_ = core::open_directory(dir_);
  store_ = core::open_store(dir_);
  queue_ = core::open_queue(dir_);
  reports_ = std::make_unique<core::ReportService>([] { return std::string("mail.example.test"); },
                                                   *directory_, *store_, *queue_);
}

TestServices::~TestServices() {
  reports_.reset();
  queue_.reset();
  store_.reset();
  directory_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string normalize(std::string text) {
  static const std::regex queued("queued as [0-9a-f]+");
  return std::regex_replace(text, queued, "queued as ID");
}

}  // namespace portico::testing
