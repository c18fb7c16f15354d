// retrieval — polling the external mailboxes of local accounts, for any protocol (POP, IMAP).
//
// Every retrieval interval each enabled source of the protocol is due; at most
// retrieval_max_threads run at once, each on its own outbound connection from the core (so a
// slow source holds one slot and stalls no other). A run first delivers what a previous run
// left complete in the download folder (retrieval_spool.h), then connects (implicit TLS,
// STARTTLS or plain, as the source says; certificates verified unless retrieval_verify_tls is
// off) and hands the connection to the protocol's client session, which fetches what is new.
// Each run's outcome goes to the directory (last run, last error, counts: `portico retrieval
// status`); a failed source is retried after the interval doubled per consecutive failure, up
// to an hour (or the interval, if longer).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "portico/directory.h"
#include "portico/host.h"
#include "portico/session.h"
#include "retrieval_run.h"
#include "retrieval_settings.h"

namespace portico::retrieval {

// What differs between protocols.
struct Protocol {
  sdk::RetrievalSource::Protocol which = sdk::RetrievalSource::Protocol::pop;
  std::string folder_name;              // the download folder under data_dir when not set
  std::uint16_t plain_port = 0;         // the default port without implicit TLS
  std::uint16_t implicit_tls_port = 0;  // the default port with it
  std::size_t max_line_length = 8192;   // of the server's lines
  std::function<std::unique_ptr<sdk::Session>(sdk::SessionContext&, std::shared_ptr<RunContext>)>
      make_session;
};

// The descriptor of a protocol whose client session is `Session(ctx, run)`.
template <typename Session>
Protocol protocol_of(sdk::RetrievalSource::Protocol which, std::string folder_name,
                     std::uint16_t plain_port, std::uint16_t implicit_tls_port,
                     std::size_t max_line_length) {
  Protocol p;
  p.which = which;
  p.folder_name = std::move(folder_name);
  p.plain_port = plain_port;
  p.implicit_tls_port = implicit_tls_port;
  p.max_line_length = max_line_length;
  p.make_session = [](sdk::SessionContext& ctx, std::shared_ptr<RunContext> run) {
    return std::make_unique<Session>(ctx, std::move(run));
  };
  return p;
}

// The wait before the next attempt after `failures` consecutive failures (0: success).
std::chrono::milliseconds retrieval_backoff(std::chrono::milliseconds interval, int failures);

class RetrievalScheduler : public std::enable_shared_from_this<RetrievalScheduler> {
 public:
  RetrievalScheduler(sdk::Host& host, Protocol protocol)
      : host_(host), protocol_(std::move(protocol)) {}
  // Starts polling, or applies new settings to the next runs.
  void configure(const Settings& settings);
  // Stops starting runs (runs under way finish on their own).
  void stop();
  // One scheduling pass: starts the sources that are due, as slots allow. Public for tests.
  void tick();

 private:
  void start(const sdk::RetrievalSource& source, const Settings& settings);
  void finished(const sdk::RetrievalSource& source, std::int64_t started,
                const RunOutcome& outcome);
  void arm(std::chrono::milliseconds delay);

  sdk::Host& host_;
  const Protocol protocol_;
  std::mutex mutex_;  // guards what follows
  Settings settings_;
  bool active_ = false;
  std::unique_ptr<sdk::Scheduled> timer_;
  std::set<std::int64_t> running_;
  struct SourceState {
    std::chrono::steady_clock::time_point due{};
    int failures = 0;
  };
  std::map<std::int64_t, SourceState> state_;
};

}  // namespace portico::retrieval
