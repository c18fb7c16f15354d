// ldap — encoding replies (RFC 4511 sections 4.1.9–4.12) with liblber: results, search entries,
// extended responses, the notice of disconnection, and the values of the response controls of
// RFC 2696 (paged results) and RFC 2891 (server-side sorting).
//
// Guarantees: every function appends one whole PDU (or one control value) to `out`, or nothing
// if liblber fails; DER lengths (LBER_USE_DER).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ber.h"

namespace portico::ldap {

struct ResponseControl {
  std::string oid;
  std::string value;
};

struct Result {
  int code = 0;
  std::string matched;
  std::string message;
};

// An LDAPResult-shaped response: op is LDAP_RES_* (bind, search done, compare, modify, ...).
void encode_result(std::string& out, std::int32_t id, ber_tag_t op, const Result& result,
                   const std::vector<ResponseControl>& controls = {});
// An ExtendedResponse (RFC 4511 section 4.12), with its optional name and value.
void encode_extended(std::string& out, std::int32_t id, const Result& result,
                     std::optional<std::string_view> name, std::optional<std::string_view> value);
// The unsolicited notice of disconnection (RFC 4511 section 4.4.1): messageID 0.
std::string notice_of_disconnection(int code, std::string_view message);

// One attribute of a search result entry.
struct OutAttribute {
  std::string_view name;
  const std::vector<std::string>* values = nullptr;  // nullptr or empty with types_only
};
void encode_entry(std::string& out, std::int32_t id, std::string_view dn,
                  const std::vector<OutAttribute>& attributes, bool types_only);

// RFC 2696: realSearchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }.
std::string paged_results_value(std::int32_t size, std::string_view cookie);
// RFC 2891: SortResult ::= SEQUENCE { sortResult ENUMERATED, attributeType [0] OPTIONAL }.
std::string sort_result_value(int code);

// Request control values. nullopt: malformed.
struct PagedRequest {
  std::int32_t size = 0;
  std::string cookie;
};
std::optional<PagedRequest> decode_paged_request(std::string_view value);
struct SortKey {
  std::string attribute;  // lower case
  std::string ordering_rule;
  bool reverse = false;
};
std::optional<std::vector<SortKey>> decode_sort_request(std::string_view value);
// The virtual list view request (draft-ietf-ldapext-ldapv3-vlv-09 section 6.1).
struct VlvRequest {
  std::int32_t before = 0;
  std::int32_t after = 0;
  bool by_offset = true;
  std::int32_t offset = 0;
  std::int32_t content_count = 0;
  std::string greater_or_equal;  // the assertion value, when !by_offset
};
std::optional<VlvRequest> decode_vlv_request(std::string_view value);
// VirtualListViewResponse ::= SEQUENCE { targetPosition INTEGER, contentCount INTEGER,
// virtualListViewResult ENUMERATED } (no contextID: this server keeps no state for it).
std::string vlv_response_value(std::int32_t target, std::int32_t count, int code);

}  // namespace portico::ldap
