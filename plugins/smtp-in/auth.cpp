// smtp-in — AUTH (RFC 4954) through the core's SASL service (base64 from the SDK).
#include "session.h"

namespace portico::smtp {

namespace {

bool plaintext(std::string_view mech) {
  const std::string m = ascii_lower(mech);
  return m == "plain" || m == "login";
}

}  // namespace

std::string SmtpSession::auth_mechanisms() const {
  sdk::Auth* auth = host_.auth();
  if (auth == nullptr || !user_.empty()) return {};
  std::string out;
  for (const auto& m : auth->mechanisms(ctx_.is_tls(), settings_.allow_plaintext_auth,
                                        settings_.disable_auth_login)) {
    if (!out.empty()) out += ' ';
    out += m;
  }
  return out;
}

void SmtpSession::do_auth(const CommandLine& c) {
  if (!esmtp_) return bad(503, "5.5.1", "Send EHLO first");
  if (!user_.empty()) return bad(503, "5.5.1", "Already authenticated");
  if (txn_.active) return bad(503, "5.5.1", "AUTH not allowed during a mail transaction");
  sdk::Auth* auth = host_.auth();
  const std::string_view args = c.args;
  const std::size_t space = args.find(' ');
  const std::string mech(args.substr(0, space));
  if (mech.empty()) return bad(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
  bool offered = false;
  if (auth != nullptr) {
    for (const auto& m : auth->mechanisms(true, true, settings_.disable_auth_login)) {
      offered = offered || ascii_lower(m) == ascii_lower(mech);
    }
  }
  if (!offered) return bad(504, "5.5.4", "Unrecognized authentication type");
  if (plaintext(mech) && !ctx_.is_tls() && !settings_.allow_plaintext_auth) {
    return bad(538, "5.7.11", "Encryption required for requested authentication mechanism");
  }
  auto session = auth->start(mech, ctx_.connection().remote_address, "smtp");
  if (!session) return bad(504, "5.5.4", "Unrecognized authentication type");
  sasl_ = std::move(session);
  std::string initial;
  if (space != std::string_view::npos) {
    const std::string_view ir = args.substr(space + 1);
    if (ir != "=") {  // "=" is an empty initial response (RFC 4954 section 4)
      auto decoded = base64_decode(ir);
      if (!decoded) {
        sasl_.reset();
        return bad(501, "5.5.2", "Cannot decode the initial response");
      }
      initial = std::move(*decoded);
    }
  }
  auth_step(std::move(initial));
}

void SmtpSession::auth_response(std::string_view line) {
  mode_ = Mode::command;
  ctx_.set_max_line_length(kMaxCommandLine);
  ctx_.set_in_command(false);
  if (!auth_final_user_.empty()) {
    // The client's (empty) answer to the server's final SCRAM message.
    user_ = std::exchange(auth_final_user_, {});
    sasl_.reset();
    if (!line.empty()) {
      user_.clear();
      return reply(501, "5.5.2", "Authentication cancelled");
    }
    return reply(235, "2.7.0", "Authentication successful");
  }
  if (line == "*") {
    sasl_.reset();
    return reply(501, "5.0.0", "Authentication cancelled");
  }
  auto decoded = base64_decode(line);
  if (!decoded) {
    sasl_.reset();
    return bad(501, "5.5.2", "Cannot decode the response");
  }
  auth_step(std::move(*decoded));
}

void SmtpSession::auth_step(std::string client_bytes) {
  auto result = std::make_shared<sdk::SaslStep>();
  auto sasl = sasl_;
  ctx_.pause_input();
  ctx_.post_work([sasl, result, bytes = std::move(client_bytes)] { *result = sasl->step(bytes); },
                 [this, result] {
                   using S = sdk::SaslStep::Status;
                   auto answer = [this, result] {
                     ctx_.resume_input();
                     switch (result->status) {
                       case S::challenge:
                         mode_ = Mode::auth;
                         ctx_.set_in_command(true);
                         ctx_.set_max_line_length(kMaxAuthLine);
                         return reply(334, "", base64_encode(result->data));
                       case S::success:
                         if (!result->data.empty()) {
                           auth_final_user_ = result->user;
                           mode_ = Mode::auth;
                           ctx_.set_in_command(true);
                           return reply(334, "", base64_encode(result->data));
                         }
                         user_ = result->user;
                         sasl_.reset();
                         return reply(235, "2.7.0", "Authentication successful");
                       case S::failure:
                         sasl_.reset();
                         if (result->reason == sdk::AuthStatus::throttled ||
                             result->reason == sdk::AuthStatus::temporary_failure) {
                           return reply(454, "4.7.0", "Temporary authentication failure");
                         }
                         return reply(535, "5.7.8", "Authentication credentials invalid");
                       case S::error:
                         sasl_.reset();
                         return bad(501, "5.5.2", "Malformed authentication response");
                     }
                   };
                   if (result->delay.count() > 0) {
                     ctx_.post_after(result->delay, answer);
                   } else {
                     answer();
                   }
                 });
}

}  // namespace portico::smtp
