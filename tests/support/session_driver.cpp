// Test support — the session driver (see session_driver.h).
#include "session_driver.h"

#include <unistd.h>

#include <regex>
#include <sstream>
#include <stdexcept>

#include "core/banner/templater.h"
#include "core/config/config.h"

namespace portico::testing {

namespace fs = std::filesystem;

TestServices::TestServices() {
  char tmpl[] = "/tmp/portico-driver-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  directory_ = core::open_directory(dir_);
  store_ = core::open_store(dir_);
  queue_ = core::open_queue(dir_);
}

TestServices::~TestServices() {
  queue_.reset();
  store_.reset();
  directory_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string TestHost::render_template(std::string_view text,
                                      const sdk::ConnectionInfo& conn) const {
  return core::render_template(text, conn);
}

SessionDriver::SessionDriver(sdk::OutboundSessionFactory open, sdk::Host& host,
                             DriverOptions options)
    : open_(std::move(open)), host_(host), options_(std::move(options)), input_(8192) {
  info_.id = 1;
  info_.protocol = "test/out";
  info_.remote_address = "192.0.2.2";
  info_.remote_port = 110;
  info_.local_address = "192.0.2.1";
  info_.local_port = 40000;
  info_.listener = "outbound";
  info_.server_hostname = host_.hostname();
  tls_ = options_.implicit_tls;
}

SessionDriver::SessionDriver(sdk::Plugin& plugin, sdk::Host& host, sdk::Settings settings,
                             DriverOptions options)
    : plugin_(&plugin),
      host_(host),
      settings_(std::move(settings)),
      options_(std::move(options)),
      input_(plugin.traits().max_line_length) {
  info_.id = 1;
  info_.protocol = "test";
  info_.remote_address = "192.0.2.1";
  info_.remote_port = 40000;
  const auto colon = options_.listener.rfind(':');
  info_.local_address = options_.listener.substr(0, colon);
  info_.local_port = static_cast<std::uint16_t>(std::stoi(options_.listener.substr(colon + 1)));
  info_.listener = options_.listener;
  info_.server_hostname = host_.hostname();
  tls_ = options_.implicit_tls;
}

SessionDriver::~SessionDriver() {
  if (session_ && !closed_) session_->on_close();
}

void SessionDriver::start() {
  session_ = plugin_ ? plugin_->open_session(*this) : open_(*this);
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

bool SessionDriver::bad_command() {
  ++bad_commands_;
  if (!plugin_) return closing_;
  const std::int64_t limit = settings_.get_int("max_bad_commands");
  if (limit > 0 && bad_commands_ >= limit) {
    output_ += core::render_template(plugin_->traits().too_many_bad_commands_reply, info_, false);
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
  if (work) work();
  if (done && !closed_) done();
}

void SessionDriver::post_after(std::chrono::milliseconds, std::function<void()> fn) {
  if (fn && !closed_) fn();
}

void SessionDriver::feed(std::string_view bytes) {
  if (closed_) return;
  input_.append(bytes);
  pump();
}

// The core's process_input(), without sockets: lines, bytes and too-long reports, in order,
// stopping while paused, at a TLS upgrade, or once closing.
void SessionDriver::pump() {
  if (pumping_) return;  // a completion run inline from inside a callback
  pumping_ = true;
  while (!closed_) {
    if (closing_) {
      closed_ = true;
      session_->on_close();
      break;
    }
    if (tls_requested_) {
      tls_requested_ = false;
      input_.clear();  // RFC 3207 section 4.2
      tls_ = true;
      session_->on_tls_started();
      continue;
    }
    if (paused_) break;
    const auto item = input_.next();
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
  input_.compact();
  pumping_ = false;
}

sdk::Settings validated_settings(const sdk::Plugin& plugin, const std::string& name,
                                 const std::string& yaml_lines) {
  core::PluginSchemas schemas;
  schemas[name].schema = plugin.schema();
  std::ostringstream yaml;
  yaml << "server: {data_dir: /tmp}\nplugins:\n  " << name << ":\n    enabled: true\n";
  std::istringstream lines(yaml_lines);
  for (std::string line; std::getline(lines, line);)
    yaml << "    " << line << "\n";
  auto result = core::load_config_text(
      yaml.str(), "/tmp/driver.yaml",
      [&](const core::ServerConfig&) -> const core::PluginSchemas& { return schemas; });
  if (!result.config) {
    std::string errors;
    for (const auto& e : result.errors)
      errors += e.to_string() + "\n";
    throw std::runtime_error(errors);
  }
  return result.config->plugins.at(name).settings;
}

std::string normalize(std::string text) {
  static const std::regex queued("queued as [0-9a-f]+");
  return std::regex_replace(text, queued, "queued as ID");
}

}  // namespace portico::testing
