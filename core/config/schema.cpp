// Portico core — the core's own setting tables: the `server:` section, and the keys every
// protocol plugin shares (with that plugin's defaults filled in).
//
// These tables are the single source for validation, `portico plugins describe` and the JSON
// Schema; adding a key here is all it takes to make it valid, documented and typed. Defaults and
// bounds are written as an operator would write them and parsed by the same rules as the file.
#include <string>
#include <vector>

#include "core/config/config.h"

namespace portico::core {

using sdk::SettingSpec;
using sdk::SettingType;

namespace {

// Builds one table row; optional parts are added with the chained calls.
class setting {
 public:
  setting(std::string key, SettingType type, std::string default_text, std::string help) {
    spec_.key = std::move(key);
    spec_.type = type;
    spec_.default_text = std::move(default_text);
    spec_.help = std::move(help);
  }
  setting& range(std::string min, std::string max) {
    spec_.min_text = std::move(min);
    spec_.max_text = std::move(max);
    return *this;
  }
  setting& choices(std::vector<std::string> words) {
    spec_.choices = std::move(words);
    return *this;
  }
  setting& zero_means_unlimited() {
    spec_.zero_means_unlimited = true;
    return *this;
  }
  operator SettingSpec() const { return spec_; }  // NOLINT: a builder converts implicitly

 private:
  SettingSpec spec_;
};

sdk::Schema make_server_schema() {
  sdk::Schema s;
  s.summary = "Settings of the host process: identity, files, TLS, logging, metrics and threads.";
  s.settings = {
      setting("hostname", SettingType::string, "",
              "The name this server gives itself in greetings and protocol replies. Empty means "
              "the machine's host name."),
      setting("data_dir", SettingType::path, "data",
              "Folder for the server's state (the control socket, the development certificate, "
              "and the mail store and queue). A relative path is taken from the folder of this "
              "configuration file; it is created at start."),
      setting("plugin_dir", SettingType::path, "",
              "Folder the protocol plugins are loaded from (*.so files). A server loads only "
              "the plugins its file enables, and those they depend on, each from <name>.so (the "
              "folder's other files are opened only when a name is not found that way); a "
              "plugin first enabled by a reload is loaded then. `portico check-config` and "
              "`portico plugins` open every file. Empty means the "
              "built-in location: the build tree's plugin folder for a binary run from the build "
              "tree, else lib/portico/plugins beside the binary, else the installed one. A change "
              "takes effect at the next start."),
      setting("tls.certificate", SettingType::path, "",
              "PEM file with the server's certificate chain, offered to clients that start "
              "TLS. Set together with tls.key. Left empty, a self-signed development "
              "certificate is generated in data_dir/tls at the first start with a listener that "
              "offers TLS (clients will not trust it). Re-read on reload."),
      setting("tls.key", SettingType::path, "",
              "PEM file with the private key of tls.certificate."),
      setting("tls.sni", SettingType::string_list, "",
              "More certificates, chosen by the name a client asks for (SNI): a list of "
              "mappings, each {certificate: FILE, key: FILE}. The certificate whose names match "
              "the requested name is offered; tls.certificate is the fallback."),
      setting("log_level", SettingType::enumeration, "info",
              "The least important kind of message written to the log.")
          .choices({"trace", "debug", "info", "warn", "error"}),
      setting("log_format", SettingType::enumeration, "text",
              "How log lines are written: text for people, json (one object per line) for log "
              "collectors.")
          .choices({"text", "json"}),
      setting("control_socket", SettingType::path, "",
              "Unix socket (mode 0600) the `portico status` and `portico reload` commands use to "
              "talk to the running server. Empty means portico.sock inside data_dir. A change "
              "takes effect at the next start."),
      setting("metrics.enabled", SettingType::boolean, "true",
              "Serve Prometheus metrics over HTTP at metrics.address and metrics.port. A change "
              "takes effect at the next start."),
      setting("metrics.address", SettingType::string, "127.0.0.1",
              "IP address the metrics endpoint listens on. Keep it on loopback or a private "
              "network: metrics reveal traffic volumes. A change takes effect at the next start."),
      setting("metrics.port", SettingType::integer, "9465",
              "TCP port of the metrics endpoint. 0 lets the system pick a free port. A change "
              "takes effect at the next start.")
          .range("0", "65535"),
      setting("shutdown_grace", SettingType::duration, "30s",
              "On stop, how long open sessions may finish their current command before they "
              "are closed.")
          .range("0s", "1h"),
      setting("dns_servers", SettingType::string_list, "",
              "Name servers the server's resolver asks (for MX, A and AAAA look-ups), each an IP "
              "address with an optional port after '@' (\"192.0.2.53\", \"127.0.0.1@5353\"). "
              "Empty means those of /etc/resolv.conf (or, with none, the root servers); "
              "/etc/hosts is read first either way. A change takes effect at the next start."),
      setting("spam_filter.enabled", SettingType::boolean, "false",
              "Check every message received over SMTP with rspamd before it is accepted, so that "
              "spam is refused in the SMTP dialogue (no bounce). At most smtp-out's "
              "max_spam_check_threads messages are checked at once; the next ones wait."),
      setting("spam_filter.address", SettingType::string, "127.0.0.1",
              "IP address of rspamd (its normal worker, which answers /checkv2)."),
      setting("spam_filter.port", SettingType::integer, "11333",
              "TCP port of rspamd's normal worker.")
          .range("1", "65535"),
      setting("spam_filter.controller_port", SettingType::integer, "11334",
              "TCP port of rspamd's controller worker, which `portico spam learn` teaches "
              "(/learnspam, /learnham).")
          .range("1", "65535"),
      setting("spam_filter.password", SettingType::string, "",
              "The password of rspamd's controller, sent by `portico spam learn` when set. "
              "Checks never send it (rspamd would take them for an administrator's requests)."),
      setting("spam_filter.timeout", SettingType::duration, "20s",
              "How long one check may take, from connecting to rspamd to its whole reply. "
              "Past it the check has failed (see on_failure).")
          .range("100ms", "10m"),
      setting("spam_filter.on_failure", SettingType::enumeration, "accept",
              "What a message gets when rspamd is down, too slow or answers nonsense: accept "
              "(delivered with `X-Spam-Check: not checked (why)`; the log warns and "
              "portico_spam_check_outcomes_total counts it as failed) or tempfail (451 4.7.1: "
              "the client tries again later).")
          .choices({"accept", "tempfail"}),
      setting("spam_filter.max_message_size", SettingType::size, "10MB",
              "Messages larger than this are not checked (they are accepted unmarked), as "
              "spam is small and checking big messages is slow. 0 means every size is checked.")
          .zero_means_unlimited(),
      setting("spam_filter.check_authenticated", SettingType::boolean, "false",
              "Check messages from authenticated clients too. Off, a user's own submissions "
              "are not checked."),
      setting("spam_filter.on_reject", SettingType::enumeration, "reject",
              "What rspamd's action `reject` does: reject (550 5.7.1 with rspamd's message), "
              "tempfail (451 4.7.1), mark (delivered with X-Spam: Yes), rewrite_subject (marked "
              "and the Subject rewritten as rspamd says) or accept (delivered with the score "
              "fields only).")
          .choices({"reject", "tempfail", "mark", "rewrite_subject", "accept"}),
      setting("spam_filter.on_soft_reject", SettingType::enumeration, "tempfail",
              "What rspamd's action `soft reject` does (the same choices as on_reject).")
          .choices({"reject", "tempfail", "mark", "rewrite_subject", "accept"}),
      setting("spam_filter.on_greylist", SettingType::enumeration, "tempfail",
              "What rspamd's action `greylist` does (the same choices as on_reject).")
          .choices({"reject", "tempfail", "mark", "rewrite_subject", "accept"}),
      setting("spam_filter.on_add_header", SettingType::enumeration, "mark",
              "What rspamd's action `add header` does (the same choices as on_reject).")
          .choices({"reject", "tempfail", "mark", "rewrite_subject", "accept"}),
      setting("spam_filter.on_rewrite_subject", SettingType::enumeration, "rewrite_subject",
              "What rspamd's action `rewrite subject` does (the same choices as on_reject).")
          .choices({"reject", "tempfail", "mark", "rewrite_subject", "accept"}),
      setting("io_threads", SettingType::integer, "0",
              "Threads that run network input and output. 0 means one per processor core. A change "
              "takes effect at the next start.")
          .range("0", "256"),
      setting("worker_threads", SettingType::integer, "0",
              "Threads for slow work taken off the network threads (storage, password "
              "hashing, DNS). Most of their time is spent waiting for the disk (fsync), so 0 means "
              "four per processor core, at least 8. A change takes effect at the next start.")
          .range("0", "1024"),
  };
  return s;
}

}  // namespace

const sdk::Schema& server_schema() {
  static const sdk::Schema schema = make_server_schema();
  return schema;
}

std::vector<SettingSpec> shared_specs(const sdk::SharedDefaults& d) {
  return {
      setting("enabled", SettingType::boolean, "false",
              "Run this protocol. A disabled plugin is still loaded and its settings are still "
              "checked, but it opens no listener."),
      setting("listeners", SettingType::listener_list, "",
              "Where this protocol accepts connections: a list of {address, port, tls}. address "
              "is an IP literal (default 127.0.0.1; 0.0.0.0 or :: for every interface), port is "
              "required, tls is none, starttls (plain first, upgraded on request) or implicit "
              "(TLS from the first byte). A listener may name its own certificate and key; "
              "otherwise the server's certificates are used."),
      setting("banner", SettingType::string, d.banner,
              "Text sent in the greeting after the protocol's own words. Keep it free of "
              "version numbers. Empty means the protocol's standard greeting."),
      setting("command_timeout", SettingType::duration, d.command_timeout,
              "How long a client may take to send one complete command once it has started "
              "it. A client that stalls longer is disconnected.")
          .range("1s", "24h"),
      setting("session_timeout", SettingType::duration, d.session_timeout,
              "How long a connection may stay idle between commands before it is closed "
              "(when session_timeout_enabled is true).")
          .range("1s", "7d"),
      setting("session_timeout_enabled", SettingType::boolean,
              d.session_timeout_enabled ? "true" : "false",
              "Close idle connections after session_timeout. Turn off only for protocols "
              "whose clients legitimately stay idle for long, and mind max_connections."),
      setting("max_bad_commands", SettingType::integer, std::to_string(d.max_bad_commands),
              "How many unknown, malformed or out-of-place commands a client may send in one "
              "session before it is disconnected.")
          .range("0", "1000000")
          .zero_means_unlimited(),
      setting("max_connections", SettingType::integer, std::to_string(d.max_connections),
              "The most connections this protocol holds open at once, over all its listeners. "
              "New connections beyond it are refused with a temporary error.")
          .range("0", "10000000")
          .zero_means_unlimited(),
      setting("max_connections_per_address", SettingType::integer,
              std::to_string(d.max_connections_per_address),
              "The most connections this protocol holds open at once from one client IP "
              "address, so that one client cannot take every slot.")
          .range("0", "10000000")
          .zero_means_unlimited(),
  };
}

}  // namespace portico::core
