// Fuzz target: the WebSocket listener's layer (core/net/websocket.h): HTTP requests, the opening
// handshake and RFC 6455 frames. The first byte chooses the size of the pieces and whether a
// valid upgrade request comes first (so that the rest is taken as frames); the rest is fed in
// pieces, messages are taken as they complete. A message is never longer than the limit, and
// the octets produced stay bounded by what came in.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/net/websocket.h"

namespace {

constexpr std::size_t kMaxMessage = 1024;
constexpr std::string_view kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: xmpp\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + (data[0] & 0x3f);
  const bool upgrade_first = (data[0] & 0x40) != 0;
  boost::asio::io_context io;
  auto listener = std::make_shared<portico::sdk::WebSocketListener>();
  listener->path = "/ws";
  listener->subprotocol = "xmpp";
  listener->pages.push_back({"/", "text/plain", "page"});
  portico::core::WebSocketLayer layer(io.get_executor(), listener, [] {});
  layer.set_max_message(kMaxMessage);
  layer.start();
  std::string input(upgrade_first ? kUpgrade : "");
  input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string out, message;
  std::size_t produced = 0;
  for (std::size_t i = 0; i < input.size() && !layer.finished(); i += piece) {
    layer.feed(std::string_view(input).substr(i, piece));
    io.poll();
    io.restart();
    while (layer.next_message(message)) {
      if (message.size() > kMaxMessage) std::abort();
      layer.send(message.substr(0, 64));  // an answer of its own size
      io.poll();
      io.restart();
    }
    out.clear();
    layer.take_output(out);
    produced += out.size();
  }
  layer.peer_closed();
  io.poll();
  // Replies: a bounded header per request (each at least 16 octets) and the echoed messages
  // plus their frame headers, never more than the input.
  if (produced > 4096 + input.size() * 64) std::abort();
  return 0;
}
