// A minimal plugin for the loader's refusal tests: a valid Plugin that serves nothing.
//
// Each library under tests/plugins/bad/ wraps it in a descriptor that is wrong in exactly one
// way (or, for needs-lineproto, right), so a test can match each refusal to its reason.
#pragma once

#include <memory>

#include "portico/plugin.h"

namespace test_plugins {

class MinimalPlugin : public portico::sdk::Plugin {
 public:
  explicit MinimalPlugin(portico::sdk::Host&) {}
  portico::sdk::Schema schema() const override {
    portico::sdk::Schema s;
    s.summary = "a plugin for loader tests";
    return s;
  }
  portico::sdk::ProtocolTraits traits() const override { return {}; }
  std::unique_ptr<portico::sdk::Session> open_session(portico::sdk::SessionContext&) override {
    return nullptr;
  }
};

}  // namespace test_plugins
