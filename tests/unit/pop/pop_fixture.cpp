// Test fixture of the pop plugin (see pop_fixture.h).
#include "pop_fixture.h"

#include <stdexcept>

#include "core/plugins/loader.h"
#include "portico/store.h"

namespace portico::testing {

const std::vector<std::string> kMessages = {
    "From: Bob <bob@example.test>\r\n"
    "To: alice@example.test\r\n"
    "Subject: first\r\n"
    "\r\n"
    "Hello Alice.\r\n",

    "From: Carol <carol@remote.example>\r\n"
    "To: alice@example.test\r\n"
    "Subject: a subject that is folded\r\n"
    " onto a second line\r\n"
    "\r\n"
    ".starts with a dot\r\n"
    "..two dots\r\n"
    ".\r\n"
    "last line\r\n",

    "From: Dave <dave@remote.example>\r\n"
    "To: alice@example.test\r\n"
    "Subject: third\r\n"
    "\r\n"
    "line 1\r\n"
    "line 2\r\n"
    "line 3\r\n"
    "line 4\r\n",
};

PopWorld::PopWorld() {
  auto& d = services.directory();
  d.add_domain("example.test");
  d.add_account("alice@example.test", "Alice", 0, std::string_view("secret"), std::nullopt);
  d.add_account("bob@example.test", "", 0, std::string_view("secret"), std::nullopt);
  auto& store = services.store();
  for (const auto& m : kMessages) {
    auto r = store.deliver({sdk::DeliveryTarget{"alice@example.test", "INBOX", 0}}, m, 1700000000);
    if (!r.ok() || r.value.at(0).error != sdk::StoreError::none) {
      throw std::runtime_error("deliver failed: " + r.message);
    }
  }
  auto list = store.fetch("alice@example.test", "INBOX", {}, false, 0);
  if (!list.ok()) throw std::runtime_error("fetch failed: " + list.message);
  for (const auto& m : list.value)
    alice_ids.push_back(m.id);
  auto scan = core::load_plugins(PORTICO_PLUGIN_DIR,
                                 [&](const std::string&) -> sdk::Host& { return host; });
  for (auto& p : scan.loaded) {
    if (p.name == "pop") plugin = p.instance;
  }
  if (!plugin) throw std::runtime_error("pop.so not found in " PORTICO_PLUGIN_DIR);
}

sdk::Settings PopWorld::settings(const std::string& yaml_lines) const {
  return validated_settings(*plugin, "pop", yaml_lines);
}

std::vector<std::uint32_t> PopWorld::alice_uids() {
  std::vector<std::uint32_t> out;
  auto list = services.store().fetch("alice@example.test", "INBOX", {}, false, 0);
  for (const auto& m : list.value)
    out.push_back(m.uid);
  return out;
}

}  // namespace portico::testing
