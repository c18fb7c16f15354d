// Session tests of lineproto, the test protocol: the plugin is loaded by the real loader and a
// session is driven line by line through a fake context (the core's line splitting is tested
// with the core). Each test is a short transcript: what is fed, what must come back.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/plugins/loader.h"
#include "fakes.h"

namespace sdk = portico::sdk;
using portico::test::FakeSessionContext;

namespace {

sdk::Settings default_settings() {
  return sdk::Settings({
      {"banner", std::string("+OK #HostName# lineproto ready")},
      {"max_bad_commands", std::int64_t{8}},
      {"command_timeout", std::chrono::milliseconds(60000)},
      {"greeting_suffix", std::string()},
      {"max_echo", sdk::ByteSize{16}},
      {"mode.strict", false},
  });
}

class LineProto : public testing::Test {
 protected:
  void SetUp() override {
    scan_ = portico::core::load_plugins(std::filesystem::path(PORTICO_TEST_PLUGIN_DIR) / "good",
                                        [this](const std::string&) -> sdk::Host& { return host_; });
    ASSERT_EQ(scan_.loaded.size(), 1u);
    plugin_ = scan_.loaded[0].instance;
  }
  void TearDown() override { session_.reset(); }

  FakeSessionContext& start(sdk::Settings settings = default_settings()) {
    ctx_ = std::make_unique<FakeSessionContext>(host_, std::move(settings),
                                                "+OK #HostName# lineproto ready");
    session_ = plugin_->open_session(*ctx_);
    session_->on_start();
    return *ctx_;
  }
  // Feeds one line and returns what the session wrote in answer.
  std::string send(std::string_view line) {
    session_->on_line(line);
    return ctx_->take();
  }

  portico::test::FakeHost host_;
  portico::core::PluginScan scan_;
  std::shared_ptr<sdk::Plugin> plugin_;
  std::unique_ptr<FakeSessionContext> ctx_;
  std::unique_ptr<sdk::Session> session_;
};

TEST_F(LineProto, GreetsEchoesAndQuits) {
  auto& ctx = start();
  EXPECT_EQ(ctx.take(), "+OK mail.example.test lineproto ready\r\n");
  EXPECT_EQ(send("ECHO hello world\r\n"), "+OK hello world\r\n");
  EXPECT_EQ(send("echo lower case verb\n"), "+OK lower case verb\r\n");
  EXPECT_EQ(send("NOOP\r\n"), "+OK\r\n");
  EXPECT_EQ(send("TLS?\r\n"), "+OK no\r\n");
  EXPECT_EQ(ctx.bad_commands, 0);
  EXPECT_EQ(send("QUIT\r\n"), "+OK bye\r\n");
  EXPECT_TRUE(ctx.closed);
}

TEST_F(LineProto, CountsBadCommands) {
  auto& ctx = start();
  ctx.take();
  EXPECT_EQ(send("HELO there\r\n"), "-ERR unknown command\r\n");
  EXPECT_EQ(send("ECHO this text is longer than sixteen bytes\r\n"), "-ERR too long\r\n");
  EXPECT_EQ(send("BYTES lots\r\n"), "-ERR bad byte count\r\n");
  EXPECT_EQ(send("BYTES 2000000\r\n"), "-ERR bad byte count\r\n");
  EXPECT_EQ(send("STARTTLS\r\n"), "-ERR TLS not available\r\n");
  session_->on_line_too_long();
  EXPECT_EQ(ctx.take(), "-ERR line too long\r\n");
  EXPECT_EQ(ctx.bad_commands, 6);
}

TEST_F(LineProto, StartTlsWhenOffered) {
  auto& ctx = start();
  ctx.take();
  ctx.offer_starttls = true;
  EXPECT_EQ(send("STARTTLS\r\n"), "+OK begin TLS\r\n");
  EXPECT_TRUE(ctx.tls_requested);
  ctx.tls = true;
  session_->on_tls_started();
  EXPECT_EQ(send("TLS?\r\n"), "+OK yes\r\n");
}

TEST_F(LineProto, DataCountsLinesInCommandMode) {
  auto& ctx = start();
  ctx.take();
  EXPECT_EQ(send("DATA\r\n"), "+OK send lines, end with .\r\n");
  EXPECT_TRUE(ctx.in_command);
  EXPECT_EQ(send("first\r\n"), "");
  EXPECT_EQ(send("QUIT\r\n"), "") << "commands are data inside DATA";
  EXPECT_EQ(send("..\r\n"), "");
  EXPECT_EQ(send(".\r\n"), "+OK 3 lines\r\n");
  EXPECT_FALSE(ctx.in_command);
  EXPECT_FALSE(ctx.closed);
}

TEST_F(LineProto, BytesReadsRawPieces) {
  auto& ctx = start();
  ctx.take();
  EXPECT_EQ(send("BYTES 10\r\n"), "");
  EXPECT_EQ(ctx.bytes_requested, 10u);
  session_->on_bytes("0123", false);
  EXPECT_EQ(ctx.take(), "");
  session_->on_bytes("456789", true);
  EXPECT_EQ(ctx.take(), "+OK 10 bytes\r\n");
  EXPECT_EQ(send("BYTES 0\r\n"), "+OK 0 bytes\r\n");
}

TEST_F(LineProto, SlowRepliesFromPostedWork) {
  start().take();
  EXPECT_EQ(send("SLOW\r\n"), "+OK done\r\n");
}

TEST_F(LineProto, ThrowEscapesTheCallback) {
  start().take();
  EXPECT_THROW(session_->on_line("THROW\r\n"), std::runtime_error);
}

TEST_F(LineProto, ReadsItsOwnSettings) {
  auto settings = default_settings();
  settings.set("greeting_suffix", std::string(" (test)"));
  settings.set("mode.strict", true);
  auto& ctx = start(settings);
  EXPECT_EQ(ctx.take(), "+OK mail.example.test lineproto ready (test)\r\n");
  EXPECT_EQ(send("SETTING greeting_suffix\r\n"), "+OK  (test)\r\n");
  EXPECT_EQ(send("SETTING max_echo\r\n"), "+OK 16\r\n");
  EXPECT_EQ(send("SETTING mode.strict\r\n"), "+OK true\r\n");
  EXPECT_EQ(send("SETTING command_timeout\r\n"), "+OK 1m\r\n");
  EXPECT_EQ(send("SETTING no.such.key\r\n"), "-ERR no such setting\r\n");
  EXPECT_EQ(send("NOOP\n"), "-ERR bare LF not allowed\r\n");
  EXPECT_EQ(ctx.bad_commands, 2);
}

TEST_F(LineProto, SchemaDeclaresDefaultsAndOwnSettings) {
  auto schema = plugin_->schema();
  EXPECT_EQ(schema.shared.banner, "+OK #HostName# lineproto ready");
  ASSERT_EQ(schema.shared.listeners.size(), 1u);
  EXPECT_EQ(schema.shared.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(schema.shared.listeners[0].port, 7070);
  EXPECT_EQ(schema.shared.command_timeout, "1m");
  EXPECT_EQ(schema.shared.session_timeout, "5m");
  EXPECT_EQ(schema.shared.max_connections, 100);
  ASSERT_EQ(schema.settings.size(), 3u);
  EXPECT_EQ(schema.settings[1].key, "max_echo");
  EXPECT_EQ(schema.settings[1].type, sdk::SettingType::size);
  EXPECT_EQ(schema.settings[1].max_text, "1MB");
  auto traits = plugin_->traits();
  EXPECT_EQ(traits.too_many_bad_commands_reply, "-ERR too many bad commands, closing\r\n");
}

}  // namespace
