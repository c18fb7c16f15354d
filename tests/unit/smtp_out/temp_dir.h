// smtp-out tests — a temporary folder for message files (the queue tests' TempDir), removed
// with the object, that writes files into itself.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/queue/queue_test.h"

namespace portico::smtpout::testing {

namespace fs = std::filesystem;

class TempDir : public core::queue_test::TempDir {
 public:
  // Writes `octets` to a new file and returns its path.
  std::string write(const std::string& name, const std::string& octets) const {
    const auto p = path() / name;
    std::ofstream(p, std::ios::binary) << octets;
    return p.string();
  }
};

}  // namespace portico::smtpout::testing
