// Tests of the core's WebSocket layer (core/net/websocket.h) without sockets: RFC 6455's opening
// handshake (section 1.3's example key), masked client frames in any pieces, fragmented
// messages, the one-message read-ahead, server frames, the message size limit (1009), pings,
// the closing handshake, and the HTTP side (pages, HEAD, 404, 405, 400, keep-alive).
#include "core/net/websocket.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace portico::core {
namespace {

namespace asio = boost::asio;

std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
  // A client frame: masked (RFC 6455 section 5.3), with the key 0x37fa213d of section 5.7.
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | opcode);
  const std::uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else if (payload.size() < 65536) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
  }
  f.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(payload[i] ^ key[i % 4]);
  return f;
}

constexpr std::string_view kUpgrade =
    "GET /xmpp-websocket HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Protocol: chat, xmpp\r\nSec-WebSocket-Version: 13\r\n\r\n";

class WebSocketLayerTest : public ::testing::Test {
 protected:
  WebSocketLayerTest() {
    auto l = std::make_shared<sdk::WebSocketListener>();
    l->path = "/xmpp-websocket";
    l->subprotocol = "xmpp";
    l->pages.push_back({"/", "text/html; charset=utf-8", "<p>chat</p>"});
    listener = l;
    layer =
        std::make_unique<WebSocketLayer>(asio::make_strand(io), listener, [this] { ++progress; });
    layer->start();
  }

  // Feeds octets (one at a time when `trickle`), runs what completes, returns the output.
  std::string exchange(std::string_view in, bool trickle = false) {
    if (trickle) {
      for (char c : in) {
        layer->feed(std::string_view(&c, 1));
        io.poll();
        io.restart();
      }
    } else {
      layer->feed(in);
    }
    io.poll();
    io.restart();
    std::string out;
    layer->take_output(out);
    return out;
  }

  void upgrade() {
    const std::string reply = exchange(kUpgrade);
    ASSERT_EQ(reply.rfind("HTTP/1.1 101", 0), 0u) << reply;
    ASSERT_TRUE(layer->open());
  }

  asio::io_context io;
  std::shared_ptr<const sdk::WebSocketListener> listener;
  std::unique_ptr<WebSocketLayer> layer;
  int progress = 0;
};

TEST_F(WebSocketLayerTest, OpeningHandshakeAnswersTheKeyAndTheSubprotocol) {
  const std::string reply = exchange(kUpgrade, true);
  EXPECT_EQ(reply.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << reply;
  // RFC 6455 section 1.3's example.
  EXPECT_NE(reply.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            std::string::npos);
  EXPECT_NE(reply.find("Sec-WebSocket-Protocol: xmpp\r\n"), std::string::npos);
  EXPECT_TRUE(layer->open());
  EXPECT_GT(progress, 0);
}

TEST_F(WebSocketLayerTest, MessagesInPiecesAndFragmentsComeWhole) {
  upgrade();
  exchange(frame(0x1, "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"), true);
  std::string m;
  ASSERT_TRUE(layer->next_message(m));
  EXPECT_EQ(m, "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  // A message in three frames (RFC 6455 section 5.4), one arriving with the next message.
  exchange(frame(0x1, "<message>", false) + frame(0x0, "<body>hi</body>", false));
  EXPECT_FALSE(layer->next_message(m));
  exchange(frame(0x0, "</message>") + frame(0x1, "<r/>"));
  ASSERT_TRUE(layer->next_message(m));
  EXPECT_EQ(m, "<message><body>hi</body></message>");
  exchange("");
  ASSERT_TRUE(layer->next_message(m));
  EXPECT_EQ(m, "<r/>");
}

TEST_F(WebSocketLayerTest, OneMessageAheadAtMost) {
  upgrade();
  exchange(frame(0x1, "one"));
  // The session has not taken "one": nothing more is asked of the socket.
  EXPECT_FALSE(layer->wants_input());
  std::string m;
  ASSERT_TRUE(layer->next_message(m));
  io.poll();
  io.restart();
  EXPECT_TRUE(layer->wants_input());
}

TEST_F(WebSocketLayerTest, EachSendIsOneUnmaskedTextFrame) {
  upgrade();
  layer->send("<presence/>");
  EXPECT_EQ(layer->send_pending(), 11u);
  io.poll();
  std::string out;
  layer->take_output(out);
  EXPECT_EQ(out, std::string("\x81\x0b<presence/>", 13));
  EXPECT_EQ(layer->send_pending(), 0u);
}

TEST_F(WebSocketLayerTest, PingIsAnsweredWithPong) {
  upgrade();
  layer->feed(frame(0x9, "are you there"));
  io.poll();  // the ping is read while the layer waits for a message
  io.restart();
  std::string out;
  layer->take_output(out);
  EXPECT_EQ(out, std::string("\x8a\x0d"
                             "are you there",
                             15));
}

TEST_F(WebSocketLayerTest, AMessageOverTheLimitClosesWith1009) {
  layer->set_max_message(100);
  upgrade();
  const std::string out = exchange(frame(0x1, std::string(1000, 'x')));
  EXPECT_TRUE(layer->message_too_big());
  EXPECT_TRUE(layer->finished());
  std::string m;
  EXPECT_FALSE(layer->next_message(m));
  // A close frame with status 1009 (0x03f1).
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(out.substr(0, 4), std::string("\x88\x02\x03\xf1", 4));
}

TEST_F(WebSocketLayerTest, ClosingHandshakeAfterQueuedMessages) {
  upgrade();
  layer->send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  layer->close();
  layer->send("dropped after close");
  io.poll();
  io.restart();
  std::string out;
  layer->take_output(out);
  ASSERT_EQ(out.size(), 2 + 52 + 4u);
  EXPECT_EQ(out.substr(54), std::string("\x88\x02\x03\xe8", 4));  // 1000, normal
  EXPECT_FALSE(layer->finished());                                // waits for the peer's close
  exchange(frame(0x8, std::string("\x03\xe8", 2)));
  EXPECT_TRUE(layer->finished());
}

TEST_F(WebSocketLayerTest, ThePeerGoingAwayFinishesIt) {
  upgrade();
  layer->peer_closed();
  io.poll();
  EXPECT_TRUE(layer->finished());
}

TEST_F(WebSocketLayerTest, PagesHeadNotFoundAndKeepAlive) {
  std::string out = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n<p>chat</p>"), std::string::npos);
  EXPECT_FALSE(layer->finished());  // HTTP/1.1 keeps the connection
  out = exchange("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("Content-Length: 11\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("<p>"), std::string::npos);
  out = exchange("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 404", 0), 0u) << out;
  out = exchange("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 405", 0), 0u) << out;
  EXPECT_NE(out.find("Allow: GET, HEAD\r\n"), std::string::npos);
  out = exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_TRUE(layer->finished());
}

TEST_F(WebSocketLayerTest, ARequestLongerThanOneReadIsServed) {
  // Beast reads 512 octets at a time: a browser's request is longer.
  const std::string out =
      exchange("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: " + std::string(2000, 'b') + "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
}

TEST_F(WebSocketLayerTest, AReadLeftWaitingInsideAnOperationWakesTheConnection) {
  // Beast asks for more octets in the middle of reading a request: the connection must hear of
  // it, or it would never read the socket again.
  io.poll();
  io.restart();
  const int before = progress;
  EXPECT_TRUE(exchange("GET / HTTP/1.1\r\nHost").empty());
  EXPECT_GT(progress, before);
  EXPECT_TRUE(layer->wants_input());
  const std::string out = exchange(": x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
}

TEST_F(WebSocketLayerTest, BadRequestsGet400AndEndIt) {
  const std::string out = exchange("\x01\x02 nonsense\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_TRUE(layer->finished());
}

TEST_F(WebSocketLayerTest, OversizedHeadersGet400) {
  const std::string out =
      exchange("GET / HTTP/1.1\r\nX-Long: " + std::string(9000, 'a') + "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_TRUE(layer->finished());
}

TEST_F(WebSocketLayerTest, AnUpgradeWithoutTheSubprotocolIsRefused) {
  std::string request(kUpgrade);
  request.replace(request.find("chat, xmpp"), 10, "chat");
  const std::string out = exchange(request);
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
  EXPECT_FALSE(layer->open());
  EXPECT_TRUE(layer->finished());
}

TEST_F(WebSocketLayerTest, AnUpgradeOfAnotherPathIsNotFound) {
  std::string request(kUpgrade);
  request.replace(request.find("/xmpp-websocket"), 15, "/elsewhere");
  const std::string out = exchange(request);
  EXPECT_EQ(out.rfind("HTTP/1.1 404", 0), 0u) << out;
  EXPECT_FALSE(layer->open());
}

TEST_F(WebSocketLayerTest, NothingRunsAfterTheLayerIsGone) {
  upgrade();
  const int before = progress;
  layer->feed(frame(0x1, "late"));
  layer.reset();  // completions were posted: they must find nothing to touch
  io.poll();
  EXPECT_EQ(progress, before);
}

}  // namespace
}  // namespace portico::core
