// Fuzz target: the POP retrieval client (plugins/pop/retrieval_session.cpp) fed arbitrary
// server replies, whole and split at an input-chosen point, on the real store and directory in
// a temporary data directory. Traps when a run ends without reporting its outcome exactly once,
// when a run that reports success wrote nothing past QUIT, or when a message is delivered that
// the input never completed (more deliveries than RETR terminators the input holds).
#include <cstdint>
#include <string>
#include <string_view>

#include "retrieval_fixture.h"
#include "retrieval_session.h"

namespace {

using namespace portico;

testing::RetrievalWorld& world() {
  static testing::RetrievalWorld w(sdk::RetrievalSource::Protocol::pop);
  return w;
}

std::int64_t next_source = 1;

int count_terminators(std::string_view s) {
  int n = 0;
  for (std::size_t at = s.find(".\n"); at != std::string_view::npos; at = s.find(".\n", at + 1)) {
    if (at == 0 || s[at - 1] == '\n') ++n;
  }
  for (std::size_t at = s.find(".\r\n"); at != std::string_view::npos;
       at = s.find(".\r\n", at + 1)) {
    if (at == 0 || s[at - 1] == '\n') ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024 || size < 1) return 0;
  auto& w = world();
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  w.source.id = next_source++;  // a fresh seen list per input
  w.source.apop = (data[0] & 1) != 0;
  w.source.leave_on_server = (data[0] & 2) != 0;
  w.source.tls =
      (data[0] & 4) != 0 ? sdk::RetrievalSource::Tls::starttls : sdk::RetrievalSource::Tls::none;
  testing::RetrievalRun<pop::RetrievalSession> r(w);
  const std::size_t cut = data[0] % (input.size() + 1);
  r.driver->feed(input.substr(0, cut));
  r.driver->feed(input.substr(cut));
  const std::string sent = r.driver->take();
  if (r.outcome && r.outcome->ok && sent.find("QUIT\r\n") == std::string::npos) __builtin_trap();
  r.driver.reset();  // the connection is gone: a run not yet ended reports now
  if (r.reports != 1) __builtin_trap();
  if (r.outcome->fetched > static_cast<std::uint64_t>(count_terminators(input))) __builtin_trap();
  return 0;
}
