// imap — the world the plugin's session tests run in: the real imap.so loaded by the core's
// loader, a directory with alice and bob, and alice's INBOX in the real store holding three
// messages (a plain one, a multipart with a base64 attachment, a two-line one).
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/plugins/loader.h"
#include "portico/store.h"
#include "session_driver.h"

namespace portico::testing {

inline const std::vector<std::string> kMessages = {
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "From: Bob <bob@example.test>\r\n"
    "To: alice@example.test\r\n"
    "Subject: first\r\n"
    "Message-ID: <1@example.test>\r\n"
    "\r\n"
    "Hello Alice.\r\n",

    "Date: Wed, 15 Nov 2023 10:00:00 +0100\r\n"
    "From: Carol <carol@remote.example>\r\n"
    "To: alice@example.test\r\n"
    "Subject: =?UTF-8?Q?caf=C3=A9?= plans\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Shall we meet at noon?\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAw==\r\n"
    "--b1--\r\n",

    "Date: Thu, 16 Nov 2023 08:30:00 -0500\r\n"
    "From: Dave <dave@remote.example>\r\n"
    "To: alice@example.test\r\n"
    "Subject: third\r\n"
    "\r\n"
    "line 1\r\n"
    "line 2\r\n",
};

struct ImapWorld {
  ImapWorld() {
    auto& d = services.directory();
    d.add_domain("example.test");
    d.add_account("alice@example.test", "Alice", 0, std::string_view("secret"), std::nullopt);
    d.add_account("bob@example.test", "", 0, std::string_view("secret"), std::nullopt);
    for (const auto& m : kMessages)
      deliver(m);
    auto scan = core::load_plugins(PORTICO_PLUGIN_DIR,
                                   [&](const std::string&) -> sdk::Host& { return host; });
    for (auto& p : scan.loaded)
      if (p.name == "imap") plugin = p.instance;
    if (!plugin) throw std::runtime_error("imap.so not found in " PORTICO_PLUGIN_DIR);
  }
  void deliver(const std::string& m) {
    auto r = services.store().deliver({sdk::DeliveryTarget{"alice@example.test", "INBOX", 0}}, m,
                                      1700000000);
    if (!r.ok() || r.value.at(0).error != sdk::StoreError::none)
      throw std::runtime_error("deliver failed: " + r.message);
  }
  sdk::Settings settings(const std::string& yaml = "") const {
    return validated_settings(*plugin, "imap", yaml);
  }
  std::unique_ptr<SessionDriver> connect(const std::string& yaml = "", bool tls = true) {
    DriverOptions o;
    o.listener = "127.0.0.1:993";
    o.implicit_tls = tls;
    auto d = std::make_unique<SessionDriver>(*plugin, host, settings(yaml), o);
    d->start();
    return d;
  }
  TestServices services;
  TestHost host{services};
  std::shared_ptr<sdk::Plugin> plugin;
};

// EXPECT_EQ for megabytes of output: says where the two first differ (gtest's own diff of such
// strings would take minutes).
inline void expect_bytes(const std::string& actual, const std::string& expected) {
  if (actual == expected) return;
  const auto at = static_cast<std::size_t>(
      std::mismatch(actual.begin(), actual.begin() + std::min(actual.size(), expected.size()),
                    expected.begin())
          .first -
      actual.begin());
  ADD_FAILURE() << "got " << actual.size() << " octets, expected " << expected.size()
                << "; first difference at " << at << ": got "
                << ::testing::PrintToString(actual.substr(at, 60)) << ", expected "
                << ::testing::PrintToString(expected.substr(at, 60));
}

}  // namespace portico::testing
