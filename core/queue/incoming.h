// Portico core — the writer of a message being received (sdk::IncomingMessage).
//
// The message goes through a fixed buffer (kIncomingBuffer) into <spool>/incoming/<random>.msg,
// so an arbitrarily large message never sits in memory. The file is flock'ed from creation to
// destruction: a cleaner (another process opening the queue, or the next start after a crash)
// removes only files whose flock it can take, so it never deletes a live writer's file. seal()
// fsyncs the file (its octets and size) and checks the file still has a name there. It does not
// fsync the incoming folder: a name there is temporary by design (removed at destruction, or by
// the cleaner after a crash) and never needs to survive one. What makes a sealed message
// durable under a name is its consumer's own link and folder fsync: enqueue() links it into
// messages/ and fsyncs that folder, the store links it into an account's bodies/ and fsyncs
// that. So an incoming file is never mistaken for a queue entry or a delivery on restart, and a
// crash between the consumer's commit and the removal of the incoming name leaves only that
// name, which the cleaner removes (the consumer's link keeps the octets).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "portico/queue.h"

namespace portico::core::queue {

namespace fs = std::filesystem;

// Bytes gathered before one write(2).
inline constexpr std::size_t kIncomingBuffer = 64 * 1024;

class IncomingFile final : public sdk::IncomingMessage {
 public:
  // The file in `dir` is created when the first octets are written out (the buffer fills, or
  // seal), so a message delivered from memory never has one. Throws QueueFailure.
  explicit IncomingFile(const fs::path& dir);
  ~IncomingFile() override;
  IncomingFile(const IncomingFile&) = delete;
  IncomingFile& operator=(const IncomingFile&) = delete;

  sdk::QueueStatus append(std::string_view bytes) override;
  std::uint64_t size() const override { return size_; }
  sdk::QueueStatus seal() override { return finish(true); }
  sdk::QueueStatus seal_unsynced() override { return finish(false); }
  bool sealed() const override { return sealed_; }
  bool synced() const { return sealed_ && synced_; }
  void abort() override;
  std::string path() const override { return path_.string(); }
  std::optional<std::string_view> held_in_memory() const override;

 private:
  sdk::QueueStatus finish(bool sync);
  bool synced_ = false;
  sdk::QueueStatus flush();
  void create();  // the file, under a fresh name; throws QueueFailure
  sdk::QueueStatus failed(const std::string& what);

  fs::path dir_;
  fs::path path_;
  int fd_ = -1;
  bool aborted_ = false;
  std::vector<char> buffer_;
  std::uint64_t size_ = 0;
  bool sealed_ = false;
  sdk::QueueStatus error_;  // the first failure, repeated by every later call
};

// Removes incoming files left by dead writers (those whose flock can be taken). Returns how
// many were removed.
std::size_t clean_incoming(const fs::path& dir);

}  // namespace portico::core::queue
