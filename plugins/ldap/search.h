// ldap — running one search (RFC 4511 section 4.5) over a Book: base and scope, the filter with
// the indexes where they apply, who may see which domain, size and time limits, attribute
// selection (`*`, `+`, `1.1`, typesOnly), the root DSE (RFC 4512 section 5.1), simple paged
// results (RFC 2696), server-side sorting (RFC 2891) and the virtual list view that Outlook's
// address book pages with (draft-ietf-ldapext-ldapv3-vlv-09). Also compare (section 4.10).
//
// Guarantees: pure computation over an immutable Book (runs on any thread); never returns an
// entry of a domain the requester may not see (those are answered as if they did not exist);
// returns at most the size limit's entries, each encoded whole.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "book.h"
#include "encode.h"
#include "protocol.h"

namespace portico::ldap {

// What the root DSE says about this connection's server.
struct ServerFacts {
  bool starttls_offered = false;
  std::string vendor_version;
};

// The results of a paged search still to be sent (RFC 2696), kept by the session between pages.
struct PagedState {
  std::shared_ptr<const Book> book;
  std::vector<int> matches;
  std::size_t next = 0;
  std::string key;  // the search it belongs to (base, scope, filter, attributes)
};

struct SearchJob {
  std::int32_t id = 0;
  SearchRequest request;
  // Domains the requester sees: every one (all_domains) or just `domain`.
  bool all_domains = false;
  std::string domain;
  std::int64_t size_limit = 0;              // effective: 0 unlimited
  std::chrono::milliseconds time_limit{0};  // effective: 0 unlimited
  std::optional<PagedRequest> paged;
  std::optional<std::vector<SortKey>> sort;
  bool sort_critical = false;
  std::optional<VlvRequest> vlv;
  bool vlv_critical = false;
  ServerFacts facts;
};

struct SearchOutput {
  std::string pdus;  // entries and the SearchResultDone
  Result result;
  std::size_t entries = 0;
  // Set when a paged search has more pages: the session keeps it under the cookie it chose.
  std::unique_ptr<PagedState> more;
};

// The key that ties the pages of one paged search together.
std::string paged_key(const SearchRequest& request);

// Runs a search. `state`: the paged search being continued (its cookie matched), or nullptr.
// `cookie_for_more`: the cookie to send when there are more pages.
SearchOutput run_search(const std::shared_ptr<const Book>& book, const SearchJob& job,
                        std::unique_ptr<PagedState> state, const std::string& cookie_for_more);

// Compare (RFC 4511 section 4.10): compareTrue, compareFalse, noSuchObject, noSuchAttribute,
// invalidDNSyntax.
Result run_compare(const Book& book, const CompareRequest& request, bool all_domains,
                   const std::string& domain);

// The entry of a person by DN (for bind by DN): the account address, or "".
std::string address_for_dn(const Book& book, const std::string& dn);

}  // namespace portico::ldap
