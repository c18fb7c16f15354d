// pop — the AUTHORIZATION state: USER/PASS (RFC 1939 section 7), AUTH (RFC 5034) over the core's
// SASL exchange (portico/sasl.h, which does base64 and the challenge loop; this file frames it
// as "+ " lines and +OK/-ERR), response codes [AUTH] (RFC 3206), [IN-USE] and [SYS/TEMP]
// (RFC 2449), and opening the maildrop.
#include <algorithm>
#include <cstdint>

#include "session.h"

namespace portico::pop {

namespace {

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
  ctx_.post_work_on(
      sdk::WorkPool::auth,  // the password hash: never in the way of the store's fsyncs
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
  std::size_t id_octets = 0;
  for (const auto& m : list.value)
    id_octets += m.id.size();
  result.ids.reserve(id_octets);
  for (const auto& m : list.value) {
    // The store's ids are 16 hex digits; offsets fit 32 bits below 268 million messages.
    const auto length = std::min<std::size_t>(m.id.size(), UINT16_MAX);
    result.messages.push_back(MaildropMessage{m.uid, static_cast<std::uint32_t>(result.ids.size()),
                                              m.size, static_cast<std::uint16_t>(length), false});
    result.ids.append(m.id, 0, length);
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
        ids_ = std::move(result->ids);
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

sdk::SaslPolicy PopSession::sasl_policy() const {
  sdk::SaslPolicy p;
  p.service = "pop";
  p.allow_plaintext_without_tls = settings_.allow_plaintext_auth;
  return p;
}

void PopSession::do_auth(const CommandLine& c) {
  sdk::SaslServer* sasl = host_.sasl();
  if (c.args.empty()) {
    // The mechanism list (an extension many clients probe with, as with RFC 1734 servers).
    std::string out = "+OK Supported mechanisms follow\r\n";
    for (const auto& m : sasl->mechanisms(ctx_, sasl_policy()))
      out += m + "\r\n";
    out += ".\r\n";
    ctx_.write(out);
    return;
  }
  std::optional<std::string_view> initial;
  if (c.args.size() > 1) initial = c.args[1];
  auto started = sasl->start(ctx_, c.args[0], initial, sasl_policy(),
                             [this](const sdk::SaslEvent& e) { sasl_event(e); });
  using S = sdk::SaslStart::Status;
  switch (started.status) {
    case S::started:
      user_.clear();
      sasl_ = std::move(started.exchange);
      return;
    case S::unknown_mechanism:
    case S::unavailable:
      return bad("Unrecognized authentication mechanism");
    case S::encryption_required:
      return bad(kPlaintextRefused);
    case S::bad_encoding:
      return bad("Cannot decode the initial response");
  }
}

void PopSession::end_sasl() {
  mode_ = Mode::command;
  sasl_.reset();
  ctx_.set_max_line_length(kMaxCommandLine);
  ctx_.set_in_command(false);
}

void PopSession::sasl_event(const sdk::SaslEvent& e) {
  using K = sdk::SaslEvent::Kind;
  if (e.kind == K::challenge) {
    mode_ = Mode::sasl;
    ctx_.set_in_command(true);
    ctx_.set_max_line_length(kMaxAuthLine);
    return ctx_.write("+ " + e.data + "\r\n");
  }
  end_sasl();
  switch (e.kind) {
    case K::success: {
      // Authenticated: the maildrop is locked and listed on the worker pool (RFC 1939 section 8).
      auto result = std::make_shared<LoginResult>();
      result->outcome = LoginResult::Outcome::ok;
      result->account = e.user;
      ctx_.pause_input();  // finish_login resumes it
      ctx_.post_work([store = host_.store(), result] { open_maildrop(store, *result); },
                     [this, result] { finish_login(result); });
      return;
    }
    case K::failure: {
      auto result = std::make_shared<LoginResult>();
      result->outcome = outcome_of(e.reason);
      if (result->outcome == LoginResult::Outcome::ok)
        result->outcome = LoginResult::Outcome::bad_credentials;
      ctx_.pause_input();
      return finish_login(result);
    }
    case K::cancelled:
      return err("Authentication cancelled");
    case K::bad_encoding:
      return bad("Cannot decode the response");
    case K::malformed:
    case K::challenge:
      return bad("Malformed authentication response");
  }
}

}  // namespace portico::pop
