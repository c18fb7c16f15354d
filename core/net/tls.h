// Portico core — TLS contexts for every listener: certificates, SNI, development certificate.
//
// The server's certificate (server.tls) is the default; more certificates (server.tls.sni) are
// chosen by the client's SNI server name, matched against each certificate's DNS names
// (subjectAltName, or the subject CN when there is none; "*.example.com" matches one label).
// A listener may name its own certificate, which becomes the default on that listener. TLS 1.2
// is the minimum. Contexts are rebuilt from the files on every reload; connections keep the
// context they started with.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "core/config/config.h"

namespace portico::core {

class TlsContexts {
 public:
  // Loads every certificate named by the server section and by the listeners; without
  // server.tls, the development certificate, generated (and the generation logged) if missing.
  // Errors (missing or unreadable files, a key that does not match) are appended to `errors`.
  static std::shared_ptr<TlsContexts> load(const Config& config, std::vector<std::string>& errors);

  // The context for a listener: its own certificate if it names one, else the server's.
  std::shared_ptr<boost::asio::ssl::context> for_listener(const sdk::ListenerSpec& spec) const;

  // The DNS names of a PEM certificate file (subjectAltName, else the subject CN).
  static std::vector<std::string> certificate_names(const std::filesystem::path& pem);

 private:
  struct Entry {
    std::vector<std::string> names;
    std::shared_ptr<boost::asio::ssl::context> context;
  };
  std::shared_ptr<boost::asio::ssl::context> make_context(const CertificatePair& pair,
                                                          std::vector<std::string>& errors);
  static int on_servername(SSL* ssl, int* alert, void* arg);

  std::shared_ptr<boost::asio::ssl::context> default_;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> per_listener_;  // by cert
  std::vector<Entry> sni_;
};

// Makes sure a self-signed development certificate exists under data_dir/tls and returns it;
// `created` tells whether it was generated now. Throws std::runtime_error on failure.
CertificatePair ensure_development_certificate(const std::filesystem::path& data_dir,
                                               const std::string& hostname, bool& created);

}  // namespace portico::core
