// Portico core — recovery of the spool from its journal (see recovery.h).
#include "core/queue/recovery.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>

namespace portico::core::queue {

namespace {

// The whole content of a file, when it has exactly `expected_size` octets; nullopt otherwise.
std::optional<std::string> content_if_size(const fs::path& file, std::uint64_t expected_size) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  auto content = read_small_file(fd.get(), file, expected_size);
  if (!content || content->size() != expected_size) return std::nullopt;
  return content;
}

// Writes messages/<id> again from its record: a temp file in incoming/ (flock'ed, so no cleaner
// takes it), the attribute unless `with_attribute` is false, fsync, rename over the name.
void restore(const SpoolLayout& layout, const JournalRecord& r, bool with_attribute) {
  const fs::path temp = layout.incoming / (random_hex(20) + std::string(kIncomingSuffix));
  Fd fd(::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
  if (fd.get() < 0) io_error("create", temp);
  try {
    ::flock(fd.get(), LOCK_EX);
    write_all(fd.get(), r.body, temp);
    if (with_attribute && !set_inline_envelope(fd.get(), temp, r.id, r.envelope)) {
      // The file system took it when it was enqueued; without it the entry would be lost.
      throw QueueFailure(sdk::QueueError::io, "cannot set the envelope of " + r.id + " again");
    }
    fsync_fd(fd.get(), temp);
    const fs::path target = layout.messages / r.id;
    if (::rename(temp.c_str(), target.c_str()) != 0) io_error("rename", temp);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
}

}  // namespace

Recovered recover_entries(const SpoolLayout& layout, const std::vector<JournalRecord>& records,
                          const std::set<std::string>& tombstones) {
  Recovered out;
  // The last word on each id: removed, or the record it was enqueued with.
  std::map<std::string, const JournalRecord*> enqueued;
  std::set<std::string> removed(tombstones.begin(), tombstones.end());
  for (const auto& r : records) {
    if (!valid_id(r.id)) continue;
    if (r.type == RecordType::removed) {
      removed.insert(r.id);
      enqueued.erase(r.id);
    } else if (!removed.count(r.id)) {
      enqueued[r.id] = &r;
    }
  }

  for (const auto& id : removed) {
    if (!valid_id(id)) continue;
    bool missing = false;
    Claim claim = Claim::try_take(layout.messages, id, &missing);
    if (!claim.held() && !missing) {
      ++out.skipped;
      continue;
    }
    bool any = remove_file(layout.envelopes / id);
    any = remove_file(layout.messages / id) || any;
    if (any) ++out.removed;
  }

  for (const auto& [id, record] : enqueued) {
    bool missing = false;
    Claim claim = Claim::try_take(layout.messages, id, &missing);
    if (!claim.held() && !missing) {
      ++out.skipped;
      continue;
    }
    const fs::path message = layout.messages / id;
    struct stat st {};
    const bool envelope_file = ::stat((layout.envelopes / id).c_str(), &st) == 0;
    const auto content = content_if_size(message, record->body.size());
    bool whole = content && *content == record->body;
    if (whole && !envelope_file) {
      auto attribute = read_inline_envelope(message, id);
      whole = attribute && *attribute == record->envelope;
    }
    if (whole) continue;
    restore(layout, *record, !envelope_file);
    ++out.restored;
  }
  return out;
}

}  // namespace portico::core::queue
