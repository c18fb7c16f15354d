// imap — see append_spool.h.
#include "append_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace portico::imap {

namespace fs = std::filesystem;

namespace {

// Files of earlier processes (a spool never outlives its process): removed once per folder.
void sweep_once(const std::string& folder) {
  static std::mutex mutex;
  static std::string swept;
  std::lock_guard lock(mutex);
  if (swept == folder) return;
  swept = folder;
  const std::string mine = std::to_string(::getpid()) + "-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(mine, 0) != 0) fs::remove(e.path(), ec);
  }
}

}  // namespace

AppendSpool::~AppendSpool() {
  if (fd_ >= 0) ::close(fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

bool AppendSpool::open() {
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec) {
    error_ = "cannot create " + folder_ + ": " + ec.message();
    return false;
  }
  sweep_once(folder_);
  static std::atomic<std::uint64_t> counter{0};
  path_ = folder_ + "/" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".tmp";
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error_ = "cannot create " + path_ + ": " + std::strerror(errno);
    path_.clear();
    return false;
  }
  return true;
}

bool AppendSpool::write(std::string_view bytes) {
  if (!error_.empty()) return false;
  if (fd_ < 0 && path_.empty() && !open()) return false;
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = "cannot write " + path_ + ": " + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool AppendSpool::finish() {
  if (fd_ < 0 && path_.empty() && error_.empty() && !open()) return false;
  if (fd_ >= 0 && ::close(fd_) != 0 && error_.empty())
    error_ = "cannot write " + path_ + ": " + std::strerror(errno);
  fd_ = -1;
  return error_.empty();
}

}  // namespace portico::imap
