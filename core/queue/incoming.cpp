// Portico core — the writer of a message being received (see incoming.h).
#include "core/queue/incoming.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/queue/spool_files.h"

namespace portico::core::queue {

namespace {

// True when the descriptor's file is still reachable as `path`.
bool still_named(int fd, const fs::path& path) {
  struct stat held {
  }, named{};
  return ::fstat(fd, &held) == 0 && held.st_nlink > 0 && ::stat(path.c_str(), &named) == 0 &&
         named.st_ino == held.st_ino && named.st_dev == held.st_dev;
}

}  // namespace

IncomingFile::IncomingFile(const fs::path& dir) : dir_(dir) {
  path_ = dir_ / (random_hex(20) + std::string(kIncomingSuffix));
  buffer_.reserve(kIncomingBuffer);
}

void IncomingFile::create() {
  // A cleaner may take and remove a file between its creation and our flock: then start over.
  for (int attempt = 0; attempt < 5 && fd_ < 0; ++attempt) {
    fs::path path = attempt == 0 ? path_ : dir_ / (random_hex(20) + std::string(kIncomingSuffix));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) io_error("create", path);
    while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    if (!still_named(fd, path)) {
      ::close(fd);
      continue;
    }
    fd_ = fd;
    path_ = std::move(path);
  }
  if (fd_ < 0) {
    throw QueueFailure(sdk::QueueError::io, "cannot create a file in " + dir_.string());
  }
}

std::optional<std::string_view> IncomingFile::held_in_memory() const {
  if (fd_ >= 0 || aborted_ || !error_.ok()) return std::nullopt;
  return std::string_view(buffer_.data(), buffer_.size());
}

IncomingFile::~IncomingFile() {
  abort();
}

sdk::QueueStatus IncomingFile::failed(const std::string& what) {
  error_ = {sdk::QueueError::io, what + " " + path_.string() + ": " + std::strerror(errno)};
  return error_;
}

sdk::QueueStatus IncomingFile::flush() {
  if (fd_ < 0) {
    try {
      create();
    } catch (const QueueFailure& e) {
      error_ = {sdk::QueueError::io, e.what()};
      return error_;
    }
  }
  std::size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("write");
    }
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
  return {};
}

sdk::QueueStatus IncomingFile::append(std::string_view bytes) {
  if (!error_.ok()) return error_;
  if (aborted_) return {sdk::QueueError::invalid, "the message was aborted"};
  if (sealed_) return {sdk::QueueError::invalid, "the message is sealed"};
  size_ += bytes.size();
  while (!bytes.empty()) {
    std::size_t room = kIncomingBuffer - buffer_.size();
    std::size_t n = std::min(room, bytes.size());
    buffer_.insert(buffer_.end(), bytes.data(), bytes.data() + n);
    bytes.remove_prefix(n);
    if (buffer_.size() == kIncomingBuffer) {
      if (auto s = flush(); !s.ok()) return s;
    }
  }
  return {};
}

sdk::QueueStatus IncomingFile::finish(bool sync) {
  if (!error_.ok()) return error_;
  if (aborted_) return {sdk::QueueError::invalid, "the message was aborted"};
  if (sealed_) {
    // seal() after seal_unsynced() (the filter stage read the file): now make it durable.
    if (sync && !synced_) {
      if (::fsync(fd_) != 0) return failed("fsync");
      synced_ = true;
    }
    return {};
  }
  if (auto s = flush(); !s.ok()) return s;
  if (sync && ::fsync(fd_) != 0) return failed("fsync");
  if (!still_named(fd_, path_)) {
    error_ = {sdk::QueueError::io, path_.string() + " was removed while being written"};
    return error_;
  }
  sealed_ = true;
  synced_ = sync;
  return {};
}

void IncomingFile::abort() {
  if (aborted_) return;
  aborted_ = true;
  if (fd_ >= 0) {
    ::unlink(path_.c_str());  // while the flock is held, so no cleaner races us
    ::close(fd_);
    fd_ = -1;
  }
  buffer_.clear();
  buffer_.shrink_to_fit();
}

std::size_t clean_incoming(const fs::path& dir) {
  std::size_t removed = 0;
  for (const auto& entry : list_dir(dir)) {
    fs::path path = dir / entry.name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;  // gone already, or not a file we can open
    if (try_flock(fd) && still_named(fd, path) && ::unlink(path.c_str()) == 0) ++removed;
    ::close(fd);
  }
  return removed;
}

}  // namespace portico::core::queue
