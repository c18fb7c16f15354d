// Tests of the SDK test kit's WebSocket mode (SessionDriver::set_websocket, SDK 1.9): a session
// sees messages whole through on_message, each write() is one message, pauses hold messages
// back, and a message over the maximum line length gets on_line_too_long() and closes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "portico/testkit/driver.h"
#include "portico/testkit/host.h"

namespace portico::testkit {
namespace {

// Answers each message with "got <message>", as two writes ("got", the message); "pause" pauses
// its input.
class EchoMessages final : public sdk::Session {
 public:
  explicit EchoMessages(sdk::SessionContext& ctx) : ctx_(ctx) {}
  void on_start() override {
    websocket = ctx_.is_websocket();
    ctx_.set_max_line_length(16);
  }
  void on_line(std::string_view) override { ++lines; }
  void on_line_too_long() override { ++too_long; }
  void on_message(std::string_view m) override {
    if (m == "pause") return ctx_.pause_input();
    ctx_.write("got");
    ctx_.write(m);
  }
  sdk::SessionContext& ctx_;
  bool websocket = false;
  int lines = 0;
  int too_long = 0;
};

struct Fixture {
  TestHost host;
  EchoMessages* session = nullptr;
  SessionDriver driver{[this](sdk::SessionContext& ctx) {
                         auto s = std::make_unique<EchoMessages>(ctx);
                         session = s.get();
                         return s;
                       },
                       host};
};

TEST(TestkitWebSocket, MessagesInEachWriteAMessageOut) {
  Fixture f;
  f.driver.set_websocket();
  f.driver.start();
  EXPECT_TRUE(f.session->websocket);
  EXPECT_FALSE(f.driver.starttls_available());
  f.driver.message("<a/>\n<b/>");  // line ends mean nothing here
  EXPECT_EQ(f.driver.take_messages(), (std::vector<std::string>{"got", "<a/>\n<b/>"}));
  EXPECT_EQ(f.session->lines, 0);
}

TEST(TestkitWebSocket, PausedInputHoldsMessagesBack) {
  Fixture f;
  f.driver.set_websocket();
  f.driver.start();
  f.driver.message("pause");
  f.driver.message("later");
  EXPECT_TRUE(f.driver.take_messages().empty());
  f.driver.resume_input();
  f.driver.message("now");
  EXPECT_EQ(f.driver.take_messages(), (std::vector<std::string>{"got", "later", "got", "now"}));
}

TEST(TestkitWebSocket, AMessageOverTheLimitCloses) {
  Fixture f;
  f.driver.set_websocket();
  f.driver.start();
  f.driver.message(std::string(17, 'x'));
  EXPECT_EQ(f.session->too_long, 1);
  EXPECT_TRUE(f.driver.closed());
  EXPECT_TRUE(f.driver.take_messages().empty());
}

TEST(TestkitWebSocket, WithoutItLinesAsBefore) {
  Fixture f;
  f.driver.start();
  EXPECT_FALSE(f.session->websocket);
  f.driver.feed("a line\r\n");
  EXPECT_EQ(f.session->lines, 1);
}

}  // namespace
}  // namespace portico::testkit
