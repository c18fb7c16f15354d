// ldap — BER with OpenLDAP's liblber: whole LDAPMessage PDUs cut from a byte stream (RFC 4511
// section 5.1, ber_get_next over a Sockbuf that reads from memory), a small reading cursor over
// a decoded element, and the encoder for replies.
//
// Guarantees: no PDU larger than the framer's limit is ever buffered (liblber refuses the length
// before reading the contents); a PDU is handed over only when whole; nothing here throws past
// the framer except std::bad_alloc.
#pragma once

#include <lber.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace portico::ldap {

struct BerFree {
  void operator()(BerElement* ber) const { ber_free(ber, 1); }
};
using BerPtr = std::unique_ptr<BerElement, BerFree>;

// Cuts whole LDAPMessage PDUs out of the bytes a connection sends.
class Framer {
 public:
  explicit Framer(std::size_t max_pdu);
  ~Framer();
  Framer(const Framer&) = delete;
  Framer& operator=(const Framer&) = delete;

  enum class Status {
    pdu,        // `out` holds one PDU, positioned inside its outer SEQUENCE
    need_more,  // every byte given so far is consumed or waiting; feed more
    malformed,  // not BER, or not a SEQUENCE
    too_large,  // its length is over the limit
  };
  // Adds bytes the client sent.
  void feed(std::string_view bytes);
  Status next(BerPtr& out);
  // True while part of a PDU has been received.
  bool partial() const;
  std::size_t buffered() const { return input_.size() - offset_; }

 private:
  static ber_slen_t read(Sockbuf_IO_Desc* sbiod, void* buf, ber_len_t len);
  static int setup(Sockbuf_IO_Desc* sbiod, void* arg);
  static int remove(Sockbuf_IO_Desc* sbiod);
  static int ctrl(Sockbuf_IO_Desc* sbiod, int opt, void* arg);

  Sockbuf* sb_ = nullptr;
  BerPtr current_;  // the PDU being read
  bool started_ = false;
  std::string input_;
  std::size_t offset_ = 0;
  std::size_t max_pdu_;
};

// A string view of a BER octet string decoded in place.
inline std::string_view view(const berval& bv) {
  return {bv.bv_val ? bv.bv_val : "", static_cast<std::size_t>(bv.bv_len)};
}

// Encodes one reply PDU and appends it to `out` (the LDAPMessage envelope: messageID, the op,
// optional controls). `body` writes the protocolOp's contents with ber_printf.
class Encoder {
 public:
  Encoder();
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  BerElement* ber() { return ber_; }
  // Appends the encoded bytes to out; false if liblber failed.
  bool append_to(std::string& out);

 private:
  BerElement* ber_;
};

}  // namespace portico::ldap
