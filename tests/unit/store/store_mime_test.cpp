// The MIME cache built at delivery: ENVELOPE, BODYSTRUCTURE and the header index (RFC 2047
// decoded), read back through fetch and search_header.
#include <gtest/gtest.h>

#include "core/store/mime_cache.h"
#include "store_test_util.h"

namespace portico::test {
namespace {

constexpr const char* bob = "bob@example.org";

TEST(StoreMime, EnvelopeAndBodystructureOfMultipartWithAttachment) {
  auto s = core::store::summarize_message(mime_message("m1"));
  EXPECT_EQ(s.envelope.rfind("(\"Tue, 2 Jan 2024 12:34:56 +0100\" "
                             "\"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\" ",
                             0),
            0u)
      << s.envelope;
  EXPECT_NE(s.envelope.find("\"juergen\" \"example.de\""), std::string::npos) << s.envelope;
  EXPECT_NE(s.envelope.find("((\"Bob\" NIL \"bob\" \"example.org\")(\"Carol\" NIL \"carol\" "
                            "\"example.org\"))"),
            std::string::npos)
      << s.envelope;
  EXPECT_NE(s.envelope.find("\"<m1@example.de>\")"), std::string::npos);
  // multipart/mixed ( multipart/alternative (text/plain text/html) application/pdf )
  EXPECT_EQ(s.bodystructure.rfind("(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
                                  "\"QUOTED-PRINTABLE\" ",
                                  0),
            0u)
      << s.bodystructure;
  EXPECT_NE(s.bodystructure.find("\"ALTERNATIVE\" (\"BOUNDARY\" \"inner\")"), std::string::npos)
      << s.bodystructure;
  EXPECT_NE(s.bodystructure.find("(\"APPLICATION\" \"PDF\" (\"NAME\" \"report.pdf\") NIL NIL "
                                 "\"BASE64\" "),
            std::string::npos)
      << s.bodystructure;
  EXPECT_NE(s.bodystructure.find("(\"ATTACHMENT\" (\"FILENAME\" \"report.pdf\"))"),
            std::string::npos);
  EXPECT_NE(s.bodystructure.find("\"MIXED\" (\"BOUNDARY\" \"outer\")"), std::string::npos);
  // BODY has no extension data.
  EXPECT_EQ(s.body.find("BOUNDARY"), std::string::npos) << s.body;
  EXPECT_EQ(s.body.find("ATTACHMENT"), std::string::npos) << s.body;
}

TEST(StoreMime, HeaderIndexDecodesEncodedWords) {
  auto s = core::store::summarize_message(mime_message("m2"));
  std::map<std::string, std::string> h(s.headers.begin(), s.headers.end());
  EXPECT_EQ(h["subject"], "Grüße aus Köln");
  EXPECT_NE(h["from"].find("Jürgen Müller"), std::string::npos) << h["from"];
  EXPECT_NE(h["to"].find("carol@example.org"), std::string::npos);
  EXPECT_EQ(h["cc"], "dave@example.org");
  EXPECT_EQ(h["message-id"], "<m2@example.de>");
  EXPECT_EQ(h["date"], "Tue, 2 Jan 2024 12:34:56 +0100");
}

TEST(StoreMime, NotAMessageStillSummarizes) {
  auto s = core::store::summarize_message("just some bytes\n");
  EXPECT_FALSE(s.envelope.empty());
  EXPECT_FALSE(s.bodystructure.empty());
  auto empty = core::store::summarize_message("");
  EXPECT_FALSE(empty.bodystructure.empty());
}

TEST(StoreMime, FetchAndSearchUseTheCache) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  ASSERT_TRUE(store->deliver({{bob, "INBOX", 0}}, mime_message("x1"), 0).ok());
  ASSERT_TRUE(store->deliver({{bob, "INBOX", 0}}, simple_message("plain"), 0).ok());
  auto f = store->fetch(bob, "INBOX", {{1, 1}}, true, 0).value;
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].bodystructure.find("\"PDF\""), std::string::npos);
  EXPECT_NE(f[0].envelope.find("x1@example.de"), std::string::npos);
  EXPECT_FALSE(f[0].body.empty());
  auto without = store->fetch(bob, "INBOX", {{1, 1}}, false, 0).value;
  EXPECT_TRUE(without[0].envelope.empty());

  EXPECT_EQ(store->search_header(bob, "INBOX", "Subject", "köln").value,
            (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(store->search_header(bob, "INBOX", "Subject", "Köln").value,
            (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(store->search_header(bob, "INBOX", "subject", "PLAIN").value,
            (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(store->search_header(bob, "INBOX", "From", "Müller").value,
            (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(store->search_header(bob, "INBOX", "To", "bob@").value,
            (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(store->search_header(bob, "INBOX", "Cc", "dave").value,
            (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(store->search_header(bob, "INBOX", "Message-ID", "<plain@").value,
            (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(store->search_header(bob, "INBOX", "Date", "2 Jan 2024").value,
            (std::vector<std::uint32_t>{1}));
  EXPECT_TRUE(store->search_header(bob, "INBOX", "Subject", "100%").value.empty());
}

}  // namespace
}  // namespace portico::test
