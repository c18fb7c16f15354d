// Tests of the banner templater: each variable, case, unknown variables, line safety.
#include "core/banner/templater.h"

#include <gtest/gtest.h>

#include <regex>

namespace portico::core {
namespace {

sdk::ConnectionInfo conn() {
  sdk::ConnectionInfo c;
  c.server_hostname = "mail.example.org";
  c.remote_address = "192.0.2.7";
  return c;
}

// 2026-11-25 07:25:21 UTC
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795591521));

TEST(Templater, HostNameIsTheServerName) {
  EXPECT_EQ(render_template("220 #HostName# ESMTP", conn(), kNow), "220 mail.example.org ESMTP");
}

TEST(Templater, ConnectedIpIsTheRemoteAddress) {
  EXPECT_EQ(render_template("hello #ConnectedIP#", conn(), kNow), "hello 192.0.2.7");
}

TEST(Templater, UnixTimeIsSecondsSinceEpoch) {
  EXPECT_EQ(render_template("#UnixTime#", conn(), kNow), "1795591521");
}

TEST(Templater, TimeUtcIsRfc5322InUtc) {
  EXPECT_EQ(render_template("#TimeUTC#", conn(), kNow), "Wed, 25 Nov 2026 07:25:21 +0000");
}

TEST(Templater, TimeIsRfc5322LocalTime) {
  const std::string t = render_template("#Time#", conn(), kNow);
  EXPECT_TRUE(std::regex_match(
      t,
      std::regex(
          R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4})")))
      << t;
}

TEST(Templater, NamesAreCaseInsensitive) {
  EXPECT_EQ(render_template("#hostname# #CONNECTEDIP#", conn(), kNow),
            "mail.example.org 192.0.2.7");
}

TEST(Templater, UnknownVariableIsLeftAsItIs) {
  EXPECT_EQ(render_template("a #Nope# b", conn(), kNow), "a #Nope# b");
  EXPECT_EQ(render_template("#Nope##HostName#", conn(), kNow), "#Nope#mail.example.org");
  EXPECT_EQ(render_template("100# sure #HostName#", conn(), kNow), "100# sure mail.example.org");
}

TEST(Templater, LoneHashesStay) {
  EXPECT_EQ(render_template("#", conn(), kNow), "#");
  EXPECT_EQ(render_template("a#b", conn(), kNow), "a#b");
  EXPECT_EQ(render_template("##", conn(), kNow), "##");
}

TEST(Templater, BannerIsOneLine) {
  EXPECT_EQ(render_template("a\r\nb\nc", conn(), kNow), "a  b c");
}

TEST(Templater, RepliesKeepLineEndings) {
  EXPECT_EQ(render_template("421 #HostName# busy\r\n", conn(), kNow, false),
            "421 mail.example.org busy\r\n");
}

}  // namespace
}  // namespace portico::core
