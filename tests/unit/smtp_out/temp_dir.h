// smtp-out tests — a temporary folder for message files, removed with the object.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace portico::smtpout::testing {

namespace fs = std::filesystem;

// A folder removed with the object.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("portico-smtp-out-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  // Writes `octets` to a new file and returns its path.
  std::string write(const std::string& name, const std::string& octets) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << octets;
    return p.string();
  }

 private:
  fs::path path_;
};

}  // namespace portico::smtpout::testing
