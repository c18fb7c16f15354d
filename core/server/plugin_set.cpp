// Portico core — installed plugins and their hosts (see plugin_set.h).
#include "core/server/plugin_set.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/banner/templater.h"
#include "core/directory/sasl_server.h"

namespace portico::core {

namespace fs = std::filesystem;

class PluginSet::Host final : public sdk::Host {
 public:
  Host(std::string name, HostServices& services)
      : name_(std::move(name)), services_(services), sasl_([this] { return services_.auth(); }) {}
  void log(sdk::LogLevel level, std::string_view message) override {
    static constexpr spdlog::level::level_enum levels[] = {
        spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
        spdlog::level::err};
    spdlog::log(levels[static_cast<int>(level)], "{}: {}", name_, message);
  }
  std::string hostname() const override { return services_.hostname(); }
  std::string data_dir() const override { return services_.data_dir(); }
  std::string render_template(std::string_view text,
                              const sdk::ConnectionInfo& conn) const override {
    return core::render_template(text, conn);
  }
  void post_work(std::function<void()> work) override { services_.post_work(std::move(work)); }
  sdk::Directory* directory() override { return services_.directory(); }
  sdk::Auth* auth() override { return services_.auth(); }
  sdk::Store* store() override { return services_.store(); }
  sdk::Queue* queue() override { return services_.queue(); }
  void connect(const sdk::OutboundRequest& request, sdk::OutboundSessionFactory open,
               sdk::OutboundFailure failed) override {
    services_.connect(name_, request, std::move(open), std::move(failed));
  }
  std::unique_ptr<sdk::Scheduled> schedule(std::chrono::milliseconds delay,
                                           std::function<void()> fn) override {
    return services_.schedule(delay, std::move(fn));
  }
  sdk::Dns* dns() override { return services_.dns(); }
  sdk::SaslServer* sasl() override { return &sasl_; }
  void post_work_on(sdk::WorkPool pool, std::function<void()> work) override {
    services_.post_work_on(pool, std::move(work));
  }
  sdk::Reports* reports() override { return services_.reports(); }
  sdk::Filter* filter() override { return services_.filter(); }

 private:
  std::string name_;
  HostServices& services_;
  SaslServerImpl sasl_;
};

void HostServices::connect(const std::string& plugin, const sdk::OutboundRequest&,
                           sdk::OutboundSessionFactory, sdk::OutboundFailure failed) {
  if (failed) failed(plugin + ": this process makes no outbound connections");
}

std::unique_ptr<sdk::Scheduled> HostServices::schedule(std::chrono::milliseconds,
                                                       std::function<void()>) {
  return std::make_unique<sdk::Scheduled>();
}

PluginSet::PluginSet(HostServices& services) : services_(services) {}

PluginSet::~PluginSet() {
  // Plugins first (their destructors may still log through their hosts).
  schemas_.clear();
  scan_ = PluginScan{};
}

const fs::path& PluginSet::folder(const fs::path& asked) {
  if (!dir_set_) {
    dir_ = asked;
    dir_set_ = true;
  } else if (asked != dir_ && !pinned_) {
    spdlog::warn("plugin_dir changed to {}; plugins stay loaded from {} until a restart",
                 asked.string(), dir_.string());
  }
  return dir_;
}

std::set<std::string> PluginSet::loaded_names() const {
  std::set<std::string> names;
  for (const auto& p : scan_.loaded)
    names.insert(p.name);
  return names;
}

const PluginSchemas& PluginSet::load(const fs::path& dir) {
  const fs::path& from = folder(dir);
  if (all_loaded_) return schemas_;
  all_loaded_ = true;
  add(load_plugins(from, host_for(), loaded_names()));
  return schemas_;
}

const PluginSchemas& PluginSet::load_enabled(const fs::path& dir,
                                             const std::set<std::string>& enabled) {
  const fs::path& from = folder(dir);
  if (all_loaded_) return schemas_;
  const auto present = loaded_names();
  if (std::includes(present.begin(), present.end(), enabled.begin(), enabled.end())) {
    return schemas_;  // nothing new: the folder is not read again
  }
  add(load_plugins(from, host_for(), enabled, present));
  return schemas_;
}

std::function<sdk::Host&(const std::string&)> PluginSet::host_for() {
  return [this](const std::string& name) -> sdk::Host& {
    auto& slot = hosts_[name];
    if (!slot) slot = std::make_unique<Host>(name, services_);
    return *slot;
  };
}

void PluginSet::add(PluginScan scan) {
  for (const auto& refused : scan.refused) {
    spdlog::error("plugin {} refused: {}", refused.path.string(), refused.reason);
    scan_.refused.push_back(refused);
  }
  for (auto& p : scan.loaded) {
    PluginSchemaInfo info;
    try {
      info.schema = p.instance->schema();
    } catch (const std::exception& e) {
      spdlog::error("plugin {} refused: schema() threw: {}", p.path.string(), e.what());
      continue;
    }
    std::weak_ptr<sdk::Plugin> weak = p.instance;
    info.check = [weak, name = p.name](const sdk::Settings& s) -> std::vector<std::string> {
      auto plugin = weak.lock();
      if (!plugin) return {};
      try {
        return plugin->check(s);
      } catch (const std::exception& e) {
        return {"the plugin's check threw: " + std::string(e.what())};
      }
    };
    schemas_.emplace(p.name, std::move(info));
    scan_.loaded.push_back(std::move(p));
  }
}

std::shared_ptr<sdk::Plugin> PluginSet::find(const std::string& name) const {
  const LoadedPlugin* p = info(name);
  return p ? p->instance : nullptr;
}

const LoadedPlugin* PluginSet::info(const std::string& name) const {
  for (const auto& p : scan_.loaded) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

SchemaProvider PluginSet::provider() {
  return [this](const ServerConfig& server) -> const PluginSchemas& {
    return load(server.plugin_dir);
  };
}

EnabledSchemaProvider PluginSet::enabled_provider() {
  return [this](const ServerConfig& server,
                const std::set<std::string>& enabled) -> const PluginSchemas& {
    return load_enabled(server.plugin_dir, enabled);
  };
}

}  // namespace portico::core
