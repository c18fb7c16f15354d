// Portico core — the spool's files (see spool_files.h).
#include "core/queue/spool_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
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

SpoolLayout::SpoolLayout(const fs::path& data_dir)
    : root(data_dir / "spool"),
      incoming(root / "incoming"),
      messages(root / "messages"),
      envelopes(root / "envelopes"),
      removed(root / "removed"),
      journal(root / "journal"),
      old_claims(root / "claims") {}

void SpoolLayout::create() const {
  for (const auto* dir : {&incoming, &messages, &envelopes, &removed})
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

std::optional<std::string> read_file(const fs::path& file, std::uint64_t limit) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 && errno == ENOENT) return std::nullopt;
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

bool set_inline_envelope(int fd, const fs::path& path, const std::string& id,
                         std::string_view text) {
  if (text.size() > kMaxInlineEnvelope) return false;
  std::string value;
  value.reserve(id.size() + 1 + text.size());
  value.append(id).append(1, '\n').append(text);
  if (::fsetxattr(fd, kInlineEnvelopeAttr, value.data(), value.size(), XATTR_CREATE) == 0) {
    return true;
  }
  // No user attributes here (ENOTSUP), no room in the inode's attribute space (ENOSPC, E2BIG,
  // ERANGE), or the file carries an entry's envelope already (EEXIST: enqueued before).
  if (errno == ENOTSUP || errno == ENOSPC || errno == E2BIG || errno == ERANGE || errno == EEXIST) {
    return false;
  }
  io_error("setxattr", path);
}

std::optional<std::string> read_inline_envelope(const fs::path& message, const std::string& id) {
  std::string value(id.size() + 1 + kMaxInlineEnvelope, '\0');
  ssize_t n = ::getxattr(message.c_str(), kInlineEnvelopeAttr, value.data(), value.size());
  if (n < 0) {
    if (errno == ENOENT || errno == ENODATA || errno == ENOTSUP || errno == ERANGE) {
      return std::nullopt;  // no file, no attribute, or one no enqueue wrote
    }
    io_error("getxattr", message);
  }
  value.resize(static_cast<std::size_t>(n));
  if (value.size() <= id.size() || value.compare(0, id.size(), id) != 0 ||
      value[id.size()] != '\n') {
    return std::nullopt;  // another entry's (the same file under another name)
  }
  value.erase(0, id.size() + 1);
  return value;
}

bool drop_inline_envelope(const fs::path& message) {
  if (::removexattr(message.c_str(), kInlineEnvelopeAttr) != 0) {
    if (errno == ENODATA || errno == ENOTSUP || errno == ENOENT) return false;
    io_error("removexattr", message);
  }
  Fd fd(::open(message.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) io_error("open", message);
  fsync_fd(fd.get(), message);
  return true;
}

void fsync_fd(int fd, const fs::path& path) {
  if (::fsync(fd) != 0) io_error("fsync", path);
}

std::string pread_upto(int fd, std::uint64_t offset, std::uint64_t size, const fs::path& path) {
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("read", path);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

std::optional<std::string> read_small_file(int fd, const fs::path& path, std::uint64_t limit) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) io_error("stat", path);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > limit) return std::nullopt;
  std::string out = pread_upto(fd, 0, size, path);
  if (out.size() != size)
    throw QueueFailure(sdk::QueueError::io, path.string() + " shrank while read");
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

Claim::Claim(Claim&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Claim& Claim::operator=(Claim&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

namespace {

// An open file description's lock (fcntl F_OFD_*) on [start, start + length); length 0 runs
// to the end of every possible file.
bool ofd_lock(int fd, off_t start, off_t length, int command, short type, struct flock* out) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = start;
  lock.l_len = length;
  while (::fcntl(fd, command, &lock) != 0) {
    if (errno == EINTR) continue;
    return false;
  }
  if (out) *out = lock;
  return true;
}

}  // namespace

Claim Claim::take_fd(int fd, const fs::path& path) {
  Fd held(fd);
  if (!ofd_lock(held.get(), 0, 1, F_OFD_SETLK, F_WRLCK, nullptr)) {
    if (errno == EAGAIN || errno == EACCES) return {};
    io_error("lock", path);
  }
  // Who holds it: a second lock, at an offset that is the holder's process id.
  if (!ofd_lock(held.get(), kHolderBase + ::getpid(), 1, F_OFD_SETLK, F_WRLCK, nullptr)) {
    io_error("lock", path);
  }
  Claim claim;
  claim.fd_ = held.release();
  return claim;
}

Claim Claim::try_take(const fs::path& messages_dir, const std::string& id, bool* missing) {
  if (missing) *missing = false;
  fs::path path = messages_dir / id;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      if (missing) *missing = true;
      return {};
    }
    io_error("open", path);
  }
  Claim claim = take_fd(fd, path);
  if (!claim.held()) return claim;
  // The entry may have been removed between our open and our lock, by a holder that unlinked
  // the file and then let go: a lock on a file that no longer has this name claims nothing
  // (the file may live on under other names: the incoming one, a mailbox's).
  if (!claim.same_file(path)) {
    if (missing) *missing = true;
    return {};
  }
  return claim;
}

Claim Claim::take_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) io_error("open", file);
  return take_fd(fd, file);
}

std::int64_t Claim::holder(const fs::path& messages_dir, const std::string& id) {
  fs::path path = messages_dir / id;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return 0;
  struct flock found {};
  if (!ofd_lock(fd.get(), 0, 1, F_OFD_GETLK, F_WRLCK, &found) || found.l_type == F_UNLCK) {
    return 0;  // free (or cannot tell)
  }
  if (ofd_lock(fd.get(), kHolderBase, 0, F_OFD_GETLK, F_WRLCK, &found) && found.l_type != F_UNLCK &&
      found.l_start > kHolderBase) {
    return static_cast<std::int64_t>(found.l_start - kHolderBase);
  }
  return -1;  // held, holder unknown
}

bool Claim::same_file(const fs::path& file) const {
  struct stat held {
  }, named{};
  return fd_ >= 0 && ::fstat(fd_, &held) == 0 && ::stat(file.c_str(), &named) == 0 &&
         held.st_ino == named.st_ino && held.st_dev == named.st_dev;
}

void Claim::release() {
  if (fd_ < 0) return;
  ::close(fd_);  // drops both locks
  fd_ = -1;
}

}  // namespace portico::core::queue
