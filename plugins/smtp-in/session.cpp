// smtp-in — session setup, command dispatch, and the simple commands (see session.h).
#include "session.h"

#include <cstdio>
#include <string>

namespace portico::smtp {

namespace {

// Up to `limit` octets of client input for the log, control and non-ASCII octets as \xNN.
std::string printable(std::string_view text, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  if (text.size() > limit) out += "...";
  return out;
}

}  // namespace

SmtpSession::SmtpSession(sdk::SessionContext& ctx, sdk::Host& host, SmtpSettings settings)
    : ctx_(ctx), host_(host), settings_(std::move(settings)) {
  const std::string& listener = ctx_.connection().listener;
  submission_ = (settings_.submission_enabled && listener == listener_name(settings_.submission)) ||
                (settings_.submissions_enabled && listener == listener_name(settings_.submissions));
}

void SmtpSession::on_start() {
  ctx_.set_max_line_length(kMaxCommandLine);
  check_client_waited("CONNECT");  // it talked before the greeting (RFC 5321 section 4.3.1)
  reply(220, "", ctx_.banner());
}

void SmtpSession::reply(int code, std::string_view enhanced, std::string_view text) {
  std::string line = std::to_string(code);
  line += ' ';
  if (!enhanced.empty()) {
    line += enhanced;
    line += ' ';
  }
  line += text;
  line += "\r\n";
  ctx_.write(line);
}

void SmtpSession::bad(int code, std::string_view enhanced, std::string_view text) {
  reply(code, enhanced, text);
  ctx_.bad_command();
}

void SmtpSession::on_close() {
  closed_ = true;
}

void SmtpSession::on_line_too_long() {
  if (mode_ == Mode::data) {
    data_->line_too_long();
    return;
  }
  if (mode_ == Mode::auth) end_auth();
  bad(500, "5.5.2", "Line too long");
}

void SmtpSession::check_client_waited(std::string_view step) {
  if (out_of_step_.empty() && ctx_.input_pending() > 0) out_of_step_ = step;
}

bool SmtpSession::refused_out_of_step(std::string_view line) {
  if (!settings_.forbid_unauth_pipelining || out_of_step_.empty()) return false;
  // Postfix's reply and log line, which operators and their log watchers already know.
  ctx_.log(sdk::LogLevel::info, "improper command pipelining after " + std::string(out_of_step_) +
                                    " from [" + ctx_.connection().remote_address +
                                    "]: " + printable(chomp(line), 100));
  reset_transaction();
  mode_ = Mode::command;
  reply(554, "5.5.0", "Error: SMTP protocol synchronization");
  ctx_.close();
  return true;
}

void SmtpSession::on_line(std::string_view line) {
  if (mode_ != Mode::auth && refused_out_of_step(line)) return;
  switch (mode_) {
    case Mode::data:
      if (data_->line(line)) {
        ctx_.set_max_line_length(kMaxCommandLine);
        finish_message(data_->meter().verdict());
      }
      return;
    case Mode::auth:
      if (sasl_) sasl_->respond(chomp(line));
      return;
    case Mode::bdat:
      return;  // not reached: the core hands BDAT chunks to on_bytes
    case Mode::command:
      command(chomp(line));
      return;
  }
}

void SmtpSession::command(std::string_view line) {
  const CommandLine c = split_command(line);
  dispatch(c);
  // Without PIPELINING every reply is waited for; with it, those that end a group (RFC 2920
  // section 3.1). What the client sent meanwhile is already here.
  if (ends_group(c.verb) || !esmtp_) check_client_waited(verb_name(c.verb));
}

void SmtpSession::dispatch(const CommandLine& c) {
  switch (c.verb) {
    case Verb::helo:
      return do_helo(c, false);
    case Verb::ehlo:
      return do_helo(c, true);
    case Verb::mail:
      return do_mail(c);
    case Verb::rcpt:
      return do_rcpt(c);
    case Verb::data:
      return do_data(c);
    case Verb::bdat:
      return do_bdat(c);
    case Verb::rset:
      if (!c.args.empty()) return bad(501, "5.5.4", "Syntax: RSET");
      reset_transaction();
      return reply(250, "2.0.0", "Ok");
    case Verb::noop:
      return reply(250, "2.0.0", "Ok");
    case Verb::quit:
      reply(221, "2.0.0", ctx_.connection().server_hostname + " closing connection");
      ctx_.close();
      return;
    case Verb::vrfy:
      return do_vrfy(c);
    case Verb::expn:
      return do_expn(c);
    case Verb::help:
      return reply(214, "2.0.0",
                   "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY EXPN HELP "
                   "STARTTLS AUTH (RFC 5321)");
    case Verb::starttls:
      return do_starttls(c);
    case Verb::auth:
      return do_auth(c);
    case Verb::unknown:
      return bad(500, "5.5.2", "Command unrecognized");
  }
}

void SmtpSession::do_helo(const CommandLine& c, bool extended) {
  const std::string_view name = c.args;
  if (name.empty() || name.find(' ') != std::string_view::npos) {
    return bad(501, "5.5.4", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
  }
  reset_transaction();
  helo_ = std::string(name);
  esmtp_ = extended;
  const sdk::ConnectionInfo& conn = ctx_.connection();
  const std::string greeting =
      conn.server_hostname + " Hello " + helo_ + " [" + conn.remote_address + "]";
  if (!extended) return reply(250, "", greeting);
  std::vector<std::string> lines{greeting, "PIPELINING"};
  lines.push_back(settings_.max_message_size ? "SIZE " + std::to_string(settings_.max_message_size)
                                             : std::string("SIZE"));
  if (settings_.enable_expn) lines.push_back("EXPN");
  if (ctx_.starttls_available()) lines.push_back("STARTTLS");
  if (const std::string mechs = auth_mechanisms(); !mechs.empty()) lines.push_back("AUTH " + mechs);
  for (const char* ext :
       {"ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "CHUNKING", "DSN", "HELP"}) {
    lines.push_back(ext);
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += "250";
    out += i + 1 < lines.size() ? '-' : ' ';
    out += lines[i];
    out += "\r\n";
  }
  ctx_.write(out);
}

void SmtpSession::do_starttls(const CommandLine& c) {
  if (!c.args.empty()) return bad(501, "5.5.4", "Syntax: STARTTLS");
  if (ctx_.is_tls()) return bad(503, "5.5.1", "TLS already active");
  if (!ctx_.starttls_available()) return bad(502, "5.5.1", "STARTTLS not available");
  reply(220, "2.0.0", "Ready to start TLS");
  ctx_.start_tls();
}

void SmtpSession::on_tls_started() {
  // RFC 3207 section 4.2: forget everything learnt from the client before TLS.
  reset_transaction();
  helo_.clear();
  esmtp_ = false;
  user_.clear();
}

void SmtpSession::reset_transaction() {
  if (incoming_) incoming_->abort();
  incoming_.reset();
  data_.reset();
  bdat_meter_.reset();
  bdat_last_ = false;
  txn_ = Transaction{};
  ctx_.set_in_command(false);
}

void SmtpSession::do_vrfy(const CommandLine& c) {
  if (!settings_.enable_vrfy) return bad(502, "5.5.1", "VRFY command is disabled");
  std::string arg(c.args);
  if (arg.size() >= 2 && arg.front() == '<' && arg.back() == '>')
    arg = arg.substr(1, arg.size() - 2);
  if (arg.empty()) return bad(501, "5.5.4", "Syntax: VRFY address");
  sdk::Directory* dir = host_.directory();
  if (dir == nullptr) return reply(252, "2.1.5", "Cannot VRFY user, but will accept message");
  auto answer = std::make_shared<std::pair<int, std::string>>();
  ctx_.pause_input();
  ctx_.post_work(
      [dir, arg, answer] {
        const sdk::Recipient r = dir->resolve(arg);
        using K = sdk::Recipient::Kind;
        if (r.kind == K::account) {
          auto account = dir->find_account(r.address);
          const std::string name = account && !account->display_name.empty()
                                       ? account->display_name + " "
                                       : std::string();
          *answer = {250, name + "<" + r.address + ">"};
        } else if (r.kind == K::none) {
          const auto at = arg.rfind('@');
          const bool local = at != std::string::npos && dir->is_local_domain(arg.substr(at + 1));
          *answer = local ? std::pair<int, std::string>{550, "User unknown"}
                          : std::pair<int, std::string>{252,
                                                        "Cannot VRFY user, but will "
                                                        "attempt delivery"};
        } else if (r.kind == K::temporary_failure) {
          *answer = {451, "Directory unavailable, try again later"};
        } else {
          *answer = {252, "Cannot VRFY user, but will accept message"};
        }
      },
      [this, answer] {
        const char* enh = answer->first == 250 || answer->first == 252 ? "2.1.5"
                          : answer->first == 550                       ? "5.1.1"
                                                                       : "4.3.0";
        reply(answer->first, enh, answer->second);
        ctx_.resume_input();
      });
}

void SmtpSession::do_expn(const CommandLine& c) {
  if (!settings_.enable_expn) return bad(502, "5.5.1", "EXPN command is disabled");
  std::string arg(c.args);
  if (arg.size() >= 2 && arg.front() == '<' && arg.back() == '>')
    arg = arg.substr(1, arg.size() - 2);
  if (arg.empty()) return bad(501, "5.5.4", "Syntax: EXPN list");
  sdk::Directory* dir = host_.directory();
  if (dir == nullptr) return reply(550, "5.1.1", "Not a mailing list");
  auto members = std::make_shared<std::optional<std::vector<std::string>>>();
  ctx_.pause_input();
  ctx_.post_work([dir, arg, members] { *members = dir->expand_list(arg); },
                 [this, members] {
                   if (!*members) {
                     reply(550, "5.1.1", "Not a mailing list");
                   } else if ((*members)->empty()) {
                     reply(250, "2.1.5", "The list has no members");
                   } else {
                     std::string out;
                     const auto& list = **members;
                     for (std::size_t i = 0; i < list.size(); ++i) {
                       out += i + 1 < list.size() ? "250-2.1.5 <" : "250 2.1.5 <";
                       out += list[i] + ">\r\n";
                     }
                     ctx_.write(out);
                   }
                   ctx_.resume_input();
                 });
}

}  // namespace portico::smtp
