// Portico core — the deflate layer of a connection (see compress.h).
#include "core/net/compress.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

namespace portico::core {

namespace {

// Raw deflate (no zlib header or trailer), the largest window: RFC 4978 section 3.
constexpr int kWindowBits = -15;
// zlib's default memory level (8): about 128 KiB of hash and match state.
constexpr int kMemLevel = 8;
// Output space added per deflate() call.
constexpr std::size_t kDeflateStep = 16 * 1024;
// Queued input above this capacity is released once it is all inflated.
constexpr std::size_t kKeepCapacity = 512;
// zlib counts in uInt.
constexpr std::size_t kMaxStep = UINT_MAX;

std::string zlib_error(const z_stream& z, int rc, const char* what) {
  return std::string(what) + ": " + (z.msg != nullptr ? z.msg : zError(rc));
}

}  // namespace

struct Deflater::State {
  z_stream z{};
  bool ready = false;
};

struct Inflater::State {
  z_stream z{};
  bool ready = false;
};

Deflater::Deflater() : state_(std::make_unique<State>()) {
  const int rc = deflateInit2(&state_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kWindowBits, kMemLevel,
                              Z_DEFAULT_STRATEGY);
  if (rc == Z_OK) {
    state_->ready = true;
  } else {
    error_ = zlib_error(state_->z, rc, "deflateInit2");
  }
}

Deflater::~Deflater() {
  if (state_->ready) deflateEnd(&state_->z);
}

bool Deflater::compress(std::string_view plain, std::string& out) {
  if (!state_->ready) return false;
  z_stream& z = state_->z;
  do {
    const std::size_t step = std::min(plain.size(), kMaxStep);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
    z.avail_in = static_cast<uInt>(step);
    plain.remove_prefix(step);
    // The flush comes with the last piece; Z_SYNC_FLUSH needs the call repeated while it
    // fills all the space given.
    const int flush = plain.empty() ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    for (;;) {
      const std::size_t old = out.size();
      out.resize(old + kDeflateStep);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      z.avail_out = static_cast<uInt>(kDeflateStep);
      const int rc = deflate(&z, flush);
      out.resize(old + kDeflateStep - z.avail_out);
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error_ = zlib_error(z, rc, "deflate");
        state_->ready = false;
        deflateEnd(&z);
        return false;
      }
      if (z.avail_out != 0 && z.avail_in == 0) break;
    }
  } while (!plain.empty());
  return true;
}

Inflater::Inflater() : state_(std::make_unique<State>()) {
  const int rc = inflateInit2(&state_->z, kWindowBits);
  if (rc == Z_OK) {
    state_->ready = true;
  } else {
    error_ = zlib_error(state_->z, rc, "inflateInit2");
  }
}

Inflater::~Inflater() {
  if (state_->ready) inflateEnd(&state_->z);
}

void Inflater::add(std::string_view compressed) {
  if (pos_ > 0 && pos_ == input_.size()) {
    input_.clear();
    pos_ = 0;
  }
  input_.append(compressed);
}

Inflater::Status Inflater::inflate(std::string& out, std::size_t max) {
  if (!error_.empty() || !state_->ready) return Status::error;
  z_stream& z = state_->z;
  std::size_t produced = 0;
  while (has_more() && produced < max) {
    const std::size_t room = std::min(max - produced, kMaxStep);
    const std::size_t in = std::min(pending(), kMaxStep);
    const std::size_t old = out.size();
    out.resize(old + room);
    z.next_in = reinterpret_cast<Bytef*>(input_.data() + pos_);
    z.avail_in = static_cast<uInt>(in);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = static_cast<uInt>(room);
    const int rc = ::inflate(&z, Z_SYNC_FLUSH);
    const std::size_t used = in - z.avail_in;
    const std::size_t made = room - z.avail_out;
    out.resize(old + made);
    pos_ += used;
    produced += made;
    owed_ = z.avail_out == 0;
    if (rc == Z_STREAM_END) {
      error_ = "the peer ended the compressed stream";
      return Status::error;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error_ = zlib_error(z, rc, "inflate");
      return Status::error;
    }
    if (used == 0 && made == 0) {
      // Z_BUF_ERROR: nothing more without more input.
      owed_ = false;
      if (pending() > 0) {
        error_ = "inflate made no progress";
        return Status::error;
      }
      break;
    }
  }
  if (pos_ == input_.size()) {
    input_.clear();
    pos_ = 0;
    if (input_.capacity() > kKeepCapacity) std::string().swap(input_);
  }
  return Status::ok;
}

}  // namespace portico::core
