// Fuzz target: the store's MIME part offsets (core/store/part_offsets.h, found with GMime as a
// message is stored) and the IMAP plugin's sections cut at them (RFC 9051 section 6.4.5).
// Traps when an invariant breaks: there is at least one part; every offset lies within the
// message with header_begin <= header_end <= content_end; children point forward; the stored
// encoding reads back as the same offsets; every BODY[section] and BINARY of part numbers up to
// three levels resolves to a range within the message. Inputs above 1 MiB are cut (the store
// parses any size; the fuzzer needs no more to reach every branch).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/store/mime_cache.h"
#include "core/store/part_offsets.h"
#include "message.h"

namespace {

using namespace portico;

constexpr std::size_t kMaxInput = 1 << 20;

void check_range(const std::optional<imap::OctetRange>& r, std::uint64_t size) {
  if (r && (r->begin > r->end || r->end > size)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), std::min(size, kMaxInput));
  const auto parts = core::store::summarize_message(message).parts;
  if (parts.empty()) __builtin_trap();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    if (p.header_begin > p.header_end || p.header_end > p.content_end ||
        p.content_end > message.size())
      __builtin_trap();
    for (std::uint32_t c : p.children)
      if (c <= i || c >= parts.size()) __builtin_trap();
  }
  auto back = core::store::decode_parts(core::store::encode_parts(parts), message.size());
  if (!back || back->size() != parts.size()) __builtin_trap();
  for (std::size_t i = 0; i < parts.size(); ++i)
    if ((*back)[i].header_end != parts[i].header_end ||
        (*back)[i].content_end != parts[i].content_end || (*back)[i].children != parts[i].children)
      __builtin_trap();

  sdk::MessageParts mp;
  mp.size = message.size();
  mp.parts = parts;
  const imap::PartMap map(std::move(mp));
  using T = imap::Section::Text;
  for (T text : {T::none, T::header, T::header_fields, T::text, T::mime}) {
    imap::Section s;
    s.text = text;
    check_range(map.section(s), message.size());
    for (std::uint32_t a = 1; a <= 3; ++a)
      for (std::uint32_t b = 0; b <= 3; ++b)
        for (std::uint32_t c = 0; c <= 2; ++c) {
          s.part = {a};
          if (b) s.part.push_back(b);
          if (b && c) s.part.push_back(c);
          check_range(map.section(s), message.size());
          if (text == T::none) {
            auto bin = map.binary(s);
            if (bin.status == imap::PartMap::Binary::Status::ok)
              check_range(bin.content, message.size());
          }
        }
  }
  return 0;
}
