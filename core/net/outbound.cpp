// Portico core — outbound connections (see outbound.h).
#include "core/net/outbound.h"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace portico::core {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

std::shared_ptr<asio::ssl::context> make_client_tls_context() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec)
    throw std::runtime_error("cannot load the system's trusted certificates: " + ec.message());
  return ctx;
}

namespace {

// One attempt at a time over the resolved addresses.
class Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  Attempt(asio::io_context& io, ConnectionHub& hub, std::shared_ptr<asio::ssl::context> tls,
          OutboundJob job, std::vector<std::string> addresses,
          std::function<void(const std::shared_ptr<Connection>&)> started)
      : io_(io),
        hub_(hub),
        tls_(std::move(tls)),
        job_(std::move(job)),
        addresses_(std::move(addresses)),
        started_(std::move(started)),
        strand_(asio::make_strand(io)),
        socket_(strand_),
        timer_(strand_) {}

  void next() {
    if (hub_.stopping()) return fail("the server is stopping");
    if (index_ >= addresses_.size()) {
      return fail("cannot connect to " + job_.request.host + " port " +
                  std::to_string(job_.request.port) + ": " +
                  (last_error_.empty() ? "no address" : last_error_));
    }
    const std::string& text = addresses_[index_++];
    error_code ec;
    const auto address = asio::ip::make_address(text, ec);
    if (ec) {
      last_error_ = text + ": " + ec.message();
      return next();
    }
    const tcp::endpoint remote(address, job_.request.port);
    socket_ = tcp::socket(strand_);
    socket_.open(remote.protocol(), ec);
    if (!ec && !job_.request.local_address.empty()) {
      const auto local = asio::ip::make_address(job_.request.local_address, ec);
      if (!ec && local.is_v4() == address.is_v4()) socket_.bind(tcp::endpoint(local, 0), ec);
    }
    if (ec) {
      last_error_ = text + ": " + ec.message();
      return next();
    }
    timer_.expires_after(job_.request.connect_timeout);
    const std::uint64_t generation = ++generation_;
    timer_.async_wait([self = shared_from_this(), generation](const error_code& e) {
      if (e || generation != self->generation_) return;
      error_code ignored;
      self->timed_out_ = true;
      self->socket_.close(ignored);
    });
    socket_.async_connect(
        remote, [self = shared_from_this(), text, generation](const error_code& e) {
          if (generation != self->generation_) return;
          ++self->generation_;
          self->timer_.cancel();
          if (e) {
            self->last_error_ = text + ": " + (self->timed_out_ ? "timed out" : e.message());
            self->timed_out_ = false;
            return self->next();
          }
          self->connected();
        });
  }

  asio::strand<asio::io_context::executor_type> executor() const { return strand_; }

 private:
  void connected() {
    error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    const auto local = socket_.local_endpoint(ec);
    sdk::ConnectionInfo info = job_.info;
    if (!ec) {
      info.remote_address = remote.address().to_string();
      info.remote_port = remote.port();
      info.local_address = local.address().to_string();
      info.local_port = local.port();
    }
    info.listener = "outbound";

    auto runtime = std::make_shared<ProtocolRuntime>();
    runtime->name = info.protocol;
    runtime->traits.max_line_length = job_.request.max_line_length;
    runtime->shared.command_timeout = job_.request.timeout;
    runtime->shared.session_timeout = job_.request.timeout;
    runtime->shared.session_timeout_enabled = true;
    runtime->settings = std::move(job_.settings);
    runtime->abi_minor = job_.abi_minor;

    sdk::ListenerSpec spec;
    spec.address = info.remote_address;
    spec.port = info.remote_port;
    spec.tls = job_.request.tls;

    ConnectionAccounting::Lease lease;
    hub_.accounting().try_acquire({info.protocol, info.listener, info.remote_address}, 0, 0, lease);
    auto conn = std::make_shared<Connection>(std::move(socket_), runtime, nullptr, spec, info,
                                             std::move(lease), hub_);
    OutboundSide side;
    side.tls_context = tls_;
    side.tls_name = job_.request.tls_name.empty() ? job_.request.host : job_.request.tls_name;
    side.verify_certificate = job_.request.verify_certificate;
    side.open = std::move(job_.open);
    side.failed = std::move(job_.failed);
    conn->set_outbound(std::move(side));
    spdlog::debug("{}[{}] connected to {} port {}", info.protocol, info.id, info.remote_address,
                  info.remote_port);
    asio::post(conn->executor(), [conn, started = std::move(started_)] {
      if (started) started(conn);
      conn->start();
    });
  }

  void fail(std::string reason) {
    spdlog::info("{}: {}", job_.info.protocol, reason);
    if (auto failed = std::move(job_.failed)) {
      hub_.post_work([failed = std::move(failed), reason = std::move(reason)] { failed(reason); });
    }
  }

  asio::io_context& io_;
  ConnectionHub& hub_;
  std::shared_ptr<asio::ssl::context> tls_;
  OutboundJob job_;
  std::vector<std::string> addresses_;
  std::function<void(const std::shared_ptr<Connection>&)> started_;
  asio::strand<asio::io_context::executor_type> strand_;  // becomes the connection's
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::size_t index_ = 0;
  std::uint64_t generation_ = 0;
  bool timed_out_ = false;
  std::string last_error_;
};

}  // namespace

void connect_outbound(asio::io_context& io, ConnectionHub& hub, sdk::Dns* dns,
                      std::shared_ptr<asio::ssl::context> client_tls, OutboundJob job,
                      std::function<void(const std::shared_ptr<Connection>&)> started) {
  auto fail = [&hub](sdk::OutboundFailure failed, std::string reason) {
    if (failed) hub.post_work([failed = std::move(failed), reason] { failed(reason); });
  };
  if (job.request.port == 0) return fail(std::move(job.failed), "no port given");
  if (job.request.tls != sdk::TlsMode::none && !client_tls) {
    return fail(std::move(job.failed), "TLS is not available");
  }
  // The lookup may block: it runs on the worker pool, the connecting back on the I/O threads.
  hub.post_work([&io, &hub, dns, client_tls = std::move(client_tls), job = std::move(job),
                 started = std::move(started), fail]() mutable {
    sdk::DnsAddresses found;
    if (dns) {
      found = dns->addresses(job.request.host);
    } else {
      found.error = "no resolver";
    }
    if (found.status != sdk::DnsStatus::ok) {
      const char* why = found.status == sdk::DnsStatus::no_such_name ? "no such host"
                        : found.status == sdk::DnsStatus::no_data    ? "no address for the host"
                                                                     : nullptr;
      return fail(std::move(job.failed), "cannot resolve " + job.request.host + ": " +
                                             (why ? std::string(why) : found.error));
    }
    auto attempt = std::make_shared<Attempt>(io, hub, std::move(client_tls), std::move(job),
                                             std::move(found.addresses), std::move(started));
    asio::post(attempt->executor(), [attempt] { attempt->next(); });
  });
}

}  // namespace portico::core
