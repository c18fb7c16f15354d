// Portico core — the server (see server.h).
#include "core/server/server.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/log/log.h"
#include "core/metrics/metrics.h"
#include "core/net/outbound.h"
#include "core/net/tls.h"
#include "core/server/control.h"
#include "core/server/status.h"

namespace portico::core {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using boost::system::error_code;

namespace {

// How often a stopping server looks whether its connections are gone.
constexpr auto kDrainPoll = std::chrono::milliseconds(50);
// After the grace period, how long closing connections get to send their last reply.
constexpr auto kFinalLinger = std::chrono::seconds(6);
// The least time between two returns of free heap memory to the system (malloc_trim).
constexpr auto kTrimInterval = std::chrono::seconds(1);

std::size_t thread_count(std::int64_t configured) {
  if (configured > 0) return static_cast<std::size_t>(configured);
  return std::max(1u, std::thread::hardware_concurrency());
}

// glibc gives each thread that allocates an arena of its own, up to 8 per core, and memory freed
// into an arena serves only the threads of that arena: a message read on a worker and sent from
// an I/O thread leaves free pages in every one of the dozen arenas of the I/O and worker
// threads. Measured with bench/pop (10 sessions, 1-60 KB messages, 2 cores): peak RSS above
// idle 10.7 MiB with glibc's default, 7.3 MiB with 2 arenas, 7.2 MiB with 1, at the same rate.
// One arena per core; MALLOC_ARENA_MAX or glibc.malloc.arena_max in GLIBC_TUNABLES win.
void limit_malloc_arenas() {
#ifdef M_ARENA_MAX
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr ||
      (tunables != nullptr && std::strstr(tunables, "arena_max") != nullptr)) {
    return;
  }
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
#endif
}

std::string listener_key(const std::string& protocol, const sdk::ListenerSpec& l) {
  return protocol + "|" + l.address + "|" + std::to_string(l.port) + "|" + to_string(l.tls) + "|" +
         l.certificate + "|" + l.key;
}

// Whether this configuration serves TLS anywhere: a certificate of its own (server.tls, its SNI
// certificates) or a listener, from the file or from a plugin, with STARTTLS or implicit TLS.
bool serves_tls(const Config& config,
                const std::map<std::string, std::shared_ptr<ProtocolRuntime>>& runtimes) {
  if (config.server.tls || !config.server.extra_certificates.empty()) return true;
  for (const auto& [name, rt] : runtimes) {
    for (const auto& l : rt->listeners)
      if (l.tls != sdk::TlsMode::none) return true;
    for (const auto& w : rt->websocket_listeners)
      if (w->listener.tls != sdk::TlsMode::none) return true;
  }
  return false;
}

std::string unmapped(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  }
  return a.to_string();
}

}  // namespace

Server::Server(fs::path config_file)
    : config_file_(std::move(config_file)),
      plugins_(*this),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      shutdown_timer_(io_),
      started_(std::chrono::steady_clock::now()) {}

Server::~Server() {
  join_pools();
  if (filter_) filter_->drop_waiting();
  control_.reset();
  metrics_.reset();
}

// While the first configuration is applied (plugins' configure() calls), config_ is not set yet:
// the one being applied answers.
std::string Server::hostname() const {
  std::lock_guard lock(mutex_);
  const auto& c = config_ ? config_ : applying_;
  return c ? c->server.hostname : std::string();
}

std::string Server::data_dir() const {
  std::lock_guard lock(mutex_);
  const auto& c = config_ ? config_ : applying_;
  return c ? c->server.data_dir.string() : std::string();
}

void Server::post_work(std::function<void()> work) {
  if (!workers_) {
    work();  // before the pool exists (configuration time), run where called
    return;
  }
  asio::post(*workers_, std::move(work));
}

void Server::post_work_on(sdk::WorkPool pool, std::function<void()> work) {
  const auto i = static_cast<std::size_t>(pool);
  if (i == 0 || i >= pools_.size() || !workers_) return post_work(std::move(work));
  // Each pool is made on first use, bounded so that one kind of work cannot take every
  // thread: hashing is CPU-bound (a thread per core); DNS, delivery and filtering mostly wait on
  // the network. A server that never uses one pays no thread for it.
  std::call_once(pool_made_[i], [&] {
    const std::size_t cores = std::max(2u, std::thread::hardware_concurrency());
    const std::size_t threads = pool == sdk::WorkPool::auth ? cores : 8;
    pools_[i] = std::make_unique<asio::thread_pool>(threads);
  });
  asio::post(*pools_[i], std::move(work));
}

void Server::join_pools() {
  if (workers_) workers_->join();
  for (auto& p : pools_) {
    if (p) p->join();
  }
}

// When the last connection ends, the free memory the malloc arenas keep from the busy time goes
// back to the system, on a worker: after bench/pop's 10 sessions, 3 MiB of the 6 MiB that
// RssAnon had grown by (what stays is mostly the open accounts' SQLite caches).
void Server::unregister_connection(std::uint64_t id) {
  bool trim = false;
  {
    std::lock_guard lock(mutex_);
    connections_.erase(id);
    const auto now = std::chrono::steady_clock::now();
    if (connections_.empty() && now - last_trim_ >= kTrimInterval) {
      last_trim_ = now;
      trim = true;
    }
  }
#ifdef M_ARENA_MAX
  if (trim && !stopping_) post_work([] { malloc_trim(0); });
#else
  (void)trim;
#endif
}

int Server::run() {
  limit_malloc_arenas();  // before the I/O and worker threads exist
  configure_logging("info", "text");
  ConfigResult result = load_enabled_config(config_file_, plugins_.enabled_provider());
  for (const auto& w : result.warnings)
    spdlog::warn("{}", w);
  if (!result.errors.empty()) {
    for (const auto& e : result.errors)
      spdlog::error("{}", e.to_string());
    spdlog::error("{}: {} error(s); not starting", config_file_.string(), result.errors.size());
    return 2;
  }
  auto config = std::make_shared<const Config>(std::move(*result.config));
  // Workers mostly wait for fsync: several per core keep the disk's queue full.
  const std::int64_t workers =
      config->server.worker_threads > 0
          ? config->server.worker_threads
          : std::max<std::int64_t>(8, 4 * std::thread::hardware_concurrency());
  workers_ = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(workers));
  try {
    std::filesystem::create_directories(config->server.data_dir);
    directory_ = open_directory(config->server.data_dir);
    store_ = open_store(config->server.data_dir);
    QueueOptions queue_options;
    queue_options.own_journal = true;  // the server writes the spool's journal (journal.h)
    queue_ = open_queue(config->server.data_dir, queue_options);
    reports_ = std::make_unique<ReportService>([this] { return hostname(); }, *directory_, *store_,
                                               *queue_);
    dns_ = std::make_unique<DnsResolver>(config->server.dns_servers);
    filter_ = std::make_unique<filter::FilterService>(
        io_.get_executor(),
        [this](sdk::WorkPool pool, std::function<void()> work) {
          post_work_on(pool, std::move(work));
        },
        *queue_, [this] { return hostname(); });
  } catch (const std::exception& e) {
    spdlog::error("cannot open the data directory {}: {}", config->server.data_dir.string(),
                  e.what());
    return 1;
  }
  std::vector<std::string> errors;
  if (!apply(config, true, errors)) {
    for (const auto& e : errors)
      spdlog::error("{}", e);
    return 1;
  }

  control_ = std::make_unique<ControlServer>(
      io_, config->server.control_socket,
      [this](const std::string& command, std::function<void(std::string)> answer) {
        if (command == "status" || command == "status json") {
          // On the worker pool: the queue's figures may need a scan of the spool.
          post_work([this, answer, json = command == "status json"] { answer(status(json)); });
        } else if (command == "reload") {
          post_work([this, answer] {
            const std::string errs = reload();
            answer(errs.empty() ? "ok\n" : errs);
          });
        } else if (command == "ping") {
          answer("pong\n");
        } else {
          answer("unknown command\n");
        }
      });
  std::string error;
  if (!control_->open(error)) {
    spdlog::error("{}", error);
    return 1;
  }
  spdlog::info("control socket {}", config->server.control_socket.string());
  if (config->server.metrics_enabled) {
    metrics_ =
        std::make_unique<Metrics>(accounting_, directory_.get(), queue_.get(), filter_.get());
    if (metrics_->open(config->server.metrics_address, config->server.metrics_port, error)) {
      spdlog::info("metrics on http://{}/metrics",
                   endpoint_name(config->server.metrics_address, metrics_->port()));
    } else {
      spdlog::error("{}; running without metrics", error);
    }
  }
  wait_signals();
  spdlog::info("portico {} ready", PORTICO_VERSION);

  const std::size_t n = thread_count(config->server.io_threads);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < n; ++i)
    threads.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : threads)
    t.join();
  join_pools();

  for (const auto& p : plugins_.scan().loaded) {
    try {
      p.instance->stop();
    } catch (const std::exception& e) {
      spdlog::error("{}: stop() threw: {}", p.name, e.what());
    }
  }
  spdlog::info("portico stopped");
  return 0;
}

bool Server::apply(std::shared_ptr<const Config> config, bool initial,
                   std::vector<std::string>& errors) {
  {
    std::lock_guard lock(mutex_);
    if (!config_) applying_ = config;
  }
  configure_logging(config->server.log_level, config->server.log_format);
  std::error_code fec;
  fs::create_directories(config->server.data_dir, fec);
  if (fec) {
    errors.push_back("cannot create data_dir " + config->server.data_dir.string() + ": " +
                     fec.message());
    return false;
  }

  auto refused = [&errors](const std::string& name, const std::exception& e) {
    errors.push_back("plugin " + name + " refused its configuration: " + e.what());
  };
  // New runtimes for every enabled plugin, with the listeners each asks for.
  std::map<std::string, std::shared_ptr<ProtocolRuntime>> candidates;
  for (const auto& [name, pc] : config->plugins) {
    if (!pc.shared.enabled) continue;
    auto plugin = plugins_.find(name);
    if (!plugin) continue;
    auto rt = std::make_shared<ProtocolRuntime>();
    rt->name = name;
    rt->plugin = plugin;
    rt->shared = pc.shared;
    rt->settings = pc.settings;
    rt->listeners = pc.shared.listeners;
    const LoadedPlugin* info = plugins_.info(name);
    rt->abi_minor = info != nullptr ? info->abi_minor : 0;
    try {
      rt->traits = plugin->traits();
      if (rt->abi_minor >= 1) {
        for (auto& l : plugin->extra_listeners(pc.settings))
          rt->listeners.push_back(std::move(l));
      }
      if (rt->abi_minor >= 9) {
        for (auto& w : plugin->websocket_listeners(pc.settings)) {
          if (w.listener.tls == sdk::TlsMode::starttls)
            throw std::runtime_error("a WebSocket listener has no STARTTLS (port " +
                                     std::to_string(w.listener.port) + ")");
          rt->websocket_listeners.push_back(
              std::make_shared<const sdk::WebSocketListener>(std::move(w)));
        }
      }
    } catch (const std::exception& e) {
      refused(name, e);
      continue;
    }
    candidates[name] = std::move(rt);
  }
  if (initial && !errors.empty()) return false;

  // Certificates: read (or the development one generated) only when something serves TLS, so a
  // server without TLS does not set OpenSSL up; a reload that adds a TLS listener loads them.
  // Before any plugin is configured: a certificate that fails leaves the plugins as they were.
  std::shared_ptr<const TlsContexts> tls;
  if (serves_tls(*config, candidates)) {
    tls = TlsContexts::load(*config, errors);  // generates the development one if need be
    if (!tls) return false;
  }

  // configure() may refuse a plugin.
  std::map<std::string, std::shared_ptr<const ProtocolRuntime>> runtimes;
  for (auto& [name, rt] : candidates) {
    try {
      rt->plugin->configure(rt->settings);
    } catch (const std::exception& e) {
      refused(name, e);
      continue;
    }
    runtimes[name] = std::move(rt);
  }
  if (initial && !errors.empty()) return false;

  // Listeners: open the new ones first, so a failure leaves the running set untouched.
  std::map<std::string, std::shared_ptr<Listener>> keep, opened;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, rt] : runtimes) {
      std::vector<std::pair<sdk::ListenerSpec, bool>> specs;
      for (const auto& spec : rt->listeners)
        specs.emplace_back(spec, false);
      for (const auto& web : rt->websocket_listeners)
        specs.emplace_back(web->listener, true);
      for (const auto& [spec, websocket] : specs) {
        const std::string key = listener_key(name, spec) + (websocket ? "|websocket" : "");
        if (auto it = listeners_.find(key); it != listeners_.end()) {
          keep[key] = it->second;
          continue;
        }
        if (opened.count(key)) continue;
        auto l = std::make_shared<Listener>(io_, name, spec, *this, websocket);
        std::string error;
        if (!l->open(error)) {
          errors.push_back(name + ": " + error);
          continue;
        }
        opened[key] = l;
      }
    }
  }
  if (initial && !errors.empty()) return false;

  std::vector<std::string> disabled;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, l] : listeners_) {
      if (!keep.count(key)) {
        l->stop();
        spdlog::info("{} stopped listening on {}", l->protocol(), l->name());
      }
    }
    for (const auto& [name, rt] : runtimes_) {
      if (!runtimes.count(name)) disabled.push_back(name);
    }
    listeners_ = std::move(keep);
    for (auto& [key, l] : opened) {
      l->start();
      spdlog::info("{} listening on {} (tls: {})", l->protocol(), l->name(),
                   to_string(l->spec().tls));
      listeners_[key] = l;
    }
    runtimes_ = std::move(runtimes);
    tls_ = std::move(tls);
    config_ = config;
  }
  if (filter_) {
    const auto& f = config->server.spam_filter;
    filter_->configure(f);
    if (f.enabled) {
      spdlog::info("spam filter: rspamd at {}, at most {} checks at once",
                   endpoint_name(f.address, f.port), f.max_checks);
    }
  }
  for (const auto& name : disabled) {
    spdlog::info("{} disabled; its open connections finish on their own", name);
    if (auto plugin = plugins_.find(name)) {
      try {
        plugin->stop();
      } catch (const std::exception& e) {
        spdlog::error("{}: stop() threw: {}", name, e.what());
      }
    }
  }
  return true;
}

std::string Server::reload() {
  std::lock_guard reload_lock(reload_mutex_);
  if (stopping_) return "the server is stopping\n";
  spdlog::info("reloading {}", config_file_.string());
  ConfigResult result = load_enabled_config(config_file_, plugins_.enabled_provider());
  for (const auto& w : result.warnings)
    spdlog::warn("{}", w);
  std::string out;
  if (!result.errors.empty()) {
    for (const auto& e : result.errors) {
      spdlog::error("{}", e.to_string());
      out += e.to_string() + "\n";
    }
    spdlog::error("reload rejected: {} error(s); the running configuration stays",
                  result.errors.size());
    return out;
  }
  warn_restart_only(*result.config);
  std::vector<std::string> errors;
  const bool ok = apply(std::make_shared<const Config>(std::move(*result.config)), false, errors);
  for (const auto& e : errors) {
    spdlog::error("reload: {}", e);
    out += e + "\n";
  }
  if (ok) spdlog::info("reload applied{}", errors.empty() ? "" : " in part");
  return ok && errors.empty() ? std::string() : out;
}

void Server::warn_restart_only(const Config& next) const {
  std::shared_ptr<const Config> current;
  {
    std::lock_guard lock(mutex_);
    current = config_;
  }
  if (!current) return;
  const ServerConfig& a = current->server;
  const ServerConfig& b = next.server;
  auto warn = [](const char* key) {
    spdlog::warn("reload: server.{} changed; the new value takes effect at the next start", key);
  };
  if (a.io_threads != b.io_threads) warn("io_threads");
  if (a.worker_threads != b.worker_threads) warn("worker_threads");
  if (a.control_socket != b.control_socket) warn("control_socket");
  if (a.data_dir != b.data_dir) warn("data_dir");
  if (a.metrics_enabled != b.metrics_enabled || a.metrics_address != b.metrics_address ||
      a.metrics_port != b.metrics_port) {
    warn("metrics");
  }
}

void Server::on_accept(Listener& listener, asio::ip::tcp::socket socket) {
  std::shared_ptr<const ProtocolRuntime> rt;
  std::shared_ptr<const TlsContexts> tls;
  std::string hostname;
  {
    std::lock_guard lock(mutex_);
    if (auto it = runtimes_.find(listener.protocol()); it != runtimes_.end()) rt = it->second;
    tls = tls_;
    hostname = config_ ? config_->server.hostname : std::string();
  }
  error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const auto local = socket.local_endpoint(ec);
  if (!rt || stopping_ || ec) {
    socket.close(ec);
    return;
  }
  std::shared_ptr<const sdk::WebSocketListener> web;
  if (listener.websocket()) {
    // The listener's pages and path as the runtime has them now (a reload may change them).
    for (const auto& w : rt->websocket_listeners)
      if (w->listener == listener.spec()) web = w;
    if (!web) {
      socket.close(ec);
      return;
    }
  }
  sdk::ConnectionInfo info;
  info.id = next_id_++;
  info.protocol = rt->name;
  info.remote_address = unmapped(remote.address());
  info.remote_port = remote.port();
  info.local_address = unmapped(local.address());
  info.local_port = local.port();
  info.listener = listener.name();
  info.server_hostname = hostname;

  ConnectionAccounting::Lease lease;
  const Refusal refusal = accounting_.try_acquire({rt->name, listener.name(), info.remote_address},
                                                  rt->shared.max_connections,
                                                  rt->shared.max_connections_per_address, lease);
  auto conn = std::make_shared<Connection>(std::move(socket), rt, tls, listener.spec(), info,
                                           std::move(lease), *this);
  if (web) conn->set_websocket(std::move(web));
  if (refusal != Refusal::none) {
    const bool by_address = refusal == Refusal::address_full;
    spdlog::info("{} {}: refused, {} reached", rt->name, info.remote_address,
                 by_address ? "max_connections_per_address" : "max_connections");
    std::string reply = by_address && !rt->traits.busy_address_reply.empty()
                            ? rt->traits.busy_address_reply
                            : rt->traits.busy_reply;
    asio::post(conn->executor(), [conn, reply = std::move(reply)]() mutable {
      conn->start_refused(std::move(reply));
    });
    return;
  }
  {
    std::lock_guard lock(mutex_);
    connections_[info.id] = conn;
  }
  spdlog::debug("{}[{}] connection from {} on {}", rt->name, info.id, info.remote_address,
                listener.name());
  asio::post(conn->executor(), [conn] { conn->start(); });
}

void Server::wait_signals() {
  signals_.async_wait([this](const error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      post_work([this] { reload(); });
      wait_signals();
      return;
    }
    spdlog::info("signal {}: stopping", signo);
    begin_shutdown();
  });
}

void Server::begin_shutdown() {
  if (stopping_.exchange(true)) return;
  std::vector<std::shared_ptr<Connection>> conns;
  std::chrono::milliseconds grace{0};
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, l] : listeners_)
      l->stop();
    listeners_.clear();
    for (auto& [id, weak] : connections_) {
      if (auto c = weak.lock()) conns.push_back(std::move(c));
    }
    grace = config_->server.shutdown_grace;
  }
  if (control_) control_->close();
  spdlog::info("stopped accepting; {} connection(s) open, grace {}ms", conns.size(), grace.count());
  for (auto& c : conns)
    c->begin_shutdown();
  check_drained(std::chrono::steady_clock::now() + grace, false);
}

void Server::check_drained(std::chrono::steady_clock::time_point force_at, bool forced) {
  std::vector<std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, weak] : connections_) {
      if (auto c = weak.lock()) conns.push_back(std::move(c));
    }
  }
  const auto now = std::chrono::steady_clock::now();
  if (conns.empty() || (forced && now >= force_at)) {
    signals_.cancel();
    io_.stop();
    return;
  }
  if (!forced && now >= force_at) {
    spdlog::info("grace period over: closing {} connection(s)", conns.size());
    for (auto& c : conns)
      c->force_shutdown();
    forced = true;
    force_at = now + kFinalLinger;
  }
  shutdown_timer_.expires_after(kDrainPoll);
  shutdown_timer_.async_wait([this, force_at, forced](const error_code& ec) {
    if (!ec) check_drained(force_at, forced);
  });
}

void Server::connect(const std::string& plugin, const sdk::OutboundRequest& request,
                     sdk::OutboundSessionFactory open, sdk::OutboundFailure failed) {
  OutboundJob job;
  job.request = request;
  job.open = std::move(open);
  job.failed = std::move(failed);
  job.info.id = next_id_++;
  job.info.protocol = plugin + "/out";
  std::shared_ptr<asio::ssl::context> tls;
  std::string error;
  {
    std::lock_guard lock(mutex_);
    job.info.server_hostname = config_ ? config_->server.hostname : std::string();
    if (auto it = runtimes_.find(plugin); it != runtimes_.end()) {
      job.settings = it->second->settings;
      job.abi_minor = it->second->abi_minor;
    }
    if (!client_tls_) {
      try {
        client_tls_ = make_client_tls_context();
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    tls = client_tls_;
  }
  if (stopping_) error = "the server is stopping";
  if (!error.empty()) {
    if (job.failed) post_work([failed = std::move(job.failed), error] { failed(error); });
    return;
  }
  connect_outbound(io_, *this, dns_.get(), std::move(tls), std::move(job),
                   [this](const std::shared_ptr<Connection>& conn) {
                     std::lock_guard lock(mutex_);
                     connections_[conn->id()] = conn;
                     if (stopping_) conn->begin_shutdown();
                   });
}

namespace {

class ScheduledCall final : public sdk::Scheduled {
 public:
  explicit ScheduledCall(std::shared_ptr<std::atomic<bool>> cancelled)
      : cancelled_(std::move(cancelled)) {}
  ~ScheduledCall() override { cancelled_->store(true); }

 private:
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

}  // namespace

std::unique_ptr<sdk::Scheduled> Server::schedule(std::chrono::milliseconds delay,
                                                 std::function<void()> fn) {
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto timer = std::make_shared<asio::steady_timer>(io_, delay);
  timer->async_wait([this, timer, cancelled, fn = std::move(fn)](const error_code& ec) mutable {
    if (ec || cancelled->load() || stopping_) return;
    post_work([cancelled, fn = std::move(fn)] {
      if (!cancelled->load()) fn();
    });
  });
  return std::make_unique<ScheduledCall>(std::move(cancelled));
}

std::string Server::status(bool json) const {
  std::optional<QueueStats> queue;
  if (queue_) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto stats = queue_->stats(now, kQueueScanInterval);
    if (stats.ok()) queue = stats.value;
  }
  std::lock_guard lock(mutex_);
  StatusInput in;
  in.queue = queue;
  in.config = config_.get();
  in.runtimes = &runtimes_;
  for (const auto& [key, l] : listeners_)
    in.listeners.push_back({l->protocol(), l->spec()});
  in.uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
  in.stopping = stopping_;
  return json ? render_status_json(in, accounting_) : render_status_text(in, accounting_);
}

}  // namespace portico::core
