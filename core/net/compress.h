// Portico core — the deflate layer of a connection (SessionContext::start_compression, SDK 1.6):
// RFC 1951 raw deflate in both directions, as RFC 4978 (IMAP COMPRESS=DEFLATE) uses it, above
// TLS and below the line framing.
//
// Pure, no I/O, so that it is tested alone. Guarantees:
// - Deflater::compress() ends every call with Z_SYNC_FLUSH: everything handed to it can be
//   inflated by the peer from what it returned, so a client never waits on held bytes (RFC 4978
//   section 4).
// - Inflater never produces more than the caller asks for in one call, so a small input that
//   inflates to gigabytes (a decompression bomb) costs memory only for one piece at a time; the
//   compressed input it holds is what the caller gave it, and the caller stops reading the
//   socket while any is left.
// - A corrupt stream, or one the peer ended (RFC 4978 has no end), is an error, kept in error().
// Memory: zlib's state is about 256 KiB for the deflater (window 32 KiB, memLevel 8) and 40 KiB
// for the inflater, held only by connections that turned compression on.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace portico::core {

class Deflater {
 public:
  Deflater();
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends the compressed form of `plain` to `out`, flushed (Z_SYNC_FLUSH). False on a zlib
  // error (then see error()).
  bool compress(std::string_view plain, std::string& out);
  const std::string& error() const { return error_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string error_;
};

class Inflater {
 public:
  enum class Status { ok, error };

  Inflater();
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Queues compressed input (copied).
  void add(std::string_view compressed);
  // Compressed octets queued and not yet inflated.
  std::size_t pending() const { return input_.size() - pos_; }
  // True while inflate() may still produce octets: input is queued, or the last call stopped at
  // `max` (zlib may hold the rest of a match without any input left).
  bool has_more() const { return pending() > 0 || owed_; }
  // Inflates queued input, appending at most `max` octets to `out`. Returns ok having made
  // progress (octets appended, or input consumed) or with nothing left to inflate; error when
  // the stream is corrupt or ended (error() says which).
  Status inflate(std::string& out, std::size_t max);
  const std::string& error() const { return error_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string input_;
  std::size_t pos_ = 0;
  bool owed_ = false;
  std::string error_;
};

}  // namespace portico::core
