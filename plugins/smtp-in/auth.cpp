// smtp-in — AUTH (RFC 4954) over the core's SASL exchange (portico/sasl.h): this file only frames
// it as SMTP, "334" challenges and 235/535/454/501 outcomes with enhanced codes (RFC 3463).
#include "session.h"

namespace portico::smtp {

sdk::SaslPolicy SmtpSession::sasl_policy() const {
  sdk::SaslPolicy p;
  p.service = "smtp";
  p.allow_plaintext_without_tls = settings_.allow_plaintext_auth;
  p.disable_login = settings_.disable_auth_login;
  return p;
}

std::string SmtpSession::auth_mechanisms() const {
  if (!user_.empty()) return {};
  std::string out;
  for (const auto& m : host_.sasl()->mechanisms(ctx_, sasl_policy())) {
    if (!out.empty()) out += ' ';
    out += m;
  }
  return out;
}

void SmtpSession::do_auth(const CommandLine& c) {
  if (!esmtp_) return bad(503, "5.5.1", "Send EHLO first");
  if (!user_.empty()) return bad(503, "5.5.1", "Already authenticated");
  if (txn_.active) return bad(503, "5.5.1", "AUTH not allowed during a mail transaction");
  const std::string_view args = c.args;
  const std::size_t space = args.find(' ');
  const std::string_view mech = args.substr(0, space);
  if (mech.empty()) return bad(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
  std::optional<std::string_view> initial;
  if (space != std::string_view::npos) initial = args.substr(space + 1);
  auto started = host_.sasl()->start(ctx_, mech, initial, sasl_policy(),
                                     [this](const sdk::SaslEvent& e) { auth_event(e); });
  using S = sdk::SaslStart::Status;
  switch (started.status) {
    case S::started:
      sasl_ = std::move(started.exchange);
      return;
    case S::unknown_mechanism:
    case S::unavailable:
      return bad(504, "5.5.4", "Unrecognized authentication type");
    case S::encryption_required:
      return bad(538, "5.7.11", "Encryption required for requested authentication mechanism");
    case S::bad_encoding:
      return bad(501, "5.5.2", "Cannot decode the initial response");
  }
}

void SmtpSession::end_auth() {
  mode_ = Mode::command;
  sasl_.reset();
  ctx_.set_max_line_length(kMaxCommandLine);
  ctx_.set_in_command(false);
}

void SmtpSession::auth_event(const sdk::SaslEvent& e) {
  using K = sdk::SaslEvent::Kind;
  if (e.kind == K::challenge) {
    mode_ = Mode::auth;
    ctx_.set_in_command(true);
    ctx_.set_max_line_length(kMaxAuthLine);
    return reply(334, "", e.data);
  }
  end_auth();
  switch (e.kind) {
    case K::success:
      user_ = e.user;
      return reply(235, "2.7.0", "Authentication successful");
    case K::failure:
      if (e.reason == sdk::AuthStatus::throttled ||
          e.reason == sdk::AuthStatus::temporary_failure) {
        return reply(454, "4.7.0", "Temporary authentication failure");
      }
      return reply(535, "5.7.8", "Authentication credentials invalid");
    case K::cancelled:
      return reply(501, "5.0.0", "Authentication cancelled");
    case K::bad_encoding:
      return bad(501, "5.5.2", "Cannot decode the response");
    case K::malformed:
    case K::challenge:
      return bad(501, "5.5.2", "Malformed authentication response");
  }
}

}  // namespace portico::smtp
