// imap — PartMap over real messages (CRLF, as the store keeps them) and the part offsets the
// store finds for them (core/store/part_offsets.h): BODY[section] of RFC 9051 section 6.4.5
// cut byte for byte at the offsets GMime finds (whole message, HEADER, TEXT,
// HEADER.FIELDS(.NOT), part numbers, MIME, HEADER/TEXT of message/rfc822 parts), BINARY[] of
// RFC 3516 (base64, quoted-printable, unknown encodings), and malformed input.
#include <gtest/gtest.h>

#include <string>

#include "core/store/mime_cache.h"
#include "core/store/part_offsets.h"
#include "message.h"

namespace portico::imap {
namespace {

// The test messages are written with LF; the store keeps CRLF.
std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// A message, the store's part offsets of it, and its sections cut as FETCH cuts them.
class Mapped {
 public:
  explicit Mapped(std::string message) : message_(std::move(message)), map_(offsets(message_)) {}

  std::optional<std::string> section(const Section& s) const {
    auto r = map_.section(s);
    if (!r) return std::nullopt;
    EXPECT_LE(r->end, message_.size());
    return section_octets(s, message_.substr(r->begin, r->size()));
  }

  struct Binary {
    PartMap::Binary::Status status = PartMap::Binary::Status::ok;
    std::string octets;
  };
  Binary binary(const Section& s) const {
    auto b = map_.binary(s);
    Binary out{b.status, {}};
    if (b.status == PartMap::Binary::Status::ok)
      out.octets = decode(message_.substr(b.content.begin, b.content.size()), b.encoding).value();
    return out;
  }

 private:
  static sdk::MessageParts offsets(const std::string& message) {
    sdk::MessageParts parts;
    parts.size = message.size();
    parts.parts = core::store::summarize_message(message).parts;
    return parts;
  }
  std::string message_;
  PartMap map_;
};

Section part(std::vector<std::uint32_t> numbers, Section::Text text = Section::Text::none,
             std::vector<std::string> fields = {}) {
  Section s;
  s.part = std::move(numbers);
  s.text = text;
  s.fields = std::move(fields);
  return s;
}

Section top(Section::Text text, std::vector<std::string> fields = {}) {
  return part({}, text, std::move(fields));
}

using T = Section::Text;

const std::string kPlainHeader = crlf(
    "Return-Path: <alice@example.org>\n"
    "From: Alice <alice@example.org>\n"
    "To: Bob <bob@example.net>\n"
    "Subject: Lunch\n"
    "  tomorrow?\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\n"
    "Message-ID: <1@example.org>\n"
    "\n");
const std::string kPlainBody = crlf("Hi Bob,\nLunch at noon?\n");
const std::string kPlain = kPlainHeader + kPlainBody;

TEST(PartMap, PlainWholeHeaderText) {
  Mapped map(kPlain);
  EXPECT_EQ(map.section(Section{}), kPlain);
  EXPECT_EQ(map.section(top(T::header)), kPlainHeader);
  EXPECT_EQ(map.section(top(T::text)), kPlainBody);
  // A non-multipart message has part 1, its body; its MIME header is the message header.
  EXPECT_EQ(map.section(part({1})), kPlainBody);
  EXPECT_EQ(map.section(part({1}, T::mime)), kPlainHeader);
}

TEST(PartMap, PlainNonexistentParts) {
  Mapped map(kPlain);
  EXPECT_EQ(map.section(part({2})), std::nullopt);
  EXPECT_EQ(map.section(part({0})), std::nullopt);
  EXPECT_EQ(map.section(part({1, 1})), std::nullopt);
  EXPECT_EQ(map.section(part({1}, T::header)), std::nullopt);  // not message/rfc822
  EXPECT_EQ(map.section(part({1}, T::text)), std::nullopt);
  EXPECT_EQ(map.section(top(T::mime)), std::nullopt);
}

TEST(PartMap, HeaderFieldsInMessageOrderWithContinuations) {
  Mapped map(kPlain);
  // Asked in another order and case: message order, the folded line kept as stored.
  EXPECT_EQ(map.section(top(T::header_fields, {"SUBJECT", "from"})),
            "From: Alice <alice@example.org>\r\nSubject: Lunch\r\n  tomorrow?\r\n\r\n");
  EXPECT_EQ(map.section(top(T::header_fields, {"X-Missing"})), "\r\n");
  EXPECT_EQ(map.section(top(T::header_fields_not, {"return-path", "Subject", "Message-Id"})),
            crlf("From: Alice <alice@example.org>\n"
                 "To: Bob <bob@example.net>\n"
                 "Date: Mon, 7 Feb 1994 21:52:25 -0800\n"
                 "\n"));
  // A name that is only a prefix of a field does not select it.
  EXPECT_EQ(map.section(top(T::header_fields, {"Subj", "Message"})), "\r\n");
}

TEST(PartMap, RepeatedFieldsAllReturned) {
  std::string msg = crlf(
      "Received: from a by b;\n\tMon, 7 Feb 1994 21:52:25 -0800\n"
      "Subject: x\n"
      "received: from c by d; Mon, 7 Feb 1994 21:50:00 -0800\n"
      "\n"
      "body\n");
  Mapped map(msg);
  EXPECT_EQ(map.section(top(T::header_fields, {"Received"})),
            crlf("Received: from a by b;\n\tMon, 7 Feb 1994 21:52:25 -0800\n"
                 "received: from c by d; Mon, 7 Feb 1994 21:50:00 -0800\n\n"));
}

// multipart/mixed: a multipart/alternative (quoted-printable text, HTML), a base64 attachment
// and a message/rfc822 that is itself multipart; a preamble and an epilogue.
const std::string kMixedHeader = crlf(
    "From: Carol <carol@example.com>\n"
    "To: dave@example.net\n"
    "Subject: =?UTF-8?B?UmFwcG9ydCDDqXTDqQ==?=\n"
    "Date: Tue, 01 Nov 2022 23:30:00 -0500\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed;\n"
    " boundary=\"outer\"\n"
    "\n");
const std::string kAltMime = crlf("Content-Type: multipart/alternative; boundary=\"alt\"\n\n");
const std::string kAltBody = crlf(
    "--alt\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Caf=C3=A9 cr=C3=A8me, see=\n"
    " attached.\n"
    "--alt\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>Caf&eacute;</p>\n"
    "--alt--\n");
const std::string kInnerHeader = crlf(
    "From: Eve <eve@example.org>\n"
    "Subject: Inner\n"
    "Content-Type: multipart/mixed; boundary=inner\n"
    "\n");
const std::string kInnerText = crlf(
    "--inner\n"
    "Content-Type: text/plain\n"
    "\n"
    "inner one\n"
    "--inner\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Gr=FC=DFe\n"
    "--inner--");
const std::string kMixedText = crlf(
                                   "This is a multi-part message in MIME format.\n"
                                   "--outer\n") +
                               kAltMime + kAltBody +
                               crlf(
                                   "\n"
                                   "--outer\n"
                                   "Content-Type: application/octet-stream; name=\"data.bin\"\n"
                                   "Content-Disposition: attachment; filename=\"data.bin\"\n"
                                   "Content-Transfer-Encoding: base64\n"
                                   "\n"
                                   "AAECAwQFBgcICQ==\n"
                                   "--outer\n"
                                   "Content-Type: message/rfc822\n"
                                   "\n") +
                               kInnerHeader + kInnerText +
                               crlf(
                                   "\n"
                                   "--outer--\n"
                                   "epilogue\n");
const std::string kMixed = kMixedHeader + kMixedText;

TEST(PartMap, MixedWholeHeaderText) {
  Mapped map(kMixed);
  EXPECT_EQ(map.section(Section{}), kMixed);
  EXPECT_EQ(map.section(top(T::header)), kMixedHeader);
  EXPECT_EQ(map.section(top(T::text)), kMixedText);
  EXPECT_EQ(map.section(top(T::header_fields, {"content-type"})),
            crlf("Content-Type: multipart/mixed;\n boundary=\"outer\"\n\n"));
}

TEST(PartMap, MultipartPartIsItsRawBody) {
  Mapped map(kMixed);
  // The CRLF before "--outer" belongs to the delimiter (RFC 2046 section 5.1.1).
  EXPECT_EQ(map.section(part({1})), kAltBody);
  EXPECT_EQ(map.section(part({1}, T::mime)), kAltMime);
}

TEST(PartMap, NestedLeaves) {
  Mapped map(kMixed);
  EXPECT_EQ(map.section(part({1, 1})), crlf("Caf=C3=A9 cr=C3=A8me, see=\n attached."));
  EXPECT_EQ(map.section(part({1, 1}, T::mime)),
            crlf("Content-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: quoted-printable\n\n"));
  EXPECT_EQ(map.section(part({1, 2})), "<p>Caf&eacute;</p>");
  EXPECT_EQ(map.section(part({2})), "AAECAwQFBgcICQ==");
  EXPECT_EQ(map.section(part({2}, T::mime)),
            crlf("Content-Type: application/octet-stream; name=\"data.bin\"\n"
                 "Content-Disposition: attachment; filename=\"data.bin\"\n"
                 "Content-Transfer-Encoding: base64\n\n"));
}

TEST(PartMap, MessageRfc822Part) {
  Mapped map(kMixed);
  EXPECT_EQ(map.section(part({3})), kInnerHeader + kInnerText);
  EXPECT_EQ(map.section(part({3}, T::mime)), crlf("Content-Type: message/rfc822\n\n"));
  EXPECT_EQ(map.section(part({3}, T::header)), kInnerHeader);
  EXPECT_EQ(map.section(part({3}, T::text)), kInnerText);
  EXPECT_EQ(map.section(part({3}, T::header_fields, {"Subject"})), "Subject: Inner\r\n\r\n");
  EXPECT_EQ(map.section(part({3}, T::header_fields_not, {"Subject", "Content-Type"})),
            "From: Eve <eve@example.org>\r\n\r\n");
  EXPECT_EQ(map.section(part({3, 1})), "inner one");
  EXPECT_EQ(map.section(part({3, 2})), "Gr=FC=DFe");
  EXPECT_EQ(map.section(part({3, 2}, T::mime)),
            crlf("Content-Type: text/plain; charset=iso-8859-1\n"
                 "Content-Transfer-Encoding: quoted-printable\n\n"));
}

TEST(PartMap, MixedNonexistentParts) {
  Mapped map(kMixed);
  EXPECT_EQ(map.section(part({4})), std::nullopt);
  EXPECT_EQ(map.section(part({1, 3})), std::nullopt);
  EXPECT_EQ(map.section(part({2, 1})), std::nullopt);
  EXPECT_EQ(map.section(part({3, 3})), std::nullopt);
  EXPECT_EQ(map.section(part({3, 1, 1})), std::nullopt);
  EXPECT_EQ(map.section(part({1}, T::header)), std::nullopt);  // multipart, not a message
  EXPECT_EQ(map.section(part({2}, T::text)), std::nullopt);
  EXPECT_EQ(map.section(part({3, 1}, T::header)), std::nullopt);
}

TEST(PartMap, BinaryDecodesTransferEncodings) {
  Mapped map(kMixed);
  auto qp = map.binary(part({1, 1}));
  EXPECT_EQ(qp.status, PartMap::Binary::Status::ok);
  EXPECT_EQ(qp.octets, "Caf\xC3\xA9 cr\xC3\xA8me, see attached.");
  auto b64 = map.binary(part({2}));
  EXPECT_EQ(b64.status, PartMap::Binary::Status::ok);
  EXPECT_EQ(b64.octets, std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10));
  // The transfer encoding is undone, the charset is not.
  EXPECT_EQ(map.binary(part({3, 2})).octets,
            "Gr\xFC\xDF"
            "e");
  // No Content-Transfer-Encoding: the content as stored.
  EXPECT_EQ(map.binary(part({1, 2})).octets, "<p>Caf&eacute;</p>");
  EXPECT_EQ(map.binary(part({1})).octets, kAltBody);
  EXPECT_EQ(map.binary(part({9})).status, PartMap::Binary::Status::no_part);
  EXPECT_EQ(map.binary(part({3, 3})).status, PartMap::Binary::Status::no_part);
  auto whole = map.binary(Section{});
  EXPECT_EQ(whole.status, PartMap::Binary::Status::ok);
  EXPECT_EQ(whole.octets, kMixed);
}

TEST(PartMap, BinaryUnknownAndIdentityEncodings) {
  std::string msg = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: application/octet-stream\n"
      "Content-Transfer-Encoding: x-uuencode\n"
      "\n"
      "begin 644 x\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: 8BIT\n"
      "\n"
      "na\xC3\xAFve =41\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: Quoted-Printable\n"
      "\n"
      "=41=42=\n"
      "C\n"
      "--b--\n");
  Mapped map(msg);
  EXPECT_EQ(map.binary(part({1})).status, PartMap::Binary::Status::unknown_cte);
  auto eight = map.binary(part({2}));
  EXPECT_EQ(eight.status, PartMap::Binary::Status::ok);
  EXPECT_EQ(eight.octets, "na\xC3\xAFve =41");
  EXPECT_EQ(map.binary(part({3})).octets, "ABC");
}

TEST(PartMap, SinglePartBase64Message) {
  std::string header = crlf(
      "Subject: =?ISO-8859-1?Q?Caf=E9?=\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: base64\n"
      "\n");
  std::string body = crlf("SGVsbG8sIHdvcmxkIQ==\n");
  std::string msg = header + body;
  Mapped map(msg);
  EXPECT_EQ(map.section(part({1})), body);
  EXPECT_EQ(map.section(top(T::text)), body);
  EXPECT_EQ(map.binary(part({1})).octets, "Hello, world!");
}

TEST(PartMap, PartsWithoutHeadersAndEmptyParts) {
  std::string msg = crlf(
      "Content-Type: multipart/mixed; boundary=\"xyz\"\n"
      "\n"
      "--xyz\n"
      "\n"
      "no header here\n"
      "--xyz\n"
      "Content-Type: text/plain\n"
      "\n"
      "\n"
      "--xyz\n"
      "Content-Type: text/plain\n"
      "\n"
      "two trailing lines\n"
      "\n"
      "\n"
      "--xyz--\n");
  Mapped map(msg);
  EXPECT_EQ(map.section(part({1})), "no header here");
  EXPECT_EQ(map.section(part({1}, T::mime)), "\r\n");
  EXPECT_EQ(map.section(part({2})), "");  // its one CRLF belongs to the delimiter
  EXPECT_EQ(map.section(part({2}, T::mime)), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(map.section(part({3})), "two trailing lines\r\n\r\n");
  EXPECT_EQ(map.section(part({4})), std::nullopt);
}

TEST(PartMap, NestedMessageWithSinglePartBody) {
  std::string inner = crlf(
      "Subject: forwarded\n"
      "Content-Type: text/plain\n"
      "\n"
      "the original\n");
  std::string msg = crlf(
                        "Subject: Fwd: forwarded\n"
                        "Content-Type: multipart/mixed; boundary=\"==b==\"\n"
                        "\n"
                        "--==b==\n"
                        "Content-Type: text/plain\n"
                        "\n"
                        "see below\n"
                        "--==b==\n"
                        "Content-Type: message/rfc822\n"
                        "Content-Disposition: inline\n"
                        "\n") +
                    inner + crlf("--==b==--\n");
  Mapped map(msg);
  // The CRLF ending the inner message's last line belongs to the closing delimiter.
  std::string inner_stored = inner.substr(0, inner.size() - 2);
  EXPECT_EQ(map.section(part({2})), inner_stored);
  EXPECT_EQ(map.section(part({2}, T::header)),
            crlf("Subject: forwarded\nContent-Type: text/plain\n\n"));
  EXPECT_EQ(map.section(part({2}, T::text)), "the original");
  // 2.1 is the encapsulated message's body; its MIME header is that message's header.
  EXPECT_EQ(map.section(part({2, 1})), "the original");
  EXPECT_EQ(map.section(part({2, 1}, T::mime)),
            crlf("Subject: forwarded\nContent-Type: text/plain\n\n"));
  EXPECT_EQ(map.section(part({2, 2})), std::nullopt);
}

TEST(PartMap, MessageInMessageInMultipart) {
  std::string msg = crlf(
      "Content-Type: multipart/mixed; boundary=a\n"
      "\n"
      "--a\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "Subject: level 1\n"
      "Content-Type: message/rfc822\n"
      "\n"
      "Subject: level 2\n"
      "Content-Type: multipart/alternative; boundary=c\n"
      "\n"
      "--c\n"
      "Content-Type: text/plain\n"
      "\n"
      "deep\n"
      "--c--\n"
      "--a\n"
      "Content-Type: text/plain\n"
      "\n"
      "after\n"
      "--a--\n");
  Mapped map(msg);
  EXPECT_EQ(map.section(part({1, 1}, T::header)),
            crlf("Subject: level 2\nContent-Type: multipart/alternative; boundary=c\n\n"));
  EXPECT_EQ(map.section(part({1, 1, 1})), "deep");
  EXPECT_EQ(map.section(part({1, 1}, T::text)),
            crlf("--c\nContent-Type: text/plain\n\ndeep\n--c--"));
  EXPECT_EQ(map.section(part({2})), "after");
}

TEST(PartMap, MissingCloseDelimiterRunsToTheEnd) {
  std::string msg = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "first\n"
      "--b\n"
      "Content-Type: multipart/alternative; boundary=c\n"
      "\n"
      "--c\n"
      "\n"
      "truncated\n");
  Mapped map(msg);
  EXPECT_EQ(map.section(part({1})), "first");
  EXPECT_EQ(map.section(part({2})), crlf("--c\n\ntruncated\n"));
  EXPECT_EQ(map.section(part({2, 1})), crlf("truncated\n"));
}

TEST(PartMap, DelimiterLookalikesInsideContent) {
  // "--bb" with text after it, and a longer boundary sharing the prefix, are not delimiters.
  std::string msg = crlf(
      "Content-Type: multipart/mixed; boundary=bb\n"
      "\n"
      "--bb\n"
      "Content-Type: multipart/mixed; boundary=bbb\n"
      "\n"
      "--bbb\n"
      "\n"
      "--bb is not alone on this line\n"
      "--bbb--\n"
      "--bb   \n"
      "\n"
      "second\n"
      "--bb--\n");
  Mapped map(msg);
  EXPECT_EQ(map.section(part({1, 1})), "--bb is not alone on this line");
  EXPECT_EQ(map.section(part({1})), crlf("--bbb\n\n--bb is not alone on this line\n--bbb--"));
  EXPECT_EQ(map.section(part({2})), "second");
}

TEST(PartMap, HeaderOnlyAndEmptyMessages) {
  Mapped header_only("Subject: x\r\n");
  EXPECT_EQ(header_only.section(top(T::header)), "Subject: x\r\n");
  EXPECT_EQ(header_only.section(top(T::text)), "");
  EXPECT_EQ(header_only.section(top(T::header_fields, {"subject"})), "Subject: x\r\n\r\n");
  EXPECT_EQ(header_only.section(part({1})), "");

  Mapped empty("");
  EXPECT_EQ(empty.section(Section{}), "");
  EXPECT_EQ(empty.section(top(T::header)), "");
  EXPECT_EQ(empty.section(top(T::header_fields, {"subject"})), "\r\n");

  Mapped no_header("\r\nonly a body\r\n");
  EXPECT_EQ(no_header.section(top(T::header)), "\r\n");
  EXPECT_EQ(no_header.section(top(T::text)), "only a body\r\n");
}

TEST(PartMap, LfOnlyMessage) {
  std::string msg =
      "Subject: lf\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "one\n"
      "--b--\n";
  Mapped map(msg);
  EXPECT_EQ(map.section(top(T::header_fields, {"Subject"})), "Subject: lf\n\r\n");
  EXPECT_EQ(map.section(part({1})), "one");
  EXPECT_EQ(map.section(part({1}, T::mime)), "Content-Type: text/plain\n\n");
}

// The store keeps the offsets in its database; what it reads back is what it found, and a
// damaged record is refused (the store then finds the offsets again).
TEST(PartMap, OffsetsSurviveTheStoresEncoding) {
  const std::vector<std::string> messages = {kPlain,
                                             kMixed,
                                             "Subject: x\r\n",
                                             "",
                                             "\r\nonly a body\r\n",
                                             "Subject: lf\nX-A: 1\n folded\n\nbody\n\nmore\n",
                                             "Subject: no body, no end of line"};
  auto same = [](const sdk::MessagePart& a, const sdk::MessagePart& b) {
    return a.kind == b.kind && a.header_begin == b.header_begin && a.header_end == b.header_end &&
           a.content_end == b.content_end && a.transfer_encoding == b.transfer_encoding &&
           a.children == b.children;
  };
  for (const auto& m : messages) {
    auto parts = core::store::summarize_message(m).parts;
    ASSERT_FALSE(parts.empty());
    auto back = core::store::decode_parts(core::store::encode_parts(parts), m.size());
    ASSERT_TRUE(back.has_value()) << testing::PrintToString(m);
    ASSERT_EQ(back->size(), parts.size());
    for (std::size_t i = 0; i < parts.size(); ++i)
      EXPECT_TRUE(same((*back)[i], parts[i])) << testing::PrintToString(m) << " part " << i;
  }
  const std::string text = core::store::encode_parts(core::store::summarize_message(kMixed).parts);
  EXPECT_FALSE(core::store::decode_parts(text, 10).has_value());             // offsets past the end
  EXPECT_FALSE(core::store::decode_parts("l 0 5 3 -\n", 10).has_value());    // out of order
  EXPECT_FALSE(core::store::decode_parts("m 0 1 2 - 0\n", 10).has_value());  // a loop
  EXPECT_FALSE(core::store::decode_parts("x 0 1 2 -\n", 10).has_value());
  EXPECT_FALSE(core::store::decode_parts("l 0 1 2 -", 10).has_value());  // cut short
  EXPECT_FALSE(core::store::decode_parts("", 10).has_value());
}

TEST(PartMap, DeepNestingIsBoundedAndSafe) {
  std::string msg = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n";
  const int depth = 60;
  for (int i = 0; i < depth; ++i) {
    msg += "--b" + std::to_string(i) + "\r\n";
    msg += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i + 1) + "\r\n\r\n";
  }
  msg += "--b" + std::to_string(depth) + "\r\n\r\nleaf\r\n";
  for (int i = depth; i >= 0; --i)
    msg += "--b" + std::to_string(i) + "--\r\n";
  Mapped map(msg);
  auto first = map.section(part({1}));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->rfind("--b1\r\n", 0), 0u);
  // Beyond the depth BODYSTRUCTURE describes, there are no part numbers.
  EXPECT_EQ(map.section(part(std::vector<std::uint32_t>(40, 1))), std::nullopt);
}

TEST(PartMap, GarbageNeverThrows) {
  std::string junk;
  for (int i = 0; i < 4096; ++i)
    junk += static_cast<char>((i * 131 + 7) % 256);
  for (std::string msg :
       {junk, std::string("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"),
        std::string("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\nx\r\n"),
        std::string("Content-Type: message/rfc822\r\n\r\n"),
        std::string(":\r\n \r\n\t\r\n\r\n\r\n")}) {
    Mapped map(msg);
    EXPECT_EQ(map.section(Section{}), msg);
    for (auto text : {T::none, T::header, T::text, T::mime, T::header_fields}) {
      for (std::vector<std::uint32_t> p : {std::vector<std::uint32_t>{}, {1}, {1, 1}, {2}}) {
        (void)map.section(part(p, text, {"a"}));
        (void)map.binary(part(p));
      }
    }
  }
}

}  // namespace
}  // namespace portico::imap
