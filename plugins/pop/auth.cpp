// pop — the AUTHORIZATION state: USER/PASS (RFC 1939 section 7), AUTH (RFC 5034) through the
// core's SASL service, response codes [AUTH] (RFC 3206), [IN-USE] and [SYS/TEMP] (RFC 2449),
// opening the maildrop, and base64 (RFC 4648).
#include <strings.h>

#include "session.h"

namespace portico::pop {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool plaintext_mechanism(std::string_view mech) {
  return iequals(mech, "PLAIN") || iequals(mech, "LOGIN");
}

LoginResult::Outcome outcome_of(sdk::AuthStatus status) {
  switch (status) {
    case sdk::AuthStatus::ok:
      return LoginResult::Outcome::ok;
    case sdk::AuthStatus::bad_credentials:
      return LoginResult::Outcome::bad_credentials;
    case sdk::AuthStatus::disabled:
      return LoginResult::Outcome::disabled;
    case sdk::AuthStatus::throttled:
      return LoginResult::Outcome::throttled;
    case sdk::AuthStatus::temporary_failure:
      return LoginResult::Outcome::unavailable;
  }
  return LoginResult::Outcome::unavailable;
}

constexpr const char* kPlaintextRefused =
    "[AUTH] Plaintext authentication is not allowed without TLS; use STLS first";

}  // namespace

bool PopSession::plaintext_allowed() const {
  return ctx_.is_tls() || settings_.allow_plaintext_auth;
}

void PopSession::do_user(const CommandLine& c) {
  if (!plaintext_allowed()) return bad(kPlaintextRefused);
  user_ = std::string(c.args[0]);
  // The same answer whether or not the account exists (no user enumeration).
  ok("Send your password");
}

void PopSession::do_pass(const CommandLine& c) {
  if (!plaintext_allowed()) return bad(kPlaintextRefused);
  if (user_.empty()) return bad("Send USER first");
  if (c.rest.empty()) return bad("Syntax: PASS password");
  sdk::Directory* directory = host_.directory();
  if (directory == nullptr) return err("[SYS/PERM] No account directory on this server");
  auto result = std::make_shared<LoginResult>();
  sdk::Store* store = host_.store();
  ctx_.pause_input();
  ctx_.post_work(
      [directory, store, result, user = std::exchange(user_, {}), password = std::string(c.rest),
       remote = ctx_.connection().remote_address] {
        const sdk::AuthResult a = directory->authenticate(user, password, remote);
        result->outcome = outcome_of(a.status);
        result->delay = a.delay;
        result->account = a.user;
        if (result->outcome == LoginResult::Outcome::ok) open_maildrop(store, *result);
      },
      [this, result] { finish_login(result); });
}

void PopSession::open_maildrop(sdk::Store* store, LoginResult& result) {
  if (store == nullptr) {
    result.outcome = LoginResult::Outcome::store;
    result.detail = "no mail store";
    return;
  }
  auto lock = store->lock_maildrop(result.account);
  if (!lock.ok()) {
    result.outcome = lock.error == sdk::StoreError::locked ? LoginResult::Outcome::in_use
                                                           : LoginResult::Outcome::store;
    result.detail = lock.message;
    return;
  }
  auto list = store->fetch(result.account, "INBOX", {}, false, 0);
  if (!list.ok()) {
    result.outcome = LoginResult::Outcome::store;
    result.detail = list.message;
    return;  // the lock is released with `lock`
  }
  result.lock = std::move(lock.value);
  result.messages.reserve(list.value.size());
  for (const auto& m : list.value) {
    result.messages.push_back(MaildropMessage{m.uid, m.size, m.id, false});
  }
}

void PopSession::finish_login(const std::shared_ptr<LoginResult>& result) {
  auto answer = [this, result] {
    ctx_.resume_input();
    using O = LoginResult::Outcome;
    switch (result->outcome) {
      case O::ok: {
        account_ = result->account;
        lock_ = std::move(result->lock);
        messages_ = std::move(result->messages);
        state_ = State::transaction;
        ctx_.log(sdk::LogLevel::info, "logged in as " + account_);
        return ok("Logged in, maildrop has " + summary());
      }
      case O::bad_credentials:
        return err("[AUTH] Invalid user name or password");
      case O::disabled:
        return err("[AUTH] Account disabled");
      case O::throttled:
        return err("[SYS/TEMP] Too many failed logins, try again later");
      case O::unavailable:
        return err("[SYS/TEMP] Authentication is unavailable, try again later");
      case O::in_use:
        return err("[IN-USE] The maildrop is in use by another session");
      case O::store:
        ctx_.log(sdk::LogLevel::warn,
                 "cannot open the maildrop of " + result->account + ": " + result->detail);
        return err("[SYS/TEMP] Cannot open the maildrop, try again later");
    }
  };
  if (result->delay.count() > 0) {
    ctx_.post_after(result->delay, answer);
  } else {
    answer();
  }
}

void PopSession::do_auth(const CommandLine& c) {
  sdk::Auth* auth = host_.auth();
  if (c.args.empty()) {
    // The mechanism list (an extension many clients probe with, as with RFC 1734 servers).
    std::string out = "+OK Supported mechanisms follow\r\n";
    if (auth != nullptr) {
      for (const auto& m : auth->mechanisms(ctx_.is_tls(), settings_.allow_plaintext_auth, false))
        out += m + "\r\n";
    }
    out += ".\r\n";
    ctx_.write(out);
    return;
  }
  const std::string_view mech = c.args[0];
  bool offered = false;
  if (auth != nullptr) {
    for (const auto& m : auth->mechanisms(true, true, false))
      offered = offered || iequals(m, mech);
  }
  if (!offered) return bad("Unrecognized authentication mechanism");
  if (plaintext_mechanism(mech) && !plaintext_allowed()) return bad(kPlaintextRefused);
  auto session = auth->start(mech, ctx_.connection().remote_address, "pop");
  if (!session) return bad("Unrecognized authentication mechanism");
  user_.clear();
  std::string initial;
  if (c.args.size() > 1 && c.args[1] != "=") {  // "=": an empty initial response (RFC 5034)
    auto decoded = base64_decode(c.args[1]);
    if (!decoded) return bad("Cannot decode the initial response");
    initial = std::move(*decoded);
  }
  sasl_ = std::move(session);
  sasl_step(std::move(initial));
}

void PopSession::end_sasl() {
  mode_ = Mode::command;
  sasl_.reset();
  ctx_.set_max_line_length(kMaxCommandLine);
  ctx_.set_in_command(false);
  if (sasl_final_) sasl_final_.reset();  // releases a lock taken for it
}

void PopSession::sasl_response(std::string_view line) {
  if (sasl_final_) {
    // The client's (empty) answer to the server's final SCRAM message (RFC 5034 section 4).
    auto result = std::move(sasl_final_);
    end_sasl();
    if (!line.empty()) return err("Authentication cancelled");
    result->delay = std::chrono::milliseconds{0};
    ctx_.pause_input();  // finish_login resumes it
    return finish_login(result);
  }
  if (line == "*") {
    end_sasl();
    return err("Authentication cancelled");
  }
  auto decoded = base64_decode(line);
  if (!decoded) {
    end_sasl();
    return bad("Cannot decode the response");
  }
  sasl_step(std::move(*decoded));
}

void PopSession::sasl_step(std::string client_bytes) {
  auto step = std::make_shared<sdk::SaslStep>();
  auto result = std::make_shared<LoginResult>();
  auto sasl = sasl_;
  sdk::Store* store = host_.store();
  ctx_.pause_input();
  ctx_.post_work(
      [sasl, step, result, store, bytes = std::move(client_bytes)] {
        *step = sasl->step(bytes);
        if (step->status == sdk::SaslStep::Status::success) {
          result->outcome = LoginResult::Outcome::ok;
          result->account = step->user;
          open_maildrop(store, *result);
        } else if (step->status == sdk::SaslStep::Status::failure) {
          result->outcome = outcome_of(step->reason);
          if (result->outcome == LoginResult::Outcome::ok) {
            result->outcome = LoginResult::Outcome::bad_credentials;
          }
        }
        result->delay = step->delay;
      },
      [this, step, result] {
        using S = sdk::SaslStep::Status;
        switch (step->status) {
          case S::challenge:
            ctx_.resume_input();
            mode_ = Mode::sasl;
            ctx_.set_in_command(true);
            ctx_.set_max_line_length(kMaxAuthLine);
            return ctx_.write("+ " + base64_encode(step->data) + "\r\n");
          case S::success:
            if (!step->data.empty() && result->outcome == LoginResult::Outcome::ok) {
              // Additional data with success: sent as one more challenge (RFC 5034 section 4).
              ctx_.resume_input();
              sasl_final_ = result;
              mode_ = Mode::sasl;
              ctx_.set_in_command(true);
              return ctx_.write("+ " + base64_encode(step->data) + "\r\n");
            }
            end_sasl();
            return finish_login(result);
          case S::failure:
            end_sasl();
            return finish_login(result);
          case S::error:
            end_sasl();
            ctx_.resume_input();
            return bad("Malformed authentication response");
        }
      });
}

}  // namespace portico::pop
