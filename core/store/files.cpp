// Portico core — the store's files (see files.h).
#include "core/store/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "core/store/sqlite.h"

namespace portico::core::store {

namespace {

[[noreturn]] void io_error(const std::string& what, const fs::path& path) {
  fail(sdk::StoreError::io, what + " " + path.string() + ": " + std::strerror(errno));
}

std::string escape(std::string_view part) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < part.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(part[i]);
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
                 c == '-' || (c == '.' && i > 0);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Seeded per thread and again after fork(), so that a forked child never repeats its
// parent's sequence.
std::uint64_t random64() {
  thread_local std::mt19937_64 rng;
  thread_local pid_t seeded_for = 0;
  if (seeded_for != ::getpid()) {
    seeded_for = ::getpid();
    std::random_device rd;
    rng.seed(
        (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
        (static_cast<std::uint64_t>(seeded_for) << 20) ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  }
  return rng();
}

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error("write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

fs::path account_folder(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() || address.size() > 320) {
    fail(sdk::StoreError::invalid_name,
         "not an address with a domain: '" + std::string(address) + "'");
  }
  return fs::path(escape(address.substr(at + 1))) / escape(address.substr(0, at));
}

std::string new_body_name() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return hex64(static_cast<std::uint64_t>(us)).substr(3) + "-" + hex64(random64());
}

std::string new_message_key() {
  return hex64(random64());
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) io_error("open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) io_error("fsync", dir);
}

void write_body(const fs::path& dir, const std::string& name, std::string_view data,
                FolderSync sync) {
  fs::path temp = dir / (std::string(temp_prefix) + name);
  fs::path final_path = dir / name;
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) io_error("create", temp);
  try {
    write_all(fd, data, temp);
    if (::fsync(fd) != 0) io_error("fsync", temp);
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    ::unlink(temp.c_str());
    io_error("rename", temp);
  }
  if (sync == FolderSync::now) fsync_dir(dir);
}

void link_body(const fs::path& source, const fs::path& dir, const std::string& name,
               FolderSync sync) {
  fs::path target = dir / name;
  if (::link(source.c_str(), target.c_str()) == 0) {
    if (sync == FolderSync::now) fsync_dir(dir);
    return;
  }
  // EXDEV (another file system), EMLINK (too many links), EPERM (no hard links here): copy.
  write_body(dir, name, read_file(source), sync);
}

namespace {

class BodyReader final : public sdk::MessageReader {
 public:
  BodyReader(int fd, std::uint64_t size, fs::path file)
      : fd_(fd), size_(size), file_(std::move(file)) {}
  ~BodyReader() override { ::close(fd_); }
  std::uint64_t size() const override { return size_; }
  sdk::StoreResult<std::string> read(std::uint64_t offset, std::size_t max) override {
    sdk::StoreResult<std::string> r;
    if (offset >= size_) return r;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(max, size_ - offset));
    r.value.resize(want);
    std::size_t got = 0;
    while (got < want) {
      const ssize_t n =
          ::pread(fd_, r.value.data() + got, want - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        r.error = sdk::StoreError::io;
        r.message = file_.string() + ": " + (n < 0 ? std::strerror(errno) : "shorter than it was");
        r.value.clear();
        return r;
      }
      got += static_cast<std::size_t>(n);
    }
    return r;
  }

 private:
  int fd_;
  std::uint64_t size_;
  fs::path file_;
};

}  // namespace

std::unique_ptr<sdk::MessageReader> open_body(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) fail(sdk::StoreError::not_found, file.string() + ": no such body file");
    io_error("cannot read", file);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    io_error("cannot stat", file);
  }
  return std::make_unique<BodyReader>(fd, static_cast<std::uint64_t>(st.st_size), file);
}

void sync_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_error("cannot open", file);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  errno = err;
  if (rc != 0) io_error("cannot fsync", file);
}

std::string read_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_error("cannot read", file);
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      io_error("read", file);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

FileLock::FileLock(const fs::path& file, Mode mode, bool try_only) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) io_error("open", file);
  int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | (try_only ? LOCK_NB : 0);
  while (::flock(fd_, op) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK && try_only) return;
    io_error("flock", file);
  }
  locked_ = true;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace portico::core::store
