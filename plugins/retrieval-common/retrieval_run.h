// retrieval — what one run against one external mailbox works with, whatever the protocol: the
// source, its download folder, the services, the outcome reported once; and the download of one
// message into the folder, written on the worker pool in pieces while the session's input waits
// (a large message is never held whole), the last piece made durable and delivered (see
// retrieval_spool.h) before the session sends its next command.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "portico/directory.h"
#include "portico/session.h"
#include "retrieval_spool.h"

namespace portico::retrieval {

// How one run ended.
struct RunOutcome {
  bool ok = false;
  std::uint64_t fetched = 0;  // messages delivered by this run
  std::string error;          // why not ok
};

// What a run works with; shared by the scheduler and the protocol's session.
struct RunContext {
  sdk::RetrievalSource source;
  std::shared_ptr<SourceSpool> spool;  // opened, pending downloads already delivered
  sdk::Store* store = nullptr;
  sdk::Directory* directory = nullptr;
  std::string hostname;  // for the Received: line
  std::uint64_t fetched = 0;
  std::function<void(const RunOutcome&)> finished;
  bool reported = false;

  // Calls `finished` the first time only.
  void report(const RunOutcome& outcome);
};

// What every protocol's client session shares: the run it reports to, its line limit, and a
// failure reported once before the connection is closed. A session that goes away without a
// report reports "the session ended early".
class ClientSession : public sdk::Session {
 public:
  ClientSession(sdk::SessionContext& ctx, std::shared_ptr<RunContext> run, std::size_t max_line)
      : ctx_(ctx), run_(std::move(run)), max_line_(max_line) {}
  ~ClientSession() override;
  // The line limit; a client always waits for the server's reply (the command timeout runs).
  void on_start() override;

 protected:
  // Reports the run failed with `error` (if nothing was reported yet) and closes.
  void fail_run(std::string error);

  sdk::SessionContext& ctx_;
  std::shared_ptr<RunContext> run_;

 private:
  std::size_t max_line_;
};

// One message being downloaded.
class Download {
 public:
  // Pieces of a message larger than this are written out while input waits.
  static constexpr std::size_t kFlushAt = 256 * 1024;

  // A new message under `key`; `first` (its Received: line) are its first bytes.
  void start(std::string key, std::string first);
  void append(std::string_view bytes) { pending_.append(bytes); }
  bool full() const { return pending_.size() >= kFlushAt; }
  const std::string& key() const { return key_; }
  // Pauses input and writes what is pending on the worker pool (the first time opening the
  // .part; with `last`, then committing and delivering it); then resumes input and calls
  // `done` with "" or the error on the session's executor (not if the session has closed).
  void flush(sdk::SessionContext& ctx, const std::shared_ptr<RunContext>& run, bool last,
             std::function<void(const std::string& error)> done);

 private:
  std::string key_;
  std::string pending_;
  bool begun_ = false;
};

}  // namespace portico::retrieval
