// smtp-out — the client side of SMTP AUTH (RFC 4954) to a relay host, over GNU SASL.
//
// The mechanisms are GNU SASL's (RFC 4616 PLAIN, and LOGIN); this file only picks one from the
// server's list (PLAIN first, then LOGIN) and carries base64 challenges and responses to and
// from the library. The credentials stay inside the library's session and are never logged.
// Every call is cheap (no hashing) and runs on the session's executor.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace portico::smtpout {

// The mechanism to use from what the server offers (upper case): "PLAIN", "LOGIN" or "".
std::string choose_mechanism(const std::vector<std::string>& offered);

class SaslClient {
 public:
  struct Step {
    enum class Status { more, done, error };
    Status status = Status::error;
    std::string response;  // base64, to send (may be empty)
    std::string error;     // Status::error: why
  };

  // Starts `mechanism` for `user` with `password`; nullptr and `error` set when the library
  // cannot.
  static std::unique_ptr<SaslClient> start(std::string_view mechanism, const std::string& user,
                                           const std::string& password, std::string& error);
  ~SaslClient();
  SaslClient(const SaslClient&) = delete;
  SaslClient& operator=(const SaslClient&) = delete;

  // One step: the server's base64 challenge ("" for the initial response) to the response.
  Step step(std::string_view challenge);

 private:
  struct Impl;
  explicit SaslClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::smtpout
