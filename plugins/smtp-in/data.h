// smtp-in — the message content of DATA (RFC 5321 section 4.1.1.4) and BDAT (RFC 3030).
//
// DataReader takes DATA's lines as the core frames them (terminator included): it removes dot
// stuffing (section 4.5.2), ends at a line that is exactly ".\r\n", and never lets a bare LF or
// bare CR pass: such a message is refused whole, and ".\n" never ends the data, so no second
// message can be smuggled inside the first. MessageMeter sees the content of DATA and BDAT
// alike: it refuses a message holding a NUL octet (RFC 5322 section 3.5 and RFC 2045 section 2.8
// allow none; programs that handle the message later may cut it short there), and it counts
// what is kept: its size (for the max message size, enforced while reading, never after
// buffering the whole message) and the Received: header fields of the header section (for the
// max hop count, section 6.3). Content past a limit or a refusal is no longer passed on, but the
// data is read to its end so that the session stays in step with the client.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace portico::smtp {

// What is wrong with a message, if anything; the first problem found wins.
enum class Verdict { ok, too_big, too_many_hops, bare_lf, bare_cr, nul, line_too_long };

class MessageMeter {
 public:
  // max_size 0: unlimited. max_hops < 0: unlimited.
  MessageMeter(std::uint64_t max_size, std::int64_t max_hops)
      : max_size_(max_size), max_hops_(max_hops) {}
  // Counts message bytes (already unstuffed). Returns false once a limit is passed or a NUL
  // octet is seen.
  bool feed(std::string_view bytes);
  std::uint64_t size() const { return size_; }
  std::int64_t hops() const { return hops_; }
  Verdict verdict() const { return verdict_; }
  void refuse(Verdict v) {
    if (verdict_ == Verdict::ok) verdict_ = v;
  }

 private:
  void header_line_done();

  std::uint64_t max_size_;
  std::int64_t max_hops_;
  std::uint64_t size_ = 0;
  std::int64_t hops_ = 0;
  Verdict verdict_ = Verdict::ok;
  bool in_headers_ = true;
  std::string header_start_;  // the first bytes of the current header line
  bool line_start_ = true;
};

class DataReader {
 public:
  using Sink = std::function<void(std::string_view)>;
  DataReader(std::uint64_t max_size, std::int64_t max_hops, Sink sink)
      : meter_(max_size, max_hops), sink_(std::move(sink)) {}

  // One line of DATA, terminator included. Returns true at the end-of-data line.
  bool line(std::string_view line);
  // The core dropped an over-long line.
  void line_too_long() { meter_.refuse(Verdict::line_too_long); }

  const MessageMeter& meter() const { return meter_; }

 private:
  MessageMeter meter_;
  Sink sink_;
};

}  // namespace portico::smtp
