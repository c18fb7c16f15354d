// Portico — the `portico` command: the server and its administration commands (CLI11).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "core/cli/commands.h"
#include "core/cli/directory_commands.h"
#include "core/cli/queue_commands.h"
#include "core/cli/spam_commands.h"
#include "core/cli/store_commands.h"

int main(int argc, char** argv) {
  namespace cli = portico::core::cli;
  std::signal(SIGPIPE, SIG_IGN);  // a peer that goes away is an error code, not a signal
  CLI::App app{"Portico: a mail and messaging server whose protocols are plugins"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("portico ") + PORTICO_VERSION);

  const char* env_config = std::getenv("PORTICO_CONFIG");
  std::string config = env_config ? env_config : "config/portico.yaml";
  std::string plugin_dir;
  bool json = false;
  std::string name;
  std::string file;
  int rc = 0;

  auto* serve = app.add_subcommand("serve", "Run the server in the foreground (logs to stderr)");
  serve->add_option("--config,-c", config, "Configuration file")->capture_default_str();
  serve->callback([&] { rc = cli::serve(config); });

  auto* check = app.add_subcommand("check-config", "Validate a configuration file and exit");
  check->add_option("file", file, "Configuration file")->required();
  check->add_option("--plugin-dir", plugin_dir, "Validate against the plugins in this folder");
  check->callback([&] { rc = cli::check_config(file, plugin_dir); });

  auto* plugins = app.add_subcommand("plugins", "Installed plugins and their settings");
  plugins->require_subcommand(1);
  auto add_source = [&](CLI::App* sub) {
    sub->add_option("--config,-c", file, "Take the plugin folder from this configuration");
    sub->add_option("--plugin-dir", plugin_dir, "Plugin folder");
  };
  auto* list = plugins->add_subcommand("list", "List installed plugins, and refused ones");
  add_source(list);
  list->callback([&] { rc = cli::plugins_list(file, plugin_dir); });
  auto* describe = plugins->add_subcommand("describe", "Every setting of a plugin (or 'server')");
  describe->add_option("name", name, "Plugin name, or 'server'")->required();
  add_source(describe);
  describe->callback([&] { rc = cli::plugins_describe(name, file, plugin_dir); });
  auto* schema = plugins->add_subcommand("schema", "JSON Schema of the configuration file");
  add_source(schema);
  schema->callback([&] { rc = cli::plugins_schema(file, plugin_dir); });

  auto* status = app.add_subcommand("status", "Live connections and counters of a running server");
  status->add_option("--config,-c", config, "Configuration file")->capture_default_str();
  status->add_flag("--json", json, "Print JSON");
  status->callback([&] { rc = cli::status(config, json); });

  auto* reload = app.add_subcommand("reload", "Make a running server re-read its configuration");
  reload->add_option("--config,-c", config, "Configuration file")->capture_default_str();
  reload->callback([&] { rc = cli::reload(config); });

  cli::add_directory_commands(app, rc);
  cli::add_store_commands(app, rc);
  cli::add_queue_commands(app, rc);
  cli::add_spam_commands(app, rc);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as the other commands' errors do.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return rc;
}
