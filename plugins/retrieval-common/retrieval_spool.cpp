// retrieval — the download folder of one retrieval source (see retrieval_spool.h).
#include "retrieval_spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "portico/store.h"

namespace portico::retrieval {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPart = ".part";
constexpr const char* kMsg = ".msg";

[[noreturn]] void fail(const std::string& what, const fs::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Replaces `path` whole with `text`: a temporary file beside it, fsync'd, renamed over it (the
// caller syncs the folder).
void replace_file(const fs::path& path, std::string_view text) {
  const fs::path temp = path.string() + ".new";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create", temp);
  try {
    write_all(fd, text, temp);
    if (::fsync(fd) != 0) fail("cannot fsync", temp);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail("cannot rename", temp);
}

bool hex_decode(std::string_view hex, std::string& out) {
  if (hex.empty() || hex.size() % 2 != 0) return false;
  out.clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

SourceSpool::SourceSpool(fs::path root, std::int64_t source_id)
    : folder_(std::move(root) / std::to_string(source_id)), source_id_(source_id) {}

SourceSpool::~SourceSpool() {
  if (part_fd_ >= 0) ::close(part_fd_);
  if (seen_fd_ >= 0) ::close(seen_fd_);
}

fs::path SourceSpool::file(const std::string& uid, const char* suffix) const {
  return folder_ / (hex_encode(uid) + suffix);
}

void SourceSpool::sync_folder() {
  const int fd = ::open(folder_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", folder_);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("cannot fsync", folder_);
}

void SourceSpool::open() {
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec) throw std::runtime_error("cannot create " + folder_.string() + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(folder_)) {
    if (entry.path().extension() == kPart) fs::remove(entry.path(), ec);
  }
  seen_.clear();
  bool torn = false;
  {
    std::ifstream in(folder_ / "seen", std::ios::binary);
    std::string line, uid;
    while (std::getline(in, line)) {
      if (in.eof()) {  // the last line lost its end in a crash: it was never acknowledged
        torn = true;
        break;
      }
      if (hex_decode(line, uid)) seen_.insert(uid);
    }
  }
  if (torn) {
    keep_only(seen_);  // rewrites the file whole
    return;
  }
  if (seen_fd_ >= 0) ::close(seen_fd_);
  const fs::path seen_path = folder_ / "seen";
  seen_fd_ = ::open(seen_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (seen_fd_ < 0) fail("cannot open", seen_path);
}

std::vector<std::string> SourceSpool::pending() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder_, ec)) {
    if (entry.path().extension() != kMsg) continue;
    std::string uid;
    if (hex_decode(entry.path().stem().string(), uid)) out.push_back(std::move(uid));
  }
  return out;
}

void SourceSpool::begin(const std::string& uid) {
  abandon();
  const fs::path path = file(uid, kPart);
  part_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (part_fd_ < 0) fail("cannot create", path);
  part_uid_ = uid;
}

void SourceSpool::append(std::string_view bytes) {
  if (part_fd_ < 0) throw std::logic_error("no download in progress");
  write_all(part_fd_, bytes, file(part_uid_, kPart));
}

void SourceSpool::commit() {
  if (part_fd_ < 0) throw std::logic_error("no download in progress");
  const fs::path part = file(part_uid_, kPart);
  const fs::path msg = file(part_uid_, kMsg);
  if (::fsync(part_fd_) != 0) fail("cannot fsync", part);
  ::close(part_fd_);
  part_fd_ = -1;
  if (::rename(part.c_str(), msg.c_str()) != 0) fail("cannot rename", part);
  sync_folder();
  part_uid_.clear();
}

void SourceSpool::abandon() {
  if (part_fd_ < 0) return;
  ::close(part_fd_);
  part_fd_ = -1;
  ::unlink(file(part_uid_, kPart).c_str());
  part_uid_.clear();
}

void SourceSpool::mark_seen(const std::string& uid) {
  if (seen(uid)) return;
  const fs::path path = folder_ / "seen";
  write_all(seen_fd_, hex_encode(uid) + "\n", path);
  if (::fdatasync(seen_fd_) != 0) fail("cannot fdatasync", path);
  seen_.insert(uid);
}

std::string SourceSpool::deliver(const std::string& uid, const sdk::RetrievalSource& source,
                                 sdk::Store& store, sdk::Directory& directory, bool check_store) {
  const fs::path path = file(uid, kMsg);
  if (seen(uid)) {
    ::unlink(path.c_str());
    return {};
  }
  bool present = false;
  if (check_store) {
    auto found = store.search_header(source.account, source.destination_folder, "Received",
                                     trace_id(source_id_, uid));
    if (!found.ok() && found.error != sdk::StoreError::not_found) {
      return "cannot read the mailbox: " + found.message;
    }
    present = found.ok() && !found.value.empty();
  }
  if (!present) {
    auto account = directory.find_account(source.account);
    if (!account) return "the account " + source.account + " does not exist";
    sdk::DeliveryTarget target;
    target.account = account->address;
    target.mailbox = source.destination_folder.empty() ? "INBOX" : source.destination_folder;
    target.quota_bytes = account->quota_bytes;
    auto done =
        store.deliver_file({target}, path.string(), static_cast<std::int64_t>(time(nullptr)));
    if (!done.ok()) return "cannot deliver: " + done.message;
    if (done.value.empty() || done.value[0].error != sdk::StoreError::none) {
      const auto& d = done.value.empty() ? sdk::Delivered{} : done.value[0];
      return d.error == sdk::StoreError::over_quota ? "the mailbox is full"
                                                    : "cannot deliver: " + d.message;
    }
  }
  mark_seen(uid);
  ::unlink(path.c_str());
  return {};
}

std::string SourceSpool::note(const std::string& name) const {
  std::ifstream in(folder_ / (name + ".note"), std::ios::binary);
  std::string value;
  std::getline(in, value);
  return value;
}

void SourceSpool::set_note(const std::string& name, const std::string& value) {
  const fs::path path = folder_ / (name + ".note");
  if (value.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove", path);
    sync_folder();
    return;
  }
  replace_file(path, value + "\n");
  sync_folder();
}

void SourceSpool::keep_only(const std::unordered_set<std::string>& listed) {
  std::unordered_set<std::string> kept;
  for (const auto& uid : seen_) {
    if (listed.count(uid)) kept.insert(uid);
  }
  const fs::path path = folder_ / "seen";
  if (kept.size() == seen_.size() && seen_fd_ >= 0) return;
  std::string text;
  for (const auto& uid : kept)
    text += hex_encode(uid) + "\n";
  replace_file(path, text);
  sync_folder();
  seen_ = std::move(kept);
  if (seen_fd_ >= 0) ::close(seen_fd_);
  seen_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (seen_fd_ < 0) fail("cannot open", path);
}

std::string SourceSpool::trace_id(std::int64_t source_id, const std::string& uid) {
  return "id r" + std::to_string(source_id) + "." + hex_encode(uid) + ";";
}

std::string SourceSpool::trace_line(const sdk::RetrievalSource& source, const std::string& uid,
                                    const std::string& hostname, std::int64_t now) {
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  auto clean = [](std::string_view text) {  // names from configuration: no header injection
    std::string out;
    for (char c : text)
      out += (c > 0x20 && c < 0x7f) ? c : '?';
    return out;
  };
  return "Received: from " + clean(source.host) + " by " + clean(hostname) + " with " +
         (source.protocol == sdk::RetrievalSource::Protocol::imap ? "IMAP " : "POP3 ") +
         trace_id(source.id, uid) + "\r\n\t" + date + "\r\n";
}

}  // namespace portico::retrieval
