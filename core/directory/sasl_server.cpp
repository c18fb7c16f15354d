// Portico core — the SASL server exchange (see sasl_server.h; RFC 4422, RFC 4648, RFC 4959).
#include "core/directory/sasl_server.h"

#include <strings.h>

#include <utility>

#include "portico/base64.h"
#include "portico/session.h"

namespace portico::core {

namespace {

using Kind = sdk::SaslEvent::Kind;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool plaintext_mechanism(std::string_view mechanism) {
  return iequals(mechanism, "PLAIN") || iequals(mechanism, "LOGIN");
}

// What one exchange shares with the work it posts: the work may outlive the exchange object.
struct ExchangeState {
  sdk::SessionContext& context;
  sdk::SaslPolicy policy;
  sdk::SaslEventHandler on_event;
  std::unique_ptr<sdk::SaslSession> sasl;
  std::string mechanism;
  bool alive = true;                // the exchange object still exists
  bool awaiting_response = false;   // a challenge is outstanding
  bool awaiting_final_ack = false;  // the server's final data went out as a challenge
  bool finished = false;            // a terminal event was sent
  std::string final_user;           // who succeeded, until the final data is acknowledged

  ExchangeState(sdk::SessionContext& c, sdk::SaslPolicy p, sdk::SaslEventHandler h)
      : context(c), policy(std::move(p)), on_event(std::move(h)) {}

  std::string encode(std::string_view octets) const {
    return policy.encoding == sdk::SaslEncoding::base64 ? sdk::base64_encode(octets)
                                                        : std::string(octets);
  }
};

// Delivers an event on the session's executor; never from inside the caller's call.
void emit(const std::shared_ptr<ExchangeState>& state, sdk::SaslEvent event,
          std::chrono::milliseconds delay = std::chrono::milliseconds{0}) {
  if (event.kind != Kind::challenge) state->finished = true;
  if (event.kind == Kind::challenge) state->awaiting_response = true;
  auto deliver = [state, event = std::move(event)] {
    if (!state->alive) return;
    state->context.resume_input();
    state->on_event(event);
  };
  state->context.pause_input();
  if (delay.count() > 0) {
    state->context.post_after(delay, std::move(deliver));
  } else {
    state->context.post_work(nullptr, std::move(deliver));
  }
}

// Runs one mechanism step on the worker pool and turns its outcome into an event.
void step(const std::shared_ptr<ExchangeState>& state, std::string client_octets) {
  auto result = std::make_shared<sdk::SaslStep>();
  state->context.pause_input();
  state->context.post_work_on(
      sdk::WorkPool::auth,  // password hashing and PBKDF2: never in the way of fsyncs
      [state, result, octets = std::move(client_octets)] { *result = state->sasl->step(octets); },
      [state, result] {
        if (!state->alive) return;
        using S = sdk::SaslStep::Status;
        sdk::SaslEvent event;
        switch (result->status) {
          case S::challenge:
            event.kind = Kind::challenge;
            event.data = state->encode(result->data);
            break;
          case S::success:
            if (!result->data.empty() && state->policy.final_data_as_challenge) {
              state->awaiting_final_ack = true;
              state->final_user = result->user;
              event.kind = Kind::challenge;
            } else {
              event.kind = Kind::success;
              event.user = result->user;
            }
            event.data = result->data.empty() ? std::string() : state->encode(result->data);
            break;
          case S::failure:
            event.kind = Kind::failure;
            event.reason = result->reason == sdk::AuthStatus::ok ? sdk::AuthStatus::bad_credentials
                                                                 : result->reason;
            break;
          case S::error:
            event.kind = Kind::malformed;
            break;
        }
        emit(state, std::move(event), result->delay);
      });
}

class Exchange final : public sdk::SaslExchange {
 public:
  explicit Exchange(std::shared_ptr<ExchangeState> state) : state_(std::move(state)) {}
  ~Exchange() override { state_->alive = false; }

  std::string mechanism() const override { return state_->mechanism; }

  void respond(std::string_view response) override {
    if (state_->finished || !state_->awaiting_response) return;
    state_->awaiting_response = false;
    const bool base64 = state_->policy.encoding == sdk::SaslEncoding::base64;
    if (base64 && response == "*") return emit(state_, {Kind::cancelled, {}, {}, {}});
    if (state_->awaiting_final_ack) {
      // The only answer to the server's final data is an empty one (RFC 4954 section 4,
      // RFC 5034 section 4, RFC 9051 section 6.2.2).
      if (!response.empty()) return emit(state_, {Kind::malformed, {}, {}, {}});
      return emit(state_, {Kind::success, {}, std::exchange(state_->final_user, {}), {}});
    }
    if (!base64) return step(state_, std::string(response));
    auto octets = sdk::base64_decode(response);
    if (!octets) return emit(state_, {Kind::bad_encoding, {}, {}, {}});
    step(state_, std::move(*octets));
  }

 private:
  std::shared_ptr<ExchangeState> state_;
};

}  // namespace

std::vector<std::string> SaslServerImpl::mechanisms(const sdk::SessionContext& context,
                                                    const sdk::SaslPolicy& policy) const {
  sdk::Auth* auth = auth_();
  if (auth == nullptr) return {};
  return auth->mechanisms(context.is_tls(), policy.allow_plaintext_without_tls,
                          policy.disable_login);
}

sdk::SaslStart SaslServerImpl::start(sdk::SessionContext& context, std::string_view mechanism,
                                     std::optional<std::string_view> initial_response,
                                     const sdk::SaslPolicy& policy,
                                     sdk::SaslEventHandler on_event) {
  return start_in_domain(context, mechanism, initial_response, policy, {}, std::move(on_event));
}

sdk::SaslStart SaslServerImpl::start_in_domain(sdk::SessionContext& context,
                                               std::string_view mechanism,
                                               std::optional<std::string_view> initial_response,
                                               const sdk::SaslPolicy& policy,
                                               std::string_view domain,
                                               sdk::SaslEventHandler on_event) {
  using Status = sdk::SaslStart::Status;
  sdk::SaslStart out;
  sdk::Auth* auth = auth_();
  if (auth == nullptr) return out;  // unavailable
  bool offered = false;
  for (const auto& m : auth->mechanisms(true, true, policy.disable_login))
    offered = offered || iequals(m, mechanism);
  if (!offered) {
    out.status = Status::unknown_mechanism;
    return out;
  }
  if (plaintext_mechanism(mechanism) && !context.is_tls() && !policy.allow_plaintext_without_tls) {
    out.status = Status::encryption_required;
    return out;
  }
  std::string initial;
  if (initial_response) {
    if (policy.encoding == sdk::SaslEncoding::raw) {
      initial = std::string(*initial_response);
    } else if (*initial_response != "=") {  // "=": an empty initial response (RFC 4959)
      auto decoded = sdk::base64_decode(*initial_response);
      if (!decoded) {
        out.status = Status::bad_encoding;
        return out;
      }
      initial = std::move(*decoded);
    }
  }
  auto sasl =
      auth->start_in_domain(mechanism, context.connection().remote_address, policy.service, domain);
  if (!sasl) {
    out.status = Status::unknown_mechanism;
    return out;
  }
  auto state = std::make_shared<ExchangeState>(context, policy, std::move(on_event));
  state->mechanism = sasl->mechanism();
  state->sasl = std::move(sasl);
  step(state, std::move(initial));
  out.status = Status::started;
  out.exchange = std::make_unique<Exchange>(std::move(state));
  return out;
}

}  // namespace portico::core
