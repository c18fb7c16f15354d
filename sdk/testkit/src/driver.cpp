// Portico SDK test kit — the session driver (see portico/testkit/driver.h).
#include "portico/testkit/driver.h"

#include <stdexcept>
#include <utility>

#include "core/banner/templater.h"
#include "core/net/framer.h"

namespace portico::testkit {

namespace {

std::uint16_t port_of(const std::string& listener) {
  const auto colon = listener.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("listener without a port: " + listener);
  return static_cast<std::uint16_t>(std::stoi(listener.substr(colon + 1)));
}

}  // namespace

SessionDriver::SessionDriver(sdk::OutboundSessionFactory open, sdk::Host& host,
                             DriverOptions options)
    : open_(std::move(open)),
      host_(host),
      options_(std::move(options)),
      input_(std::make_unique<core::InputFramer>(8192)) {
  info_.id = 1;
  info_.protocol = "test/out";
  info_.remote_address = options_.remote_address;
  info_.remote_port = options_.remote_port;
  info_.local_address = "192.0.2.100";
  info_.local_port = 40000;
  info_.listener = "outbound";
  info_.server_hostname = host_.hostname();
  tls_ = options_.implicit_tls;
}

SessionDriver::SessionDriver(sdk::Plugin& plugin, sdk::Host& host, sdk::Settings settings,
                             DriverOptions options)
    : plugin_(&plugin), host_(host), settings_(std::move(settings)), options_(std::move(options)) {
  const sdk::ProtocolTraits traits = plugin.traits();
  input_ = std::make_unique<core::InputFramer>(traits.max_line_length);
  too_many_bad_commands_reply_ = traits.too_many_bad_commands_reply;
  command_timeout_reply_ = traits.command_timeout_reply;
  session_timeout_reply_ = traits.session_timeout_reply;
  shutdown_reply_ = traits.shutdown_reply;
  info_.id = 1;
  info_.protocol = "test";
  info_.remote_address = options_.remote_address;
  info_.remote_port = options_.remote_port;
  info_.local_address = options_.listener.substr(0, options_.listener.rfind(':'));
  info_.local_port = port_of(options_.listener);
  info_.listener = options_.listener;
  info_.server_hostname = host_.hostname();
  tls_ = options_.implicit_tls;
}

SessionDriver::~SessionDriver() {
  *alive_ = false;
  if (session_ && !closed_) session_->on_close();
}

void SessionDriver::set_raw_input(bool raw) {
  input_->set_raw(raw);
}

bool SessionDriver::raw_input() const {
  return input_->raw();
}

std::uint64_t SessionDriver::start_timer(std::chrono::milliseconds delay,
                                         std::function<void()> fn) {
  const std::uint64_t id = ++next_timer_;
  timers_[id] = Timer{delay, std::move(fn)};
  return id;
}

std::size_t SessionDriver::run_timers(std::size_t limit) {
  std::size_t ran = 0;
  while (ran < limit && !timers_.empty() && !closed_) {
    auto next = std::min_element(timers_.begin(), timers_.end(), [](const auto& a, const auto& b) {
      return a.second.delay != b.second.delay ? a.second.delay < b.second.delay : a.first < b.first;
    });
    std::function<void()> fn = std::move(next->second.fn);
    timers_.erase(next);
    ++ran;
    if (fn) fn();
    pump();
  }
  return ran;
}

namespace {

class DriverHandle final : public sdk::SessionHandle {
 public:
  DriverHandle(SessionDriver& driver, std::shared_ptr<bool> alive, std::uint64_t id)
      : driver_(driver), alive_(std::move(alive)), id_(id) {}
  bool post(std::function<void()> fn) override {
    if (!*alive_ || driver_.closed()) return false;
    driver_.post_work(nullptr, std::move(fn));
    return true;
  }
  std::uint64_t connection_id() const override { return id_; }

 private:
  SessionDriver& driver_;
  std::shared_ptr<bool> alive_;
  std::uint64_t id_;
};

}  // namespace

std::shared_ptr<sdk::SessionHandle> SessionDriver::handle() {
  return std::make_shared<DriverHandle>(*this, alive_, info_.id);
}

void SessionDriver::end(sdk::CloseReason reason) {
  if (closed_ || closing_) return;
  const bool own = session_ && session_->on_final_words(reason);
  if (!own && plugin_) {
    const std::string& reply = reason == sdk::CloseReason::command_timeout ? command_timeout_reply_
                               : reason == sdk::CloseReason::session_timeout
                                   ? session_timeout_reply_
                                   : shutdown_reply_;
    output_ += core::render_template(reply, info_, false);
  }
  closing_ = true;
  pump();
}

void SessionDriver::start() {
  session_ = plugin_ ? plugin_->open_session(*this) : open_(*this);
  if (!session_) throw std::runtime_error("the plugin opened no session");
  session_->on_start();
  pump();
}

std::string SessionDriver::banner() const {
  if (!settings_.has("banner")) return {};
  return core::render_template(settings_.get_string("banner"), info_);
}

void SessionDriver::write(std::string_view bytes) {
  if (closed_ || closing_) return;
  output_.append(bytes);
  if (websocket_) messages_.emplace_back(bytes);
}

void SessionDriver::message(std::string_view text) {
  if (closed_) return;
  incoming_.emplace_back(text);
  if (session_) pump();
}

std::string SessionDriver::take() {
  return std::exchange(output_, {});
}

std::size_t SessionDriver::max_line_length() const {
  return input_->max_line();
}

void SessionDriver::set_max_line_length(std::size_t bytes) {
  input_->set_max_line(bytes);
}

void SessionDriver::read_bytes(std::size_t count) {
  input_->read_bytes(count);
}

bool SessionDriver::bad_command() {
  ++bad_commands_;
  if (!plugin_) return closing_;
  const std::int64_t limit =
      settings_.has("max_bad_commands") ? settings_.get_int("max_bad_commands") : 0;
  if (limit > 0 && bad_commands_ >= limit && !closing_) {
    output_ += core::render_template(too_many_bad_commands_reply_, info_, false);
    closing_ = true;
    return true;
  }
  return closing_;
}

bool SessionDriver::start_tls() {
  if (!starttls_available() || tls_requested_) return false;
  tls_requested_ = true;
  return true;
}

bool SessionDriver::start_compression() {
  if (compressed_ || tls_requested_ || closing_ || closed_) return false;
  compressed_ = true;
  return true;
}

void SessionDriver::post_work(std::function<void()> work, std::function<void()> done) {
  tasks_.push_back({std::move(work), std::move(done)});
}

void SessionDriver::post_work_on(sdk::WorkPool, std::function<void()> work,
                                 std::function<void()> done) {
  tasks_.push_back({std::move(work), std::move(done)});
}

void SessionDriver::post_after(std::chrono::milliseconds, std::function<void()> fn) {
  tasks_.push_back({nullptr, std::move(fn)});
}

void SessionDriver::log(sdk::LogLevel level, std::string_view message) {
  host_.log(level, message);
}

void SessionDriver::feed(std::string_view bytes) {
  if (closed_) return;
  input_->append(bytes);
  if (session_) pump();
}

std::size_t SessionDriver::input_pending() const {
  return options_.client_waits ? 0 : input_->buffered();
}

void SessionDriver::disconnect() {
  if (closed_) return;
  closed_ = true;
  tasks_.clear();
  timers_.clear();
  if (session_) session_->on_close();
}

// The core's runner without sockets: queued work first (as completions arrive on the executor),
// then input — lines, byte runs and too-long reports, in order — stopping while paused, at a
// TLS upgrade, or once closing.
void SessionDriver::pump() {
  if (pumping_) return;
  pumping_ = true;
  while (!closed_) {
    if (!tasks_.empty()) {
      Task task = std::move(tasks_.front());
      tasks_.pop_front();
      if (task.work) task.work();
      if (task.done && !closed_) task.done();
      continue;
    }
    if (closing_) {
      closed_ = true;
      session_->on_close();
      break;
    }
    if (tls_requested_) {
      tls_requested_ = false;
      input_->clear();  // RFC 3207 section 4.2
      tls_ = true;
      session_->on_tls_started();
      continue;
    }
    if (paused_) break;
    if (websocket_) {
      if (incoming_.empty()) break;
      std::string text = std::move(incoming_.front());
      incoming_.pop_front();
      if (text.size() > input_->max_line()) {
        session_->on_line_too_long();
        closing_ = true;  // the core closes with status 1009
      } else {
        session_->on_message(text);
      }
      continue;
    }
    const auto item = input_->next();
    if (item.kind == core::InputFramer::Kind::none) break;
    switch (item.kind) {
      case core::InputFramer::Kind::line:
        session_->on_line(item.data);
        break;
      case core::InputFramer::Kind::bytes:
        session_->on_bytes(item.data, item.last);
        break;
      case core::InputFramer::Kind::too_long:
        session_->on_line_too_long();
        break;
      case core::InputFramer::Kind::none:
        break;
    }
  }
  input_->compact();
  pumping_ = false;
}

}  // namespace portico::testkit
