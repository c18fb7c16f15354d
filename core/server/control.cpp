// Portico core — control socket (see control.h).
#include "core/server/control.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace portico::core {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using boost::system::error_code;

namespace {

// The longest request line accepted.
constexpr std::size_t kMaxRequest = 256;

struct ControlSession : std::enable_shared_from_this<ControlSession> {
  explicit ControlSession(local::socket s) : socket(std::move(s)), buffer(kMaxRequest) {}
  local::socket socket;
  asio::streambuf buffer;
  std::string reply;
};

}  // namespace

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path path, Handler handler)
    : io_(io), path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {}

ControlServer::~ControlServer() {
  close();
}

bool ControlServer::open(std::string& error) {
  std::error_code fec;
  std::filesystem::create_directories(path_.parent_path(), fec);
  if (std::filesystem::exists(path_, fec)) {
    try {
      control_request(path_, "ping");
      error = "another server answers on " + path_.string();
      return false;
    } catch (const std::exception&) {
      std::filesystem::remove(path_, fec);  // left by a server that did not stop cleanly
    }
  }
  error_code ec;
  acceptor_.open(local(), ec);
  const mode_t old = umask(077);
  if (!ec) acceptor_.bind(local::endpoint(path_.string()), ec);
  umask(old);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) {
    error = "cannot open control socket " + path_.string() + ": " + ec.message();
    return false;
  }
  do_accept();
  return true;
}

void ControlServer::close() {
  if (!acceptor_.is_open()) return;
  error_code ec;
  acceptor_.close(ec);
  std::error_code fec;
  std::filesystem::remove(path_, fec);
}

void ControlServer::do_accept() {
  acceptor_.async_accept([this](const error_code& ec, local::socket s) {
    if (ec) return;
    auto session = std::make_shared<ControlSession>(std::move(s));
    asio::async_read_until(session->socket, session->buffer, '\n',
                           [this, session](const error_code& rec, std::size_t n) {
                             if (rec) return;
                             std::string line(asio::buffers_begin(session->buffer.data()),
                                              asio::buffers_begin(session->buffer.data()) + n);
                             while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
                               line.pop_back();
                             handler_(line, [this, session](std::string reply) {
                               asio::post(io_, [session, reply = std::move(reply)]() mutable {
                                 session->reply = std::move(reply);
                                 asio::async_write(session->socket, asio::buffer(session->reply),
                                                   [session](const error_code&, std::size_t) {
                                                     error_code e;
                                                     session->socket.close(e);
                                                   });
                               });
                             });
                           });
    do_accept();
  });
}

std::string control_request(const std::filesystem::path& path, const std::string& command) {
  asio::io_context io;
  local::socket s(io);
  error_code ec;
  s.connect(local::endpoint(path.string()), ec);
  if (ec) throw std::runtime_error("no server answers on " + path.string() + ": " + ec.message());
  asio::write(s, asio::buffer(command + "\n"), ec);
  if (ec) throw std::runtime_error("cannot send to " + path.string() + ": " + ec.message());
  std::string out;
  asio::read(s, asio::dynamic_buffer(out), ec);
  if (ec && ec != asio::error::eof) {
    throw std::runtime_error("cannot read from " + path.string() + ": " + ec.message());
  }
  return out;
}

}  // namespace portico::core
