// ldap — BER framing and encoding with liblber (see ber.h).
#include "ber.h"

#include <cerrno>
#include <cstring>
#include <new>

namespace portico::ldap {

namespace {

Sockbuf_IO memory_io = {};

}  // namespace

int Framer::setup(Sockbuf_IO_Desc* sbiod, void* arg) {
  sbiod->sbiod_pvt = arg;
  return 0;
}
int Framer::remove(Sockbuf_IO_Desc*) {
  return 0;
}
int Framer::ctrl(Sockbuf_IO_Desc*, int, void*) {
  return 0;
}

ber_slen_t Framer::read(Sockbuf_IO_Desc* sbiod, void* buf, ber_len_t len) {
  auto* self = static_cast<Framer*>(sbiod->sbiod_pvt);
  std::size_t available = self->input_.size() - self->offset_;
  if (available == 0) {
    errno = EWOULDBLOCK;
    return -1;
  }
  std::size_t n = available < len ? available : len;
  std::memcpy(buf, self->input_.data() + self->offset_, n);
  self->offset_ += n;
  return static_cast<ber_slen_t>(n);
}

Framer::Framer(std::size_t max_pdu) : max_pdu_(max_pdu) {
  if (memory_io.sbi_read == nullptr) {
    memory_io.sbi_setup = &Framer::setup;
    memory_io.sbi_remove = &Framer::remove;
    memory_io.sbi_ctrl = &Framer::ctrl;
    memory_io.sbi_read = &Framer::read;
  }
  sb_ = ber_sockbuf_alloc();
  if (sb_ == nullptr) throw std::bad_alloc();
  ber_sockbuf_add_io(sb_, &memory_io, LBER_SBIOD_LEVEL_PROVIDER, this);
  ber_len_t max = static_cast<ber_len_t>(max_pdu_);
  ber_sockbuf_ctrl(sb_, LBER_SB_OPT_SET_MAX_INCOMING, &max);
}

Framer::~Framer() {
  current_.reset();
  if (sb_ != nullptr) {
    ber_sockbuf_remove_io(sb_, &memory_io, LBER_SBIOD_LEVEL_PROVIDER);
    ber_sockbuf_free(sb_);
  }
}

void Framer::feed(std::string_view bytes) {
  if (offset_ > 0 && offset_ == input_.size()) {
    input_.clear();
    offset_ = 0;
  } else if (offset_ > 64 * 1024 && offset_ * 2 > input_.size()) {
    input_.erase(0, offset_);
    offset_ = 0;
  }
  input_.append(bytes);
}

bool Framer::partial() const {
  return started_ || offset_ < input_.size();
}

Framer::Status Framer::next(BerPtr& out) {
  if (!current_) {
    current_.reset(ber_alloc_t(0));
    if (!current_) throw std::bad_alloc();
    started_ = false;
  }
  if (offset_ == input_.size() && !started_) return Status::need_more;
  ber_len_t len = 0;
  errno = 0;
  ber_tag_t tag = ber_get_next(sb_, &len, current_.get());
  started_ = true;
  if (tag == LBER_DEFAULT) {
    if (errno == EWOULDBLOCK || errno == EAGAIN) return Status::need_more;
    return errno == ERANGE ? Status::too_large : Status::malformed;
  }
  started_ = false;
  if (tag != LBER_SEQUENCE) {
    current_.reset();
    return Status::malformed;
  }
  out = std::move(current_);
  return Status::pdu;
}

Encoder::Encoder() : ber_(ber_alloc_t(LBER_USE_DER)) {
  if (ber_ == nullptr) throw std::bad_alloc();
}

Encoder::~Encoder() {
  ber_free(ber_, 1);
}

bool Encoder::append_to(std::string& out) {
  berval bv{};
  if (ber_flatten2(ber_, &bv, 0) != 0) return false;
  out.append(bv.bv_val, bv.bv_len);
  return true;
}

}  // namespace portico::ldap
