// Test fixture of the pop plugin: the plugin loaded from the build's plugin folder, and a data
// directory with the domain example.test, alice@example.test (password "secret") holding the
// three messages of kMessages, and bob@example.test (password "secret") with none.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "portico/plugin.h"
#include "session_driver.h"

namespace portico::testing {

// alice's messages, delivered in this order (UIDs 1, 2, 3): a short one; one with a folded
// header field and body lines that start with "."; one with a longer body for TOP.
extern const std::vector<std::string> kMessages;

struct PopWorld {
  PopWorld();
  TestServices services;
  TestHost host{services};
  std::shared_ptr<sdk::Plugin> plugin;
  std::vector<std::string> alice_ids;  // the stable ids of alice's messages, in UID order

  sdk::Settings settings(const std::string& yaml_lines = "") const;
  // alice's INBOX UIDs as the store has them now.
  std::vector<std::uint32_t> alice_uids();
};

}  // namespace portico::testing
