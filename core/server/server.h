// Portico core — the server: configuration, listeners, connections, reload and shutdown.
//
// Lifecycle: the whole configuration is validated before anything starts. SIGHUP (or
// `portico reload`) re-reads it; a file with errors is rejected with its errors and the running
// configuration stays; otherwise new banners, limits and timeouts apply to new connections,
// listeners are added and removed, certificates are re-read, and plugins are enabled or
// disabled. SIGTERM/SIGINT stops accepting, closes idle connections with the protocol's
// shutdown reply, lets busy ones finish their command within server.shutdown_grace, then closes
// the rest.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "core/accounting/accounting.h"
#include "core/config/config.h"
#include "core/directory/directory.h"
#include "core/dns/resolver.h"
#include "core/filter/service.h"
#include "core/net/connection.h"
#include "core/net/listener.h"
#include "core/queue/queue.h"
#include "core/reports/reports.h"
#include "core/server/plugin_set.h"
#include "core/store/store.h"

namespace portico::core {

class ControlServer;
class Metrics;
class TlsContexts;

class Server final : public ConnectionHub, public ListenerOwner, public HostServices {
 public:
  explicit Server(std::filesystem::path config_file);
  ~Server();

  // Runs until stopped by a signal. Returns the process exit code.
  int run();

  // Re-reads the configuration; returns the errors ("" when it was applied).
  std::string reload();
  // The live state, as text or JSON (for `portico status`).
  std::string status(bool json) const;

  // ConnectionHub
  ConnectionAccounting& accounting() override { return accounting_; }
  void post_work(std::function<void()> work) override;
  void post_work_on(sdk::WorkPool pool, std::function<void()> work) override;
  void unregister_connection(std::uint64_t id) override;
  bool stopping() const override { return stopping_; }
  // ListenerOwner
  void on_accept(Listener& listener, boost::asio::ip::tcp::socket socket) override;
  // HostServices
  std::string hostname() const override;
  std::string data_dir() const override;
  sdk::Directory* directory() override { return directory_.get(); }
  sdk::Auth* auth() override { return directory_.get(); }
  sdk::Store* store() override { return store_.get(); }
  sdk::Queue* queue() override { return queue_.get(); }
  sdk::Dns* dns() override { return dns_.get(); }
  sdk::Reports* reports() override { return reports_.get(); }
  sdk::Filter* filter() override { return filter_.get(); }
  void connect(const std::string& plugin, const sdk::OutboundRequest& request,
               sdk::OutboundSessionFactory open, sdk::OutboundFailure failed) override;
  std::unique_ptr<sdk::Scheduled> schedule(std::chrono::milliseconds delay,
                                           std::function<void()> fn) override;

 private:
  bool apply(std::shared_ptr<const Config> config, bool initial, std::vector<std::string>& errors);
  // Logs the server settings that a reload cannot change.
  void warn_restart_only(const Config& next) const;
  void wait_signals();
  void begin_shutdown();
  void check_drained(std::chrono::steady_clock::time_point force_at, bool forced);

  std::filesystem::path config_file_;
  // Declared first, destroyed last: plugin code and the accounting outlive every connection
  // that pending handlers may still hold.
  PluginSet plugins_;
  ConnectionAccounting accounting_;
  // The shared services of the data directory (opened once; data_dir changes need a restart).
  std::unique_ptr<DirectoryService> directory_;
  std::unique_ptr<MailStore> store_;
  std::unique_ptr<QueueService> queue_;
  std::unique_ptr<ReportService> reports_;
  std::unique_ptr<DnsResolver> dns_;
  // Destroyed after io_ and the pools (declared before them): pending checks refer to it.
  std::unique_ptr<filter::FilterService> filter_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::thread_pool> workers_;  // sized by server.worker_threads
  // The other bounded pools, by sdk::WorkPool (index 0, general, is workers_).
  std::array<std::unique_ptr<boost::asio::thread_pool>, 5> pools_;  // made on first use
  std::array<std::once_flag, 5> pool_made_;
  void join_pools();
  boost::asio::signal_set signals_;
  boost::asio::steady_timer shutdown_timer_;
  std::chrono::steady_clock::time_point started_;

  mutable std::mutex mutex_;  // guards the members below
  std::shared_ptr<const Config> config_;
  std::shared_ptr<const Config> applying_;  // the first configuration, while it is applied
  std::map<std::string, std::shared_ptr<const ProtocolRuntime>> runtimes_;
  std::shared_ptr<const TlsContexts> tls_;
  std::shared_ptr<boost::asio::ssl::context> client_tls_;       // outbound; made on first use
  std::map<std::string, std::shared_ptr<Listener>> listeners_;  // by listener_key()
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;
  std::chrono::steady_clock::time_point last_trim_{};  // see unregister_connection()

  std::mutex reload_mutex_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> stopping_{false};
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace portico::core
