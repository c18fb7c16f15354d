// Portico core — password hashes and SCRAM secrets.
//
// New passwords are hashed with yescrypt through libxcrypt (crypt_gensalt_rn("$y$") +
// crypt_rn); verification accepts any crypt(3) hash libxcrypt knows, in particular yescrypt
// ($y$), sha512-crypt ($6$) and bcrypt ($2b$), so Dovecot passwd-file users can be imported.
// SCRAM secrets follow RFC 5802 section 3 and RFC 7677: SaltedPassword = PBKDF2-HMAC(password,
// salt, i), StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword,
// "Server Key"), computed with OpenSSL. The password is used as given (no SASLprep): clients
// with non-ASCII passwords should stay within NFC. Comparisons of secrets are constant-time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::core::directory {

// The iteration count for new SCRAM secrets (RFC 7677's minimum recommendation).
inline constexpr std::uint32_t kScramIterations = 4096;

// A yescrypt crypt(3) string for the password, with a fresh random salt. Throws on failure.
std::string hash_password(std::string_view password);
// Whether the password matches the crypt(3) hash; false for an empty or unknown hash format.
bool verify_password(std::string_view password, const std::string& hash);
// Whether text looks like a supported crypt(3) hash ($y$, $6$, $2b$/$2y$).
bool is_supported_hash(std::string_view hash);
// A hash as Dovecot's passwd-file writes it ("{SHA512-CRYPT}$6$...", "{BLF-CRYPT}$2b$...")
// without its {SCHEME} prefix; other text is returned as it is.
std::string_view strip_scheme_prefix(std::string_view hash);

enum class ScramHash { sha1, sha256 };

struct ScramSecret {
  std::uint32_t iterations = 0;
  std::string salt;        // raw bytes
  std::string stored_key;  // raw bytes
  std::string server_key;  // raw bytes
};

ScramSecret scram_secret(ScramHash hash, std::string_view password, std::string_view salt,
                         std::uint32_t iterations);

std::string random_bytes(std::size_t n);
std::string base64_encode(std::string_view bytes);
std::string base64_decode(std::string_view text);  // empty on bad input
std::string hex_encode(std::string_view bytes);
std::string hex_decode(std::string_view text);  // empty on bad input
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace portico::core::directory
