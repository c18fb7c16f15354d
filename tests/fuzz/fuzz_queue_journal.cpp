// Fuzz target: the reader of the spool's journal records (core/queue/journal.h), fed what may be
// found after the journal's header after a crash: whole records, torn ones, stale ones of
// another generation, garbage. It never reads outside the input, every record it returns has
// fields within their limits, and each one encoded again (for the same generation) reads back
// the same.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/queue/envelope.h"
#include "core/queue/journal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace q = portico::core::queue;
  constexpr std::uint64_t kGeneration = 0x0102030405060708ULL;  // the seeds' generation
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t total = 0;
  for (const auto& r : q::parse_records(input, kGeneration)) {
    if (r.id.empty() || r.id.size() > 64 || r.envelope.size() > q::kMaxEnvelopeSize) std::abort();
    total += 40 + r.id.size() + r.envelope.size() + r.body.size();
    if (total > size) std::abort();
    if (r.type != q::RecordType::enqueued && r.type != q::RecordType::removed) std::abort();
    std::string again = q::encode_record(r.type, r.id, r.envelope, r.body);
    q::stamp_record(again, kGeneration);
    auto back = q::parse_records(again, kGeneration);
    if (back.size() != 1 || back[0].type != r.type || back[0].id != r.id ||
        back[0].envelope != r.envelope || back[0].body != r.body) {
      std::abort();
    }
  }
  return 0;
}
