// Portico core — input framing for sessions: lines up to a maximum length, counted bytes, or raw
// bytes as they arrive.
//
// The pure half of the session runner, with no I/O, so that it is tested byte by byte and
// fuzzed. Bytes are appended as they arrive; next() yields, in order: complete lines (LF-ended,
// terminator kept so a protocol can refuse bare LF), pieces of a counted byte run
// (read_bytes(n)), and "too long" once for a line over the maximum, whose bytes are then dropped
// up to and including its LF. A line over the limit is reported as soon as the limit is passed,
// without waiting for its end, so memory stays bounded by the maximum line length plus one read.
// In raw mode (set_raw(true)) every buffered byte is handed over as one bytes piece (last is
// false), counted runs first: the protocol frames its own messages (XML streams, LDAP's BER).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portico::core {

class InputFramer {
 public:
  enum class Kind { none, line, bytes, too_long };
  struct Item {
    Kind kind = Kind::none;
    std::string_view data;  // valid until the next append(), compact() or clear()
    bool last = false;      // bytes: the final piece of the run
  };

  explicit InputFramer(std::size_t max_line) : max_line_(max_line ? max_line : 1) {}

  void append(std::string_view bytes) { buffer_.append(bytes); }
  Item next();
  // Drops consumed bytes; releases a large buffer once it is empty.
  void compact();
  // Forgets everything buffered and any partial state (before a TLS handshake).
  void clear();
  // Removes and returns the bytes not yet handed over (the line or piece just returned by
  // next() stays valid): they are to be read another way (compressed, SDK 1.6).
  std::string take_unread();

  void set_max_line(std::size_t bytes) { max_line_ = bytes ? bytes : 1; }
  std::size_t max_line() const { return max_line_; }
  // The next n bytes are delivered as Kind::bytes pieces, then lines resume.
  void read_bytes(std::size_t n) {
    bytes_left_ = n;
    bytes_mode_ = n > 0;
  }

  // Raw mode: bytes as they arrive (see above); line mode again when off.
  void set_raw(bool raw) { raw_ = raw; }
  bool raw() const { return raw_; }

  // True while a command's data is incomplete: a partial line, bytes owed, a long line dropped.
  // In raw mode only the session knows (SessionContext::set_in_command), so never.
  bool mid_command() const {
    return bytes_mode_ || (!raw_ && (discarding_ || pos_ < buffer_.size()));
  }
  std::size_t buffered() const { return buffer_.size() - pos_; }
  std::size_t capacity() const { return buffer_.capacity(); }

 private:
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t max_line_;
  std::size_t bytes_left_ = 0;
  bool bytes_mode_ = false;
  bool discarding_ = false;
  bool raw_ = false;
};

}  // namespace portico::core
