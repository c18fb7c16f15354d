// pop — session setup, command dispatch, CAPA, STLS and QUIT (see session.h).
#include "session.h"

#include <strings.h>

#include <string>

namespace portico::pop {

PopSession::PopSession(sdk::SessionContext& ctx, sdk::Host& host, PopSettings settings)
    : ctx_(ctx), host_(host), settings_(std::move(settings)) {}

void PopSession::on_start() {
  ctx_.set_max_line_length(kMaxCommandLine);
  ctx_.set_output_limit(kOutputHighWater);
  std::string banner = ctx_.banner();
  // The banner setting may carry the status indicator itself (its default does) or not; empty
  // means the standard greeting.
  if (banner.empty()) banner = ctx_.connection().server_hostname + " POP3 ready";
  if (banner.size() < 3 || strncasecmp(banner.data(), "+OK", 3) != 0) banner = "+OK " + banner;
  ctx_.write(banner + "\r\n");
}

void PopSession::ok(std::string_view text) {
  std::string line = "+OK";
  if (!text.empty()) {
    line += ' ';
    line += text;
  }
  line += "\r\n";
  ctx_.write(line);
}

void PopSession::err(std::string_view text) {
  std::string line = "-ERR ";
  line += text;
  line += "\r\n";
  ctx_.write(line);
}

void PopSession::bad(std::string_view text) {
  err(text);
  ctx_.bad_command();
}

void PopSession::on_close() {
  closed_ = true;
  // A connection that ends without QUIT removes nothing (RFC 1939 section 6): the marks are
  // dropped with the session and the lock is released.
  outgoing_.reset();
  read_ahead_.clear();
  read_ahead_octets_ = 0;
  sasl_.reset();
  lock_.reset();
}

void PopSession::on_line_too_long() {
  if (mode_ == Mode::sasl) end_sasl();
  bad("Line too long");
}

void PopSession::on_line(std::string_view line) {
  if (outgoing_) {
    // Only if the core delivers input while a message is still owed (its throttle size is
    // above kOutputHighWater): send the rest first, so that replies stay in order.
    pump_message(true);
  }
  if (mode_ == Mode::sasl) {
    if (sasl_) sasl_->respond(chomp(line));
    return;
  }
  command(chomp(line));
}

void PopSession::command(std::string_view line) {
  const CommandLine c = parse_command(line);
  if (c.spec == nullptr) return bad("Unknown command");
  const std::uint8_t state_bit =
      state_ == State::authorization ? state_authorization : state_transaction;
  if ((c.spec->states & state_bit) == 0) return bad("Command not valid in this state");
  if (c.spec->verb != Verb::pass &&
      (c.too_many_args || c.args.size() < c.spec->min_args || c.args.size() > c.spec->max_args)) {
    return bad("Syntax: " + std::string(c.spec->syntax));
  }
  for (const auto arg : c.args) {
    if (arg.size() > kMaxArgument) return bad("Argument too long");
  }
  switch (c.spec->verb) {
    case Verb::user:
      return do_user(c);
    case Verb::pass:
      return do_pass(c);
    case Verb::apop:
      return bad("APOP is not supported; use USER/PASS or AUTH");
    case Verb::auth:
      return do_auth(c);
    case Verb::capa:
      return do_capa();
    case Verb::stls:
      return do_stls();
    case Verb::stat:
      return do_stat();
    case Verb::list:
      return do_list(c, false);
    case Verb::uidl:
      return do_list(c, true);
    case Verb::retr:
      return do_retr(c, false);
    case Verb::top:
      return do_retr(c, true);
    case Verb::dele:
      return do_dele(c);
    case Verb::noop:
      return ok("");
    case Verb::rset:
      return do_rset();
    case Verb::quit:
      return do_quit();
    case Verb::unknown:
      break;
  }
  bad("Unknown command");
}

void PopSession::do_capa() {
  std::string out = "+OK Capability list follows\r\n";
  if (state_ == State::authorization) {
    if (plaintext_allowed()) out += "USER\r\n";
    if (sdk::Auth* auth = host_.auth()) {
      std::string mechs;
      for (const auto& m : auth->mechanisms(ctx_.is_tls(), settings_.allow_plaintext_auth, false)) {
        mechs += ' ';
        mechs += m;
      }
      if (!mechs.empty()) out += "SASL" + mechs + "\r\n";
    }
    if (ctx_.starttls_available()) out += "STLS\r\n";
  }
  out +=
      "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
      "IMPLEMENTATION Portico\r\n.\r\n";
  ctx_.write(out);
}

void PopSession::do_stls() {
  if (ctx_.is_tls()) return bad("TLS already active");
  if (!ctx_.starttls_available()) return bad("STLS not available");
  ok("Begin TLS negotiation");
  ctx_.start_tls();
}

void PopSession::on_tls_started() {
  // RFC 2595 section 4: the client starts over; forget what it said before TLS.
  user_.clear();
}

void PopSession::do_quit() {
  if (state_ == State::transaction) return update_and_quit();
  ok(ctx_.connection().server_hostname + " POP3 server signing off");
  ctx_.close();
}

}  // namespace portico::pop
