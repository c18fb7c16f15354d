// Portico core — the HTTP and WebSocket side of one connection of a WebSocket listener (SDK 1.9,
// portico/web.h): RFC 7230's requests, RFC 6455's opening handshake and framing.
//
// Sans socket, like the deflate layer: the connection feeds it the octets it reads (after TLS)
// and sends the octets it produces. Boost.Beast does the work over an in-memory stream between
// the two: it parses each request (headers at most 8 KiB, no bodies), answers the upgrade of the
// listener's path with 101 when the client offers the listener's subprotocol, serves the
// listener's pages to GET and HEAD (404, 405 and 400 otherwise, keep-alive up to 100 requests),
// reassembles messages from their frames, unmasks them, answers pings and the peer's close.
// Guarantees:
// - at most one message is read ahead of the session, and no octets are asked of the socket
//   while one waits: a session that pauses its input stops the peer (TCP's own flow control);
// - a message longer than set_max_message() is never held whole: Beast fails the read once the
//   frames announce more, and closes with status 1009;
// - every operation completes on the connection's strand and calls `progress`, after which the
//   connection looks at the layer again; nothing completes after the layer is destroyed.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "portico/web.h"

namespace portico::core {

class WebSocketLayer {
 public:
  // `host` (the connection) is kept alive while a completion is on its way.
  WebSocketLayer(boost::asio::any_io_executor executor,
                 std::shared_ptr<const sdk::WebSocketListener> listener,
                 std::function<void()> progress, std::weak_ptr<void> host = {});
  ~WebSocketLayer();
  WebSocketLayer(const WebSocketLayer&) = delete;
  WebSocketLayer& operator=(const WebSocketLayer&) = delete;

  // Starts reading the first request.
  void start();
  // Octets from the peer; the end of its input.
  void feed(std::string_view bytes);
  void peer_closed();
  // An operation waits for octets and none are buffered: the connection should read.
  bool wants_input() const;
  // Moves what the layer produced (HTTP replies, frames) to the end of `out`.
  void take_output(std::string& out);

  // The opening handshake is done: a session may run.
  bool open() const;
  // Nothing more will happen here (a reply that ends the connection was produced, the closing
  // handshake is over, or the peer went away): the connection ends once its output is sent.
  bool finished() const;
  // A message over the limit ended the WebSocket (status 1009).
  bool message_too_big() const;

  void set_max_message(std::size_t bytes);
  // A whole received message, if one waits; taking it lets the next be read.
  bool next_message(std::string& out);
  // Queues one text message.
  void send(std::string_view text);
  // Octets of queued messages not framed yet.
  std::size_t send_pending() const;
  // The closing handshake (status 1000) after the queued messages.
  void close();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace portico::core
