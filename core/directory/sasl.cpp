// Portico core — SASL (RFC 4422) server sessions through GNU SASL: PLAIN (RFC 4616), LOGIN,
// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), for every protocol plugin.
//
// No plaintext password is stored or asked for: PLAIN and LOGIN answer GNU SASL's
// GSASL_VALIDATE_SIMPLE by verifying the crypt(3) hash through DirectoryService::authenticate;
// SCRAM is given the stored iteration count, salt, StoredKey and ServerKey, base64-encoded (an
// unknown user gets a stable fake salt and keys that match nothing, so the exchange looks the
// same, and a throttled one is cut off after the client's first message). An
// authorization identity other than the authenticated user is refused. Throttling and counting
// are the directory's (see throttle.h). Channel binding (-PLUS) is not offered.
#include <gsasl.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <cstring>

#include "core/directory/directory.h"

namespace portico::core {

using namespace directory;

namespace {

constexpr const char* kScramSha256 = "SCRAM-SHA-256";
constexpr const char* kScramSha1 = "SCRAM-SHA-1";
constexpr const char* kPlain = "PLAIN";
constexpr const char* kLogin = "LOGIN";

int on_property(Gsasl* ctx, Gsasl_session* sctx, Gsasl_property prop);

class GsaslSession final : public sdk::SaslSession {
 public:
  GsaslSession(DirectoryService& directory, std::string mechanism, std::string remote,
               std::string domain)
      : directory_(directory),
        mechanism_(std::move(mechanism)),
        remote_(std::move(remote)),
        domain_(std::move(domain)) {}
  ~GsaslSession() override {
    if (session_ != nullptr) gsasl_finish(session_);
  }

  bool open(Gsasl* ctx) {
    if (gsasl_server_start(ctx, mechanism_.c_str(), &session_) != GSASL_OK) return false;
    gsasl_session_hook_set(session_, this);
    return true;
  }

  std::string mechanism() const override { return mechanism_; }

  sdk::SaslStep step(std::string_view client_bytes) override {
    sdk::SaslStep r;
    if (done_) return r;  // error: the exchange is over
    if (!started_) {
      started_ = true;
      if (directory_.refused(remote_, {}))
        return finish(directory_.throttled_result("", remote_, mechanism_));
      if (strcasecmp(mechanism_.c_str(), "LOGIN") == 0 && !client_bytes.empty()) {
        // A client may send LOGIN's user name as an initial response (RFC 4954 section 4);
        // GNU SASL's LOGIN server always asks for it first: let it ask, answer with that.
        char* prompt = nullptr;
        std::size_t prompt_len = 0;
        const int rc = gsasl_step(session_, "", 0, &prompt, &prompt_len);
        gsasl_free(prompt);
        if (rc != GSASL_NEEDS_MORE) return error(rc);
      }
    }
    char* out = nullptr;
    std::size_t out_len = 0;
    int rc = gsasl_step(session_, client_bytes.data(), client_bytes.size(), &out, &out_len);
    std::string data = out != nullptr ? std::string(out, out_len) : std::string();
    gsasl_free(out);
    if (verdict_ && (verdict_->status == sdk::AuthStatus::throttled ||
                     verdict_->status == sdk::AuthStatus::temporary_failure))
      return finish(*verdict_);
    if (rc == GSASL_NEEDS_MORE) {
      r.status = sdk::SaslStep::Status::challenge;
      r.data = std::move(data);
      return r;
    }
    if (is_scram()) {
      if (rc != GSASL_OK && rc != GSASL_AUTHENTICATION_ERROR) return error(rc);
      bool verified = rc == GSASL_OK && authzid_ok();
      auto result = directory_.conclude(account_, remote_, mechanism_, verified, credentials_.real,
                                        credentials_.enabled);
      return finish(result, std::move(data));
    }
    if (rc == GSASL_OK && verdict_) return finish(*verdict_, std::move(data));
    if (rc == GSASL_AUTHENTICATION_ERROR && verdict_) return finish(*verdict_);
    return error(rc);
  }

  int property(Gsasl_property prop) {
    switch (prop) {
      case GSASL_VALIDATE_SIMPLE:
        return validate_simple();
      case GSASL_SCRAM_ITER:
      case GSASL_SCRAM_SALT:
      case GSASL_SCRAM_STOREDKEY:
      case GSASL_SCRAM_SERVERKEY:
        return supply_scram();
      default:
        return GSASL_NO_CALLBACK;  // GSASL_PASSWORD in particular: there is none to give
    }
  }

 private:
  bool is_scram() const { return mechanism_.starts_with("SCRAM-"); }

  std::string fast(Gsasl_property prop) const {
    const char* p = gsasl_property_fast(session_, prop);
    return p != nullptr ? std::string(p) : std::string();
  }

  // The authentication identity as an address: a bare name is a local part of the exchange's
  // domain when it has one (XMPP), else taken as it is.
  std::string authid() const { return qualified(fast(GSASL_AUTHID)); }
  std::string qualified(std::string name) const {
    if (!domain_.empty() && !name.empty() && name.find('@') == std::string::npos)
      name += "@" + domain_;
    return name;
  }

  // The stored form of a user name (its domain's case rule), or the name itself when malformed.
  std::string account_name(const std::string& name) const {
    try {
      if (auto n = directory_.canonical_address(name)) return *n;
    } catch (const std::exception& e) {
      spdlog::error("auth: directory unavailable: {}", e.what());
    }
    auto n = normalize_address(name);
    return n ? *n : name;
  }

  // Only the user itself may be named as the authorization identity.
  bool authzid_ok() const {
    std::string authzid = qualified(fast(GSASL_AUTHZID));
    if (authzid.empty()) return true;
    return normalize_address(authzid) && account_name(authzid) == account_;
  }

  int validate_simple() {
    std::string authid = this->authid();
    std::string password = fast(GSASL_PASSWORD);
    account_ = account_name(authid);
    verdict_ = directory_.authenticate(authid, password, remote_);
    std::fill(password.begin(), password.end(), '\0');
    if (verdict_->status == sdk::AuthStatus::ok && !authzid_ok()) {
      spdlog::info("auth: {} from {}: authorization identity \"{}\" refused", mechanism_, remote_,
                   fast(GSASL_AUTHZID));
      verdict_ = sdk::AuthResult{sdk::AuthStatus::bad_credentials, {}, {}};
    }
    return verdict_->status == sdk::AuthStatus::ok ? GSASL_OK : GSASL_AUTHENTICATION_ERROR;
  }

  int supply_scram() {
    if (have_credentials_) return GSASL_NO_CALLBACK;
    have_credentials_ = true;
    std::string authid = this->authid();
    account_ = account_name(authid);
    if (directory_.refused(remote_, account_))
      verdict_ = directory_.throttled_result(account_, remote_, mechanism_);
    try {
      credentials_ = directory_.scram_credentials(
          account_, mechanism_ == kScramSha1 ? ScramHash::sha1 : ScramHash::sha256);
    } catch (const std::exception& e) {
      spdlog::error("auth: directory unavailable: {}", e.what());
      verdict_ = sdk::AuthResult{sdk::AuthStatus::temporary_failure, {}, {}};
      return GSASL_NO_CALLBACK;
    }
    gsasl_property_set(session_, GSASL_SCRAM_ITER, std::to_string(credentials_.iterations).c_str());
    gsasl_property_set(session_, GSASL_SCRAM_SALT, credentials_.salt_base64.c_str());
    gsasl_property_set(session_, GSASL_SCRAM_STOREDKEY, credentials_.stored_key_base64.c_str());
    gsasl_property_set(session_, GSASL_SCRAM_SERVERKEY, credentials_.server_key_base64.c_str());
    return GSASL_OK;
  }

  sdk::SaslStep finish(const sdk::AuthResult& result, std::string data = {}) {
    done_ = true;
    sdk::SaslStep r;
    r.reason = result.status;
    r.delay = result.delay;
    if (result.status == sdk::AuthStatus::ok) {
      r.status = sdk::SaslStep::Status::success;
      r.user = result.user;
      r.data = std::move(data);
    } else {
      r.status = sdk::SaslStep::Status::failure;
    }
    return r;
  }

  sdk::SaslStep error(int rc) {
    done_ = true;
    spdlog::debug("auth: {} from {}: {}", mechanism_, remote_, gsasl_strerror(rc));
    sdk::SaslStep r;
    r.status = sdk::SaslStep::Status::error;
    r.reason = sdk::AuthStatus::bad_credentials;
    return r;
  }

  DirectoryService& directory_;
  std::string mechanism_;
  std::string remote_;
  std::string domain_;  // for bare user names; empty: names are addresses
  Gsasl_session* session_ = nullptr;
  bool started_ = false;
  bool done_ = false;
  bool have_credentials_ = false;
  std::string account_;
  ScramCredentials credentials_;
  std::optional<sdk::AuthResult> verdict_;
};

int on_property(Gsasl* /*ctx*/, Gsasl_session* sctx, Gsasl_property prop) {
  auto* session = static_cast<GsaslSession*>(gsasl_session_hook_get(sctx));
  if (session == nullptr) return GSASL_NO_CALLBACK;
  try {
    return session->property(prop);
  } catch (const std::exception& e) {
    spdlog::error("auth: {}", e.what());
    return GSASL_NO_CALLBACK;
  }
}

}  // namespace

struct DirectoryService::Sasl {
  Gsasl* ctx = nullptr;
  ~Sasl() {
    if (ctx != nullptr) gsasl_done(ctx);
  }
};

void DirectoryService::SaslDeleter::operator()(Sasl* sasl) const {
  delete sasl;
}

void DirectoryService::init_sasl() {
  sasl_.reset(new Sasl);
  int rc = gsasl_init(&sasl_->ctx);
  if (rc != GSASL_OK)
    throw DirectoryError(std::string("GNU SASL cannot start: ") + gsasl_strerror(rc));
  gsasl_callback_set(sasl_->ctx, on_property);
  for (const char* m : {kScramSha256, kScramSha1, kPlain, kLogin})
    if (gsasl_server_support_p(sasl_->ctx, m) == 0)
      throw DirectoryError(std::string("GNU SASL lacks the mechanism ") + m);
}

std::vector<std::string> DirectoryService::mechanisms(bool tls_active,
                                                      bool allow_plaintext_without_tls,
                                                      bool disable_login) const {
  std::vector<std::string> out{kScramSha256, kScramSha1};
  if (tls_active || allow_plaintext_without_tls) {
    out.emplace_back(kPlain);
    if (!disable_login) out.emplace_back(kLogin);
  }
  return out;
}

std::unique_ptr<sdk::SaslSession> DirectoryService::start(std::string_view mechanism,
                                                          std::string_view remote_address,
                                                          std::string_view service) {
  return start_in_domain(mechanism, remote_address, service, {});
}

std::unique_ptr<sdk::SaslSession> DirectoryService::start_in_domain(std::string_view mechanism,
                                                                    std::string_view remote_address,
                                                                    std::string_view /*service*/,
                                                                    std::string_view domain) {
  std::string name;
  for (char c : mechanism)
    name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (name != kScramSha256 && name != kScramSha1 && name != kPlain && name != kLogin)
    return nullptr;
  auto session =
      std::make_unique<GsaslSession>(*this, name, std::string(remote_address), std::string(domain));
  if (!session->open(sasl_->ctx)) return nullptr;
  return session;
}

}  // namespace portico::core
