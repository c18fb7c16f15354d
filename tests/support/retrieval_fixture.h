// Test support — retrieval runs (POP and IMAP) against a scripted server: a local account on the
// real services in a temporary data directory, a source of the protocol with its download
// folder, and one run of a client session driven by the test kit's driver, its outcome kept.
// Header-only: the tests that include it link the protocol's retrieval library.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "portico/store.h"
#include "retrieval_run.h"
#include "retrieval_spool.h"
#include "session_driver.h"

namespace portico::testing {

struct RetrievalWorld {
  TestServices services;
  TestHost host{services};
  sdk::RetrievalSource source;
  std::filesystem::path root;  // the download path

  static constexpr const char* kAccount = "alice@example.test";

  explicit RetrievalWorld(sdk::RetrievalSource::Protocol protocol) {
    const bool pop = protocol == sdk::RetrievalSource::Protocol::pop;
    services.directory().add_domain("example.test");
    services.directory().add_account(kAccount, "", 0, std::string_view("secret"), std::nullopt);
    source.id = 7;
    source.protocol = protocol;
    source.account = kAccount;
    source.host = pop ? "pop.remote.test" : "imap.remote.test";
    source.user = "bob";
    source.secret = "tanstaaf";
    source.tls = sdk::RetrievalSource::Tls::none;
    root = services.data_dir() / (pop ? "pop-retrieval" : "imap-retrieval");
  }

  // The account's INBOX, whole messages in UID order.
  std::vector<std::string> inbox() {
    std::vector<std::string> out;
    auto list = services.store().fetch(kAccount, "INBOX", {}, false, 0);
    if (!list.ok()) return out;
    for (const auto& m : list.value) {
      out.push_back(services.store().read_message(kAccount, "INBOX", m.uid).value);
    }
    return out;
  }
};

// One run of `Session` (constructed from a SessionContext and the RunContext) for the world's
// source as it is when the run is made.
template <typename Session>
struct RetrievalRun {
  std::shared_ptr<retrieval::RunContext> run = std::make_shared<retrieval::RunContext>();
  std::optional<retrieval::RunOutcome> outcome;
  int reports = 0;  // calls of `finished`
  std::unique_ptr<SessionDriver> driver;

  explicit RetrievalRun(RetrievalWorld& w, DriverOptions options = {}) {
    run->source = w.source;
    run->spool = std::make_shared<retrieval::SourceSpool>(w.root, w.source.id);
    run->spool->open();
    run->store = &w.services.store();
    run->directory = &w.services.directory();
    run->hostname = "mail.example.test";
    run->finished = [this](const retrieval::RunOutcome& o) {
      ++reports;
      outcome = o;
    };
    driver = std::make_unique<SessionDriver>(
        [r = run](sdk::SessionContext& ctx) { return std::make_unique<Session>(ctx, r); }, w.host,
        options);
    driver->start();
  }
  // Sends the server's lines, returns what the client answered.
  std::string server(const std::string& lines) {
    driver->feed(lines);
    return driver->take();
  }
};

}  // namespace portico::testing
