// Fuzz target: LDAP requests (RFC 4511) from raw bytes: the framer (liblber's ber_get_next) fed
// the input whole and again byte by byte, the request decoder, the filter's string form, the
// evaluation of every decoded filter and search over a small DIT, and the decoders of the paged
// results and sort control values. Traps when an invariant breaks: both feeds cut the same
// PDUs; a PDU is never larger than the limit; a search never returns more entries than its
// size limit.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ber.h"
#include "book.h"
#include "encode.h"
#include "protocol.h"
#include "search.h"

namespace {

using namespace portico::ldap;

std::shared_ptr<const Book> small_book() {
  static std::shared_ptr<const Book> book = [] {
    portico::sdk::AddressBook ab;
    ab.version = 1;
    ab.domains = {"example.test", "other.test"};
    portico::sdk::AddressBookPerson alice;
    alice.address = "alice@example.test";
    alice.display_name = "Alice Smith";
    alice.given_name = "Alice";
    alice.surname = "Smith";
    alice.phones = {"+1 555-0100"};
    ab.people.push_back(alice);
    portico::sdk::AddressBookPerson bob;
    bob.address = "bob@other.test";
    ab.people.push_back(bob);
    portico::sdk::AddressBookGroup list;
    list.kind = portico::sdk::AddressBookGroup::Kind::list;
    list.address = "team@example.test";
    list.members = {"alice@example.test", "x@remote.example"};
    ab.groups.push_back(list);
    return Book::build(ab, {});
  }();
  return book;
}

std::vector<std::string> cut(std::string_view input, bool byte_by_byte, bool& failed) {
  Framer framer(4096);
  std::vector<std::string> out;
  auto drain = [&] {
    BerPtr pdu;
    Framer::Status st;
    while ((st = framer.next(pdu)) == Framer::Status::pdu) {
      Request r;
      if (decode(pdu.get(), r) == DecodeStatus::ok) {
        out.push_back(std::to_string(r.id) + ":" + std::to_string(r.op));
        if (r.op == 0x63) {
          (void)to_string(r.search.filter);
          SearchJob job;
          job.id = r.id;
          job.all_domains = (r.id & 1) != 0;
          job.domain = "example.test";
          job.size_limit = 2;
          job.request = r.search;
          auto result = run_search(small_book(), job, nullptr, "c");
          if (result.entries > 2) __builtin_trap();
        }
        for (const auto& c : r.controls)
          if (c.value) {
            (void)decode_paged_request(*c.value);
            (void)decode_sort_request(*c.value);
          }
      } else {
        out.push_back("malformed");
      }
    }
    if (st != Framer::Status::need_more) {
      failed = true;
      return false;
    }
    return true;
  };
  if (byte_by_byte) {
    for (char c : input) {
      framer.feed(std::string_view(&c, 1));
      if (!drain()) break;
    }
  } else {
    framer.feed(input);
    drain();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16 * 1024) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  bool failed_whole = false, failed_bytes = false;
  auto whole = cut(input, false, failed_whole);
  auto bytes = cut(input, true, failed_bytes);
  if (whole != bytes || failed_whole != failed_bytes) __builtin_trap();
  (void)decode_paged_request(input);
  (void)decode_sort_request(input);
  return 0;
}
