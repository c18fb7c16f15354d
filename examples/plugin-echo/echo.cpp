// echo — a line echo service for Portico, in the spirit of RFC 862 but line-based and with a
// greeting; the SDK's example of a complete plugin built out of tree.
//
// Session: the greeting is the `banner` setting (default "+OK #HostName# echo service ready");
// every line is sent back exactly as received, terminator included; "QUIT" (any case) answers
// "+OK bye" and closes; a line over the maximum length is answered "-ERR line too long" and
// counted as a bad command. The core does the rest: listeners, TLS, timeouts, connection limits.
#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>

#include "portico/plugin.h"

namespace {

namespace sdk = portico::sdk;

bool is_quit(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  constexpr std::string_view quit = "QUIT";
  return line.size() == quit.size() &&
         std::equal(line.begin(), line.end(), quit.begin(), [](char a, char b) {
           return std::toupper(static_cast<unsigned char>(a)) == b;
         });
}

class EchoSession final : public sdk::Session {
 public:
  explicit EchoSession(sdk::SessionContext& context) : context_(context) {}

  void on_start() override { context_.write(context_.banner() + "\r\n"); }

  void on_line(std::string_view line) override {
    if (!is_quit(line)) return context_.write(line);
    context_.write("+OK bye\r\n");
    context_.close();
  }

  void on_line_too_long() override {
    context_.write("-ERR line too long\r\n");
    context_.bad_command();
  }

 private:
  sdk::SessionContext& context_;
};

class EchoPlugin final : public sdk::Plugin {
 public:
  explicit EchoPlugin(sdk::Host&) {}

  sdk::Schema schema() const override {
    sdk::Schema s;
    s.summary = "line echo service (RFC 862 style, with a greeting)";
    s.shared.listeners = {sdk::ListenerSpec{"127.0.0.1", 7007, sdk::TlsMode::none, "", ""}};
    s.shared.banner = "+OK #HostName# echo service ready";
    s.shared.max_connections = 100;
    return s;
  }

  sdk::ProtocolTraits traits() const override {
    sdk::ProtocolTraits t;
    t.max_line_length = 1024;
    t.busy_reply = "-ERR too many connections\r\n";
    t.too_many_bad_commands_reply = "-ERR too many bad lines, closing\r\n";
    t.command_timeout_reply = "-ERR timeout\r\n";
    t.session_timeout_reply = "-ERR idle timeout\r\n";
    t.shutdown_reply = "-ERR server shutting down\r\n";
    return t;
  }

  std::unique_ptr<sdk::Session> open_session(sdk::SessionContext& context) override {
    return std::make_unique<EchoSession>(context);
  }
};

}  // namespace

PORTICO_PLUGIN(EchoPlugin, "echo", "1.0.0");
