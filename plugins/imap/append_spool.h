// imap — the file a large APPEND literal (RFC 9051 section 6.3.12) is written to as it arrives,
// so that the message is never held whole in memory; the store takes it from there
// (sdk::Store::append_file).
//
// Files live under <data_dir>/imap-append/ (the store's file system, so the store can hard-link
// them), named uniquely per process and spool. The file is removed when the spool is destroyed,
// whatever became of the APPEND; files left by a process that died are removed when a spool
// folder is first used by the next one. All functions block on the disk: call them from the
// worker pool.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::imap {

// APPEND literals above this many octets go to a spool file instead of memory.
inline constexpr std::uint64_t kSpoolAppendAbove = 256 * 1024;
// Octets gathered in memory before they are written out.
inline constexpr std::size_t kSpoolChunk = 256 * 1024;

class AppendSpool {
 public:
  explicit AppendSpool(std::string folder) : folder_(std::move(folder)) {}
  ~AppendSpool();
  AppendSpool(const AppendSpool&) = delete;
  AppendSpool& operator=(const AppendSpool&) = delete;

  // Appends octets to the file (created at the first call). False on an I/O error (error()
  // says which); later writes are ignored then.
  bool write(std::string_view bytes);
  // Closes the file for writing; false on an I/O error.
  bool finish();
  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  const std::string& error() const { return error_; }

 private:
  bool open();

  std::string folder_;
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string error_;
};

}  // namespace portico::imap
