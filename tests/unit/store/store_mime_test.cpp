// The MIME cache built at delivery: ENVELOPE, BODYSTRUCTURE, the header index (RFC 2047
// decoded) and the part offsets, read back through fetch, search_header and message_parts.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "core/store/mime_cache.h"
#include "core/store/part_offsets.h"
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

std::string large_text() {
  return std::string(300 * 1024, 'z');
}

// mime_message() with a text/plain part of large_text() inserted before its PDF.
std::string with_large_text(std::string m) {
  m.insert(m.find("--outer\r\nContent-Type: application/pdf"),
           "--outer\r\nContent-Type: text/plain\r\n\r\n" + large_text() + "\r\n");
  return m;
}

// A message larger than the database keeps (kInlineBody), with a part that does not end in a
// line end: from a file (Store::append_file, parsed from the file in pieces) the store caches
// and keeps exactly what append() of the same octets from memory does.
TEST(StoreMime, AppendFromAFileKeepsWhatAppendFromMemoryKeeps) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  const std::string big = with_large_text(mime_message("big"));
  const fs::path file = dir.path() / "message.eml";
  std::ofstream(file, std::ios::binary) << big;

  sdk::AppendRequest memory;
  memory.account = bob;
  memory.mailbox = "INBOX";
  memory.message = big;
  memory.flags.system = sdk::flag_seen;
  auto a = store->append(memory);
  ASSERT_TRUE(a.ok()) << a.message;
  sdk::AppendFileRequest from_file;
  from_file.account = bob;
  from_file.mailbox = "INBOX";
  from_file.path = file.string();
  from_file.flags.system = sdk::flag_seen;
  auto b = store->append_file(from_file);
  ASSERT_TRUE(b.ok()) << b.message;
  EXPECT_EQ(b.value.uid, a.value.uid + 1);

  auto infos = store->fetch(bob, "INBOX", {}, true, 0);
  ASSERT_TRUE(infos.ok());
  ASSERT_EQ(infos.value.size(), 2u);
  const auto& m = infos.value[0];
  const auto& f = infos.value[1];
  EXPECT_EQ(f.size, big.size());
  EXPECT_EQ(f.flags.system, sdk::flag_seen);
  EXPECT_EQ(f.envelope, m.envelope);
  EXPECT_EQ(f.bodystructure, m.bodystructure);
  EXPECT_EQ(f.body, m.body);
  EXPECT_NE(f.bodystructure.find("\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 30"), std::string::npos)
      << f.bodystructure;
  EXPECT_EQ(store->read_message(bob, "INBOX", b.value.uid).value, big);
  fs::remove(file);  // the store's copy does not depend on the file
  EXPECT_EQ(store->read_message(bob, "INBOX", b.value.uid).value, big);
  auto found = store->search_header(bob, "INBOX", "Message-ID", "big@example.de");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found.value, (std::vector<std::uint32_t>{a.value.uid, b.value.uid}));
}

// A multipart of parts of many sizes, so that in a file its delimiters straddle the 64 KiB
// windows the part offsets are read through.
std::string big_multipart() {
  std::string m = "Subject: sizes\r\nContent-Type: multipart/mixed; boundary=\"sizes\"\r\n\r\n";
  for (int k = 0; k < 12; ++k)
    m += "--sizes\r\nContent-Type: text/plain\r\n\r\n" +
         std::string(static_cast<std::size_t>(30000 + k * 13007), static_cast<char>('a' + k)) +
         "\r\n";
  return m + "--sizes--\r\n";
}

// Whatever the octets, the summary made from a file is the one made from memory (the parse and
// the fallback for octets that are no message alike).
TEST(StoreMime, AFileSummarizesAsTheSameOctetsInMemory) {
  TempDir dir;
  const fs::path file = dir.path() / "octets";
  for (std::string octets : {std::string(), std::string("x"), std::string("no header\nat all\n"),
                             std::string("\0\x01\xff\r\n\r\nbinary", 14), mime_message("f1"),
                             std::string("Subject: a\r\n\r\nno final line end"), big_multipart()}) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << octets;
    auto m = core::store::summarize_message(octets);
    auto f = core::store::summarize_file(file.string());
    EXPECT_EQ(f.envelope, m.envelope) << octets;
    EXPECT_EQ(f.bodystructure, m.bodystructure) << octets;
    EXPECT_EQ(f.body, m.body) << octets;
    EXPECT_EQ(f.headers, m.headers) << octets;
    // The part offsets too (from a file they are read through a window, not from memory).
    EXPECT_EQ(core::store::encode_parts(f.parts), core::store::encode_parts(m.parts)) << octets;
  }
}

void sql(const fs::path& db_file, const std::string& text) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// The part offsets are found as a message is stored (from memory and from a file alike), kept
// with it, and read back for several UIDs at once; a record lost or damaged is found again from
// the octets.
TEST(StoreMime, PartOffsetsAreKeptWithTheMessage) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  const std::string big = with_large_text(mime_message("parts"));
  const std::string text = large_text();
  const fs::path file = dir.path() / "message.eml";
  std::ofstream(file, std::ios::binary) << big;
  sdk::AppendFileRequest from_file;
  from_file.account = bob;
  from_file.mailbox = "INBOX";
  from_file.path = file.string();
  ASSERT_TRUE(store->append_file(from_file).ok());
  const std::string small = mime_message("small");
  ASSERT_TRUE(store->deliver({{bob, "INBOX", 0}}, small, 0).ok());

  auto expect_found = [&](const char* when) {
    auto r = store->message_parts(bob, "INBOX", {1, 7, 2});
    ASSERT_EQ(r.size(), 3u);
    ASSERT_TRUE(r[0].ok()) << when << ": " << r[0].message;
    EXPECT_EQ(r[1].error, sdk::StoreError::not_found) << when;
    ASSERT_TRUE(r[2].ok()) << when << ": " << r[2].message;
    const auto& p = r[0].value;
    EXPECT_EQ(p.size, big.size()) << when;
    const auto expected = core::store::summarize_message(big).parts;
    ASSERT_EQ(p.parts.size(), expected.size()) << when;
    // multipart/mixed: [alternative, text/plain (inserted), pdf]; the text's content is `text`.
    ASSERT_EQ(p.parts[0].kind, sdk::MessagePart::Kind::multipart) << when;
    ASSERT_EQ(p.parts[0].children.size(), 3u) << when;
    const auto& inserted = p.parts[p.parts[0].children[1]];
    EXPECT_EQ(big.substr(inserted.header_end, inserted.content_end - inserted.header_end), text)
        << when;
    const auto& pdf = p.parts[p.parts[0].children[2]];
    EXPECT_EQ(pdf.transfer_encoding, "base64") << when;
    EXPECT_EQ(r[2].value.size, small.size()) << when;
    EXPECT_EQ(r[2].value.parts.size(), core::store::summarize_message(small).parts.size());
  };
  expect_found("as stored");
  const fs::path db = dir.path() / "store" / "example.org" / "bob" / "meta.sqlite";
  sql(db, "UPDATE bodies SET parts = NULL");
  expect_found("without a record");
  sql(db, "UPDATE bodies SET parts = 'l 0 99999999 99999999 -\n'");
  expect_found("with a damaged record");
}

}  // namespace
}  // namespace portico::test
