// Portico core — one listening socket of one protocol.
//
// Binds address:port (SO_REUSEADDR, IPV6_V6ONLY for IPv6 so both families can be configured
// side by side), accepts onto a fresh strand per connection and hands each socket to its owner.
// Accept errors such as running out of file descriptors pause accepting briefly instead of
// spinning.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "portico/settings.h"

namespace portico::core {

class Listener;

class ListenerOwner {
 public:
  virtual void on_accept(Listener& listener, boost::asio::ip::tcp::socket socket) = 0;

 protected:
  ~ListenerOwner() = default;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `websocket`: a WebSocket listener of the protocol (SDK 1.9, portico/web.h).
  Listener(boost::asio::io_context& io, std::string protocol, sdk::ListenerSpec spec,
           ListenerOwner& owner, bool websocket = false);

  // Binds and listens; false with a reason on failure.
  bool open(std::string& error);
  void start();
  void stop();

  const std::string& protocol() const { return protocol_; }
  const sdk::ListenerSpec& spec() const { return spec_; }
  bool websocket() const { return websocket_; }
  // "address:port" ("[::1]:143" for IPv6), as logs and accounting name it.
  std::string name() const;
  // The port actually bound (differs from spec().port only when that was 0).
  std::uint16_t bound_port() const { return bound_port_; }

 private:
  void do_accept();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::string protocol_;
  sdk::ListenerSpec spec_;
  ListenerOwner& owner_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::uint16_t bound_port_ = 0;
  bool stopped_ = false;
  bool websocket_ = false;
};

std::string endpoint_name(const std::string& address, std::uint16_t port);

}  // namespace portico::core
