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
  if (session_ && !closed_) session_->on_close();
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
  if (!closed_ && !closing_) output_.append(bytes);
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
