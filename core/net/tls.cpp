// Portico core — TLS contexts (see tls.h). OpenSSL 3 through Boost.Asio's ssl::context.
#include "core/net/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace portico::core {

namespace ssl = boost::asio::ssl;

namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool name_matches(const std::string& pattern, const std::string& host) {
  if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::size_t dot = host.find('.');
    if (dot == std::string::npos || dot == 0) return false;
    const std::string rest = host.substr(dot + 1);
    return strcasecmp(rest.c_str(), pattern.c_str() + 2) == 0;
  }
  return strcasecmp(pattern.c_str(), host.c_str()) == 0;
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

std::vector<std::string> TlsContexts::certificate_names(const std::filesystem::path& pem) {
  std::vector<std::string> names;
  std::unique_ptr<FILE, FileCloser> f(std::fopen(pem.c_str(), "r"));
  if (!f) return names;
  X509* cert = PEM_read_X509(f.get(), nullptr, nullptr, nullptr);
  if (cert == nullptr) return names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type == GEN_DNS) {
        const auto* s = gn->d.dNSName;
        names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<std::size_t>(ASN1_STRING_length(s)));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
      names.emplace_back(cn);
    }
  }
  X509_free(cert);
  return names;
}

std::shared_ptr<ssl::context> TlsContexts::make_context(const CertificatePair& pair,
                                                        std::vector<std::string>& errors) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // Sessions of one connection only: no cache shared across reloads.
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_OFF);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(pair.certificate.string(), ec);
  if (ec) {
    errors.push_back("cannot read certificate " + pair.certificate.string() + ": " + ec.message());
    return nullptr;
  }
  ctx->use_private_key_file(pair.key.string(), ssl::context::pem, ec);
  if (ec) {
    errors.push_back("cannot read private key " + pair.key.string() + ": " + ec.message());
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    errors.push_back("private key " + pair.key.string() + " does not match certificate " +
                     pair.certificate.string());
    return nullptr;
  }
  return ctx;
}

int TlsContexts::on_servername(SSL* ssl, int* /*alert*/, void* arg) {
  const auto* self = static_cast<const TlsContexts*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  for (const auto& e : self->sni_) {
    for (const auto& pattern : e.names) {
      if (name_matches(pattern, name)) {
        SSL_set_SSL_CTX(ssl, e.context->native_handle());
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_OK;  // the listener's default certificate answers
}

std::shared_ptr<TlsContexts> TlsContexts::load(const Config& config,
                                               std::vector<std::string>& errors) {
  auto self = std::make_shared<TlsContexts>();
  CertificatePair main_pair;
  if (config.server.tls) {
    main_pair = *config.server.tls;
  } else {
    bool created = false;
    try {
      main_pair =
          ensure_development_certificate(config.server.data_dir, config.server.hostname, created);
    } catch (const std::exception& e) {
      errors.push_back(e.what());
      return nullptr;
    }
    if (created) {
      spdlog::warn(
          "no server.tls certificate configured: generated a self-signed development "
          "certificate {} (clients will not trust it)",
          main_pair.certificate.string());
    }
  }
  self->default_ = self->make_context(main_pair, errors);
  for (const auto& pair : config.server.extra_certificates) {
    if (auto ctx = self->make_context(pair, errors)) {
      self->sni_.push_back(Entry{certificate_names(pair.certificate), ctx});
    }
  }
  for (const auto& [name, plugin] : config.plugins) {
    if (!plugin.shared.enabled) continue;
    for (const auto& l : plugin.shared.listeners) {
      if (l.certificate.empty() || self->per_listener_.count(l.certificate)) continue;
      if (auto ctx = self->make_context(CertificatePair{l.certificate, l.key}, errors)) {
        self->per_listener_[l.certificate] = ctx;
      }
    }
  }
  if (!self->default_) return nullptr;
  auto install_sni = [&](ssl::context& ctx) {
    SSL_CTX_set_tlsext_servername_callback(ctx.native_handle(), &TlsContexts::on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx.native_handle(), self.get());
  };
  install_sni(*self->default_);
  for (auto& [k, ctx] : self->per_listener_)
    install_sni(*ctx);
  return self;
}

std::shared_ptr<ssl::context> TlsContexts::for_listener(const sdk::ListenerSpec& spec) const {
  if (!spec.certificate.empty()) {
    auto it = per_listener_.find(spec.certificate);
    if (it != per_listener_.end()) return it->second;
  }
  return default_;
}

CertificatePair ensure_development_certificate(const std::filesystem::path& data_dir,
                                               const std::string& hostname, bool& created) {
  namespace fs = std::filesystem;
  const fs::path dir = data_dir / "tls";
  CertificatePair pair{dir / "development-cert.pem", dir / "development-key.pem"};
  created = false;
  if (fs::exists(pair.certificate) && fs::exists(pair.key)) return pair;
  fs::create_directories(dir);

  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) throw std::runtime_error("cannot generate a key: " + openssl_error());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_guard(key, EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 825);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn = hostname.empty() ? "localhost" : hostname;
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Portico development"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string san = "DNS:" + cn + ",DNS:localhost,IP:127.0.0.1,IP:::1";
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
  if (ext != nullptr) {
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    throw std::runtime_error("cannot sign the development certificate: " + openssl_error());
  }
  // Write to temporary names, then rename: a crash never leaves half a certificate.
  const fs::path key_tmp = pair.key.string() + ".tmp";
  const fs::path cert_tmp = pair.certificate.string() + ".tmp";
  {
    const mode_t old = umask(077);
    std::unique_ptr<FILE, FileCloser> f(std::fopen(key_tmp.c_str(), "w"));
    umask(old);
    if (!f || PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      throw std::runtime_error("cannot write " + key_tmp.string());
    }
  }
  {
    std::unique_ptr<FILE, FileCloser> f(std::fopen(cert_tmp.c_str(), "w"));
    if (!f || PEM_write_X509(f.get(), cert.get()) != 1) {
      throw std::runtime_error("cannot write " + cert_tmp.string());
    }
  }
  fs::rename(key_tmp, pair.key);
  fs::rename(cert_tmp, pair.certificate);
  created = true;
  return pair;
}

}  // namespace portico::core
