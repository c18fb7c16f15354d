// Tests of the SDK test kit's output limit (SessionDriver::output_limit, SDK 1.10): the driver
// reports the limit a session set with SessionContext::set_output_limit, the default before it
// does, and the default again after a session sets 0.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "portico/testkit/driver.h"
#include "portico/testkit/host.h"

namespace portico::testkit {
namespace {

// "LIMIT n" sets the connection's output limit to n octets.
class Limits final : public sdk::Session {
 public:
  explicit Limits(sdk::SessionContext& ctx) : ctx_(ctx) {}
  void on_start() override {}
  void on_line_too_long() override {}
  void on_line(std::string_view line) override {
    ctx_.set_output_limit(std::stoul(std::string(line.substr(6))));
    ctx_.write("+OK\r\n");
  }
  sdk::SessionContext& ctx_;
};

TEST(TestkitOutputLimit, IsWhatTheSessionSetAndZeroRestoresTheDefault) {
  TestHost host;
  SessionDriver driver([](sdk::SessionContext& ctx) { return std::make_unique<Limits>(ctx); },
                       host);
  driver.start();
  EXPECT_EQ(driver.output_limit(), sdk::kDefaultOutputLimit);
  driver.feed("LIMIT 32768\r\n");
  EXPECT_EQ(driver.output_limit(), 32768u);
  driver.feed("LIMIT 0\r\n");
  EXPECT_EQ(driver.output_limit(), sdk::kDefaultOutputLimit);
}

}  // namespace
}  // namespace portico::testkit
