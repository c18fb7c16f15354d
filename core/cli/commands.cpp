// Portico core — command-line commands (see commands.h).
#include "core/cli/commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "core/config/config.h"
#include "core/log/log.h"
#include "core/server/control.h"
#include "core/server/plugin_set.h"
#include "core/server/server.h"

namespace portico::core::cli {

namespace fs = std::filesystem;

namespace {

// Host services for commands that load plugins but serve nothing.
class OfflineServices final : public HostServices {
 public:
  std::string hostname() const override { return hostname_; }
  std::string data_dir() const override { return data_dir_; }
  void post_work(std::function<void()> work) override { std::thread(std::move(work)).detach(); }
  std::string hostname_;
  std::string data_dir_;
};

void print_errors(const ConfigResult& r) {
  for (const auto& w : r.warnings)
    std::cerr << "warning: " << w << "\n";
  for (const auto& e : r.errors)
    std::cerr << e.to_string() << "\n";
}

// Loads plugins from the folder the command names, and the config when one is given.
struct Loaded {
  OfflineServices services;
  PluginSet plugins{services};
  ConfigResult result;
  bool ok = true;
};

void load(Loaded& l, const fs::path& config, const fs::path& plugin_dir) {
  if (!plugin_dir.empty()) l.plugins.load_instead(plugin_dir);
  if (!config.empty()) {
    l.result = load_config(config, l.plugins.provider());
    if (l.result.config) {
      l.services.hostname_ = l.result.config->server.hostname;
      l.services.data_dir_ = l.result.config->server.data_dir.string();
    }
    if (!l.plugins.dir().empty()) return;  // the config's server section named the folder
    print_errors(l.result);
    l.ok = false;
    return;
  }
  if (plugin_dir.empty()) l.plugins.load(builtin_plugin_dir());
}

}  // namespace

std::optional<Config> load_config_or_report(const fs::path& config) {
  Loaded l;
  load(l, config, {});
  if (!l.result.config) {
    if (l.ok) print_errors(l.result);
    return std::nullopt;
  }
  for (const auto& w : l.result.warnings) std::cerr << "warning: " << w << "\n";
  return std::move(*l.result.config);
}

namespace {

fs::path control_socket_of(const fs::path& config) {
  auto c = load_config_or_report(config);
  return c ? c->server.control_socket : fs::path();
}

}  // namespace

int serve(const fs::path& config) {
  Server server(config);
  return server.run();
}

int check_config(const fs::path& config, const fs::path& plugin_dir) {
  configure_logging("warn", "text");
  Loaded l;
  load(l, config, plugin_dir);
  if (!l.ok) return 2;
  print_errors(l.result);
  if (!l.result.errors.empty()) {
    std::cerr << config.string() << ": " << l.result.errors.size() << " error(s)\n";
    return 2;
  }
  std::string enabled;
  for (const auto& [name, pc] : l.result.config->plugins) {
    if (pc.shared.enabled) enabled += (enabled.empty() ? "" : ", ") + name;
  }
  std::cout << config.string() << ": valid; enabled: " << (enabled.empty() ? "none" : enabled)
            << "\n";
  return 0;
}

int plugins_list(const fs::path& config, const fs::path& plugin_dir) {
  configure_logging("off", "text");
  Loaded l;
  load(l, config, plugin_dir);
  if (!l.ok) return 2;
  std::cout << "plugin folder: " << l.plugins.dir().string() << "\n";
  for (const auto& p : l.plugins.scan().loaded) {
    auto it = l.plugins.schemas().find(p.name);
    const std::string summary = it == l.plugins.schemas().end() ? "" : it->second.schema.summary;
    std::cout << fmt::format("  {:<12} {:<8} {}  ({}, SDK {}.{})\n", p.name, p.version, summary,
                             p.path.filename().string(), PORTICO_ABI_MAJOR, p.abi_minor);
  }
  for (const auto& r : l.plugins.scan().refused) {
    std::cout << fmt::format("  refused: {}: {}\n", r.path.filename().string(), r.reason);
  }
  return 0;
}

int plugins_describe(const std::string& name, const fs::path& config, const fs::path& plugin_dir) {
  configure_logging("off", "text");
  if (name == "server") {
    std::cout << describe_plugin("server", PORTICO_VERSION, server_schema());
    return 0;
  }
  Loaded l;
  load(l, config, plugin_dir);
  if (!l.ok) return 2;
  auto it = l.plugins.schemas().find(name);
  if (it == l.plugins.schemas().end()) {
    std::string known = "server";
    for (const auto& [n, s] : l.plugins.schemas())
      known += ", " + n;
    std::cerr << "no plugin named '" << name << "' in " << l.plugins.dir().string()
              << " (known: " << known << ")\n";
    return 2;
  }
  const LoadedPlugin* info = l.plugins.info(name);
  std::cout << describe_plugin(name, info ? info->version : "", it->second.schema);
  return 0;
}

int plugins_schema(const fs::path& config, const fs::path& plugin_dir) {
  configure_logging("off", "text");
  Loaded l;
  load(l, config, plugin_dir);
  if (!l.ok) return 2;
  std::cout << json_schema(l.plugins.schemas());
  return 0;
}

int status(const fs::path& config, bool json) {
  configure_logging("off", "text");
  const fs::path socket = control_socket_of(config);
  if (socket.empty()) return 2;
  try {
    std::cout << control_request(socket, json ? "status json" : "status");
    return 0;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}

int reload(const fs::path& config) {
  configure_logging("off", "text");
  const fs::path socket = control_socket_of(config);
  if (socket.empty()) return 2;
  try {
    const std::string answer = control_request(socket, "reload");
    if (answer == "ok\n") {
      std::cout << "reloaded\n";
      return 0;
    }
    std::cerr << answer;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}

}  // namespace portico::core::cli
