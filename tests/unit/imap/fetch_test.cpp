// imap — FETCH of sections of a large multipart message (RFC 9051 section 6.4.5, BINARY of RFC
// 3516): each section is read at the store's part offsets, a large one is streamed from the
// store's reader, and what the client gets is the same octets, byte for byte, as cut from the
// message whole; <partial> applies to every kind of section.
#include <gtest/gtest.h>

#include <glib.h>

#include "imap_world.h"

namespace portico::testing {
namespace {

struct Parts {
  std::string message;
  std::string header;  // the message's header, its empty line included
  std::string small;   // part 1's content
  std::string data;    // part 2's content (base64, over 1 MiB)
  std::string decoded;
};

Parts large_multipart() {
  Parts p;
  for (unsigned i = 0; p.decoded.size() < 1600 * 1024; ++i)
    p.decoded += static_cast<char>((i * 7919u) % 256u);
  gchar* b64 = g_base64_encode(reinterpret_cast<const guchar*>(p.decoded.data()), p.decoded.size());
  const std::string flat(b64);
  g_free(b64);
  for (std::size_t at = 0; at < flat.size(); at += 76)
    p.data += (at ? "\r\n" : "") + flat.substr(at, 76);
  p.header =
      "From: x@example.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n";
  p.small = "small text";
  p.message = p.header + "--p\r\nContent-Type: text/plain\r\n\r\n" + p.small +
              "\r\n--p\r\nContent-Type: application/octet-stream\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n" +
              p.data +
              "\r\n--p\r\nContent-Type: message/rfc822\r\n\r\n"
              "Subject: inner\r\n\r\ninner body\r\n--p--\r\n";
  return p;
}

std::string literal(const std::string& s) {
  return "{" + std::to_string(s.size()) + "}\r\n" + s;
}

TEST(ImapFetch, SectionsOfALargeMessageAreItsOctetsAtThePartOffsets) {
  ImapWorld w;
  const Parts p = large_multipart();
  w.deliver(p.message);
  auto d = w.connect();
  d->feed("a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n");
  d->take();

  d->feed("a3 FETCH 4 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT])\r\n");
  EXPECT_EQ(d->take(), "* 4 FETCH (BODY[1] " + literal(p.small) + " BODY[2.MIME] " +
                           literal("Content-Type: application/octet-stream\r\n"
                                   "Content-Transfer-Encoding: base64\r\n\r\n") +
                           " BODY[3.HEADER] " + literal("Subject: inner\r\n\r\n") +
                           " BODY[3.TEXT] " + literal("inner body") +
                           ")\r\na3 OK FETCH completed\r\n");

  // Over kStreamFetchAbove: sent from the store's reader in pieces.
  d->feed("a4 FETCH 4 (BODY.PEEK[2])\r\n");
  expect_bytes(d->take(),
               "* 4 FETCH (BODY[2] " + literal(p.data) + ")\r\na4 OK FETCH completed\r\n");

  d->feed("a5 FETCH 4 (BODY.PEEK[2]<1000.100> BINARY.PEEK[2]<5.16> BINARY.SIZE[2])\r\n");
  EXPECT_EQ(d->take(), "* 4 FETCH (BODY[2]<1000> " + literal(p.data.substr(1000, 100)) +
                           " BINARY[2]<5> " + literal(p.decoded.substr(5, 16)) +
                           " BINARY.SIZE[2] " + std::to_string(p.decoded.size()) +
                           ")\r\na5 OK FETCH completed\r\n");

  d->feed(
      "a6 FETCH 4 (RFC822.HEADER BODY.PEEK[HEADER.FIELDS (SUBJECT)]<3.5> "
      "BODY.PEEK[TEXT]<0.4>)\r\n");
  EXPECT_EQ(d->take(), "* 4 FETCH (RFC822.HEADER " + literal(p.header) +
                           " BODY[HEADER.FIELDS (SUBJECT)]<3> " + literal("ject:") +
                           " BODY[TEXT]<0> " + literal("--p\r") + ")\r\na6 OK FETCH completed\r\n");

  // A partial that starts past the end, and one that reaches past it.
  d->feed("a7 FETCH 4 (BODY.PEEK[1]<50.10> BODY.PEEK[1]<6.100>)\r\n");
  EXPECT_EQ(d->take(),
            "* 4 FETCH (BODY[1]<50> {0}\r\n BODY[1]<6> {4}\r\ntext)\r\na7 OK FETCH completed\r\n");

  // The large part of a message streamed with the text after it; \Seen set and told.
  d->feed("a8 UID FETCH 4 (BODY[TEXT])\r\n");
  const std::string text = p.message.substr(p.header.size());
  expect_bytes(d->take(), "* 4 FETCH (UID 4 BODY[TEXT] " + literal(text) +
                              " FLAGS (\\Seen \\Recent))\r\na8 OK FETCH completed\r\n");
}

}  // namespace
}  // namespace portico::testing
