// imap mailbox names (mailbox_name.h): modified UTF-7 of RFC 3501 section 5.1.3 both ways — the
// RFC's own example, "&-", supplementary characters as surrogate pairs, a round trip of every
// code point — every form the decoder must refuse (unterminated, bad base64, printable
// US-ASCII encoded, null shifts, partial UTF-16 units, nonzero padding, unpaired surrogates,
// 8-bit and control octets, too long), the encoder's refusal of invalid UTF-8, and that every
// name the decoder accepts has exactly that one wire form.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mailbox_name.h"

namespace portico::imap {
namespace {

std::string utf8_of(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return out;
}

void expect_pair(const std::string& mutf7, const std::string& utf8) {
  DecodedName d = decode_mutf7(mutf7);
  EXPECT_EQ(d.error, NameError::none) << mutf7 << ": " << describe(d.error);
  EXPECT_EQ(d.utf8, utf8) << mutf7;
  EXPECT_EQ(encode_mutf7(utf8).value_or("<refused>"), mutf7) << utf8;
}

NameError error_of(const std::string& mutf7) {
  return decode_mutf7(mutf7).error;
}

TEST(MailboxName, TheRfcExample) {
  expect_pair("~peter/mail/&U,BTFw-/&ZeVnLIqe-", "~peter/mail/台北/日本語");
}

TEST(MailboxName, KnownPairs) {
  expect_pair("", "");
  expect_pair("INBOX", "INBOX");
  expect_pair("Archive/2024", "Archive/2024");
  expect_pair("&-", "&");
  expect_pair("AT&-T", "AT&T");
  expect_pair("&ZeVnLIqe-&-", "日本語&");
  expect_pair("Entw&APw-rfe", "Entwürfe");
  expect_pair("a&AOkA6Q-b", "aééb");
  expect_pair("&2D3eAA-", "😀");         // U+1F600: the surrogate pair D83D DE00
  expect_pair("&AAE-", "\x01");         // control characters are encoded
  expect_pair("&AH8-", "\x7f");         // DEL too
  expect_pair(" %*~\\\"", " %*~\\\"");  // printable US-ASCII stands for itself
}

TEST(MailboxName, EveryCodePointRoundTrips) {
  for (char32_t cp = 0; cp <= 0x10ffff; cp += cp < 0x10000 ? 1 : 37) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const auto hex = static_cast<unsigned>(cp);
    const std::string name = "a" + utf8_of(cp) + utf8_of(cp) + "/" + utf8_of(cp);
    auto encoded = encode_mutf7(name);
    ASSERT_TRUE(encoded.has_value()) << std::hex << hex;
    DecodedName back = decode_mutf7(*encoded);
    ASSERT_EQ(back.error, NameError::none) << std::hex << hex << " " << *encoded;
    ASSERT_EQ(back.utf8, name) << std::hex << hex;
  }
}

TEST(MailboxName, InvalidModifiedUtf7IsRefused) {
  EXPECT_EQ(error_of("&"), NameError::unterminated);
  EXPECT_EQ(error_of("abc&"), NameError::unterminated);
  EXPECT_EQ(error_of("&ZeVn"), NameError::unterminated);
  EXPECT_EQ(error_of("AT&T"), NameError::unterminated);
  EXPECT_EQ(error_of("&ZeVnLIqe/-"), NameError::bad_base64);  // "/" is "," here
  EXPECT_EQ(error_of("&ZeVnLIq=-"), NameError::bad_base64);   // no padding
  EXPECT_EQ(error_of("&Ze&VnLIqe-"), NameError::bad_base64);
  EXPECT_EQ(error_of("&Ze VnLIqe-"), NameError::bad_base64);
  EXPECT_EQ(error_of("&AGE-"), NameError::not_canonical);               // "a"
  EXPECT_EQ(error_of("&ACY-"), NameError::not_canonical);               // "&" is "&-"
  EXPECT_EQ(error_of("&AH4-"), NameError::not_canonical);               // "~"
  EXPECT_EQ(error_of("&AOkAYQ-"), NameError::not_canonical);            // "é" then "a" in one run
  EXPECT_EQ(error_of("&ZeVnLIqe-&U,BTFw-"), NameError::not_canonical);  // a null shift
  EXPECT_EQ(error_of("&ZeVnLAA-"), NameError::partial_unit);            // five octets: odd UTF-16
  EXPECT_EQ(error_of("&ZeVnLIq-"), NameError::partial_unit);            // a unit cut short
  EXPECT_EQ(error_of("&ZeVnLIqeA-"), NameError::partial_unit);          // one character too many
  EXPECT_EQ(error_of("&A-"), NameError::partial_unit);
  EXPECT_EQ(error_of("&U,BTFx-"), NameError::partial_unit);        // nonzero padding bits
  EXPECT_EQ(error_of("&2D0-"), NameError::unpaired_surrogate);     // high half alone
  EXPECT_EQ(error_of("&3gA-"), NameError::unpaired_surrogate);     // low half alone
  EXPECT_EQ(error_of("&2D3YPQ-"), NameError::unpaired_surrogate);  // high, high
  EXPECT_EQ(error_of("&2D0AYQ-"), NameError::unpaired_surrogate);  // high, then "a"
  EXPECT_EQ(error_of("caf\xc3\xa9"), NameError::eight_bit);
  EXPECT_EQ(error_of("\xff"), NameError::eight_bit);
  EXPECT_EQ(error_of("a\tb"), NameError::control);
  EXPECT_EQ(error_of(std::string("a\0b", 3)), NameError::control);
  EXPECT_EQ(error_of("a\x7f"), NameError::control);
  EXPECT_EQ(error_of(std::string(kMaxMailboxNameOctets + 1, 'a')), NameError::too_long);
  EXPECT_EQ(error_of(std::string(kMaxMailboxNameOctets, 'a')), NameError::none);
  EXPECT_TRUE(decode_mutf7("&").utf8.empty());
  EXPECT_EQ(describe(NameError::unterminated), "unterminated &-sequence");
}

TEST(MailboxName, InvalidUtf8IsNotEncoded) {
  for (const std::string bad : {"\xff", "a\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                                "\xf4\x90\x80\x80", "\x80", "\xe6\x97"}) {
    EXPECT_FALSE(encode_mutf7(bad).has_value()) << bad;
    EXPECT_FALSE(valid_utf8(bad)) << bad;
  }
  EXPECT_FALSE(encode_mutf7(std::string(kMaxMailboxNameOctets + 1, 'a')).has_value());
  EXPECT_TRUE(valid_utf8("~peter/mail/台北/日本語"));
  EXPECT_TRUE(valid_utf8(""));
}

TEST(MailboxName, EveryAcceptedNameHasOneWireForm) {
  // Random strings over the characters that matter; whatever decodes must encode back the same.
  const std::string alphabet = "&-AZaz09+,/ =";
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), length(1, 14);
  int accepted = 0;
  for (int n = 0; n < 200000; ++n) {
    std::string s(length(rng), ' ');
    for (char& c : s)
      c = alphabet[pick(rng)];
    DecodedName d = decode_mutf7(s);
    if (d.error != NameError::none) continue;
    ++accepted;
    ASSERT_EQ(encode_mutf7(d.utf8).value_or("<refused>"), s);
  }
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace portico::imap
