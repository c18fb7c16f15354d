// lineproto — command dispatch and handlers of the test line protocol.
//
// Replies are "+OK ..." or "-ERR ...", one line each, CRLF-terminated. Every refusal of a
// command counts as a bad command through the core (which closes at its limit). Invariants:
// nothing is written after close(); DATA and BYTES mark the command in progress so the core's
// command timeout applies; no handler blocks (SLOW sleeps on the core's worker pool).
#include "session.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <variant>

namespace lineproto {
namespace {

namespace sdk = portico::sdk;

#if PORTICO_ABI_MINOR >= 3
// Sessions that said ID, for NOTIFY: their handle and the session itself, which the handle's
// post() reaches only while the connection lives (entries are never removed: a test plugin).
struct Registered {
  std::shared_ptr<sdk::SessionHandle> handle;
  LineSession* session = nullptr;
};
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::uint64_t, Registered>& registry() {
  static std::map<std::uint64_t, Registered> r;
  return r;
}

bool parse_int(std::string_view text, long long& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}
#endif

// Largest count BYTES accepts.
constexpr std::size_t max_bytes_count = 1024 * 1024;

struct Command {
  std::string_view verb;
  LineSession::Handler handler;
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

std::string_view strip_terminator(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool bare_lf(std::string_view line) {
  return line.size() >= 1 && line.back() == '\n' &&
         (line.size() < 2 || line[line.size() - 2] != '\r');
}

std::string with_unit(std::uint64_t n,
                      std::initializer_list<std::pair<std::uint64_t, const char*>> units,
                      const char* base) {
  for (auto [factor, suffix] : units) {
    if (n != 0 && n % factor == 0) return std::to_string(n / factor) + suffix;
  }
  return std::to_string(n) + base;
}

}  // namespace

SessionOptions SessionOptions::from(const sdk::Settings& settings) {
  SessionOptions o;
  if (settings.has("greeting_suffix")) o.greeting_suffix = settings.get_string("greeting_suffix");
  if (settings.has("max_echo")) o.max_echo = settings.get_size("max_echo");
  if (settings.has("mode.strict")) o.strict = settings.get_bool("mode.strict");
  return o;
}

std::string format_setting(const sdk::SettingValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
          return with_unit(static_cast<std::uint64_t>(v.count()),
                           {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}}, "ms");
        } else if constexpr (std::is_same_v<T, sdk::ByteSize>) {
          return with_unit(v.bytes, {{1ull << 30, "GB"}, {1ull << 20, "MB"}, {1ull << 10, "KB"}},
                           "");
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string out;
          for (const auto& s : v)
            out += (out.empty() ? "" : ",") + s;
          return out;
        } else {
          std::string out;
          for (const auto& l : v) {
            out += (out.empty() ? "" : ",") + l.address + ":" + std::to_string(l.port) + "/" +
                   sdk::to_string(l.tls);
          }
          return out;
        }
      },
      value);
}

LineSession::LineSession(sdk::SessionContext& context)
    : context_(context), options_(SessionOptions::from(context.settings())) {}

void LineSession::on_start() {
  reply(context_.banner() + options_.greeting_suffix);
}

void LineSession::on_line(std::string_view line) {
  if (state_ == State::closed) return;
  if (options_.strict && bare_lf(line)) return refuse("-ERR bare LF not allowed");
  std::string_view text = strip_terminator(line);
  if (state_ == State::data) return data_line(text);

#if PORTICO_ABI_MINOR >= 3
  if (state_ == State::raw) return;  // not reached: raw input goes to on_bytes
  static constexpr std::array<Command, 17> commands {
    {
      {"RAW", &LineSession::cmd_raw}, {"TIMEOUTS", &LineSession::cmd_timeouts},
          {"TIMER", &LineSession::cmd_timer}, {"CANCEL", &LineSession::cmd_cancel},
          {"FINAL", &LineSession::cmd_final}, {"ID", &LineSession::cmd_id},
          {"NOTIFY", &LineSession::cmd_notify},
#else
  static constexpr std::array<Command, 10> commands{{
#endif
          {"ECHO", &LineSession::cmd_echo}, {"NOOP", &LineSession::cmd_noop},
          {"QUIT", &LineSession::cmd_quit}, {"STARTTLS", &LineSession::cmd_starttls},
          {"TLS?", &LineSession::cmd_tls_query}, {"DATA", &LineSession::cmd_data},
          {"BYTES", &LineSession::cmd_bytes}, {"SLOW", &LineSession::cmd_slow},
          {"THROW", &LineSession::cmd_throw}, {"SETTING", &LineSession::cmd_setting},
    }
  };
  std::string_view verb = text.substr(0, text.find(' '));
  std::string_view argument = verb.size() < text.size() ? text.substr(verb.size() + 1) : "";
#if PORTICO_ABI_MINOR >= 6
  if (iequals(verb, "COMPRESS")) return cmd_compress(argument);
#endif
  for (const auto& c : commands) {
    if (iequals(verb, c.verb)) return (this->*c.handler)(argument);
  }
  refuse("-ERR unknown command");
}

void LineSession::on_line_too_long() {
  if (state_ != State::closed) refuse("-ERR line too long");
}

void LineSession::on_bytes(std::string_view bytes, bool last) {
#if PORTICO_ABI_MINOR >= 3
  if (state_ == State::raw) {
    // RAW: everything up to "END\n" is counted; then lines again.
    raw_.append(bytes);
    const auto end = raw_.find("END\n");
    if (end == std::string::npos) return context_.set_in_command(true);
    context_.set_in_command(false);
    context_.set_raw_input(false);
    state_ = State::command;
    reply("+OK raw " + std::to_string(end) + " bytes");
    raw_.clear();
    return;
  }
#endif
  if (state_ != State::bytes) return;
  bytes_received_ += bytes.size();
  if (!last) return;
  state_ = State::command;
  if (bytes_received_ != bytes_expected_) return refuse("-ERR byte count mismatch");
  reply("+OK " + std::to_string(bytes_received_) + " bytes");
}

void LineSession::on_tls_started() {
  // RFC 3207-style: the protocol state starts over on the secured channel.
  state_ = State::command;
  data_lines_ = 0;
}

void LineSession::on_close() {
  state_ = State::closed;
  // A registered session stays in the registry: NOTIFY then shows that its handle refuses to
  // post once the connection has ended (and never reaches the session object).
}

void LineSession::reply(std::string_view text) {
  std::string out(text);
  out += "\r\n";
  context_.write(out);
}

void LineSession::refuse(std::string_view text) {
  reply(text);
  context_.bad_command();
}

void LineSession::cmd_echo(std::string_view argument) {
  if (argument.size() > options_.max_echo) return refuse("-ERR too long");
  reply(argument.empty() ? std::string("+OK") : "+OK " + std::string(argument));
}

void LineSession::cmd_noop(std::string_view) {
  reply("+OK");
}

void LineSession::cmd_quit(std::string_view) {
  reply("+OK bye");
  state_ = State::closed;
  context_.close();
}

void LineSession::cmd_starttls(std::string_view) {
  if (!context_.starttls_available()) return refuse("-ERR TLS not available");
  reply("+OK begin TLS");
  context_.start_tls();
}

void LineSession::cmd_tls_query(std::string_view) {
  reply(context_.is_tls() ? "+OK yes" : "+OK no");
}

void LineSession::cmd_data(std::string_view) {
  reply("+OK send lines, end with .");
  state_ = State::data;
  data_lines_ = 0;
  context_.set_in_command(true);
}

void LineSession::data_line(std::string_view text) {
  if (text != ".") {
    ++data_lines_;
    return;
  }
  state_ = State::command;
  context_.set_in_command(false);
  reply("+OK " + std::to_string(data_lines_) + " lines");
}

void LineSession::cmd_bytes(std::string_view argument) {
  std::size_t count = 0;
  auto [end, ec] = std::from_chars(argument.data(), argument.data() + argument.size(), count);
  if (argument.empty() || ec != std::errc() || end != argument.data() + argument.size() ||
      count > max_bytes_count) {
    return refuse("-ERR bad byte count");
  }
  if (count == 0) return reply("+OK 0 bytes");
  state_ = State::bytes;
  bytes_expected_ = count;
  bytes_received_ = 0;
  context_.read_bytes(count);
}

void LineSession::cmd_slow(std::string_view) {
  // The context outlives the session, and `done` is skipped once the session has closed.
  sdk::SessionContext& context = context_;
  context_.post_work([] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); },
                     [&context] { context.write("+OK done\r\n"); });
}

void LineSession::cmd_throw(std::string_view) {
  throw std::runtime_error("THROW asked for an exception");
}

void LineSession::cmd_setting(std::string_view argument) {
  const sdk::Settings& settings = context_.settings();
  std::string key(argument);
  if (key.empty() || !settings.has(key)) return refuse("-ERR no such setting");
  reply("+OK " + format_setting(settings.value(key)));
}

#if PORTICO_ABI_MINOR >= 3
void LineSession::cmd_raw(std::string_view) {
  reply("+OK raw");
  state_ = State::raw;
  raw_.clear();
  context_.set_raw_input(true);
}

void LineSession::cmd_timeouts(std::string_view argument) {
  const auto space = argument.find(' ');
  long long s = 0, c = 0;
  if (space == std::string_view::npos || !parse_int(argument.substr(0, space), s) ||
      !parse_int(argument.substr(space + 1), c)) {
    return refuse("-ERR syntax: TIMEOUTS session_ms command_ms");
  }
  context_.set_timeouts(std::chrono::milliseconds(s), std::chrono::milliseconds(c));
  reply("+OK");
}

void LineSession::cmd_timer(std::string_view argument) {
  const auto space = argument.find(' ');
  long long ms = 0;
  if (space == std::string_view::npos || !parse_int(argument.substr(0, space), ms) || ms < 0)
    return refuse("-ERR syntax: TIMER ms text");
  std::string text(argument.substr(space + 1));
  const auto id = context_.start_timer(std::chrono::milliseconds(ms),
                                       [this, text] { reply("+TIMER " + text); });
  reply("+OK timer " + std::to_string(id));
}

void LineSession::cmd_cancel(std::string_view argument) {
  long long id = 0;
  if (!parse_int(argument, id)) return refuse("-ERR syntax: CANCEL id");
  context_.cancel_timer(static_cast<std::uint64_t>(id));
  reply("+OK");
}

void LineSession::cmd_final(std::string_view argument) {
  final_words_ = std::string(argument);
  reply("+OK");
}

bool LineSession::on_final_words(sdk::CloseReason reason) {
  if (final_words_.empty()) return false;
  const char* why = reason == sdk::CloseReason::command_timeout   ? "command timeout"
                    : reason == sdk::CloseReason::session_timeout ? "session timeout"
                                                                  : "shutdown";
  reply("-ERR " + final_words_ + " (" + why + ")");
  return true;
}

void LineSession::cmd_id(std::string_view) {
  id_ = context_.connection().id;
  {
    std::lock_guard lock(registry_mutex());
    registry()[id_] = Registered{context_.handle(), this};
  }
  reply("+OK " + std::to_string(id_));
}

void LineSession::cmd_notify(std::string_view argument) {
  const auto space = argument.find(' ');
  long long id = 0;
  if (space == std::string_view::npos || !parse_int(argument.substr(0, space), id))
    return refuse("-ERR syntax: NOTIFY id text");
  Registered target;
  {
    std::lock_guard lock(registry_mutex());
    auto it = registry().find(static_cast<std::uint64_t>(id));
    if (it == registry().end()) return reply("-ERR no such session");
    target = it->second;
  }
  std::string text(argument.substr(space + 1));
  LineSession* session = target.session;
  if (!target.handle->post([session, text] { session->reply("+NOTE " + text); }))
    return reply("-ERR gone");
  reply("+OK sent");
}
#endif

#if PORTICO_ABI_MINOR >= 6
void LineSession::cmd_compress(std::string_view) {
  // The reply goes uncompressed; everything after it, both ways, is deflated.
  reply("+OK compressing");
  if (!context_.start_compression()) return refuse("-ERR already compressing");
}
#endif

}  // namespace lineproto
