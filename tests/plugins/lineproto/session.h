// lineproto — the session of Portico's test line protocol.
//
// Built twice: against the current SDK and against the frozen 1.0 headers (tests/plugins/
// sdk-1.0); what SDK 1.3 added is compiled only when PORTICO_ABI_MINOR says it is there.
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

#include "portico/abi.h"  // PORTICO_ABI_MINOR: which SDK these headers are
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
#if PORTICO_ABI_MINOR >= 3
  bool on_final_words(portico::sdk::CloseReason reason) override;
#endif

  // One command handler: the argument is what follows the verb and one space.
  using Handler = void (LineSession::*)(std::string_view argument);

 private:
  enum class State { command, data, bytes, raw, closed };

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
#if PORTICO_ABI_MINOR >= 3
  // SDK 1.3: raw input, the session's own timeouts and timers, last words, handles.
  void cmd_raw(std::string_view argument);
  void cmd_timeouts(std::string_view argument);
  void cmd_timer(std::string_view argument);
  void cmd_cancel(std::string_view argument);
  void cmd_final(std::string_view argument);
  void cmd_id(std::string_view argument);
  void cmd_notify(std::string_view argument);
  std::string raw_;          // RAW: bytes so far
  std::string final_words_;  // FINAL: what on_final_words() writes
  std::uint64_t id_ = 0;     // ID: registered for NOTIFY
#endif

#if PORTICO_ABI_MINOR >= 6
  void cmd_compress(std::string_view argument);  // SDK 1.6: deflate, both ways
#endif

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
