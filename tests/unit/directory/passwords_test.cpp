// Portico tests — password hashes (yescrypt, imported sha512-crypt and bcrypt) and SCRAM
// secrets against the RFC 5802 and RFC 7677 examples.
#include <crypt.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "core/directory/passwords.h"

namespace portico::core::directory {
namespace {

std::string crypt_with(const std::string& password, const std::string& setting) {
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), setting.c_str(), &data, sizeof data);
  return out ? std::string(out) : std::string();
}

TEST(Passwords, YescryptForNewPasswords) {
  std::string hash = hash_password("correct horse");
  EXPECT_TRUE(hash.starts_with("$y$")) << hash;
  EXPECT_TRUE(verify_password("correct horse", hash));
  EXPECT_FALSE(verify_password("correct horsE", hash));
  EXPECT_FALSE(verify_password("", hash));
  EXPECT_NE(hash, hash_password("correct horse"));  // fresh salt each time
}

TEST(Passwords, ImportedSha512Crypt) {
  // The reference vector of the SHA-crypt specification (as Dovecot's SHA512-CRYPT stores it).
  const std::string known =
      "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCo"
      "EOfaS35inz1";
  EXPECT_TRUE(verify_password("Hello world!", known));
  EXPECT_FALSE(verify_password("Hello world", known));
  std::string generated = crypt_with("secret", "$6$fixedsalt$");
  ASSERT_TRUE(generated.starts_with("$6$fixedsalt$"));
  EXPECT_TRUE(verify_password("secret", generated));
  EXPECT_FALSE(verify_password("Secret", generated));
  EXPECT_TRUE(is_supported_hash(generated));
}

TEST(Passwords, DovecotSchemePrefix) {
  EXPECT_EQ(strip_scheme_prefix("{SHA512-CRYPT}$6$a$b"), "$6$a$b");
  EXPECT_EQ(strip_scheme_prefix("{BLF-CRYPT}$2b$05$x"), "$2b$05$x");
  EXPECT_EQ(strip_scheme_prefix("$y$j9T$abc"), "$y$j9T$abc");
}

TEST(Passwords, ImportedBcrypt) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  const char fixed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  ASSERT_NE(crypt_gensalt_rn("$2b$", 5, fixed, sizeof fixed, setting, sizeof setting), nullptr);
  std::string generated = crypt_with("secret", setting);
  ASSERT_TRUE(generated.starts_with("$2b$05$")) << generated;
  EXPECT_EQ(generated, crypt_with("secret", setting));  // the fixed salt is deterministic
  EXPECT_TRUE(verify_password("secret", generated));
  EXPECT_FALSE(verify_password("secreT", generated));
  EXPECT_TRUE(is_supported_hash(generated));
}

TEST(Passwords, MalformedHashesNeverMatch) {
  EXPECT_FALSE(verify_password("x", ""));
  EXPECT_FALSE(verify_password("x", "*"));
  EXPECT_FALSE(verify_password("x", "!locked"));
  EXPECT_FALSE(verify_password("x", "$unknown$abc"));
  EXPECT_FALSE(is_supported_hash("$1$md5$nope"));
  EXPECT_FALSE(is_supported_hash("plaintext"));
}

std::string hmac(const EVP_MD* md, const std::string& key, const std::string& text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), out, &len);
  return {reinterpret_cast<const char*>(out), len};
}

std::string digest(const EVP_MD* md, const std::string& text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out, &len, md, nullptr);
  return {reinterpret_cast<const char*>(out), len};
}

// Checks the stored secrets against an RFC example exchange: the server's signature must be
// the one in the RFC, and the client's proof must verify against StoredKey.
void check_rfc_example(ScramHash hash, const EVP_MD* md, const std::string& salt_b64,
                       const std::string& client_nonce, const std::string& full_nonce,
                       const std::string& proof_b64, const std::string& verifier_b64) {
  auto secret = scram_secret(hash, "pencil", base64_decode(salt_b64), 4096);
  std::string auth_message = "n=user,r=" + client_nonce + ",r=" + full_nonce + ",s=" + salt_b64 +
                             ",i=4096,c=biws,r=" + full_nonce;
  EXPECT_EQ(base64_encode(hmac(md, secret.server_key, auth_message)), verifier_b64);
  std::string signature = hmac(md, secret.stored_key, auth_message);
  std::string client_key = base64_decode(proof_b64);
  ASSERT_EQ(client_key.size(), signature.size());
  for (std::size_t i = 0; i < client_key.size(); ++i)
    client_key[i] ^= signature[i];
  EXPECT_EQ(digest(md, client_key), secret.stored_key);
}

TEST(Scram, Rfc7677Sha256Example) {
  check_rfc_example(ScramHash::sha256, EVP_sha256(),
                    "W22ZaJ0SNY7soEsUEjb6gQ==", "rOprNGfwEbeRWgbNEkqO",
                    "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                    "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                    "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST(Scram, Rfc5802Sha1Example) {
  check_rfc_example(ScramHash::sha1, EVP_sha1(), "QSXCR+Q6sek8bf92", "fyko+d2lbbFgONRv9qkxdawL",
                    "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
                    "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

TEST(Scram, Encodings) {
  EXPECT_EQ(base64_encode("user"), "dXNlcg==");
  EXPECT_EQ(base64_decode("dXNlcg=="), "user");
  EXPECT_EQ(base64_decode("dXNlcg"), "");
  EXPECT_EQ(hex_encode("\x01\xab"), "01ab");
  EXPECT_EQ(hex_decode("01AB"), "\x01\xab");
  EXPECT_EQ(hex_decode("0g"), "");
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace portico::core::directory
