// Unit tests of core/config loading: every kind of error with its line and column, several
// errors at once, defaults, typed values, path resolution and plugin-schema defects.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "core/config/config.h"
#include "fake_schemas.h"

namespace portico::core {
namespace {

using testing::fake_schemas;
using testing::spec;

const fs::path kFile = "/srv/portico/etc/portico.yaml";

ConfigResult load(const std::string& yaml, const PluginSchemas& schemas = fake_schemas()) {
  return load_config_text(
      yaml, kFile, [&schemas](const ServerConfig&) -> const PluginSchemas& { return schemas; });
}

std::string all_errors(const ConfigResult& r) {
  std::string out;
  for (const auto& e : r.errors)
    out += e.to_string() + "\n";
  return out;
}

struct ErrorCase {
  const char* name;
  const char* yaml;
  const char* key;
  int line;
  int column;
  const char* message;  // a part of the message
};

TEST(LoadConfig, EachErrorKindHasKeyLineAndColumn) {
  const ErrorCase cases[] = {
      {"unknown section", "servr:\n  data_dir: x\n", "servr", 1, 1,
       "unknown section 'servr' (the sections are server and plugins) (did you mean 'server'?)"},
      {"unknown server key", "server:\n  log_levle: debug\n", "server.log_levle", 2, 3,
       "unknown setting 'log_levle' (did you mean 'log_level'?)"},
      {"unknown nested server key", "server:\n  metrics:\n    prot: 1\n", "server.metrics.prot", 3,
       5, "(did you mean 'port'?)"},
      {"unknown key, prefix suggestion", "plugins:\n  mail:\n    listen: []\n",
       "plugins.mail.listen", 3, 5, "(did you mean 'listeners'?)"},
      {"unknown plugin key", "plugins:\n  mail:\n    enable: true\n", "plugins.mail.enable", 3, 5,
       "unknown setting 'enable' (did you mean 'enabled'?)"},
      {"unknown dotted plugin key", "plugins:\n  mail:\n    submission:\n      prot: 25\n",
       "plugins.mail.submission.prot", 4, 7, "(did you mean 'port'?)"},
      {"unknown key, no suggestion", "plugins:\n  mail:\n    zzzzzz: 1\n", "plugins.mail.zzzzzz", 3,
       5, "unknown setting 'zzzzzz'"},
      {"not a boolean", "plugins:\n  mail:\n    enabled: yes please\n", "plugins.mail.enabled", 3,
       14, "\"yes please\" is not a boolean (true or false)"},
      {"yes is not a boolean", "server:\n  metrics:\n    enabled: yes\n", "server.metrics.enabled",
       3, 14, "\"yes\" is not a boolean"},
      {"not a duration", "plugins:\n  mail:\n    command_timeout: 5x\n",
       "plugins.mail.command_timeout", 3, 22,
       "\"5x\" is not a duration (use a number with ms, s, m, h or d, e.g. 90s or 5m)"},
      {"duration without unit", "plugins:\n  mail:\n    command_timeout: 30\n",
       "plugins.mail.command_timeout", 3, 22, "30 is not a duration"},
      {"duration below minimum", "plugins:\n  mail:\n    command_timeout: 500ms\n",
       "plugins.mail.command_timeout", 3, 22, "500ms is below the minimum 1s"},
      {"duration above maximum", "plugins:\n  mail:\n    session_timeout: 8d\n",
       "plugins.mail.session_timeout", 3, 22, "8d is above the maximum 7d"},
      {"integer above maximum", "plugins:\n  pop:\n    max_connections: 2000000000\n",
       "plugins.pop.max_connections", 3, 22, "2000000000 is above the maximum 10000000"},
      {"integer below minimum", "plugins:\n  pop:\n    max_bad_commands: -1\n",
       "plugins.pop.max_bad_commands", 3, 23, "-1 is below the minimum 0"},
      {"not an integer", "server:\n  io_threads: 1.5\n", "server.io_threads", 2, 15,
       "\"1.5\" is not an integer"},
      {"integer overflow", "server:\n  io_threads: 99999999999999999999\n", "server.io_threads", 2,
       15, "is not an integer"},
      {"not a size", "plugins:\n  mail:\n    max_message_size: 25 MB\n",
       "plugins.mail.max_message_size", 3, 23, "\"25 MB\" is not a size"},
      {"size above maximum", "plugins:\n  mail:\n    max_message_size: 2GB\n",
       "plugins.mail.max_message_size", 3, 23, "2GB is above the maximum 1GB"},
      {"sequence where a string is needed", "plugins:\n  mail:\n    banner: [a, b]\n",
       "plugins.mail.banner", 3, 13, "expected a string (a text), got a list"},
      {"mapping where a boolean is needed", "plugins:\n  mail:\n    enabled: {a: 1}\n",
       "plugins.mail.enabled", 3, 14, "expected a boolean (true or false), got a mapping"},
      {"no value", "plugins:\n  mail:\n    enabled:\n", "plugins.mail.enabled", 3, 5,
       "no value given (expected true or false)"},
      {"bad enum", "server:\n  log_level: verbose\n", "server.log_level", 2, 14,
       "\"verbose\" is not one of trace, debug, info, warn, error"},
      {"bad enum with suggestion", "plugins:\n  mail:\n    mode: lenent\n", "plugins.mail.mode", 3,
       11, "\"lenent\" is not one of strict, lenient, legacy (did you mean 'lenient'?)"},
      {"list of strings given a scalar", "plugins:\n  mail:\n    auth_mechanisms: PLAIN\n",
       "plugins.mail.auth_mechanisms", 3, 22, "expected a list of texts"},
      {"list element not a string", "plugins:\n  mail:\n    auth_mechanisms: [PLAIN, [x]]\n",
       "plugins.mail.auth_mechanisms[1]", 3, 30, "expected a text, got a list"},
      {"section not a mapping", "plugins:\n  mail: 5\n", "plugins.mail", 2, 9,
       "expected a mapping of settings, got the value 5"},
      {"group not a mapping", "plugins:\n  mail:\n    submission: 25\n", "plugins.mail.submission",
       3, 17, "expected a mapping of settings"},
      {"duplicate key", "server:\n  log_level: info\n  log_level: debug\n", "server.log_level", 3,
       3, "given twice (first on line 2)"},
      {"bad listener address",
       "plugins:\n  mail:\n    listeners:\n      - {address: localhost, port: 25}\n",
       "plugins.mail.listeners[0].address", 4, 19, "\"localhost\" is not an IP address"},
      {"missing listener port",
       "plugins:\n  mail:\n    listeners:\n      - address: 127.0.0.1\n        tls: starttls\n",
       "plugins.mail.listeners[0]", 4, 9, "a listener needs a port (1 to 65535)"},
      {"listener port out of range", "plugins:\n  mail:\n    listeners:\n      - port: 70000\n",
       "plugins.mail.listeners[0].port", 4, 15, "70000 is above the maximum 65535"},
      {"listener bad tls", "plugins:\n  mail:\n    listeners:\n      - {port: 25, tls: ssl}\n",
       "plugins.mail.listeners[0].tls", 4, 25, "\"ssl\" is not one of none, starttls, implicit"},
      {"listener unknown key",
       "plugins:\n  mail:\n    listeners:\n      - {port: 25, adress: ::1}\n",
       "plugins.mail.listeners[0].adress", 4, 20, "(did you mean 'address'?)"},
      {"listener certificate without key",
       "plugins:\n  mail:\n    listeners:\n      - {port: 25, certificate: a.pem}\n",
       "plugins.mail.listeners[0]", 4, 9, "certificate is set without key; give both or neither"},
      {"listener not a mapping", "plugins:\n  mail:\n    listeners:\n      - 25\n",
       "plugins.mail.listeners[0]", 4, 9, "expected a listener {address, port, tls}"},
      {"listeners not a list", "plugins:\n  mail:\n    listeners: 25\n", "plugins.mail.listeners",
       3, 16, "expected a list of listeners"},
      {"tls certificate without key", "server:\n  tls:\n    certificate: cert.pem\n",
       "server.tls.certificate", 3, 18,
       "tls.certificate is set without tls.key; give both or neither"},
      {"tls key without certificate", "server:\n  tls:\n    key: key.pem\n", "server.tls.key", 3,
       10, "tls.key is set without tls.certificate"},
      {"sni entry without key", "server:\n  tls:\n    sni:\n      - certificate: a.pem\n",
       "server.tls.sni[0]", 4, 9, "needs both certificate and key"},
      {"metrics address not an IP", "server:\n  metrics:\n    address: localhost\n",
       "server.metrics.address", 3, 14, "\"localhost\" is not an IP address"},
      {"YAML syntax error", "server:\n  data_dir: x\n bad: [\n", "", 3, 2,
       "YAML syntax error: end of map not found"},
      {"YAML syntax error, flow mapping", "plugins:\n  mail: {enabled: true\n", "", 3, 1,
       "YAML syntax error"},
      {"top level not a mapping", "- a\n- b\n", "", 1, 1, "expected a mapping with the sections"},
      {"plugin not installed but enabled", "plugins:\n  mial:\n    enabled: true\n", "plugins.mial",
       2, 3, "plugin 'mial' is not installed in"},
      {"plugin check", "plugins:\n  mail:\n    realm: forbidden\n", "plugins.mail", 2, 3,
       "realm 'forbidden' is reserved"},
      {"plugin check on nested key", "plugins:\n  mail:\n    mode: legacy\n", "plugins.mail", 2, 3,
       "mode legacy cannot be used with idle.enabled"},
      {"listener used twice",
       "plugins:\n  mail:\n    enabled: true\n  pop:\n    enabled: true\n    listeners: [{port: "
       "1143}]\n",
       "plugins.pop.listeners[0]", 6, 16, "127.0.0.1:1143 is already taken by plugins.mail"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const ConfigResult r = load(c.yaml);
    EXPECT_FALSE(r.config.has_value());
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    const ConfigError& e = r.errors.front();
    EXPECT_EQ(e.file, kFile.string());
    EXPECT_EQ(e.key, c.key);
    EXPECT_EQ(e.line, c.line) << e.to_string();
    EXPECT_EQ(e.column, c.column) << e.to_string();
    EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
  }
}

TEST(LoadConfig, NotInstalledPluginSuggestsAnInstalledName) {
  const ConfigResult r = load("plugins:\n  mial:\n    enabled: true\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("(did you mean 'mail'?)"), std::string::npos);
}

TEST(LoadConfig, DisabledPluginThatIsNotInstalledIsAWarning) {
  const ConfigResult r = load("plugins:\n  xmpp:\n    enabled: false\n    anything: [1, 2]\n");
  ASSERT_TRUE(r.config.has_value()) << all_errors(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("portico.yaml:2:3: plugins.xmpp: plugin 'xmpp' is not installed"),
            std::string::npos)
      << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("not checked"), std::string::npos);
  EXPECT_EQ(r.config->plugins.count("xmpp"), 0u);
  EXPECT_EQ(r.config->plugins.size(), 2u);
}

// As a server loads its file: the provider hears which plugins the file enables and gives the
// schemas of those it loaded.
TEST(LoadEnabledConfig, TheProviderIsToldWhichPluginsTheFileEnables) {
  const PluginSchemas all = fake_schemas();
  std::set<std::string> asked;
  PluginSchemas loaded;
  const ConfigResult r = load_enabled_config_text(
      "plugins:\n  mail:\n    enabled: true\n  pop:\n    enabled: false\n"
      "  ghost:\n    enabled: false\n    anything: [1, 2]\n",
      kFile,
      [&](const ServerConfig&, const std::set<std::string>& enabled) -> const PluginSchemas& {
        asked = enabled;
        for (const auto& name : enabled)
          if (all.count(name)) loaded.emplace(name, all.at(name));
        return loaded;
      });
  ASSERT_TRUE(r.config.has_value()) << all_errors(r);
  EXPECT_EQ(asked, std::set<std::string>{"mail"});
  // A disabled plugin that was not loaded is skipped without a word (check-config checks it).
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
  EXPECT_EQ(r.config->plugins.size(), 1u);
  EXPECT_TRUE(r.config->plugins.at("mail").shared.enabled);
}

TEST(LoadEnabledConfig, SmtpOutIsNeededWhenItsSectionSetsTheSpamCheckLimit) {
  // The core's filter obeys smtp-out's max_spam_check_threads even with smtp-out disabled.
  std::set<std::string> asked;
  const PluginSchemas none;
  auto provider = [&](const ServerConfig&,
                      const std::set<std::string>& needed) -> const PluginSchemas& {
    asked = needed;
    return none;
  };
  (void)load_enabled_config_text(
      "plugins:\n  smtp-out:\n    enabled: false\n    max_spam_check_threads: 3\n", kFile,
      provider);
  EXPECT_EQ(asked, std::set<std::string>{"smtp-out"});
  (void)load_enabled_config_text("plugins:\n  smtp-out:\n    enabled: false\n", kFile, provider);
  EXPECT_TRUE(asked.empty());
}

TEST(LoadEnabledConfig, AnEnabledPluginNotInstalledIsStillAnError) {
  const PluginSchemas none;
  const ConfigResult r = load_enabled_config_text(
      "plugins:\n  mial:\n    enabled: true\n", kFile,
      [&](const ServerConfig&, const std::set<std::string>&) -> const PluginSchemas& {
        return none;
      });
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].to_string().find("plugins.mial: plugin 'mial' is not installed"),
            std::string::npos)
      << r.errors[0].to_string();
}

TEST(LoadConfig, NameServersAreAddressesWithAnOptionalPort) {
  EXPECT_TRUE(
      load("server:\n  dns_servers: [192.0.2.53, 127.0.0.1@5353, '::1@53', '2001:db8::1']\n")
          .errors.empty());
  for (const char* bad : {"dns.example", "127.0.0.1@", "127.0.0.1@0", "127.0.0.1@65536",
                          "127.0.0.1@53x", "[::1]@53", ""}) {
    SCOPED_TRACE(bad);
    const ConfigResult r = load(std::string("server:\n  dns_servers: ['") + bad + "']\n");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].key, "server.dns_servers");
    EXPECT_NE(r.errors[0].message.find("is not a name server"), std::string::npos);
  }
}

TEST(LoadConfig, ReportsEveryErrorAtOnceInFileOrder) {
  const ConfigResult r = load(
      "server:\n"
      "  log_level: loud\n"
      "plugins:\n"
      "  pop:\n"
      "    max_connections: -5\n"
      "    banner: [x]\n"
      "  mail:\n"
      "    command_timeout: soon\n"
      "    listeners:\n"
      "      - {address: 300.1.1.1}\n");
  // A bad server section stops before the plugins are looked at.
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);

  const ConfigResult p = load(
      "plugins:\n"
      "  pop:\n"
      "    max_connections: -5\n"
      "    banner: [x]\n"
      "  mail:\n"
      "    command_timeout: soon\n"
      "    listeners:\n"
      "      - {address: 300.1.1.1}\n"
      "    zzz: 1\n");
  ASSERT_EQ(p.errors.size(), 6u) << all_errors(p);
  const std::pair<int, const char*> expected[] = {
      {3, "plugins.pop.max_connections"},       {4, "plugins.pop.banner"},
      {6, "plugins.mail.command_timeout"},      {8, "plugins.mail.listeners[0]"},
      {8, "plugins.mail.listeners[0].address"}, {9, "plugins.mail.zzz"},
  };
  for (std::size_t i = 0; i < p.errors.size(); ++i) {
    EXPECT_EQ(p.errors[i].line, expected[i].first) << all_errors(p);
    EXPECT_EQ(p.errors[i].key, expected[i].second) << all_errors(p);
  }
}

TEST(LoadConfig, PluginsAreNotLookedUpWhenTheServerSectionIsInvalid) {
  int calls = 0;
  const PluginSchemas& schemas = fake_schemas();
  const auto provider = [&](const ServerConfig&) -> const PluginSchemas& {
    ++calls;
    return schemas;
  };
  EXPECT_FALSE(load_config_text("server:\n  io_threads: many\n", kFile, provider).config);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(load_config_text("server:\n  io_threads: 4\n", kFile, provider).config);
  EXPECT_EQ(calls, 1);
}

TEST(LoadConfig, ErrorToString) {
  const ConfigResult r = load("plugins:\n  mail:\n    command_timeout: 5x\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            "/srv/portico/etc/portico.yaml:3:22: plugins.mail.command_timeout: \"5x\" is not a "
            "duration (use a number with ms, s, m, h or d, e.g. 90s or 5m)");
  EXPECT_EQ((ConfigError{"f.yaml", 0, 0, "k", "m"}.to_string()), "f.yaml: k: m");
}

TEST(LoadConfig, EmptyFileGivesDefaultsForEveryInstalledPlugin) {
  const ConfigResult r = load("");
  ASSERT_TRUE(r.config.has_value()) << all_errors(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.file, kFile);

  const ServerConfig& s = c.server;
  EXPECT_FALSE(s.hostname.empty());
  EXPECT_EQ(s.data_dir, "/srv/portico/etc/data");
  EXPECT_EQ(s.control_socket, "/srv/portico/etc/data/portico.sock");
  EXPECT_TRUE(s.plugin_dir == PORTICO_BUILD_PLUGIN_DIR ||
              s.plugin_dir == PORTICO_INSTALL_PLUGIN_DIR)
      << s.plugin_dir;
  EXPECT_FALSE(s.tls.has_value());
  EXPECT_EQ(s.log_level, "info");
  EXPECT_EQ(s.log_format, "text");
  EXPECT_TRUE(s.metrics_enabled);
  EXPECT_EQ(s.metrics_address, "127.0.0.1");
  EXPECT_EQ(s.metrics_port, 9465);
  EXPECT_EQ(s.shutdown_grace, std::chrono::seconds(30));
  EXPECT_EQ(s.io_threads, 0);
  EXPECT_EQ(s.worker_threads, 0);

  ASSERT_EQ(c.plugins.size(), 2u);
  const PluginConfig& mail = c.plugins.at("mail");
  EXPECT_EQ(mail.name, "mail");
  EXPECT_FALSE(mail.shared.enabled);
  EXPECT_EQ(mail.shared.command_timeout, std::chrono::minutes(1));
  EXPECT_EQ(mail.shared.session_timeout, std::chrono::minutes(10));
  EXPECT_EQ(mail.shared.max_bad_commands, 8);
  EXPECT_EQ(mail.shared.listeners, fake_schemas().at("mail").schema.shared.listeners);
  const sdk::Settings& m = mail.settings;
  EXPECT_EQ(m.get_duration("greeting_delay"), std::chrono::milliseconds(0));
  EXPECT_EQ(m.get_size("max_message_size"), 25u << 20);
  EXPECT_TRUE(m.get_bool("idle.enabled"));
  EXPECT_EQ(m.get_int("submission.port"), 587);
  EXPECT_EQ(m.get_list("auth_mechanisms"), (std::vector<std::string>{"PLAIN", "LOGIN"}));
  EXPECT_EQ(m.get_string("mode"), "strict");
  EXPECT_EQ(m.get_string("mailbox_root"), "/srv/portico/etc/mail");
  EXPECT_EQ(m.get_string("realm"), "example.org");
  // Shared keys are in the plugin's Settings too.
  EXPECT_EQ(m.get_duration("command_timeout"), std::chrono::minutes(1));
  EXPECT_FALSE(m.get_bool("enabled"));
  EXPECT_EQ(m.all().size(), 9u + 8u);

  EXPECT_EQ(c.plugins.at("pop").shared.max_connections, 50);
}

TEST(LoadConfig, GivenValuesAreTypedAndPathsResolvedAgainstTheFilesFolder) {
  const ConfigResult r = load(R"(
server:
  hostname: mx.example.org
  data_dir: state/../var
  plugin_dir: /opt/portico/plugins
  tls:
    certificate: tls/cert.pem
    key: /etc/ssl/key.pem
    sni:
      - {certificate: other.pem, key: other.key}
  log_level: debug
  log_format: json
  control_socket: run/ctl.sock
  metrics: {enabled: false, address: "::1", port: 0}
  shutdown_grace: 0
  io_threads: 4
  worker_threads: 1024
plugins:
  mail:
    enabled: true
    listeners:
      - {address: "::", port: 143, tls: starttls}
      - {address: 0.0.0.0, port: 993, tls: implicit, certificate: c.pem, key: ../k.pem}
    banner: "ready"
    command_timeout: 90s
    session_timeout_enabled: false
    max_bad_commands: 0
    greeting_delay: 250ms
    max_message_size: 64kb
    idle:
      enabled: false
    submission:
      port: 2525
    auth_mechanisms: [PLAIN]
    mode: legacy
    mailbox_root: /var/mail
    realm: "12"
)");
  ASSERT_TRUE(r.config.has_value()) << all_errors(r);
  const ServerConfig& s = r.config->server;
  EXPECT_EQ(s.hostname, "mx.example.org");
  EXPECT_EQ(s.data_dir, "/srv/portico/etc/var");
  EXPECT_EQ(s.plugin_dir, "/opt/portico/plugins");
  ASSERT_TRUE(s.tls.has_value());
  EXPECT_EQ(s.tls->certificate, "/srv/portico/etc/tls/cert.pem");
  EXPECT_EQ(s.tls->key, "/etc/ssl/key.pem");
  ASSERT_EQ(s.extra_certificates.size(), 1u);
  EXPECT_EQ(s.extra_certificates[0].certificate, "/srv/portico/etc/other.pem");
  EXPECT_EQ(s.extra_certificates[0].key, "/srv/portico/etc/other.key");
  EXPECT_EQ(s.log_level, "debug");
  EXPECT_EQ(s.log_format, "json");
  EXPECT_EQ(s.control_socket, "/srv/portico/etc/run/ctl.sock");
  EXPECT_FALSE(s.metrics_enabled);
  EXPECT_EQ(s.metrics_address, "::1");
  EXPECT_EQ(s.metrics_port, 0);
  EXPECT_EQ(s.shutdown_grace, std::chrono::milliseconds(0));
  EXPECT_EQ(s.io_threads, 4);
  EXPECT_EQ(s.worker_threads, 1024);

  const PluginConfig& mail = r.config->plugins.at("mail");
  EXPECT_TRUE(mail.shared.enabled);
  ASSERT_EQ(mail.shared.listeners.size(), 2u);
  EXPECT_EQ(mail.shared.listeners[0],
            (sdk::ListenerSpec{"::", 143, sdk::TlsMode::starttls, "", ""}));
  EXPECT_EQ(mail.shared.listeners[1],
            (sdk::ListenerSpec{"0.0.0.0", 993, sdk::TlsMode::implicit, "/srv/portico/etc/c.pem",
                               "/srv/portico/k.pem"}));
  EXPECT_EQ(mail.shared.banner, "ready");
  EXPECT_EQ(mail.shared.command_timeout, std::chrono::seconds(90));
  EXPECT_FALSE(mail.shared.session_timeout_enabled);
  EXPECT_EQ(mail.shared.max_bad_commands, 0);
  const sdk::Settings& m = mail.settings;
  EXPECT_EQ(m.get_duration("greeting_delay"), std::chrono::milliseconds(250));
  EXPECT_EQ(m.get_size("max_message_size"), 64u * 1024);
  EXPECT_FALSE(m.get_bool("idle.enabled"));
  EXPECT_EQ(m.get_int("submission.port"), 2525);
  EXPECT_EQ(m.get_list("auth_mechanisms"), std::vector<std::string>{"PLAIN"});
  EXPECT_EQ(m.get_string("mode"), "legacy");
  EXPECT_EQ(m.get_string("mailbox_root"), "/var/mail");
  EXPECT_EQ(m.get_string("realm"), "12");
  EXPECT_EQ(m.get_listeners("listeners"), mail.shared.listeners);
}

TEST(LoadConfig, NullSectionsAndEmptyListsAreAccepted) {
  const ConfigResult r = load("server:\nplugins:\n  pop:\n    listeners: []\n    banner:\n");
  ASSERT_TRUE(r.config.has_value()) << all_errors(r);
  EXPECT_TRUE(r.config->plugins.at("pop").shared.listeners.empty());
  EXPECT_EQ(r.config->plugins.at("pop").shared.banner, "");
}

TEST(LoadConfig, APluginsMalformedDefaultsAreReportedAsItsDefect) {
  PluginSchemas schemas = fake_schemas();
  PluginSchemaInfo bad;
  bad.schema.settings = {
      spec("delay", sdk::SettingType::duration, "5x"),
      spec("limit", sdk::SettingType::integer, "10", "1", "lots"),
      spec("level", sdk::SettingType::integer, "100", "1", "50"),
      spec("style", sdk::SettingType::enumeration, "bold", "", "", {"plain", "fancy"}),
      spec("enabled", sdk::SettingType::boolean, "true"),
  };
  schemas.emplace("bad", bad);
  const ConfigResult r = load("plugins:\n  bad:\n    delay: 5s\n", schemas);
  ASSERT_EQ(r.errors.size(), 5u) << all_errors(r);
  const std::pair<const char*, const char*> expected[] = {
      {"plugins.bad.delay",
       "plugin 'bad' declares setting 'delay' wrongly: default: \"5x\" is "
       "not a duration"},
      {"plugins.bad.limit", "maximum: \"lots\" is not an integer"},
      {"plugins.bad.level", "default: 100 is above the maximum 50"},
      {"plugins.bad.style", "default: \"bold\" is not one of plain, fancy"},
      {"plugins.bad.enabled", "declares setting 'enabled' twice"},
  };
  for (std::size_t i = 0; i < r.errors.size(); ++i) {
    EXPECT_EQ(r.errors[i].key, expected[i].first);
    EXPECT_EQ(r.errors[i].line, 0);
    EXPECT_NE(r.errors[i].message.find(expected[i].second), std::string::npos)
        << r.errors[i].to_string();
  }
}

TEST(LoadConfig, PluginCheckRunsOnlyOnValidSettingsAndMayThrow) {
  PluginSchemas schemas = fake_schemas();
  int calls = 0;
  schemas.at("pop").check = [&calls](const sdk::Settings&) -> std::vector<std::string> {
    ++calls;
    throw std::runtime_error("boom");
  };
  const ConfigResult bad = load("plugins:\n  pop:\n    max_connections: x\n", schemas);
  EXPECT_EQ(calls, 0);
  ASSERT_EQ(bad.errors.size(), 1u);

  const ConfigResult r = load("plugins:\n  pop: {}\n", schemas);
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].key, "plugins.pop");
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_NE(r.errors[0].message.find("boom"), std::string::npos);
}

TEST(LoadConfig, ReadsAFileAndResolvesAgainstItsFolder) {
  char dir_template[] = "/tmp/portico-config-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const fs::path dir = dir_template;
  {
    std::ofstream out(dir / "portico.yaml");
    out << "server:\n  data_dir: ./state\nplugins:\n  pop:\n    enabled: true\n";
  }
  const auto provider = [](const ServerConfig&) -> const PluginSchemas& { return fake_schemas(); };
  const ConfigResult r = load_config(dir / "portico.yaml", provider);
  ASSERT_TRUE(r.config.has_value()) << all_errors(r);
  EXPECT_EQ(r.config->server.data_dir, dir / "state");
  EXPECT_TRUE(r.config->plugins.at("pop").shared.enabled);

  const ConfigResult missing = load_config(dir / "absent.yaml", provider);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].to_string().find("absent.yaml: cannot read the file"),
            std::string::npos)
      << missing.errors[0].to_string();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace portico::core
