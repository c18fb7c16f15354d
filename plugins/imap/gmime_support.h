// imap — the GMime plumbing message.cpp (sections) and search.cpp (SEARCH) share: GMime's
// one-time initialisation, owning pointers for GObjects, a memory stream that reads a message
// in place (no copy), and ASCII case-insensitive comparison of header names.
#pragma once

#include <gmime/gmime.h>

#include <cctype>
#include <climits>
#include <memory>
#include <mutex>
#include <string_view>

namespace portico::imap::gmime {

// Deepest MIME nesting given part numbers or searched: as core/store/mime_cache.cpp
// (BODYSTRUCTURE), so that BODY[n] and BODYSTRUCTURE agree.
inline constexpr int kMaxDepth = 32;

inline void init() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

// Releases a GObject reference when it goes out of scope.
struct Unref {
  void operator()(gpointer p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, Unref>;

// A GMime memory stream reading `bytes` in place: the byte array borrows the caller's memory and
// is released without freeing it. Every stream and object made from it must be gone first.
class BorrowedStream {
 public:
  explicit BorrowedStream(std::string_view bytes) {
    if (bytes.empty() || bytes.size() > UINT_MAX) {
      stream_ = g_mime_stream_mem_new();
      return;
    }
    auto* data = reinterpret_cast<guint8*>(const_cast<char*>(bytes.data()));
    array_ = g_byte_array_new_take(data, bytes.size());
    stream_ = g_mime_stream_mem_new_with_byte_array(array_);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream_), FALSE);
  }
  ~BorrowedStream() {
    g_object_unref(stream_);
    if (array_ != nullptr) g_byte_array_free(array_, FALSE);  // frees the array, not the data
  }
  BorrowedStream(const BorrowedStream&) = delete;
  BorrowedStream& operator=(const BorrowedStream&) = delete;
  GMimeStream* get() const { return stream_; }

 private:
  GByteArray* array_ = nullptr;
  GMimeStream* stream_ = nullptr;
};

inline char ascii_lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace portico::imap::gmime
