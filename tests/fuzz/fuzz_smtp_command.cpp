// Fuzz target: SMTP command lines (verb split, MAIL/RCPT paths, ESMTP parameters, xtext).
#include <cstdint>
#include <string_view>

#include "address.h"
#include "command.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // the session's command lines are at most 2048 octets
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  using namespace portico::smtp;
  const CommandLine c = split_command(chomp(line));
  for (std::string_view prefix : {"FROM:", "TO:"}) {
    if (auto rest = after_prefix(c.args, prefix)) {
      for (bool utf8 : {false, true}) {
        const PathResult p = parse_path(*rest, true, true, utf8);
        if (p.consumed > rest->size()) __builtin_trap();
        if (p.error == PathError::none) (void)parse_params(rest->substr(p.consumed));
      }
    }
  }
  if (auto params = parse_params(c.args)) {
    for (const auto& p : *params) {
      if (p.value) (void)xtext_decode(*p.value);
    }
  }
  return 0;
}
