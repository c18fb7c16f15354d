// pop — the download folder of one retrieval source: what makes POP retrieval lose nothing and
// duplicate nothing, whenever the process dies.
//
// Layout under <retrieval_download_path>/<source id>/:
//   seen        one hex-encoded UIDL (RFC 1939 section 7) per line: messages already in the
//               local store; appended and fdatasync'd per message, rewritten at the end of a run
//   <hex>.part  a download in progress: removed when the source is next opened
//   <hex>.msg   a complete download, fsync'd and renamed into place (folder fsync'd): to be
//               delivered, then marked seen, then removed
// Every delivered copy carries a Received: line (RFC 5321 section 4.4) whose "id" names the
// source and the UIDL. A .msg found when the source is opened may or may not have reached the
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

namespace portico::pop {

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
  // UIDLs with a complete download not yet known to be delivered.
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

  // Forgets seen UIDLs that the server no longer lists (after a complete UIDL listing).
  void keep_only(const std::unordered_set<std::string>& listed);

  // The Received: line that starts every delivered copy.
  static std::string trace_line(const sdk::RetrievalSource& source, const std::string& uid,
                                const std::string& hostname, std::int64_t now);
  // What the store's header index is asked for: unique to the source and the UIDL.
  static std::string trace_id(std::int64_t source_id, const std::string& uid);

  const std::filesystem::path& folder() const { return folder_; }

 private:
  std::filesystem::path file(const std::string& uid, const char* suffix) const;
  void mark_seen(const std::string& uid);
  void sync_folder();

  std::filesystem::path folder_;
  std::int64_t source_id_;
  std::unordered_set<std::string> seen_;
  int seen_fd_ = -1;
  int part_fd_ = -1;
  std::string part_uid_;
};

}  // namespace portico::pop
