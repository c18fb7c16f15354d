// Portico core — loading the configuration file: YAML in, a validated Config (or every error) out.
//
// Order: the YAML is parsed (a syntax error is one error at its position); the top level may
// hold only `server:` and `plugins:`; the server section is checked against server_schema(); only
// if it is valid are the installed plugins asked for (the server section says where they live);
// then every installed plugin's section is checked against the shared keys plus its own schema,
// and its cross-field check runs on the typed values. A server asks only for the plugins its
// file enables (load_enabled_config): a disabled plugin it did not load is skipped unchecked. All
// errors are collected; a Config is returned only when there are none. Relative paths are resolved
// against the file's folder.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config/internal.h"

namespace portico::core {

namespace fs = std::filesystem;
using namespace config_detail;
using sdk::SettingValue;

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

namespace {

std::string machine_host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// Compiles a table whose defaults the core wrote: failure would be a bug here, not the file's.
std::vector<CompiledSpec> compile_core_table(const std::vector<sdk::SettingSpec>& specs) {
  std::vector<CompiledSpec> out;
  for (const auto& spec : specs) {
    std::string problem;
    auto compiled = compile_spec(spec, {}, fs::path(), &problem);
    if (!compiled) throw std::logic_error("core setting " + spec.key + ": " + problem);
    out.push_back(std::move(*compiled));
  }
  return out;
}

// server.tls.sni: a list of {certificate, key}, both required. The value is kept as a flat list
// of paths, certificate then key, which build_server turns into CertificatePairs.
std::optional<SettingValue> validate_sni(const ValueSite& site, const fs::path& base_dir,
                                         Diagnostics& diag) {
  std::vector<std::string> flat;
  const YAML::Node& node = site.node;
  if (node.IsNull()) return SettingValue(flat);
  if (!node.IsSequence()) {
    diag.error(node.Mark(), site.key_path,
               "expected a list of {certificate, key}, got " + kind_name(node));
    return std::nullopt;
  }
  static const std::vector<std::string> kFields{"certificate", "key"};
  const std::size_t errors_before = diag.error_count();
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node entry = node[i];
    const std::string path = site.key_path + "[" + std::to_string(i) + "]";
    const YAML::Mark at = entry.IsNull() ? node.Mark() : entry.Mark();
    if (!entry.IsMap()) {
      diag.error(at, path, "expected {certificate: FILE, key: FILE}, got " + kind_name(entry));
      continue;
    }
    std::string files[2];
    for_each_pair(entry, path, diag,
                  [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
                    const auto field = std::find(kFields.begin(), kFields.end(), key);
                    if (field == kFields.end()) {
                      diag.error(key_node.Mark(), join_key(path, key),
                                 "unknown setting '" + key + "'" + did_you_mean(key, kFields));
                    } else if (!value.IsScalar() || value.Scalar().empty()) {
                      diag.error(value.IsNull() ? key_node.Mark() : value.Mark(),
                                 join_key(path, key),
                                 "expected a file name, got " + kind_name(value));
                    } else {
                      files[field - kFields.begin()] = resolve_path(value.Scalar(), base_dir);
                    }
                  });
    if (files[0].empty() || files[1].empty()) {
      diag.error(at, path, "an SNI entry needs both certificate and key");
      continue;
    }
    flat.push_back(files[0]);
    flat.push_back(files[1]);
  }
  if (diag.error_count() != errors_before) return std::nullopt;
  return SettingValue(std::move(flat));
}

// An error at the server key `key` unless `value` is an IP literal.
void require_ip(const SectionResult& section, Diagnostics& diag, const std::string& key,
                const std::string& value) {
  if (is_ip_literal(value)) return;
  const auto given = section.given.find(key);
  diag.error(given != section.given.end() ? given->second.value_mark : YAML::Mark::null_mark(),
             "server." + key,
             echoed(value) + " is not an IP address (write a literal such as 127.0.0.1 or ::1)");
}

// An error at dns_servers unless `entry` is "address" or "address@port" (as libunbound takes
// them; the resolver is set up at its first look-up, so a bad entry is caught here).
void require_name_server(const SectionResult& section, Diagnostics& diag,
                         const std::string& entry) {
  const auto at = entry.find('@');
  bool ok = is_ip_literal(entry.substr(0, at));  // inet_pton: no [brackets]
  if (ok && at != std::string::npos) {
    const auto port = parse_int(std::string_view(entry).substr(at + 1));
    ok = port && *port >= 1 && *port <= 65535;
  }
  if (ok) return;
  const auto given = section.given.find("dns_servers");
  diag.error(given != section.given.end() ? given->second.value_mark : YAML::Mark::null_mark(),
             "server.dns_servers",
             echoed(entry) +
                 " is not a name server (write an IP address, with an optional port "
                 "after '@': 192.0.2.53, 127.0.0.1@5353)");
}

ServerConfig build_server(const SectionResult& section, Diagnostics& diag) {
  const sdk::Settings& s = section.settings;
  ServerConfig server;
  server.hostname = s.get_string("hostname");
  if (server.hostname.empty()) server.hostname = machine_host_name();
  server.data_dir = s.get_string("data_dir");
  server.plugin_dir = s.get_string("plugin_dir");
  if (server.plugin_dir.empty()) server.plugin_dir = builtin_plugin_dir();

  const std::string& certificate = s.get_string("tls.certificate");
  const std::string& key = s.get_string("tls.key");
  if (!certificate.empty() && !key.empty()) {
    server.tls = CertificatePair{certificate, key};
  } else if (certificate.empty() != key.empty()) {
    const std::string given = certificate.empty() ? "tls.key" : "tls.certificate";
    const std::string missing = certificate.empty() ? "tls.certificate" : "tls.key";
    diag.error(section.given.at(given).value_mark, "server." + given,
               given + " is set without " + missing + "; give both or neither");
  }
  const auto& sni = s.get_list("tls.sni");
  for (std::size_t i = 0; i + 1 < sni.size(); i += 2) {
    server.extra_certificates.push_back(CertificatePair{sni[i], sni[i + 1]});
  }

  server.log_level = s.get_string("log_level");
  server.log_format = s.get_string("log_format");
  server.control_socket = s.get_string("control_socket");
  if (server.control_socket.empty()) server.control_socket = server.data_dir / "portico.sock";
  server.metrics_enabled = s.get_bool("metrics.enabled");
  server.metrics_address = s.get_string("metrics.address");
  require_ip(section, diag, "metrics.address", server.metrics_address);
  server.metrics_port = static_cast<std::uint16_t>(s.get_int("metrics.port"));
  server.shutdown_grace = s.get_duration("shutdown_grace");
  server.io_threads = s.get_int("io_threads");
  server.worker_threads = s.get_int("worker_threads");
  server.dns_servers = s.get_list("dns_servers");
  for (const auto& entry : server.dns_servers)
    require_name_server(section, diag, entry);
  SpamFilterConfig& f = server.spam_filter;
  f.enabled = s.get_bool("spam_filter.enabled");
  f.address = s.get_string("spam_filter.address");
  require_ip(section, diag, "spam_filter.address", f.address);
  f.port = static_cast<std::uint16_t>(s.get_int("spam_filter.port"));
  f.controller_port = static_cast<std::uint16_t>(s.get_int("spam_filter.controller_port"));
  f.password = s.get_string("spam_filter.password");
  f.timeout = s.get_duration("spam_filter.timeout");
  f.tempfail_on_failure = s.get_string("spam_filter.on_failure") == "tempfail";
  f.max_message_size = s.get_size("spam_filter.max_message_size");
  f.check_authenticated = s.get_bool("spam_filter.check_authenticated");
  const auto behaviour = [&s](const char* key) {
    const std::string& v = s.get_string(key);
    return v == "reject"            ? SpamBehaviour::reject
           : v == "tempfail"        ? SpamBehaviour::tempfail
           : v == "mark"            ? SpamBehaviour::mark
           : v == "rewrite_subject" ? SpamBehaviour::rewrite_subject
                                    : SpamBehaviour::accept;
  };
  f.on_reject = behaviour("spam_filter.on_reject");
  f.on_soft_reject = behaviour("spam_filter.on_soft_reject");
  f.on_greylist = behaviour("spam_filter.on_greylist");
  f.on_add_header = behaviour("spam_filter.on_add_header");
  f.on_rewrite_subject = behaviour("spam_filter.on_rewrite_subject");
  return server;
}

SharedSettings shared_from(const sdk::Settings& s) {
  SharedSettings shared;
  shared.enabled = s.get_bool("enabled");
  shared.listeners = s.get_listeners("listeners");
  shared.banner = s.get_string("banner");
  shared.command_timeout = s.get_duration("command_timeout");
  shared.session_timeout = s.get_duration("session_timeout");
  shared.session_timeout_enabled = s.get_bool("session_timeout_enabled");
  shared.max_bad_commands = s.get_int("max_bad_commands");
  shared.max_connections = s.get_int("max_connections");
  shared.max_connections_per_address = s.get_int("max_connections_per_address");
  return shared;
}

// The operator's plugin entry as found in the file.
struct PluginEntry {
  YAML::Mark key_mark;
  YAML::Node value;
};

// A plugin's full table (shared keys, then its own), or nullopt after reporting its defects.
std::optional<std::vector<CompiledSpec>> compile_plugin_table(const std::string& name,
                                                              const sdk::Schema& schema,
                                                              const fs::path& base_dir,
                                                              Diagnostics& diag) {
  std::vector<CompiledSpec> table;
  std::set<std::string> keys;
  bool ok = true;
  const auto add = [&](const sdk::SettingSpec& spec) {
    const std::string where = "plugins." + name + "." + spec.key;
    const std::string blame = "plugin '" + name + "' declares setting '" + spec.key + "' ";
    const std::string bug = " (a defect of the plugin; report it to its authors)";
    if (!keys.insert(spec.key).second) {
      diag.error_unplaced(where, blame + "twice (shared keys are declared by the core)" + bug);
      ok = false;
      return;
    }
    std::string problem;
    auto compiled = compile_spec(spec, schema.shared.listeners, base_dir, &problem);
    if (!compiled) {
      diag.error_unplaced(where, blame + "wrongly: " + problem + bug);
      ok = false;
      return;
    }
    table.push_back(std::move(*compiled));
  };
  for (const auto& spec : shared_specs(schema.shared))
    add(spec);
  for (const auto& spec : schema.settings)
    add(spec);
  if (!ok) return std::nullopt;
  return table;
}

// The seed places the filter's concurrency on the SMTP Out tab: smtp-out declares this setting,
// and the core's filter stage obeys it whether smtp-out is enabled or not.
constexpr const char* kSpamLimitPlugin = "smtp-out";
constexpr const char* kSpamLimitSetting = "max_spam_check_threads";

// Whether a plugin's section says `enabled: true` (anything else, or no section, is false).
bool section_enables(const YAML::Node& value) {
  if (!value.IsMap()) return false;
  const YAML::Node flag = value["enabled"];  // invalid when absent
  return flag.IsDefined() && flag.IsScalar() && parse_bool(flag.Scalar()).value_or(false);
}

// The plugins a server needs loaded: those the file enables, as far as its plugins: section can
// be read, and smtp-out when its section sets the spam-check limit (smtp-out's schema checks it).
std::set<std::string> needed_plugins(const YAML::Node& plugins_node) {
  std::set<std::string> names;
  if (!plugins_node.IsMap()) return names;
  for (const auto& pair : plugins_node) {
    if (pair.first.IsScalar() && section_enables(pair.second)) names.insert(pair.first.Scalar());
  }
  // Const: looking a key up adds nothing, and a missing one is an undefined node.
  const YAML::Node& plugins = plugins_node;
  if (const YAML::Node out = plugins[kSpamLimitPlugin];
      out.IsDefined() && out.IsMap() && out[kSpamLimitSetting].IsDefined()) {
    names.insert(kSpamLimitPlugin);
  }
  return names;
}

// `every_installed`: the schemas are those of every installed plugin, so a name without one is
// not installed. Otherwise only enabled plugins were surely looked for.
void check_plugins(const YAML::Node& plugins_node, const PluginSchemas& schemas,
                   bool every_installed, const fs::path& base_dir, const ServerConfig& server,
                   Diagnostics& diag, Config& config) {
  std::map<std::string, PluginEntry> entries;
  std::vector<std::string> installed;
  for (const auto& [name, info] : schemas)
    installed.push_back(name);

  if (!plugins_node.IsNull() && !plugins_node.IsMap()) {
    diag.error(
        plugins_node.Mark(), "plugins",
        "expected a mapping of plugin names to their settings, got " + kind_name(plugins_node));
  } else if (plugins_node.IsMap()) {
    for_each_pair(
        plugins_node, "plugins", diag,
        [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& value) {
          if (schemas.count(name) != 0) {
            entries[name] = PluginEntry{key_node.Mark(), value};
            return;
          }
          const bool enabled = section_enables(value);
          if (!enabled && !every_installed) return;  // not loaded because it is disabled
          const std::string message =
              "plugin '" + name + "' is not installed in " + server.plugin_dir.string();
          if (enabled) {
            diag.error(key_node.Mark(), "plugins." + name, message + did_you_mean(name, installed));
          } else {
            diag.warning(
                key_node.Mark(), "plugins." + name,
                message + "; its settings were not checked" + did_you_mean(name, installed));
          }
        });
  }

  // Which enabled listener took an address and port first.
  std::map<std::pair<std::string, std::uint16_t>, std::string> bound;
  for (const auto& [name, info] : schemas) {
    const auto entry = entries.find(name);
    const YAML::Node node = entry != entries.end() ? entry->second.value : YAML::Node();
    const YAML::Mark mark =
        entry != entries.end() ? entry->second.key_mark : YAML::Mark::null_mark();
    const std::string prefix = "plugins." + name;

    auto table = compile_plugin_table(name, info.schema, base_dir, diag);
    if (!table) continue;
    SectionResult section = validate_section(node, *table, prefix, base_dir, diag);
    PluginConfig plugin{name, shared_from(section.settings), std::move(section.settings)};

    if (section.ok && info.check) {
      std::vector<std::string> problems;
      try {
        problems = info.check(plugin.settings);
      } catch (const std::exception& e) {
        problems.push_back(std::string("the plugin's settings check failed: ") + e.what());
      }
      for (auto& problem : problems)
        diag.error(mark, prefix, std::move(problem));
    }

    if (plugin.shared.enabled) {
      const auto given = section.given.find("listeners");
      const YAML::Mark at = given != section.given.end() ? given->second.value_mark : mark;
      for (std::size_t i = 0; i < plugin.shared.listeners.size(); ++i) {
        const auto& l = plugin.shared.listeners[i];
        const std::string here = prefix + ".listeners[" + std::to_string(i) + "]";
        const auto [first, inserted] = bound.emplace(std::pair(l.address, l.port), here);
        if (!inserted) {
          diag.error(at, here,
                     listener_text(l) + " is already taken by " + first->second +
                         "; each enabled listener needs its own address and port");
        }
      }
    }
    config.plugins.emplace(name, std::move(plugin));
  }
}

}  // namespace

fs::path builtin_plugin_dir() {
  std::error_code ec;
  const fs::path build_dir = PORTICO_BUILD_PLUGIN_DIR;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  // A binary inside the build tree uses the build tree's plugins.
  if (!ec && exe.parent_path().string().rfind(build_dir.parent_path().string(), 0) == 0 &&
      fs::is_directory(build_dir, ec)) {
    return build_dir;
  }
  if (!ec) {
    const fs::path beside = exe.parent_path().parent_path() / "lib" / "portico" / "plugins";
    if (fs::is_directory(beside, ec)) return beside;
  }
  if (fs::is_directory(PORTICO_INSTALL_PLUGIN_DIR, ec)) return PORTICO_INSTALL_PLUGIN_DIR;
  return build_dir;
}

namespace {

// Exactly one provider is given: `all` asks for every installed plugin, `enabled` for those the
// file needs.
ConfigResult load_text(const std::string& yaml, const fs::path& file, const SchemaProvider* all,
                       const EnabledSchemaProvider* enabled) {
  const bool every_installed = all != nullptr;
  ConfigResult result;
  const fs::path absolute = fs::absolute(file).lexically_normal();
  const fs::path base_dir = absolute.parent_path();
  Diagnostics diag(file.string());

  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    diag.error(e.mark, "", "YAML syntax error: " + e.msg);
    result.errors = diag.take_errors();
    return result;
  }

  static const std::vector<std::string> kSections{"server", "plugins"};
  YAML::Node server_node, plugins_node;
  YAML::Mark server_mark = YAML::Mark::null_mark();
  if (!root.IsNull() && !root.IsMap()) {
    diag.error(root.Mark(), "",
               "expected a mapping with the sections server: and plugins:, got " + kind_name(root));
  } else if (root.IsMap()) {
    for_each_pair(root, "", diag,
                  [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& value) {
                    if (key == "server") {
                      server_node = value;
                      server_mark = key_node.Mark();
                    } else if (key == "plugins") {
                      plugins_node = value;
                    } else {
                      diag.error(key_node.Mark(), key,
                                 "unknown section '" + key +
                                     "' (the sections are server and plugins)" +
                                     did_you_mean(key, kSections));
                    }
                  });
  }

  static const std::vector<CompiledSpec> server_table =
      compile_core_table(server_schema().settings);
  const std::map<std::string, CustomValidator> custom{
      {"tls.sni", [&base_dir](const ValueSite& site, Diagnostics& d) {
         return validate_sni(site, base_dir, d);
       }}};
  const std::size_t errors_before = diag.error_count();
  const SectionResult server_section =
      validate_section(server_node, server_table, "server", base_dir, diag, custom);
  Config config;
  config.file = absolute;
  config.server = build_server(server_section, diag);

  // The plugins are looked up only with a valid server section (it says where they live).
  if (diag.error_count() == errors_before) {
    const PluginSchemas* installed = nullptr;
    try {
      installed = every_installed ? &(*all)(config.server)
                                  : &(*enabled)(config.server, needed_plugins(plugins_node));
    } catch (const std::exception& e) {
      diag.error(
          server_mark, "server.plugin_dir",
          "cannot read the plugins in " + config.server.plugin_dir.string() + ": " + e.what());
    }
    if (installed != nullptr) {
      check_plugins(plugins_node, *installed, every_installed, base_dir, config.server, diag,
                    config);
    }
  }
  // smtp-out's spam-check limit (default 30 without smtp-out).
  if (auto out = config.plugins.find(kSpamLimitPlugin);
      out != config.plugins.end() && out->second.settings.has(kSpamLimitSetting)) {
    config.server.spam_filter.max_checks = out->second.settings.get_int(kSpamLimitSetting);
  }

  result.errors = diag.take_errors();
  result.warnings = diag.take_warnings();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

// The file's text, or nullopt with the reason in `failure`.
std::optional<std::string> read_file(const fs::path& file, ConfigResult& failure) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int err = errno;
    failure.errors.push_back(ConfigError{
        file.string(), 0, 0, "",
        std::string("cannot read the file: ") + (err != 0 ? std::strerror(err) : "unknown error")});
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

ConfigResult load_config_text(const std::string& yaml, const fs::path& file,
                              const SchemaProvider& schemas) {
  return load_text(yaml, file, &schemas, nullptr);
}

ConfigResult load_enabled_config_text(const std::string& yaml, const fs::path& file,
                                      const EnabledSchemaProvider& schemas) {
  return load_text(yaml, file, nullptr, &schemas);
}

ConfigResult load_config(const fs::path& file, const SchemaProvider& schemas) {
  ConfigResult result;
  const auto text = read_file(file, result);
  return text ? load_config_text(*text, file, schemas) : result;
}

ConfigResult load_enabled_config(const fs::path& file, const EnabledSchemaProvider& schemas) {
  ConfigResult result;
  const auto text = read_file(file, result);
  return text ? load_enabled_config_text(*text, file, schemas) : result;
}

}  // namespace portico::core
