// Helpers of the store tests: a temporary data folder and realistic RFC 5322 messages.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include "core/store/store.h"

namespace portico::test {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("portico-store-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::string simple_message(const std::string& subject, const std::string& text = "Hello") {
  return "From: Alice <alice@example.org>\r\n"
         "To: Bob <bob@example.org>\r\n"
         "Subject: " +
         subject +
         "\r\n"
         "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
         "Message-ID: <" +
         subject +
         "@example.org>\r\n"
         "\r\n" +
         text + "\r\n";
}

// multipart/mixed: text, a multipart/alternative, and a base64 attachment; RFC 2047 headers.
inline std::string mime_message(const std::string& id) {
  return "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>\r\n"
         "To: Bob <bob@example.org>, \"Carol\" <carol@example.org>\r\n"
         "Cc: dave@example.org\r\n"
         "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
         "Date: Tue, 2 Jan 2024 12:34:56 +0100\r\n"
         "Message-ID: <" +
         id +
         "@example.de>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
         "\r\n"
         "This is a multi-part message in MIME format.\r\n"
         "--outer\r\n"
         "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
         "\r\n"
         "--inner\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n"
         "\r\n"
         "Gr=C3=BC=C3=9Fe!\r\n"
         "Zweite Zeile.\r\n"
         "--inner\r\n"
         "Content-Type: text/html; charset=utf-8\r\n"
         "\r\n"
         "<p>Gr&uuml;&szlig;e!</p>\r\n"
         "--inner--\r\n"
         "--outer\r\n"
         "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
         "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n"
         "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\n"
         "eJwrVAhUKFQwAEIAFEgCqQplbmRzdHJlYW0KZW5kb2JqCg==\r\n"
         "--outer--\r\n";
}

}  // namespace portico::test
