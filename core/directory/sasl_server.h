// Portico core — the SASL server exchange every protocol uses (sdk::SaslServer, SDK 1.3).
//
// Wraps the core's SASL mechanisms (sdk::Auth, GNU SASL in sasl.cpp) in the protocol-neutral
// exchange of RFC 4422: which mechanisms a connection may use, base64 in and out (strict, RFC
// 4648), "=" and "*", the challenge/response loop, the server's final data, each step on the
// worker pool with the session's input paused, and the delay after repeated failures, all
// through the session's own SessionContext so that events arrive on its executor.
//
// Guarantees: one step runs at a time per exchange; no event reaches a destroyed exchange's
// handler; a terminal event (success, failure, cancelled, bad_encoding, malformed) is the last.
#pragma once

#include <functional>

#include "portico/auth.h"
#include "portico/sasl.h"

namespace portico::core {

class SaslServerImpl final : public sdk::SaslServer {
 public:
  // `auth` gives the mechanisms at each call; it may return null (no directory): then nothing
  // is offered and start() says unavailable. It must be thread-safe.
  explicit SaslServerImpl(std::function<sdk::Auth*()> auth) : auth_(std::move(auth)) {}

  std::vector<std::string> mechanisms(const sdk::SessionContext& context,
                                      const sdk::SaslPolicy& policy) const override;
  sdk::SaslStart start(sdk::SessionContext& context, std::string_view mechanism,
                       std::optional<std::string_view> initial_response,
                       const sdk::SaslPolicy& policy, sdk::SaslEventHandler on_event) override;
  sdk::SaslStart start_in_domain(sdk::SessionContext& context, std::string_view mechanism,
                                 std::optional<std::string_view> initial_response,
                                 const sdk::SaslPolicy& policy, std::string_view domain,
                                 sdk::SaslEventHandler on_event) override;

 private:
  std::function<sdk::Auth*()> auth_;
};

}  // namespace portico::core
