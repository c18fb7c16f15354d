// Portico core — the local control socket (a Unix stream socket, mode 0600).
//
// One request line per connection: "status" answers the live state as JSON; "reload" re-reads
// the configuration and answers "ok" or the errors. Only local users with access to the socket
// file can use it. `portico status` and `portico reload` are its clients.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

namespace portico::core {

class ControlServer {
 public:
  using Handler = std::function<void(const std::string& command,
                                     std::function<void(std::string reply)> answer)>;
  ControlServer(boost::asio::io_context& io, std::filesystem::path path, Handler handler);
  ~ControlServer();
  // Binds the socket; refuses if another server answers on it. False with a reason on failure.
  bool open(std::string& error);
  void close();

 private:
  void do_accept();
  boost::asio::io_context& io_;
  std::filesystem::path path_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
};

// Sends one command to a running server and returns its answer; throws std::runtime_error
// when no server answers.
std::string control_request(const std::filesystem::path& path, const std::string& command);

}  // namespace portico::core
