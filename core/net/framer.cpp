// Portico core — input framing (see framer.h).
#include "core/net/framer.h"

#include <algorithm>

namespace portico::core {

namespace {

// An empty buffer above this capacity is released, so idle connections stay small.
constexpr std::size_t kKeepCapacity = 512;

}  // namespace

InputFramer::Item InputFramer::next() {
  while (pos_ < buffer_.size()) {
    const std::size_t avail = buffer_.size() - pos_;
    if (bytes_mode_) {
      const std::size_t n = std::min(avail, bytes_left_);
      Item item{Kind::bytes, std::string_view(buffer_.data() + pos_, n), false};
      pos_ += n;
      bytes_left_ -= n;
      if (bytes_left_ == 0) {
        bytes_mode_ = false;
        item.last = true;
      }
      return item;
    }
    if (raw_) {
      Item item{Kind::bytes, std::string_view(buffer_.data() + pos_, avail), false};
      pos_ = buffer_.size();
      discarding_ = false;
      return item;
    }
    const std::size_t nl = buffer_.find('\n', pos_);
    if (nl == std::string::npos) {
      if (discarding_) {
        pos_ = buffer_.size();
        return {};
      }
      if (avail > max_line_) {
        discarding_ = true;
        pos_ = buffer_.size();
        return {Kind::too_long, {}, false};
      }
      return {};
    }
    const std::size_t len = nl + 1 - pos_;
    const std::string_view line(buffer_.data() + pos_, len);
    pos_ = nl + 1;
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    if (len > max_line_) return {Kind::too_long, {}, false};
    return {Kind::line, line, false};
  }
  return {};
}

void InputFramer::compact() {
  if (pos_ >= buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
    if (buffer_.capacity() > kKeepCapacity) std::string().swap(buffer_);
  } else if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
}

std::string InputFramer::take_unread() {
  std::string rest = buffer_.substr(pos_);
  buffer_.resize(pos_);
  return rest;
}

void InputFramer::clear() {
  std::string().swap(buffer_);
  pos_ = 0;
  bytes_left_ = 0;
  bytes_mode_ = false;
  discarding_ = false;
}

}  // namespace portico::core
