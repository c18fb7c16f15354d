// Portico core — the installed plugins of one process, with the Host each of them talks to.
//
// Loads the plugin folder once, or for a server only the plugins it enables, adding those a
// reload enables (refusals are logged with the file and the reason); keeps every loaded library
// for the life of the process, and gives the config validator the schemas. Each
// plugin gets its own sdk::Host, which tags its log lines with the plugin's name.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/config/config.h"
#include "core/plugins/loader.h"

namespace portico::core {

// What a Host needs from whoever runs the plugins (the server, or a CLI command).
class HostServices {
 public:
  virtual std::string hostname() const = 0;
  virtual std::string data_dir() const = 0;
  virtual void post_work(std::function<void()> work) = 0;
  // Work on one of the bounded pools; this default (a process without pools) uses post_work.
  virtual void post_work_on(sdk::WorkPool pool, std::function<void()> work) {
    (void)pool;
    post_work(std::move(work));
  }
  virtual sdk::Reports* reports() { return nullptr; }
  virtual sdk::Filter* filter() { return nullptr; }
  // The shared services; nullptr where a process runs without them.
  virtual sdk::Directory* directory() { return nullptr; }
  virtual sdk::Auth* auth() { return nullptr; }
  virtual sdk::Store* store() { return nullptr; }
  virtual sdk::Queue* queue() { return nullptr; }
  virtual sdk::Dns* dns() { return nullptr; }
  // Outbound connections for `plugin`; this default (a process without a server) refuses.
  virtual void connect(const std::string& plugin, const sdk::OutboundRequest& request,
                       sdk::OutboundSessionFactory open, sdk::OutboundFailure failed);
  // Timers; this default never runs fn.
  virtual std::unique_ptr<sdk::Scheduled> schedule(std::chrono::milliseconds delay,
                                                   std::function<void()> fn);

 protected:
  ~HostServices() = default;
};

class PluginSet {
 public:
  explicit PluginSet(HostServices& services);
  ~PluginSet();
  PluginSet(const PluginSet&) = delete;
  PluginSet& operator=(const PluginSet&) = delete;

  // Loads every plugin of `dir` on the first call; later calls return the same schemas (a
  // different folder takes a restart, and a warning says so).
  const PluginSchemas& load(const std::filesystem::path& dir);
  // Loads the plugins named in `enabled` that are not loaded yet, and what they depend on (a
  // server: a plugin first enabled by a reload is loaded then). Returns every loaded schema.
  const PluginSchemas& load_enabled(const std::filesystem::path& dir,
                                    const std::set<std::string>& enabled);
  // Loads `dir` now, and makes later load() calls use it whatever folder they name (the
  // command line's --plugin-dir over the configuration's).
  void load_instead(const std::filesystem::path& dir) {
    load(dir);
    pinned_ = true;
  }

  const PluginScan& scan() const { return scan_; }
  const std::filesystem::path& dir() const { return dir_; }
  const PluginSchemas& schemas() const { return schemas_; }
  std::shared_ptr<sdk::Plugin> find(const std::string& name) const;
  const LoadedPlugin* info(const std::string& name) const;

  // A SchemaProvider for load_config() backed by this set.
  SchemaProvider provider();
  // The same for load_enabled_config(): only enabled plugins are loaded.
  EnabledSchemaProvider enabled_provider();

 private:
  class Host;
  HostServices& services_;
  std::map<std::string, std::unique_ptr<Host>> hosts_;
  PluginScan scan_;  // declared after hosts_: plugins are destroyed before their hosts
  PluginSchemas schemas_;
  // Which folder plugins come from, fixed by the first load (a different one takes a restart).
  const std::filesystem::path& folder(const std::filesystem::path& asked);
  std::set<std::string> loaded_names() const;
  std::function<sdk::Host&(const std::string&)> host_for();
  // Keeps what a load brought: its plugins and their schemas, its refusals (logged).
  void add(PluginScan scan);

  std::filesystem::path dir_;
  bool dir_set_ = false;
  bool all_loaded_ = false;
  bool pinned_ = false;
};

}  // namespace portico::core
