// Portico core — the validated configuration, and the entry point that builds it from YAML.
//
// One YAML file: a `server:` section (declared by the core, see server_schema()) and a
// `plugins:` map keyed by plugin name, each validated against that plugin's Schema plus the keys
// every protocol shares (declared once here, defaults from the plugin). Nothing starts until the
// whole file is valid; every error is reported at once with file:line:column, the key, the
// value given and what is allowed.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "portico/settings.h"

namespace portico::core {

namespace fs = std::filesystem;

// One certificate and its private key (PEM files).
struct CertificatePair {
  fs::path certificate;
  fs::path key;
};

// What the spam filter stage does with one of rspamd's actions (server.spam_filter.on_*).
enum class SpamBehaviour { accept, mark, rewrite_subject, tempfail, reject };

// server.spam_filter.*: the content filter stage (core/filter), rspamd over HTTP.
struct SpamFilterConfig {
  bool enabled = false;
  std::string address = "127.0.0.1";  // rspamd's normal worker (/checkv2)
  std::uint16_t port = 11333;
  std::uint16_t controller_port = 11334;  // rspamd's controller (/learnspam, /learnham)
  std::string password;                   // the controller's, for learning only
  std::chrono::milliseconds timeout{std::chrono::seconds(20)};
  bool tempfail_on_failure = false;  // on_failure: tempfail (true) or accept (false)
  std::uint64_t max_message_size = 10ull * 1024 * 1024;  // 0: every size is checked
  bool check_authenticated = false;
  SpamBehaviour on_reject = SpamBehaviour::reject;
  SpamBehaviour on_soft_reject = SpamBehaviour::tempfail;
  SpamBehaviour on_greylist = SpamBehaviour::tempfail;
  SpamBehaviour on_add_header = SpamBehaviour::mark;
  SpamBehaviour on_rewrite_subject = SpamBehaviour::rewrite_subject;
  // Checks at once: plugins.smtp-out.max_spam_check_threads, where the seed places it.
  std::int64_t max_checks = 30;
};

struct ServerConfig {
  std::string hostname;                // server.hostname (default: the machine's host name)
  fs::path data_dir;                   // server.data_dir (absolute)
  fs::path plugin_dir;                 // server.plugin_dir (absolute; default: built-in)
  std::optional<CertificatePair> tls;  // server.tls.certificate / server.tls.key
  std::vector<CertificatePair> extra_certificates;  // server.tls.sni: more, chosen by SNI name
  std::string log_level = "info";                   // trace | debug | info | warn | error
  std::string log_format = "text";                  // text | json
  fs::path control_socket;      // server.control_socket (default data_dir/portico.sock)
  bool metrics_enabled = true;  // server.metrics.enabled
  std::string metrics_address = "127.0.0.1";
  std::uint16_t metrics_port = 9465;
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
  std::int64_t io_threads = 0;      // 0: one per core
  std::int64_t worker_threads = 0;  // 0: one per core
  // server.dns_servers: name servers to ask ("address" or "address@port"); empty: resolv.conf
  std::vector<std::string> dns_servers;
  SpamFilterConfig spam_filter;
};

// The keys every protocol shares, typed, for the core's own use.
struct SharedSettings {
  bool enabled = false;
  std::vector<sdk::ListenerSpec> listeners;
  std::string banner;
  std::chrono::milliseconds command_timeout{0};
  std::chrono::milliseconds session_timeout{0};
  bool session_timeout_enabled = true;
  std::int64_t max_bad_commands = 0;  // 0: unlimited
  std::int64_t max_connections = 0;   // 0: unlimited
  std::int64_t max_connections_per_address = 0;
};

struct PluginConfig {
  std::string name;
  SharedSettings shared;
  sdk::Settings settings;  // every key, shared ones included, as the plugin reads them
};

struct Config {
  fs::path file;  // absolute path of the file it came from
  ServerConfig server;
  std::map<std::string, PluginConfig> plugins;  // every installed plugin, enabled or not
};

struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when not tied to a place
  int column = 0;   // 1-based
  std::string key;  // dotted path, e.g. "plugins.imap.command_timeout"
  std::string message;
  std::string to_string() const;  // "file:line:column: key: message"
};

// What the validator knows of one installed plugin.
struct PluginSchemaInfo {
  sdk::Schema schema;
  std::function<std::vector<std::string>(const sdk::Settings&)> check;  // may be empty
};
using PluginSchemas = std::map<std::string, PluginSchemaInfo>;

// The server section decides where plugins live; the provider returns the schemas of the
// plugins installed there (it may load them). It is called only if the server section is valid.
using SchemaProvider = std::function<const PluginSchemas&(const ServerConfig&)>;
// For a server: the provider is also told which plugins the file enables (and smtp-out when
// its section sets max_spam_check_threads, which the core obeys whether smtp-out is enabled or
// not), and may load only those and what they depend on. It returns the schemas of the plugins
// it has loaded.
using EnabledSchemaProvider =
    std::function<const PluginSchemas&(const ServerConfig&, const std::set<std::string>& enabled)>;

struct ConfigResult {
  std::optional<Config> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
  std::vector<std::string> warnings;  // e.g. settings of a plugin that is not installed
};

ConfigResult load_config(const fs::path& file, const SchemaProvider& schemas);
// The same, from text (tests); `file` names it in messages and anchors relative paths.
ConfigResult load_config_text(const std::string& yaml, const fs::path& file,
                              const SchemaProvider& schemas);
// As a server reads its file: a plugin the file leaves disabled need not be loaded, and when
// the provider did not load it, its section is neither checked nor warned about (`portico
// check-config` checks every installed plugin). Config::plugins holds the loaded plugins only.
ConfigResult load_enabled_config(const fs::path& file, const EnabledSchemaProvider& schemas);
ConfigResult load_enabled_config_text(const std::string& yaml, const fs::path& file,
                                      const EnabledSchemaProvider& schemas);

// The core's declaration of the server section, and of the keys every protocol shares with a
// plugin's defaults filled in: the tables behind validation, `plugins describe` and the JSON
// Schema.
const sdk::Schema& server_schema();
std::vector<sdk::SettingSpec> shared_specs(const sdk::SharedDefaults& defaults);

// The plugin folder used when server.plugin_dir is empty: the build tree's when this binary
// runs from it, else <prefix>/lib/portico/plugins beside the binary, else the installed one.
fs::path builtin_plugin_dir();

// `portico plugins describe NAME`: every setting with type, default, bounds and help.
std::string describe_plugin(const std::string& name, const std::string& version,
                            const sdk::Schema& schema);
// `portico plugins schema`: a JSON Schema (draft 2020-12) of the whole file.
std::string json_schema(const PluginSchemas& plugins);

}  // namespace portico::core
