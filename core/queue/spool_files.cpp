// Portico core — the spool's files (see spool_files.h).
#include "core/queue/spool_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>

namespace portico::core::queue {

namespace {

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

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

std::mt19937_64& rng() {
  thread_local std::mt19937_64 engine([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), static_cast<unsigned>(::getpid())};
    return std::mt19937_64(seq);
  }());
  return engine;
}

void make_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::create_directories(dir, ec)) fsync_dir(dir.parent_path());
  if (ec) throw QueueFailure(sdk::QueueError::io, "mkdir " + dir.string() + ": " + ec.message());
}

}  // namespace

void io_error(const std::string& what, const fs::path& path) {
  int err = errno;
  sdk::QueueError kind = err == ENOENT ? sdk::QueueError::not_found : sdk::QueueError::io;
  throw QueueFailure(kind, what + " " + path.string() + ": " + std::strerror(err));
}

SpoolLayout::SpoolLayout(const fs::path& data_dir)
    : root(data_dir / "spool"),
      incoming(root / "incoming"),
      messages(root / "messages"),
      envelopes(root / "envelopes"),
      claims(root / "claims") {}

void SpoolLayout::create() const {
  for (const auto* dir : {&incoming, &messages, &envelopes, &claims})
    make_dir(*dir);
}

std::string random_hex(std::size_t digits) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  auto& engine = rng();
  while (out.size() < digits) {
    std::uint64_t bits = engine();
    for (int i = 0; i < 16 && out.size() < digits; ++i, bits >>= 4)
      out += hex[bits & 0xf];
  }
  return out;
}

std::string new_queue_id() {
  using namespace std::chrono;
  auto micros = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  char stamp[17];
  std::snprintf(stamp, sizeof stamp, "%014llx", static_cast<unsigned long long>(micros));
  return std::string(stamp) + random_hex(10);
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

void fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) io_error("open", dir);
  if (::fsync(fd.get()) != 0) io_error("fsync", dir);
}

fs::path write_temp(const fs::path& dir, const std::string& name, std::string_view data) {
  fs::path temp = dir / (std::string(kTempPrefix) + name + "-" + random_hex(8));
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (fd.get() < 0) io_error("create", temp);
  try {
    write_all(fd.get(), data, temp);
    if (::fsync(fd.get()) != 0) io_error("fsync", temp);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  return temp;
}

void write_durably(const fs::path& dir, const std::string& name, std::string_view data) {
  fs::path temp = write_temp(dir, name, data);
  if (::rename(temp.c_str(), (dir / name).c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    errno = err;
    io_error("rename", temp);
  }
  fsync_dir(dir);
}

void link_or_copy(const fs::path& source, const fs::path& target) {
  if (::link(source.c_str(), target.c_str()) == 0) return;
  if (errno != EXDEV && errno != EPERM && errno != EMLINK) io_error("link", target);
  Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) io_error("open", source);
  Fd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (out.get() < 0) io_error("create", target);
  try {
    char buffer[64 * 1024];
    while (true) {
      ssize_t n = ::read(in.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) io_error("read", source);
      if (n == 0) break;
      write_all(out.get(), std::string_view(buffer, static_cast<std::size_t>(n)), target);
    }
    if (::fsync(out.get()) != 0) io_error("fsync", target);
  } catch (...) {
    ::unlink(target.c_str());
    throw;
  }
}

std::string read_file(const fs::path& file, std::uint64_t limit) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) io_error("open", file);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) io_error("stat", file);
  if (static_cast<std::uint64_t>(st.st_size) > limit) {
    throw QueueFailure(sdk::QueueError::invalid,
                       file.string() + ": larger than " + std::to_string(limit) + " octets");
  }
  std::string out;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("read", file);
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      throw QueueFailure(sdk::QueueError::invalid,
                         file.string() + ": larger than " + std::to_string(limit) + " octets");
    }
  }
  return out;
}

bool remove_file(const fs::path& file) {
  if (::unlink(file.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  io_error("unlink", file);
}

std::vector<DirEntry> list_dir(const fs::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) io_error("opendir", dir);
  std::vector<DirEntry> out;
  while (true) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    out.push_back({std::string(name), e->d_ino});
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) {
    errno = err;
    io_error("readdir", dir);
  }
  return out;
}

bool try_flock(int fd) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    return false;
  }
  return true;
}

Claim::~Claim() {
  release();
}

Claim::Claim(Claim&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

Claim& Claim::operator=(Claim&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

Claim Claim::try_take(const fs::path& claims_dir, const std::string& id) {
  fs::path path = claims_dir / id;
  // Someone may delete the lock file between our open and our flock; then the lock we got is
  // on a file nobody else will open. Check that the path still names our file, and retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
    if (fd.get() < 0) io_error("open", path);
    if (!try_flock(fd.get())) return {};
    struct stat held {
    }, named{};
    if (::fstat(fd.get(), &held) != 0) io_error("stat", path);
    if (::stat(path.c_str(), &named) != 0 || named.st_ino != held.st_ino ||
        named.st_dev != held.st_dev) {
      continue;
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
      io_error("write", path);
    }
    Claim claim;
    claim.fd_ = fd.release();
    claim.path_ = std::move(path);
    return claim;
  }
  return {};
}

std::int64_t Claim::holder(const fs::path& claims_dir, const std::string& id) {
  fs::path path = claims_dir / id;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return 0;
  if (try_flock(fd.get())) return 0;  // free (closing the descriptor releases it)
  char buffer[32] = {};
  ssize_t n = ::pread(fd.get(), buffer, sizeof buffer - 1, 0);
  std::int64_t pid = n > 0 ? std::atoll(buffer) : 0;
  return pid > 0 ? pid : -1;  // -1: held, holder unknown
}

void Claim::release(bool remove_file) {
  if (fd_ < 0) return;
  if (remove_file) ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

}  // namespace portico::core::queue
