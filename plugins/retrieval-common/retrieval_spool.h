// retrieval — the download folder of one retrieval source: what makes POP and IMAP retrieval
// lose nothing and duplicate nothing, whenever the process dies.
//
// A message is named by its key at the source: its UIDL for POP (RFC 1939 section 7),
// "<UIDVALIDITY>.<UID>" for IMAP (RFC 9051 section 2.3.1.1). Layout under
// <retrieval_download_path>/<source id>/:
//   seen        one hex-encoded key per line: messages already in the local store (or skipped
//               as already there); appended and fdatasync'd per message, rewritten whole when
//               keys are forgotten
//   <hex>.part  a download in progress: removed when the source is next opened
//   <hex>.msg   a complete download, fsync'd and renamed into place (folder fsync'd): to be
//               delivered, then marked seen, then removed
//   <name>.note a protocol's own small durable state (IMAP: since when a new UIDVALIDITY has
//               been compared by Message-ID), replaced whole (temporary file, fsync, rename)
// Every delivered copy carries a Received: line (RFC 5321 section 4.4) whose "id" names the
// source and the key. A .msg found when the source is opened may or may not have reached the
// store before the crash: the store's header index is asked for that id, so the message is
// delivered exactly once. All functions block on the disk: call them from the worker pool.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "portico/directory.h"

namespace portico::sdk {
class Store;
class Directory;
}  // namespace portico::sdk

namespace portico::retrieval {

std::string hex_encode(std::string_view bytes);

class SourceSpool {
 public:
  SourceSpool(std::filesystem::path root, std::int64_t source_id);
  ~SourceSpool();
  SourceSpool(const SourceSpool&) = delete;
  SourceSpool& operator=(const SourceSpool&) = delete;

  // Creates the folder, drops partial downloads, reads the seen list. Throws on I/O errors.
  void open();
  bool seen(const std::string& uid) const { return seen_.count(uid) != 0; }
  std::size_t seen_count() const { return seen_.size(); }
  // Keys with a complete download not yet known to be delivered.
  std::vector<std::string> pending() const;

  // A download: begin() opens <hex>.part, append() writes, commit() makes it durable as
  // <hex>.msg. Throws on I/O errors (the .part stays, to be dropped).
  void begin(const std::string& uid);
  void append(std::string_view bytes);
  void commit();
  void abandon();  // drops the download in progress, if any

  // Delivers <hex>.msg to the source's account and folder unless `check_store` finds it there
  // already, marks it seen, removes the file. Returns "" or why it could not (the .msg stays).
  std::string deliver(const std::string& uid, const sdk::RetrievalSource& source, sdk::Store& store,
                      sdk::Directory& directory, bool check_store);

  // Marks a message seen without delivering it (IMAP: its Message-ID is in the mailbox).
  void mark_seen(const std::string& uid);
  // Seen keys, in no order.
  const std::unordered_set<std::string>& seen_keys() const { return seen_; }

  // A note's value ("" when there is none), and its durable replacement ("" removes it).
  // `name` is a plain word chosen by the protocol.
  std::string note(const std::string& name) const;
  void set_note(const std::string& name, const std::string& value);

  // Forgets seen keys that the server no longer lists (after a complete listing).
  void keep_only(const std::unordered_set<std::string>& listed);

  // The Received: line that starts every delivered copy ("with POP3" or "with IMAP", after
  // the source's protocol).
  static std::string trace_line(const sdk::RetrievalSource& source, const std::string& uid,
                                const std::string& hostname, std::int64_t now);
  // What the store's header index is asked for: unique to the source and the key.
  static std::string trace_id(std::int64_t source_id, const std::string& uid);

  const std::filesystem::path& folder() const { return folder_; }

 private:
  std::filesystem::path file(const std::string& uid, const char* suffix) const;
  void sync_folder();

  std::filesystem::path folder_;
  std::int64_t source_id_;
  std::unordered_set<std::string> seen_;
  int seen_fd_ = -1;
  int part_fd_ = -1;
  std::string part_uid_;
};

}  // namespace portico::retrieval
