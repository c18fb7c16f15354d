// Tests of the connection's deflate layer (core/net/compress.h, RFC 1951 raw deflate as RFC 4978
// uses it): every compress() is flushed so the peer inflates all of it; zlib's own raw deflate
// reads what the Deflater writes and the Inflater reads what zlib writes, fed whole or a byte at
// a time; a bomb inflates in bounded pieces; corrupt or ended streams are errors; the framer
// hands over the bytes behind a line for inflating.
#include "core/net/compress.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "core/net/framer.h"

namespace portico::core {
namespace {

// zlib's raw deflate of `plain` (as Python's zlib.compressobj(wbits=-15) with Z_SYNC_FLUSH, or
// Z_FINISH when `finish`).
std::string zlib_deflate(const std::string& plain, bool finish = false) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, plain.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, finish ? Z_FINISH : Z_SYNC_FLUSH);
  EXPECT_EQ(rc, finish ? Z_STREAM_END : Z_OK);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

// zlib's raw inflate of everything in `compressed` (no end of stream required).
std::string zlib_inflate(const std::string& compressed) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  std::string out;
  char buf[4096];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_BUF_ERROR) break;
  } while (z.avail_out == 0 || z.avail_in > 0);
  inflateEnd(&z);
  return out;
}

std::string inflate_all(Inflater& inflater, std::size_t piece = 1 << 20) {
  std::string out;
  while (inflater.has_more()) {
    const std::size_t before = out.size();
    EXPECT_EQ(inflater.inflate(out, piece), Inflater::Status::ok) << inflater.error();
    EXPECT_LE(out.size() - before, piece);
  }
  return out;
}

TEST(Deflater, EveryCallIsFlushedSoThePeerReadsAllOfIt) {
  Deflater d;
  std::string wire;
  const std::string replies[] = {"* OK first\r\n", "a1 OK done\r\n", std::string(100000, 'x')};
  std::string plain;
  for (const auto& r : replies) {
    const std::size_t before = wire.size();
    ASSERT_TRUE(d.compress(r, wire)) << d.error();
    plain += r;
    // Z_SYNC_FLUSH ends with an empty stored block: 00 00 ff ff.
    ASSERT_GE(wire.size() - before, 4u);
    EXPECT_EQ(wire.substr(wire.size() - 4), std::string("\x00\x00\xff\xff", 4));
    // Without any later call, zlib's inflate gets everything written so far.
    EXPECT_EQ(zlib_inflate(wire), plain);
  }
  EXPECT_LT(wire.size(), plain.size() / 10);  // the run of x compresses
}

TEST(Inflater, ReadsZlibRawDeflateWholeAndByteByByte) {
  const std::string plain = "a1 LOGIN user pass\r\na2 SELECT INBOX\r\n" + std::string(5000, 'y');
  const std::string wire = zlib_deflate(plain);
  Inflater whole;
  whole.add(wire);
  EXPECT_EQ(inflate_all(whole), plain);

  Inflater bytewise;
  std::string out;
  for (char c : wire) {
    bytewise.add(std::string_view(&c, 1));
    while (bytewise.has_more())
      ASSERT_EQ(bytewise.inflate(out, 7), Inflater::Status::ok) << bytewise.error();
  }
  EXPECT_EQ(out, plain);
  EXPECT_EQ(bytewise.pending(), 0u);
}

TEST(Inflater, RoundTripWithTheDeflater) {
  Deflater d;
  Inflater i;
  std::string all;
  for (int n = 0; n < 50; ++n) {
    std::string line = "line " + std::to_string(n) + std::string(n * 37, 'z') + "\r\n";
    std::string wire;
    ASSERT_TRUE(d.compress(line, wire));
    i.add(wire);
    all += inflate_all(i, 100);
  }
  std::string expected;
  for (int n = 0; n < 50; ++n)
    expected += "line " + std::to_string(n) + std::string(n * 37, 'z') + "\r\n";
  EXPECT_EQ(all, expected);
}

TEST(Inflater, ABombInflatesInBoundedPieces) {
  const std::size_t big = 64u << 20;  // 64 MiB of one byte: about 64 KiB compressed
  const std::string wire = zlib_deflate(std::string(big, 'a'));
  ASSERT_LT(wire.size(), 100u * 1024);
  Inflater i;
  i.add(wire);
  std::size_t total = 0, calls = 0;
  std::string out;
  while (i.has_more()) {
    out.clear();
    ASSERT_EQ(i.inflate(out, 16384), Inflater::Status::ok);
    ASSERT_LE(out.size(), 16384u);
    EXPECT_LE(out.capacity(), 64u * 1024);  // never more than one piece at a time
    total += out.size();
    ++calls;
  }
  EXPECT_EQ(total, big);
  EXPECT_GE(calls, big / 16384);
}

TEST(Inflater, OutputOwedWithoutInputLeftIsStillDelivered) {
  // Without the flush marker at its end, the input stops right after the last match: the
  // inflater consumes all of it while up to 258 octets of that match are still owed, and
  // has_more() says so until they are delivered.
  std::string wire = zlib_deflate(std::string(300000, 'q'));
  wire.resize(wire.size() - 4);  // 00 00 ff ff
  Inflater i;
  i.add(wire);
  std::string out;
  bool owed_without_input = false;
  while (i.has_more()) {
    ASSERT_EQ(i.inflate(out, 100), Inflater::Status::ok) << i.error();
    if (i.pending() == 0 && i.has_more()) owed_without_input = true;
  }
  EXPECT_TRUE(owed_without_input);
  EXPECT_EQ(out, std::string(300000, 'q'));
}

TEST(Inflater, CorruptInputIsAnError) {
  Inflater i;
  i.add(std::string("\xff\xff\xff\xff garbage that is not deflate", 32));
  std::string out;
  Inflater::Status s = Inflater::Status::ok;
  while (s == Inflater::Status::ok && i.has_more())
    s = i.inflate(out, 1024);
  EXPECT_EQ(s, Inflater::Status::error);
  EXPECT_FALSE(i.error().empty());
  // And stays one.
  i.add("more");
  EXPECT_EQ(i.inflate(out, 1024), Inflater::Status::error);
}

TEST(Inflater, AnEndedStreamIsAnError) {
  Inflater i;
  i.add(zlib_deflate("a1 NOOP\r\n", /*finish=*/true));
  std::string out;
  EXPECT_EQ(i.inflate(out, 1024), Inflater::Status::error);
  EXPECT_EQ(i.error(), "the peer ended the compressed stream");
}

TEST(InputFramer, TakeUnreadLeavesTheLineJustReturned) {
  InputFramer f(1024);
  f.append("a1 COMPRESS DEFLATE\r\n\x01\x02\x03");
  const auto item = f.next();
  ASSERT_EQ(item.kind, InputFramer::Kind::line);
  EXPECT_EQ(f.take_unread(), "\x01\x02\x03");
  EXPECT_EQ(item.data, "a1 COMPRESS DEFLATE\r\n");
  EXPECT_EQ(f.buffered(), 0u);
  EXPECT_FALSE(f.mid_command());
  EXPECT_EQ(f.next().kind, InputFramer::Kind::none);
  f.compact();
  f.append("a2 NOOP\r\n");
  EXPECT_EQ(f.next().data, "a2 NOOP\r\n");
}

}  // namespace
}  // namespace portico::core
