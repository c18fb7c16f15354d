// smtp-out — SMTP AUTH client over GNU SASL (see sasl_client.h).
#include "sasl_client.h"

#include <gsasl.h>

#include <utility>

namespace portico::smtpout {

namespace {

// One library context for the process, made at first use and never changed afterwards (each
// exchange has its own Gsasl_session).
class Library {
 public:
  Library() {
    if (gsasl_init(&ctx_) != GSASL_OK) ctx_ = nullptr;
  }
  ~Library() {
    if (ctx_ != nullptr) gsasl_done(ctx_);
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  Gsasl* get() const { return ctx_; }

 private:
  Gsasl* ctx_ = nullptr;
};

Gsasl* library() {
  static Library lib;
  return lib.get();
}

}  // namespace

struct SaslClient::Impl {
  Gsasl_session* session = nullptr;
  ~Impl() {
    if (session != nullptr) gsasl_finish(session);
  }
};

std::string choose_mechanism(const std::vector<std::string>& offered) {
  for (const char* preferred : {"PLAIN", "LOGIN"}) {
    for (const auto& m : offered) {
      if (m == preferred) return m;
    }
  }
  return {};
}

SaslClient::SaslClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SaslClient::~SaslClient() = default;

std::unique_ptr<SaslClient> SaslClient::start(std::string_view mechanism, const std::string& user,
                                              const std::string& password, std::string& error) {
  Gsasl* ctx = library();
  if (ctx == nullptr) {
    error = "GNU SASL cannot start";
    return nullptr;
  }
  const std::string mech(mechanism);
  auto impl = std::make_unique<Impl>();
  const int rc = gsasl_client_start(ctx, mech.c_str(), &impl->session);
  if (rc != GSASL_OK) {
    impl->session = nullptr;
    error = "GNU SASL cannot start " + mech + ": " + gsasl_strerror(rc);
    return nullptr;
  }
  if (gsasl_property_set(impl->session, GSASL_AUTHID, user.c_str()) != GSASL_OK ||
      gsasl_property_set(impl->session, GSASL_PASSWORD, password.c_str()) != GSASL_OK) {
    error = "GNU SASL cannot hold the credentials";
    return nullptr;
  }
  return std::unique_ptr<SaslClient>(new SaslClient(std::move(impl)));
}

SaslClient::Step SaslClient::step(std::string_view challenge) {
  Step out;
  const std::string input(challenge);
  char* response = nullptr;
  const int rc = gsasl_step64(impl_->session, input.c_str(), &response);
  if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE) {
    out.status = rc == GSASL_OK ? Step::Status::done : Step::Status::more;
    if (response != nullptr) out.response = response;
  } else {
    out.error = gsasl_strerror(rc);
  }
  if (response != nullptr) gsasl_free(response);
  return out;
}

}  // namespace portico::smtpout
