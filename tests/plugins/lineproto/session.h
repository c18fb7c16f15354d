// lineproto — the session of Portico's test line protocol.
//
// A small but real protocol over the SDK's session interface, used by the core's integration
// tests to exercise every service a protocol can ask of the core: greeting with the templated
// banner, line replies, bad-command counting, STARTTLS, multi-line commands (DATA), raw byte
// reads (BYTES), work on the worker pool (SLOW), a callback that throws (THROW), and the
// plugin's own settings. Commands are case-insensitive verbs; see session.cpp for the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "portico/session.h"

namespace lineproto {

// The plugin's own settings as one session sees them (defaults when a key is absent).
struct SessionOptions {
  std::string greeting_suffix;
  std::uint64_t max_echo = 1024;
  bool strict = false;  // refuse lines ending in a bare LF

  static SessionOptions from(const portico::sdk::Settings& settings);
};

class LineSession final : public portico::sdk::Session {
 public:
  explicit LineSession(portico::sdk::SessionContext& context);

  void on_start() override;
  void on_line(std::string_view line) override;
  void on_line_too_long() override;
  void on_bytes(std::string_view bytes, bool last) override;
  void on_tls_started() override;
  void on_close() override;

  // One command handler: the argument is what follows the verb and one space.
  using Handler = void (LineSession::*)(std::string_view argument);

 private:
  enum class State { command, data, bytes, closed };

  void reply(std::string_view text);
  void refuse(std::string_view text);  // reply, then count a bad command

  void cmd_echo(std::string_view argument);
  void cmd_noop(std::string_view argument);
  void cmd_quit(std::string_view argument);
  void cmd_starttls(std::string_view argument);
  void cmd_tls_query(std::string_view argument);
  void cmd_data(std::string_view argument);
  void cmd_bytes(std::string_view argument);
  void cmd_slow(std::string_view argument);
  void cmd_throw(std::string_view argument);
  void cmd_setting(std::string_view argument);

  void data_line(std::string_view text);

  portico::sdk::SessionContext& context_;
  SessionOptions options_;
  State state_ = State::command;
  std::size_t data_lines_ = 0;
  std::size_t bytes_expected_ = 0;
  std::size_t bytes_received_ = 0;
};

// Renders any setting value the way an operator would write it (for SETTING).
std::string format_setting(const portico::sdk::SettingValue& value);

}  // namespace lineproto
