// Portico core — spam commands (see spam_commands.h).
//
//   portico spam learn --spam|--ham FILE   teaches rspamd's classifier (its controller's
//                                          /learnspam or /learnham, with spam_filter.password)
//                                          that the message in FILE (RFC 5322 octets, "-" for
//                                          stdin) is spam or not; prints rspamd's answer
//   portico spam check FILE [--from A] [--to B...] [--ip IP]
//                                          asks rspamd (/checkv2) about FILE and prints its
//                                          action and score and what the server would do with
//                                          it under its spam_filter.on_* settings
// Each takes --config FILE; both work whether the server runs or not, and whether
// spam_filter.enabled is on or not (they need rspamd, not the server).
#include "core/cli/spam_commands.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/cli/commands.h"
#include "core/filter/http.h"
#include "core/filter/rspamd.h"

namespace portico::core::cli {

namespace {

bool read_input(const std::string& file, std::string& out) {
  if (file == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

const char* action_word(sdk::FilterAction a) {
  switch (a) {
    case sdk::FilterAction::accept:
      return "accept";
    case sdk::FilterAction::reject:
      return "reject (550 5.7.1)";
    case sdk::FilterAction::tempfail:
      return "tempfail (451 4.7.1)";
  }
  return "accept";
}

// The configuration and a request carrying FILE to rspamd; nullopt (after saying why) when
// either cannot be had.
std::optional<std::pair<Config, filter::HttpRequest>> prepare(const std::string& config_file,
                                                              const std::string& file) {
  auto config = load_config_or_report(config_file);
  if (!config) return std::nullopt;
  filter::HttpRequest r;
  if (!read_input(file, r.body)) {
    std::cerr << "cannot read " << file << "\n";
    return std::nullopt;
  }
  r.address = config->server.spam_filter.address;
  r.timeout = config->server.spam_filter.timeout;
  return std::make_pair(std::move(*config), std::move(r));
}

int learn(const std::string& config_file, bool spam, const std::string& file) {
  auto prepared = prepare(config_file, file);
  if (!prepared) return 2;
  auto& [config, r] = *prepared;
  const auto& f = config.server.spam_filter;
  r.port = f.controller_port;
  r.target = spam ? "/learnspam" : "/learnham";
  if (!f.password.empty()) r.fields.emplace_back("Password", f.password);
  const auto reply = filter::http_post_blocking(std::move(r));
  if (reply.status == 0) {
    std::cerr << "rspamd's controller at " << f.address << ":" << f.controller_port << ": "
              << reply.error << "\n";
    return 1;
  }
  std::string error;
  const bool learned = filter::learn_succeeded(reply.body, error);
  if (reply.status != 200 || !learned) {
    // rspamd answers 204 with its reason in the status line (too few words to learn from),
    // and an HTTP client reads no body after a 204.
    if (reply.status == 204) error = "nothing learned (too few words in the message?)";
    std::cerr << "rspamd did not learn it (HTTP " << reply.status << "): " << error << "\n";
    return 1;
  }
  std::cout << "learned as " << (spam ? "spam" : "ham") << "\n";
  return 0;
}

int check(const std::string& config_file, const std::string& file, const std::string& from,
          const std::vector<std::string>& to, const std::string& ip) {
  auto prepared = prepare(config_file, file);
  if (!prepared) return 2;
  auto& [config, r] = *prepared;
  sdk::FilterRequest request;
  request.protocol = "cli";
  request.client_address = ip;
  request.sender = from;
  request.recipients = to;
  const auto& f = config.server.spam_filter;
  r.port = f.port;
  r.target = "/checkv2";
  r.fields = filter::request_fields(request, config.server.hostname);
  const auto reply = filter::http_post_blocking(std::move(r));
  if (reply.status != 200) {
    std::cerr << "rspamd at " << f.address << ":" << f.port << ": "
              << (reply.status == 0 ? reply.error
                                    : "HTTP " + std::to_string(reply.status) + " " +
                                          filter::client_text(reply.body))
              << "\n";
    return 1;
  }
  std::string error;
  const auto parsed = filter::parse_reply(reply.body, error);
  if (!parsed) {
    std::cerr << error << "\n";
    return 1;
  }
  const auto d = filter::decide(*parsed, f);
  std::cout << d.log << "\nsymbols:";
  for (const auto& sym : parsed->symbols)
    std::cout << " " << sym.name << "(" << sym.score << ")";
  std::cout << "\nthe server would: " << action_word(d.action);
  if (!d.reply.empty()) std::cout << " \"" << d.reply << "\"";
  std::cout << "\n";
  for (const auto& [name, value] : d.add)
    std::cout << filter::format_field(name, value);
  if (d.subject) std::cout << filter::format_field("Subject", *d.subject);
  return 0;
}

}  // namespace

void add_spam_commands(CLI::App& app, int& rc) {
  struct Options {
    std::string config;
    std::string file;
    bool spam = false;
    bool ham = false;
    std::string from;
    std::vector<std::string> to;
    std::string ip = "127.0.0.1";
  };
  auto o = std::make_shared<Options>();
  const char* env_config = std::getenv("PORTICO_CONFIG");
  o->config = env_config ? env_config : "config/portico.yaml";
  auto* spam = app.add_subcommand("spam", "Spam filtering with rspamd: learn, check");
  spam->require_subcommand(1);
  auto* learn_cmd =
      spam->add_subcommand("learn", "Teach rspamd that a message is spam (--spam) or not (--ham)");
  learn_cmd->add_option("--config,-c", o->config, "Configuration file")->capture_default_str();
  auto* as_spam = learn_cmd->add_flag("--spam", o->spam, "The message is spam");
  auto* as_ham = learn_cmd->add_flag("--ham", o->ham, "The message is not spam");
  as_spam->excludes(as_ham);
  learn_cmd->add_option("file", o->file, "The message (RFC 5322), - for stdin")->required();
  learn_cmd->callback([o, &rc] {
    if (!o->spam && !o->ham) {
      std::cerr << "say --spam or --ham\n";
      rc = 2;
      return;
    }
    rc = learn(o->config, o->spam, o->file);
  });
  auto* check_cmd =
      spam->add_subcommand("check", "Ask rspamd about a message, and say what the server would do");
  check_cmd->add_option("--config,-c", o->config, "Configuration file")->capture_default_str();
  check_cmd->add_option("--from", o->from, "The envelope sender");
  check_cmd->add_option("--to", o->to, "An envelope recipient (repeatable)");
  check_cmd->add_option("--ip", o->ip, "The client's IP address")->capture_default_str();
  check_cmd->add_option("file", o->file, "The message (RFC 5322), - for stdin")->required();
  check_cmd->callback([o, &rc] { rc = check(o->config, o->file, o->from, o->to, o->ip); });
}

}  // namespace portico::core::cli
