// imap — the not-authenticated state: STARTTLS (RFC 9051 section 6.2.1), LOGIN (6.2.3) and
// AUTHENTICATE (6.2.2) over the core's SASL exchange (portico/sasl.h: base64, "*" cancel,
// SASL-IR's initial response of RFC 4959), with the response codes of RFC 5530
// (AUTHENTICATIONFAILED, PRIVACYREQUIRED, UNAVAILABLE, CONTACTADMIN).
#include "session.h"

namespace portico::imap {

namespace {

constexpr const char* kPrivacyRequired =
    "[PRIVACYREQUIRED] Plaintext authentication is not allowed without TLS; use STARTTLS";

std::string refusal(sdk::AuthStatus status) {
  switch (status) {
    case sdk::AuthStatus::ok:
    case sdk::AuthStatus::bad_credentials:
      return "[AUTHENTICATIONFAILED] Invalid credentials";
    case sdk::AuthStatus::disabled:
      return "[CONTACTADMIN] Account disabled";
    case sdk::AuthStatus::throttled:
      return "[UNAVAILABLE] Too many failed logins, try again later";
    case sdk::AuthStatus::temporary_failure:
      return "[UNAVAILABLE] Authentication is unavailable, try again later";
  }
  return "[AUTHENTICATIONFAILED] Invalid credentials";
}

}  // namespace

bool ImapSession::plaintext_allowed() const {
  return ctx_.is_tls() || settings_.allow_plaintext_auth;
}

void ImapSession::do_starttls(const Command& c) {
  if (!ctx_.starttls_available()) return bad(c.tag, "STARTTLS is not available here");
  tagged(c.tag, "OK", "Begin TLS negotiation now");
  ctx_.pause_input();  // resumed in on_tls_started
  ctx_.start_tls();
}

void ImapSession::do_login(const Command& c) {
  if (!plaintext_allowed()) return no(c, kPrivacyRequired);
  sdk::Directory* directory = host_.directory();
  if (directory == nullptr) return no(c, "[UNAVAILABLE] No account directory on this server");
  auto result = std::make_shared<sdk::AuthResult>();
  ctx_.pause_input();
  busy_ = true;
  ctx_.post_work_on(
      sdk::WorkPool::auth,
      [directory, result, user = c.user, password = c.password,
       remote = ctx_.connection().remote_address] {
        *result = directory->authenticate(user, password, remote);
      },
      [this, result, tag = c.tag] {
        busy_ = false;
        auto answer = [this, result, tag] {
          if (result->status == sdk::AuthStatus::ok) {
            logged_in(result->user);
            tagged(tag, "OK", "[CAPABILITY " + capabilities() + "] Logged in");
          } else {
            tagged(tag, "NO", refusal(result->status));
          }
          ctx_.resume_input();
        };
        if (result->delay.count() > 0) return ctx_.post_after(result->delay, answer);
        answer();
      });
}

void ImapSession::use_session_timeout() {
  const sdk::Settings& s = ctx_.settings();
  ctx_.set_timeouts(s.get_bool("session_timeout_enabled") ? s.get_duration("session_timeout")
                                                          : std::chrono::milliseconds(-1),
                    std::chrono::milliseconds(0));
}

void ImapSession::logged_in(const std::string& account) {
  account_ = account;
  state_ = State::authenticated;
  use_session_timeout();
  ctx_.log(sdk::LogLevel::info, "logged in as " + account_);
}

void ImapSession::do_authenticate(const Command& c) {
  sdk::SaslServer* sasl = host_.sasl();
  if (sasl == nullptr) return no(c, "[UNAVAILABLE] Authentication is unavailable");
  sdk::SaslPolicy policy;
  policy.service = "imap";
  policy.allow_plaintext_without_tls = settings_.allow_plaintext_auth;
  std::optional<std::string_view> initial;
  if (c.initial_response) initial = *c.initial_response;
  sasl_tag_ = c.tag;
  auto started = sasl->start(ctx_, c.mechanism, initial, policy,
                             [this](const sdk::SaslEvent& e) { on_sasl(e); });
  using S = sdk::SaslStart::Status;
  switch (started.status) {
    case S::started:
      sasl_ = std::move(started.exchange);
      return;
    case S::unknown_mechanism:
      return no(c, "Unsupported authentication mechanism");
    case S::unavailable:
      return no(c, "[UNAVAILABLE] Authentication is unavailable");
    case S::encryption_required:
      return no(c, kPrivacyRequired);
    case S::bad_encoding:
      return bad(c.tag, "Cannot decode the initial response");
  }
}

void ImapSession::on_sasl(const sdk::SaslEvent& e) {
  using K = sdk::SaslEvent::Kind;
  if (e.kind == K::challenge) {
    ctx_.set_in_command(true);
    ctx_.write("+ " + e.data + "\r\n");
    return;
  }
  sasl_.reset();
  ctx_.set_in_command(false);
  switch (e.kind) {
    case K::success:
      logged_in(e.user);
      return tagged(sasl_tag_, "OK", "[CAPABILITY " + capabilities() + "] Logged in");
    case K::failure:
      return tagged(sasl_tag_, "NO", refusal(e.reason));
    case K::cancelled:
      return bad(sasl_tag_, "Authentication cancelled");
    case K::bad_encoding:
      return bad(sasl_tag_, "Cannot decode the response");
    case K::malformed:
    case K::challenge:
      return tagged(sasl_tag_, "NO", "[AUTHENTICATIONFAILED] Malformed authentication response");
  }
}

}  // namespace portico::imap
