// Fuzz target: IMAP commands (RFC 9051, RFC 3501 and extensions) through CommandAssembler and
// parse(). The input is cut into lines at LF; after a literal announcement the announced octets
// follow, fed in two input-chosen pieces. Traps when an invariant breaks: a gathered command ends
// with CRLF and stays within kMaxCommandBytes (APPEND: its literal within the APPEND limit); a
// parse gives either a command (with the tag it reports) or an error text, never both; lists,
// sets and search nesting stay within kMaxListItems and kMaxDepth; the raw input parses too.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "parser.h"

namespace {

using namespace portico::imap;

constexpr std::size_t kMaxAppend = 8192;

std::size_t depth(const SearchKey& k) {
  std::size_t d = 0;
  for (const auto& c : k.children)
    d = std::max(d, depth(c));
  return d + 1;
}

void check(const ParseResult& r) {
  if (r.command.has_value() == !r.error.empty()) __builtin_trap();
  if (r.tag.empty()) __builtin_trap();
  if (!r.command) return;
  const Command& c = *r.command;
  if (c.tag != r.tag) __builtin_trap();
  if (c.set.ranges.size() > kMaxListItems || c.items.size() > kMaxListItems ||
      c.flags.size() > kMaxListItems || c.patterns.size() > kMaxListItems ||
      c.id_params.size() > kMaxListItems || c.capabilities.size() > kMaxListItems)
    __builtin_trap();
  if (depth(c.search) > kMaxDepth + 2) __builtin_trap();
  for (const auto& item : c.items) {
    if (item.partial_origin && item.partial_count == 0) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256 * 1024) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(parse(input));

  CommandAssembler assembler(kMaxAppend);
  const std::size_t cut = size == 0 ? 0 : data[0];
  std::size_t pos = 0;
  while (pos < input.size()) {
    const std::size_t lf = input.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? input.size() : lf + 1;
    const CommandAssembler::Step step = assembler.add_line(input.substr(pos, end - pos));
    pos = end;
    using Kind = CommandAssembler::Step::Kind;
    switch (step.kind) {
      case Kind::literal: {
        if (!step.append && step.size > kMaxCommandBytes) __builtin_trap();
        if (step.append && step.size > kMaxAppend) __builtin_trap();
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(step.size, input.size() - pos));
        const std::size_t first = std::min(cut, n);
        assembler.add_literal(input.substr(pos, first));
        assembler.add_literal(input.substr(pos + first, n - first));
        pos += n;
        break;
      }
      case Kind::complete: {
        const std::string& command = assembler.command();
        if (command.size() < 2 || command.compare(command.size() - 2, 2, "\r\n") != 0)
          __builtin_trap();
        if (!step.append && command.size() > kMaxCommandBytes) __builtin_trap();
        check(parse(command));
        assembler.reset();
        break;
      }
      case Kind::too_long:
        pos += static_cast<std::size_t>(
            std::min<std::uint64_t>(assembler.discard_remaining(), input.size() - pos));
        assembler.reset();
        break;
      case Kind::bad_literal:
        if (assembler.discard_remaining() != 0) __builtin_trap();
        assembler.reset();
        break;
    }
  }
  return 0;
}
