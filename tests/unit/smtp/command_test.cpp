// Tests of SMTP command lines: verbs, prefixes, ESMTP parameters, xtext.
#include "command.h"

#include <gtest/gtest.h>

namespace portico::smtp {
namespace {

TEST(Command, Verbs) {
  EXPECT_EQ(split_command("EHLO client.example").verb, Verb::ehlo);
  EXPECT_EQ(split_command("ehlo client.example").args, "client.example");
  EXPECT_EQ(split_command("MaIl FROM:<a@b>").verb, Verb::mail);
  EXPECT_EQ(split_command("STARTTLS").verb, Verb::starttls);
  EXPECT_EQ(split_command("STARTTLS").args, "");
  EXPECT_EQ(split_command("QUIT   ").verb, Verb::quit);  // trailing spaces are forgiven
  EXPECT_EQ(split_command("QUIT").verb, Verb::quit);
  EXPECT_EQ(split_command("NOOP   ").args, "");
  EXPECT_EQ(split_command("FOO bar").verb, Verb::unknown);
  EXPECT_EQ(split_command("").verb, Verb::unknown);
  EXPECT_EQ(split_command("BDAT 100 LAST").args, "100 LAST");
}

TEST(Command, Prefix) {
  EXPECT_EQ(after_prefix("FROM:<a@b>", "FROM:").value(), "<a@b>");
  EXPECT_EQ(after_prefix("from: <a@b>", "FROM:").value(), "<a@b>");
  EXPECT_FALSE(after_prefix("FROM<a@b>", "FROM:").has_value());
  EXPECT_FALSE(after_prefix("TO:<a@b>", "FROM:").has_value());
}

TEST(Command, Params) {
  auto p = parse_params(" SIZE=1000 BODY=8BITMIME SMTPUTF8");
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0].keyword, "SIZE");
  EXPECT_EQ((*p)[0].value.value(), "1000");
  EXPECT_EQ((*p)[1].value.value(), "8BITMIME");
  EXPECT_FALSE((*p)[2].value.has_value());
  EXPECT_EQ(parse_params("size=1")->at(0).keyword, "SIZE");
  EXPECT_TRUE(parse_params("")->empty());
  EXPECT_FALSE(parse_params(" =1").has_value());
  EXPECT_FALSE(parse_params(" SIZE=").has_value());
  EXPECT_FALSE(parse_params(" -X=1").has_value());
  EXPECT_FALSE(parse_params(" K=a=b").has_value());
  EXPECT_FALSE(parse_params(std::string(" K=a\x01")).has_value());
}

TEST(Command, Xtext) {
  EXPECT_EQ(xtext_decode("abc").value(), "abc");
  EXPECT_EQ(xtext_decode("a+2Bb").value(), "a+b");
  EXPECT_EQ(xtext_decode("rfc822;a+3Db@c").value(), "rfc822;a=b@c");
  EXPECT_FALSE(xtext_decode("a+2").has_value());
  EXPECT_FALSE(xtext_decode("a+zz").has_value());
  EXPECT_FALSE(xtext_decode("a+2b").has_value());  // hex is upper case
  EXPECT_FALSE(xtext_decode("a=b").has_value());
}

TEST(Command, Chomp) {
  EXPECT_EQ(chomp("NOOP\r\n"), "NOOP");
  EXPECT_EQ(chomp("NOOP\n"), "NOOP");
  EXPECT_EQ(chomp("NOOP"), "NOOP");
}

}  // namespace
}  // namespace portico::smtp
