// Tests of the web chat listeners' settings (plugins/xmpp/web.h): the URLs operators write, the
// listeners and pages they become, and the URLs refused with a reason.
#include "web.h"

#include <gtest/gtest.h>

namespace portico::xmpp {
namespace {

WebChatUrl parse(const std::string& url) {
  std::string error;
  auto u = parse_web_chat_url(url, error);
  EXPECT_TRUE(u.has_value()) << url << ": " << error;
  return u.value_or(WebChatUrl{});
}

std::string refusal(const std::string& url) {
  std::string error;
  EXPECT_FALSE(parse_web_chat_url(url, error).has_value()) << url;
  return error;
}

TEST(WebChatUrlTest, AddressPortTlsAndPath) {
  WebChatUrl u = parse("http://127.0.0.1:5280/xmpp-websocket");
  EXPECT_EQ(u.listener.address, "127.0.0.1");
  EXPECT_EQ(u.listener.port, 5280);
  EXPECT_EQ(u.listener.tls, sdk::TlsMode::none);
  EXPECT_EQ(u.path, "/xmpp-websocket");
  u = parse("https://[::1]:5281/chat/ws");
  EXPECT_EQ(u.listener.address, "::1");
  EXPECT_EQ(u.listener.port, 5281);
  EXPECT_EQ(u.listener.tls, sdk::TlsMode::implicit);
  EXPECT_EQ(u.path, "/chat/ws");
}

TEST(WebChatUrlTest, DefaultPortsAndPath) {
  EXPECT_EQ(parse("http://0.0.0.0").listener.port, 80);
  EXPECT_EQ(parse("https://0.0.0.0/").listener.port, 443);
  EXPECT_EQ(parse("http://127.0.0.1:8080").path, "/xmpp-websocket");
}

TEST(WebChatUrlTest, RefusedWithAReason) {
  EXPECT_NE(refusal("ftp://127.0.0.1/").find("http://"), std::string::npos);
  EXPECT_NE(refusal("http://chat.example.com/ws").find("IP address"), std::string::npos);
  EXPECT_NE(refusal("http://127.0.0.1:0/").find("port"), std::string::npos);
  EXPECT_NE(refusal("http://127.0.0.1:65536/").find("port"), std::string::npos);
  EXPECT_NE(refusal("http://127.0.0.1:12a/").find("port"), std::string::npos);
  EXPECT_NE(refusal("http://[::1/").find("]"), std::string::npos);
  EXPECT_NE(refusal("http://127.0.0.1/ws?x=1").find("query"), std::string::npos);
}

TEST(WebChatListenersTest, EachUrlIsAListenerWithThePageAndDiscovery) {
  XmppSettings s;
  s.web_chat_listeners = {"http://127.0.0.1:5280/xmpp-websocket", "https://[::1]/ws"};
  auto listeners = web_chat_listeners(s);
  ASSERT_EQ(listeners.size(), 2u);
  EXPECT_EQ(listeners[0].subprotocol, "xmpp");
  EXPECT_EQ(listeners[0].path, "/xmpp-websocket");
  auto page = [](const sdk::WebSocketListener& l, const std::string& path) {
    for (const auto& p : l.pages)
      if (p.path == path) return p.body;
    return std::string("(none)");
  };
  EXPECT_NE(page(listeners[0], "/").find("content=\"/xmpp-websocket\""), std::string::npos);
  EXPECT_NE(page(listeners[0], "/webchat.js").find("SCRAM"), std::string::npos);
  EXPECT_NE(page(listeners[0], "/.well-known/host-meta")
                .find("href='ws://127.0.0.1:5280/xmpp-websocket'"),
            std::string::npos);
  EXPECT_NE(page(listeners[1], "/.well-known/host-meta.json").find("\"wss://[::1]/ws\""),
            std::string::npos);
  EXPECT_TRUE(check_web_chat_listeners(s).empty());
}

TEST(WebChatListenersTest, CheckReportsBadAndRepeatedUrls) {
  XmppSettings s;
  s.web_chat_listeners = {"http://127.0.0.1:5280/a", "https://127.0.0.1:5280/b", "nonsense"};
  const auto errors = check_web_chat_listeners(s);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("repeats"), std::string::npos);
  EXPECT_NE(errors[1].find("nonsense"), std::string::npos);
}

}  // namespace
}  // namespace portico::xmpp
