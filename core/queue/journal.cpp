// Portico core — the spool's journal (see journal.h).
#include "core/queue/journal.h"

#include "core/queue/envelope.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

namespace portico::core::queue {

namespace {

constexpr char kHeaderMagic[8] = {'P', 'T', 'C', 'J', 'R', 'N', 'L', '1'};
constexpr char kRecordMagic[4] = {'P', 'J', 'R', '1'};
constexpr std::size_t kHead = 40;  // a record's head
constexpr std::size_t kGenerationAt = 24, kPayloadCrcAt = 32, kHeadCrcAt = 36;
constexpr std::size_t kMaxId = 64;

void put(std::string& out, std::size_t at, std::uint64_t value, int octets) {
  for (int i = 0; i < octets; ++i)
    out[at + static_cast<std::size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t get(std::string_view in, std::size_t at, int octets) {
  std::uint64_t value = 0;
  for (int i = 0; i < octets; ++i)
    value |= std::uint64_t{static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)])}
             << (8 * i);
  return value;
}

std::uint32_t crc(std::string_view data) {
  uLong c = crc32(0L, Z_NULL, 0);
  // zlib takes lengths as uInt: feed large data in parts.
  while (!data.empty()) {
    std::size_t n = std::min<std::size_t>(data.size(), 1u << 30);
    c = crc32(c, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(n));
    data.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(c);
}

std::size_t padded(std::size_t n) {
  return (n + 7) & ~std::size_t{7};
}

void pwrite_all(int fd, std::string_view data, std::uint64_t offset, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error("write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

std::uint64_t random_generation() {
  std::random_device rd;
  std::uint64_t g = 0;
  while (g == 0)
    g = (std::uint64_t{rd()} << 32) ^ rd();
  return g;
}

// The generation a header block names; 0 when it is not whole.
std::uint64_t header_generation(std::string_view block) {
  if (block.size() < 20 || std::memcmp(block.data(), kHeaderMagic, 8) != 0) return 0;
  if (crc(block.substr(0, 16)) != get(block, 16, 4)) return 0;
  return get(block, 8, 8);
}

}  // namespace

std::string encode_record(RecordType type, std::string_view id, std::string_view envelope,
                          std::string_view body) {
  const std::size_t payload = id.size() + envelope.size() + body.size();
  std::string out(kHead, '\0');
  out.reserve(padded(kHead + payload));
  std::memcpy(out.data(), kRecordMagic, 4);
  put(out, 4, static_cast<std::uint8_t>(type), 1);
  put(out, 6, id.size(), 2);
  put(out, 8, envelope.size(), 4);
  put(out, 16, body.size(), 8);
  out.append(id).append(envelope).append(body);
  put(out, kPayloadCrcAt, crc(std::string_view(out).substr(kHead)), 4);
  out.resize(padded(out.size()), '\0');
  return out;
}

void stamp_record(std::string& record, std::uint64_t generation) {
  put(record, kGenerationAt, generation, 8);
  put(record, kHeadCrcAt, crc(std::string_view(record).substr(0, kHeadCrcAt)), 4);
}

std::vector<JournalRecord> parse_records(std::string_view data, std::uint64_t generation) {
  std::vector<JournalRecord> out;
  std::size_t at = 0;
  while (data.size() - at >= kHead) {
    std::string_view head = data.substr(at, kHead);
    if (std::memcmp(head.data(), kRecordMagic, 4) != 0) break;
    if (crc(head.substr(0, kHeadCrcAt)) != get(head, kHeadCrcAt, 4)) break;
    if (get(head, kGenerationAt, 8) != generation) break;
    const auto type = static_cast<RecordType>(get(head, 4, 1));
    const std::uint64_t id_len = get(head, 6, 2), env_len = get(head, 8, 4),
                        body_len = get(head, 16, 8);
    if (type != RecordType::enqueued && type != RecordType::removed) break;
    if (id_len == 0 || id_len > kMaxId || env_len > kMaxEnvelopeSize) break;
    const std::uint64_t room = data.size() - at - kHead;
    if (body_len > room || id_len + env_len + body_len > room) break;
    const auto payload_len = static_cast<std::size_t>(id_len + env_len + body_len);
    std::string_view payload = data.substr(at + kHead, payload_len);
    if (crc(payload) != get(head, kPayloadCrcAt, 4)) break;
    JournalRecord record;
    record.type = type;
    record.id = std::string(payload.substr(0, id_len));
    record.envelope = std::string(payload.substr(id_len, env_len));
    record.body = std::string(payload.substr(id_len + env_len));
    out.push_back(std::move(record));
    at += std::min(padded(kHead + payload_len), data.size() - at);
  }
  return out;
}

SpoolJournal::SpoolJournal(Fd fd, fs::path file, fs::path tombstones, std::uint64_t capacity)
    : fd_(std::move(fd)),
      file_(std::move(file)),
      tombstones_(std::move(tombstones)),
      capacity_(std::max(capacity, 4 * kJournalHeader)) {}

SpoolJournal::~SpoolJournal() = default;

std::unique_ptr<SpoolJournal> SpoolJournal::take(const fs::path& file, const fs::path& tombstones,
                                                 std::uint64_t capacity,
                                                 std::chrono::milliseconds wait) {
  Fd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (fd.get() < 0) io_error("open", file);
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) io_error("flock", file);
    if (std::chrono::steady_clock::now() >= give_up) return nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::unique_ptr<SpoolJournal> journal(
      new SpoolJournal(std::move(fd), file, tombstones, capacity));
  journal->read_header();
  return journal;
}

void SpoolJournal::read_header() {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) io_error("stat", file_);
  allocated_ = static_cast<std::uint64_t>(st.st_size);
  generation_ = header_generation(pread_upto(fd_.get(), 0, kJournalHeader, file_));
  if (generation_ == 0 || allocated_ < kJournalHeader) {
    // New, or torn while a checkpoint wrote it (everything was durable by then): empty.
    write_header(random_generation());
    fsync_dir(file_.parent_path());
    return;
  }
  // The records since the last checkpoint; the next one is written after them.
  std::string data = pread_upto(fd_.get(), kJournalHeader, allocated_ - kJournalHeader, file_);
  found_ = parse_records(data, generation_);
  end_ = kJournalHeader;
  for (const auto& r : found_)
    end_ += padded(kHead + r.id.size() + r.envelope.size() + r.body.size());
}

std::uint64_t SpoolJournal::max_message() const {
  return std::min(kMaxJournaledMessage, capacity_ / 4);
}

void SpoolJournal::write_header(std::uint64_t generation) {
  std::string block(kJournalHeader, '\0');
  std::memcpy(block.data(), kHeaderMagic, 8);
  put(block, 8, generation, 8);
  put(block, 16, crc(std::string_view(block).substr(0, 16)), 4);
  pwrite_all(fd_.get(), block, 0, file_);
  // A new file grows here, so its size must be durable too.
  if (::fsync(fd_.get()) != 0) io_error("fsync", file_);
  generation_ = generation;
  end_ = kJournalHeader;
  allocated_ = std::max(allocated_, kJournalHeader);
}

void SpoolJournal::grow(std::uint64_t needed) {
  if (needed <= allocated_) return;
  std::uint64_t target =
      std::min(capacity_, ((needed + kJournalGrowth - 1) / kJournalGrowth) * kJournalGrowth);
  target = std::max(target, needed);
  const std::string zeros(64 * 1024, '\0');
  for (std::uint64_t at = allocated_; at < target;) {
    const std::uint64_t n = std::min<std::uint64_t>(zeros.size(), target - at);
    pwrite_all(fd_.get(), std::string_view(zeros).substr(0, n), at, file_);
    at += n;
  }
  if (::fsync(fd_.get()) != 0) io_error("fsync", file_);
  allocated_ = target;
}

void SpoolJournal::write_at_end(const std::string& data) {
  grow(end_ + data.size());
  pwrite_all(fd_.get(), data, end_, file_);
  end_ += data.size();
}

void SpoolJournal::commit(const std::vector<std::string*>& records,
                          const std::function<void(std::size_t)>& durable) {
  std::string batch;
  std::size_t written = 0;
  auto flush = [&](std::size_t upto) {
    if (batch.empty()) return;
    write_at_end(batch);
    batch.clear();
    if (::fdatasync(fd_.get()) != 0) io_error("fdatasync", file_);
    if (durable) durable(upto);
  };
  for (std::string* record : records) {
    if (record->size() > capacity_ - kJournalHeader) {
      throw QueueFailure(sdk::QueueError::invalid, "record larger than the journal");
    }
    if (end_ + batch.size() + record->size() > capacity_) {
      flush(written);
      checkpoint();
    }
    stamp_record(*record, generation_);
    batch += *record;
    ++written;
  }
  flush(written);
}

void SpoolJournal::checkpoint() {
  std::vector<DirEntry> tombstones = list_dir(tombstones_);
  if (::syncfs(fd_.get()) != 0) io_error("syncfs", file_);
  std::uint64_t next = random_generation();
  while (next == generation_)
    next = random_generation();
  write_header(next);
  ++checkpoints_;
  for (const auto& t : tombstones)
    ::unlink((tombstones_ / t.name).c_str());
}

bool journal_in_use(const fs::path& file) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return false;
    io_error("open", file);
  }
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) return true;  // its owner is at work
  std::uint64_t generation = header_generation(pread_upto(fd.get(), 0, kJournalHeader, file));
  if (generation == 0) return false;
  std::string head = pread_upto(fd.get(), kJournalHeader, kHead, file);
  if (head.size() < kHead || std::memcmp(head.data(), kRecordMagic, 4) != 0) return false;
  return crc(std::string_view(head).substr(0, kHeadCrcAt)) == get(head, kHeadCrcAt, 4) &&
         get(head, kGenerationAt, 8) == generation;
}

}  // namespace portico::core::queue
