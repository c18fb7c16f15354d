// Fuzz target: the IMAP retrieval client (plugins/imap/retrieval_session.cpp and the response
// reading of retrieval_response.cpp) fed arbitrary server responses, whole and split at an
// input-chosen point, on the real store and directory in a temporary data directory. The first
// byte picks the source's options (leave on server, STARTTLS) and the split. Traps when a run
// ends without reporting its outcome exactly once, when a run that reports success never sent
// LOGOUT, or when more messages are delivered than the input holds BODY[] items.
#include <cstdint>
#include <string>
#include <string_view>

#include "retrieval_fixture.h"
#include "retrieval_session.h"

namespace {

using namespace portico;

testing::RetrievalWorld& world() {
  static testing::RetrievalWorld w(sdk::RetrievalSource::Protocol::imap);
  return w;
}

std::int64_t next_source = 1;

std::uint64_t count_bodies(std::string_view s) {
  std::uint64_t n = 0;
  std::string upper(s);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  for (const char* item : {"BODY[]", "BINARY[]"}) {
    for (auto at = upper.find(item); at != std::string::npos; at = upper.find(item, at + 1))
      ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024 || size < 1) return 0;
  auto& w = world();
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  w.source.id = next_source++;  // a fresh seen list per input
  w.source.secret = (data[0] & 8) != 0 ? "p\xc3\xa4ss" : "s";
  w.source.leave_on_server = (data[0] & 2) != 0;
  w.source.tls =
      (data[0] & 4) != 0 ? sdk::RetrievalSource::Tls::starttls : sdk::RetrievalSource::Tls::none;
  testing::RetrievalRun<imap::RetrievalSession> r(w);
  const std::size_t cut = data[0] % (input.size() + 1);
  r.driver->feed(input.substr(0, cut));
  r.driver->feed(input.substr(cut));
  const std::string sent = r.driver->take();
  if (r.outcome && r.outcome->ok && sent.find(" LOGOUT\r\n") == std::string::npos) {
    __builtin_trap();
  }
  r.driver.reset();  // the connection is gone: a run not yet ended reports now
  if (r.reports != 1) __builtin_trap();
  if (r.outcome->fetched > count_bodies(input)) __builtin_trap();
  return 0;
}
