// Portico core — password hashes and SCRAM secrets (see passwords.h).
#include "core/directory/passwords.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <stdexcept>

namespace portico::core::directory {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw std::runtime_error("no random bytes available");
    got += static_cast<std::size_t>(r);
  }
  return out;
}

std::string hash_password(std::string_view password) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  // A null random source makes libxcrypt read the system's random source itself.
  if (crypt_gensalt_rn("$y$", 0, nullptr, 0, setting.data(), static_cast<int>(setting.size())) ==
      nullptr)
    throw std::runtime_error("crypt_gensalt_rn failed for yescrypt");
  std::string pw(password);
  crypt_data data{};
  const char* out = crypt_rn(pw.c_str(), setting.data(), &data, sizeof data);
  OPENSSL_cleanse(pw.data(), pw.size());
  if (out == nullptr || out[0] == '*') {
    OPENSSL_cleanse(&data, sizeof data);
    throw std::runtime_error("crypt_rn failed for yescrypt");
  }
  std::string hash(out);
  OPENSSL_cleanse(&data, sizeof data);
  return hash;
}

bool is_supported_hash(std::string_view hash) {
  return hash.starts_with("$y$") || hash.starts_with("$6$") || hash.starts_with("$2b$") ||
         hash.starts_with("$2y$");
}

std::string_view strip_scheme_prefix(std::string_view hash) {
  if (!hash.starts_with('{')) return hash;
  auto end = hash.find('}');
  return end == std::string_view::npos ? hash : hash.substr(end + 1);
}

bool verify_password(std::string_view password, const std::string& hash) {
  if (hash.empty() || hash[0] == '*' || hash[0] == '!') return false;
  std::string pw(password);
  if (pw.find('\0') != std::string::npos) return false;
  crypt_data data{};
  const char* out = crypt_rn(pw.c_str(), hash.c_str(), &data, sizeof data);
  OPENSSL_cleanse(pw.data(), pw.size());
  bool ok = out != nullptr && out[0] != '*' && constant_time_equal(out, hash);
  OPENSSL_cleanse(&data, sizeof data);
  return ok;
}

namespace {

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &len) == nullptr)
    throw std::runtime_error("HMAC failed");
  return {reinterpret_cast<const char*>(out), len};
}

std::string digest(const EVP_MD* md, std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), out, &len, md, nullptr) != 1)
    throw std::runtime_error("digest failed");
  return {reinterpret_cast<const char*>(out), len};
}

}  // namespace

ScramSecret scram_secret(ScramHash hash, std::string_view password, std::string_view salt,
                         std::uint32_t iterations) {
  const EVP_MD* md = hash == ScramHash::sha1 ? EVP_sha1() : EVP_sha256();
  std::string salted(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), md,
                        static_cast<int>(salted.size()),
                        reinterpret_cast<unsigned char*>(salted.data())) != 1)
    throw std::runtime_error("PBKDF2 failed");
  ScramSecret s;
  s.iterations = iterations;
  s.salt = std::string(salt);
  std::string client_key = hmac(md, salted, "Client Key");
  s.stored_key = digest(md, client_key);
  s.server_key = hmac(md, salted, "Server Key");
  OPENSSL_cleanse(salted.data(), salted.size());
  OPENSSL_cleanse(client_key.data(), client_key.size());
  return s;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return {};
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return {};
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock keeps the bytes that padding stands for: drop them.
  if (text.ends_with("=="))
    len -= 2;
  else if (text.ends_with("="))
    len -= 1;
  out.resize(len);
  return out;
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string hex_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return {};
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = value(text[i]), lo = value(text[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace portico::core::directory
