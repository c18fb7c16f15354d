// Fuzz target: the queue's envelope parser (core/queue/envelope.h). Any input either parses or
// is refused with a message; an envelope that parses must format and parse back to the same
// envelope.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/queue/envelope.h"

namespace {

bool same(const portico::sdk::Envelope& a, const portico::sdk::Envelope& b) {
  if (a.sender != b.sender || a.ret != b.ret || a.envid != b.envid || a.smtputf8 != b.smtputf8 ||
      a.eight_bit_mime != b.eight_bit_mime || a.received != b.received ||
      a.auth_user != b.auth_user || a.client_address != b.client_address || a.helo != b.helo ||
      a.attempts != b.attempts || a.next_attempt != b.next_attempt ||
      a.last_error != b.last_error || a.held != b.held ||
      a.recipients.size() != b.recipients.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    const auto& x = a.recipients[i];
    const auto& y = b.recipients[i];
    if (x.address != y.address || x.notify != y.notify || x.orcpt != y.orcpt ||
        x.state != y.state || x.reply != y.reply) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace q = portico::core::queue;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = q::parse_envelope(text);
  if (!parsed.envelope) {
    if (parsed.message.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  auto again = q::parse_envelope(q::format_envelope(*parsed.envelope));
  if (!again.envelope || !same(*parsed.envelope, *again.envelope)) std::abort();
  return 0;
}
