// Tests of RFC 5321 path parsing: table-driven, valid and invalid, limits, SMTPUTF8.
#include "address.h"

#include <gtest/gtest.h>

namespace portico::smtp {
namespace {

struct Case {
  const char* input;
  PathError error;
  const char* local;
  const char* domain;
  bool utf8 = false;
};

TEST(Path, Table) {
  const Case cases[] = {
      {"<user@example.org>", PathError::none, "user", "example.org"},
      {"<first.last@sub.example.org>", PathError::none, "first.last", "sub.example.org"},
      {"<a+tag@example.org>", PathError::none, "a+tag", "example.org"},
      {"<\"quoted name\"@example.org>", PathError::none, "\"quoted name\"", "example.org"},
      {"<\"a\\\"b\"@example.org>", PathError::none, "\"a\\\"b\"", "example.org"},
      {"<user@[192.0.2.1]>", PathError::none, "user", "[192.0.2.1]"},
      {"<user@[IPv6:2001:db8::1]>", PathError::none, "user", "[IPv6:2001:db8::1]"},
      {"<@relay.example,@other.example:user@example.org>", PathError::none, "user", "example.org"},
      {"<>", PathError::none, "", ""},
      {"user@example.org", PathError::syntax, "", ""},
      {"<user@example.org", PathError::syntax, "", ""},
      {"<user>", PathError::syntax, "", ""},
      {"<@example.org>", PathError::syntax, "", ""},
      {"<user@>", PathError::syntax, "", ""},
      {"<user@-bad.example>", PathError::syntax, "", ""},
      {"<user@bad-.example>", PathError::syntax, "", ""},
      {"<user@exa mple.org>", PathError::syntax, "", ""},
      {"<.user@example.org>", PathError::syntax, "", ""},
      {"<user.@example.org>", PathError::syntax, "", ""},
      {"<us..er@example.org>", PathError::syntax, "", ""},
      {"<user@[300.0.0.1]>", PathError::syntax, "", ""},
      {"<user@[IPv6:zz::1]>", PathError::syntax, "", ""},
      {"<\"unterminated@example.org>", PathError::syntax, "", ""},
      {"<jos\xc3\xa9@example.org>", PathError::needs_utf8, "", ""},
      {"<jos\xc3\xa9@exampl\xc3\xa9.org>", PathError::none, "jos\xc3\xa9", "exampl\xc3\xa9.org",
       true},
      {"<jos\xc3@example.org>", PathError::bad_utf8, "", "", true},
      {"<jos\xed\xa0\x80@example.org>", PathError::bad_utf8, "", "", true},
  };
  for (const auto& c : cases) {
    const PathResult r = parse_path(c.input, true, false, c.utf8);
    EXPECT_EQ(r.error, c.error) << c.input;
    if (c.error == PathError::none) {
      EXPECT_EQ(r.mailbox.local, c.local) << c.input;
      EXPECT_EQ(r.mailbox.domain, c.domain) << c.input;
      EXPECT_EQ(r.consumed, std::string_view(c.input).size()) << c.input;
    }
  }
}

TEST(Path, NullPathOnlyWhereAllowed) {
  EXPECT_EQ(parse_path("<>", true, false, false).error, PathError::none);
  EXPECT_EQ(parse_path("<>", false, false, false).error, PathError::syntax);
}

TEST(Path, BarePostmaster) {
  const PathResult r = parse_path("<PostMaster>", false, true, false);
  ASSERT_EQ(r.error, PathError::none);
  EXPECT_EQ(r.mailbox.local, "PostMaster");
  EXPECT_TRUE(r.mailbox.domain.empty());
  EXPECT_EQ(parse_path("<someone>", false, true, false).error, PathError::syntax);
}

TEST(Path, Limits) {
  const std::string local64(64, 'a');
  const std::string local65(65, 'a');
  EXPECT_EQ(parse_path("<" + local64 + "@example.org>", false, false, false).error,
            PathError::none);
  EXPECT_EQ(parse_path("<" + local65 + "@example.org>", false, false, false).error,
            PathError::too_long);
  std::string domain;
  while (domain.size() < 250)
    domain += "abcdefghi.";
  domain += "org";
  EXPECT_EQ(parse_path("<a@" + domain + ">", false, false, false).error, PathError::too_long);
}

TEST(Path, StopsAtTheClosingBracket) {
  const PathResult r = parse_path("<a@b.example> SIZE=10", false, false, false);
  ASSERT_EQ(r.error, PathError::none);
  EXPECT_EQ(r.consumed, 13u);
}

TEST(Domain, Validity) {
  EXPECT_TRUE(valid_domain("example.org", false));
  EXPECT_TRUE(valid_domain("a", false));
  EXPECT_FALSE(valid_domain("", false));
  EXPECT_FALSE(valid_domain("a..b", false));
  EXPECT_FALSE(valid_domain("exampl\xc3\xa9.org", false));
  EXPECT_TRUE(valid_domain("exampl\xc3\xa9.org", true));
}

}  // namespace
}  // namespace portico::smtp
