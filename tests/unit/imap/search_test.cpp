// imap — SEARCH keys (RFC 9051 section 6.4.4, MODSEQ of RFC 7162) on MessageInfo and on real
// messages: flags and keywords, NEW/OLD, internal and sent dates, sizes, UID and sequence sets,
// header keys on RFC 2047 and folded values, BODY/TEXT through transfer encodings and charsets,
// Unicode case-insensitivity, matches across read chunks, and which keys need the octets.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "message.h"

namespace portico::imap {
namespace {

using K = SearchKey::Kind;

std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::int64_t day(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / std::chrono::day{d}}.time_since_epoch().count();
}

SearchKey key(K kind) {
  SearchKey k;
  k.kind = kind;
  return k;
}
SearchKey text(K kind, std::string t) {
  SearchKey k = key(kind);
  k.text = std::move(t);
  return k;
}
SearchKey header(std::string field, std::string t) {
  SearchKey k = text(K::header, std::move(t));
  k.field = std::move(field);
  return k;
}
SearchKey date(K kind, std::int64_t d) {
  SearchKey k = key(kind);
  k.date = d;
  return k;
}
SearchKey number(K kind, std::uint64_t n) {
  SearchKey k = key(kind);
  k.number = n;
  return k;
}
SearchKey set(K kind, std::vector<SeqRange> ranges) {
  SearchKey k = key(kind);
  k.set.ranges = std::move(ranges);
  return k;
}
SearchKey node(K kind, std::vector<SearchKey> children) {
  SearchKey k = key(kind);
  k.children = std::move(children);
  return k;
}

// A message as SEARCH sees it, with its octets when given.
struct Message {
  sdk::MessageInfo info;
  std::string octets;
  std::uint32_t seq = 1;
  bool recent = false;
  bool with_octets = true;

  bool operator()(const SearchKey& k, SearchBounds bounds = {10, 100}) const {
    SearchSubject s;
    s.seq = seq;
    s.info = &info;
    s.recent = recent;
    if (with_octets) s.octets = octets;
    return matches(k, s, bounds);
  }
};

const std::string kMixed = crlf(
    "From: =?UTF-8?Q?Jos=C3=A9_Mart=C3=ADnez?= <jose@example.com>\n"
    "To: Dave <dave@example.net>, team@example.org\n"
    "Cc: Erin <erin@example.org>\n"
    "Subject: =?UTF-8?B?UmFwcG9ydCDDqXTDqQ==?=\n"
    " =?UTF-8?Q?_final?=\n"
    "Date: Tue, 01 Nov 2022 23:30:00 -0500\n"
    "X-Mailer: Portico\n"
    "X-Empty:\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "preamble words\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\n"
    "\n"
    "--alt\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Caf=C3=A9 cr=C3=A8me, see the attach=\n"
    "ment.\n"
    "--alt\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<p>HTML only phrase</p>\n"
    "--alt--\n"
    "--outer\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "c2VjcmV0IGJpbmFyeSB3b3Jk\n"  // "secret binary word"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: Inner\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Viele Gr=FC=DFe\n"
    "--outer--\n");

Message mixed() {
  Message m;
  m.info.uid = 42;
  m.info.size = kMixed.size();
  m.octets = kMixed;
  return m;
}

TEST(Search, SystemFlags) {
  Message m;
  m.info.flags.system = sdk::flag_seen | sdk::flag_flagged;
  EXPECT_TRUE(m(key(K::seen)));
  EXPECT_TRUE(m(key(K::flagged)));
  EXPECT_FALSE(m(key(K::answered)));
  EXPECT_FALSE(m(key(K::deleted)));
  EXPECT_FALSE(m(key(K::draft)));
  EXPECT_FALSE(m(key(K::unseen)));
  EXPECT_TRUE(m(key(K::unanswered)));
  EXPECT_TRUE(m(key(K::undeleted)));
  EXPECT_TRUE(m(key(K::undraft)));
  EXPECT_FALSE(m(key(K::unflagged)));
  m.info.flags.system = sdk::flag_answered | sdk::flag_deleted | sdk::flag_draft;
  EXPECT_TRUE(m(key(K::answered)));
  EXPECT_TRUE(m(key(K::deleted)));
  EXPECT_TRUE(m(key(K::draft)));
  EXPECT_TRUE(m(key(K::unseen)));
}

TEST(Search, KeywordsCaseInsensitive) {
  Message m;
  m.info.flags.keywords = {"$Forwarded", "$Junk"};
  EXPECT_TRUE(m(text(K::keyword, "$forwarded")));
  EXPECT_TRUE(m(text(K::keyword, "$JUNK")));
  EXPECT_FALSE(m(text(K::keyword, "$Forward")));
  EXPECT_FALSE(m(text(K::unkeyword, "$junk")));
  EXPECT_TRUE(m(text(K::unkeyword, "$NotJunk")));
}

TEST(Search, RecentNewOld) {
  Message m;
  m.recent = true;
  EXPECT_TRUE(m(key(K::recent)));
  EXPECT_TRUE(m(key(K::new_)));
  EXPECT_FALSE(m(key(K::old)));
  m.info.flags.system = sdk::flag_seen;
  EXPECT_FALSE(m(key(K::new_)));  // recent but seen
  m.recent = false;
  EXPECT_FALSE(m(key(K::recent)));
  EXPECT_FALSE(m(key(K::new_)));
  EXPECT_TRUE(m(key(K::old)));
}

TEST(Search, InternalDateUtcDays) {
  Message m;
  // 2022-11-01 23:59:59 UTC.
  m.info.internal_date = day(2022, 11, 1) * 86400 + 86399;
  EXPECT_TRUE(m(date(K::on, day(2022, 11, 1))));
  EXPECT_FALSE(m(date(K::on, day(2022, 11, 2))));
  EXPECT_TRUE(m(date(K::before, day(2022, 11, 2))));
  EXPECT_FALSE(m(date(K::before, day(2022, 11, 1))));
  EXPECT_TRUE(m(date(K::since, day(2022, 11, 1))));
  EXPECT_FALSE(m(date(K::since, day(2022, 11, 2))));
  m.info.internal_date += 1;  // midnight: the next day
  EXPECT_TRUE(m(date(K::on, day(2022, 11, 2))));
  // Before the epoch the day still rounds down.
  m.info.internal_date = -1;
  EXPECT_TRUE(m(date(K::on, day(1969, 12, 31))));
}

TEST(Search, SentDatesUseTheHeadersOwnDay) {
  Message m = mixed();
  // 23:30 -0500 on November 1 is November 2 in UTC; the header's own day counts.
  EXPECT_TRUE(m(date(K::senton, day(2022, 11, 1))));
  EXPECT_FALSE(m(date(K::senton, day(2022, 11, 2))));
  EXPECT_TRUE(m(date(K::sentbefore, day(2022, 11, 2))));
  EXPECT_FALSE(m(date(K::sentbefore, day(2022, 11, 1))));
  EXPECT_TRUE(m(date(K::sentsince, day(2022, 11, 1))));
  EXPECT_FALSE(m(date(K::sentsince, day(2022, 11, 2))));
}

TEST(Search, SentDatesWithoutUsableDateNeverMatch) {
  Message none;
  none.octets = crlf("Subject: no date\n\nbody\n");
  Message bad;
  bad.octets = crlf("Date: sometime last week\nSubject: bad date\n\nbody\n");
  for (const Message* m : {&none, &bad}) {
    EXPECT_FALSE((*m)(date(K::senton, day(2022, 11, 1))));
    EXPECT_FALSE((*m)(date(K::sentbefore, day(2100, 1, 1))));
    EXPECT_FALSE((*m)(date(K::sentsince, day(1970, 1, 1))));
    EXPECT_TRUE((*m)(node(K::not_, {date(K::sentsince, day(1970, 1, 1))})));
  }
}

TEST(Search, Sizes) {
  Message m;
  m.info.size = 1000;
  EXPECT_TRUE(m(number(K::larger, 999)));
  EXPECT_FALSE(m(number(K::larger, 1000)));
  EXPECT_TRUE(m(number(K::smaller, 1001)));
  EXPECT_FALSE(m(number(K::smaller, 1000)));
}

TEST(Search, UidSets) {
  Message m;
  m.info.uid = 42;
  SearchBounds b{10, 100};
  EXPECT_TRUE(m(set(K::uid, {{42, 42}}), b));
  EXPECT_FALSE(m(set(K::uid, {{41, 41}, {43, 50}}), b));
  EXPECT_TRUE(m(set(K::uid, {{1, 5}, {40, 45}}), b));
  EXPECT_TRUE(m(set(K::uid, {{45, 40}}), b));  // reversed
  EXPECT_TRUE(m(set(K::uid, {{30, kStar}}), b));
  EXPECT_TRUE(m(set(K::uid, {{kStar, 30}}), b));
  EXPECT_FALSE(m(set(K::uid, {{kStar, kStar}}), b));
  m.info.uid = 100;
  EXPECT_TRUE(m(set(K::uid, {{kStar, kStar}}), b));
  // "n:*" with n above the largest UID still covers the largest.
  EXPECT_TRUE(m(set(K::uid, {{500, kStar}}), b));
}

TEST(Search, SequenceSets) {
  Message m;
  m.seq = 7;
  SearchBounds b{10, 100};
  EXPECT_TRUE(m(set(K::sequence, {{7, 7}}), b));
  EXPECT_TRUE(m(set(K::sequence, {{1, 3}, {5, kStar}}), b));
  EXPECT_FALSE(m(set(K::sequence, {{kStar, kStar}}), b));
  EXPECT_TRUE(m(set(K::sequence, {{9, 2}}), b));
  m.seq = 10;
  EXPECT_TRUE(m(set(K::sequence, {{kStar, kStar}}), b));
  EXPECT_FALSE(m(set(K::sequence, {{1, 9}}), b));
}

TEST(Search, Modseq) {
  Message m;
  m.info.modseq = 50;
  EXPECT_TRUE(m(number(K::modseq, 50)));
  EXPECT_TRUE(m(number(K::modseq, 1)));
  EXPECT_FALSE(m(number(K::modseq, 51)));
}

TEST(Search, BooleanCombinations) {
  Message m;
  m.info.flags.system = sdk::flag_seen;
  m.info.size = 10;
  EXPECT_TRUE(m(key(K::all)));
  EXPECT_TRUE(m(node(K::and_, {})));
  EXPECT_TRUE(m(node(K::and_, {key(K::seen), number(K::smaller, 11)})));
  EXPECT_FALSE(m(node(K::and_, {key(K::seen), number(K::larger, 11)})));
  EXPECT_TRUE(m(node(K::or_, {key(K::flagged), key(K::seen)})));
  EXPECT_FALSE(m(node(K::or_, {key(K::flagged), key(K::deleted)})));
  EXPECT_TRUE(m(node(K::not_, {key(K::flagged)})));
  EXPECT_FALSE(m(node(K::not_, {key(K::seen)})));
  EXPECT_TRUE(m(node(K::not_, {node(K::not_, {key(K::seen)})})));
}

TEST(Search, HeaderKeyDecodedAndFolded) {
  Message m = mixed();
  // Subject: RFC 2047 (B and Q) across a folded line: "Rapport été final".
  EXPECT_TRUE(m(text(K::subject, "rapport \xC3\xA9t\xC3\xA9 final")));
  EXPECT_TRUE(m(header("SUBJECT", "\xC3\xA9t\xC3\xA9")));
  // Unicode case folding: "ÉTÉ".
  EXPECT_TRUE(m(text(K::subject, "\xC3\x89T\xC3\x89")));
  EXPECT_FALSE(m(text(K::subject, "UmFwcG9y")));  // the encoded form is not searched
  EXPECT_FALSE(m(text(K::subject, "Inner")));     // the nested message's header is not ours
  EXPECT_TRUE(m(header("x-mailer", "portico")));
  EXPECT_FALSE(m(header("X-Mailer", "dovecot")));
}

TEST(Search, HeaderKeyEmptyTextMeansPresent) {
  Message m = mixed();
  EXPECT_TRUE(m(header("X-Mailer", "")));
  EXPECT_TRUE(m(header("x-empty", "")));
  EXPECT_FALSE(m(header("X-Absent", "")));
  EXPECT_FALSE(m(header("X-Absent", "x")));
  EXPECT_FALSE(m(text(K::bcc, "")));  // no Bcc field
  EXPECT_TRUE(m(text(K::cc, "")));
}

TEST(Search, AddressKeys) {
  Message m = mixed();
  EXPECT_TRUE(m(text(K::from, "jos\xC3\xA9 mart\xC3\xADnez")));  // decoded display name
  EXPECT_TRUE(m(text(K::from, "JOSE@EXAMPLE.COM")));
  EXPECT_FALSE(m(text(K::from, "dave")));
  EXPECT_TRUE(m(text(K::to, "dave")));
  EXPECT_TRUE(m(text(K::to, "team@example.org")));
  EXPECT_TRUE(m(text(K::cc, "Erin")));
  EXPECT_FALSE(m(text(K::cc, "Dave")));
  EXPECT_FALSE(m(text(K::bcc, "erin")));
}

TEST(Search, BodyDecodesTextParts) {
  Message m = mixed();
  // Quoted-printable with a soft line break, UTF-8.
  EXPECT_TRUE(m(text(K::body, "caf\xC3\xA9 CR\xC3\x88ME, see the attachment")));
  EXPECT_FALSE(m(text(K::body, "Caf=C3=A9")));
  // The HTML alternative is text too.
  EXPECT_TRUE(m(text(K::body, "html only phrase")));
  // The nested message's text part, Latin-1 converted to UTF-8: "Viele Grüße".
  EXPECT_TRUE(m(text(K::body,
                     "viele gr\xC3\xBC\xC3\x9F"
                     "e")));
  EXPECT_TRUE(m(text(K::body, "GR\xC3\x9C\xC3\x9F")));  // "GRÜß"
  // Not in text parts: an attachment, the preamble, the header.
  EXPECT_FALSE(m(text(K::body, "secret binary")));
  EXPECT_FALSE(m(text(K::body, "preamble")));
  EXPECT_FALSE(m(text(K::body, "Portico")));
  EXPECT_TRUE(m(text(K::body, "")));
}

TEST(Search, TextCoversHeaderAndBody) {
  Message m = mixed();
  EXPECT_TRUE(m(text(K::text, "portico")));            // X-Mailer value
  EXPECT_TRUE(m(text(K::text, "x-mailer")));           // a field name
  EXPECT_TRUE(m(text(K::text, "\xC3\xA9t\xC3\xA9")));  // the decoded subject
  EXPECT_TRUE(m(text(K::text, "crème")));              // the body
  EXPECT_FALSE(m(text(K::text, "nowhere at all")));
}

TEST(Search, SinglePartBase64Body) {
  Message m;
  m.octets = crlf(
      "Subject: b64\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "SGVsbG8sIHfDtnJsZCE=\n");  // "Hello, wörld!"
  EXPECT_TRUE(m(text(K::body, "W\xC3\x96RLD")));
  EXPECT_FALSE(m(text(K::body, "SGVsbG8")));
  // A message that is not MIME at all is text/plain.
  Message plain;
  plain.octets = crlf("Subject: old\n\nJust some Text.\n");
  EXPECT_TRUE(plain(text(K::body, "some text")));
  EXPECT_FALSE(plain(text(K::body, "subject")));
}

TEST(Search, BodyMatchesAcrossReadChunks) {
  // A large base64 part: the phrase straddles the 64 KiB read boundary, and a two-byte UTF-8
  // letter sits right on it.
  std::string plain(65535, 'a');
  plain += "\xC3\x89 needle phrase";  // "É"
  plain += std::string(70000, 'b');
  std::string encoded;
  {
    static const char* alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::size_t line = 0;
    for (std::size_t i = 0; i < plain.size(); i += 3) {
      std::uint32_t v = static_cast<unsigned char>(plain[i]) << 16;
      std::size_t n = std::min<std::size_t>(3, plain.size() - i);
      if (n > 1) v |= static_cast<unsigned char>(plain[i + 1]) << 8;
      if (n > 2) v |= static_cast<unsigned char>(plain[i + 2]);
      encoded += alphabet[(v >> 18) & 63];
      encoded += alphabet[(v >> 12) & 63];
      encoded += n > 1 ? alphabet[(v >> 6) & 63] : '=';
      encoded += n > 2 ? alphabet[v & 63] : '=';
      if (++line == 19) {
        encoded += "\r\n";
        line = 0;
      }
    }
    encoded += "\r\n";
  }
  Message m;
  m.octets = crlf(
                 "Subject: big\n"
                 "Content-Type: text/plain; charset=utf-8\n"
                 "Content-Transfer-Encoding: base64\n"
                 "\n") +
             encoded;
  EXPECT_TRUE(m(text(K::body, "a\xC3\xA9 NEEDLE PHRASEbbb")));
  EXPECT_FALSE(m(text(K::body, "needle phrase c")));
  EXPECT_TRUE(m(text(K::body, std::string(10, 'b'))));

  // The same text stored as 8bit: read in chunks of a power of two, so the letter "É" at
  // offset 65535 is cut in two by the read.
  Message raw;
  raw.octets = crlf(
                   "Subject: big\n"
                   "Content-Type: text/plain; charset=utf-8\n"
                   "Content-Transfer-Encoding: 8bit\n"
                   "\n") +
               plain;
  EXPECT_TRUE(raw(text(K::body, "aaa\xC3\xA9 NEEDLE")));
  EXPECT_TRUE(raw(text(K::body, "\xC3\xA9")));
  EXPECT_FALSE(raw(text(K::body, "ab")));
}

TEST(Search, MatchesDoNotSpanParts) {
  Message m;
  m.octets = crlf(
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "first half\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "second half\n"
      "--b--\n");
  EXPECT_TRUE(m(text(K::body, "first half")));
  EXPECT_TRUE(m(text(K::body, "second half")));
  EXPECT_FALSE(m(text(K::body, "half\r\nsecond")));
  EXPECT_FALSE(m(text(K::body, "halfsecond")));
}

TEST(Search, KeysNeedingOctetsDoNotMatchWithout) {
  Message m = mixed();
  m.with_octets = false;
  EXPECT_FALSE(m(text(K::body, "")));
  EXPECT_FALSE(m(text(K::subject, "")));
  EXPECT_FALSE(m(date(K::sentsince, day(1970, 1, 1))));
  EXPECT_TRUE(m(set(K::uid, {{42, 42}})));
}

TEST(Search, NeedsOctets) {
  for (K k : {K::header, K::bcc, K::cc, K::from, K::subject, K::to, K::body, K::text, K::sentbefore,
              K::senton, K::sentsince})
    EXPECT_TRUE(needs_octets(key(k))) << static_cast<int>(k);
  for (K k : {K::all, K::seen, K::new_, K::keyword, K::before, K::on, K::since, K::larger,
              K::smaller, K::uid, K::sequence, K::modseq})
    EXPECT_FALSE(needs_octets(key(k))) << static_cast<int>(k);
  EXPECT_TRUE(needs_octets(node(K::not_, {text(K::body, "x")})));
  EXPECT_TRUE(
      needs_octets(node(K::and_, {key(K::seen), node(K::or_, {key(K::all), key(K::text)})})));
  EXPECT_FALSE(needs_octets(node(K::or_, {key(K::seen), key(K::deleted)})));
}

TEST(Search, GarbageNeverThrows) {
  std::string junk;
  for (int i = 0; i < 5000; ++i)
    junk += static_cast<char>((i * 97 + 13) % 256);
  Message m;
  m.octets = junk;
  (void)m(text(K::text, "x"));
  (void)m(date(K::senton, 0));
  m.info = {};
  EXPECT_FALSE(m(text(K::body, "\xFF\xFE needle not there")));
  SearchSubject s;  // no info at all
  EXPECT_TRUE(matches(key(K::unseen), s, {}));
  EXPECT_FALSE(matches(text(K::from, "a"), s, {}));
}

}  // namespace
}  // namespace portico::imap
