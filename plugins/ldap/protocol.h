// ldap — LDAPv3 requests as the server sees them (RFC 4511 section 4), decoded from a PDU with
// liblber, and the result codes and OIDs it answers with.
//
// Guarantees: decode() never reads past the PDU, bounds the filter's depth and size, and reports
// a request it cannot decode as malformed (the session then sends a notice of disconnection,
// RFC 4511 section 4.4.1); every string in a Request is owned by it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ber.h"

namespace portico::ldap {

// ASCII lower case (attribute types, OIDs' names, DNs of this server's DIT).
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// RFC 4511 section 4.1.9 (the ones this server sends).
enum ResultCode : int {
  success = 0,
  operations_error = 1,
  protocol_error = 2,
  time_limit_exceeded = 3,
  size_limit_exceeded = 4,
  compare_false = 5,
  compare_true = 6,
  auth_method_not_supported = 7,
  stronger_auth_required = 8,
  unavailable_critical_extension = 12,
  confidentiality_required = 13,
  no_such_attribute = 16,
  inappropriate_matching = 18,
  no_such_object = 32,
  invalid_dn_syntax = 34,
  inappropriate_authentication = 48,
  invalid_credentials = 49,
  insufficient_access_rights = 50,
  busy = 51,
  unavailable = 52,
  unwilling_to_perform = 53,
  other = 80,
};

struct Control {
  std::string oid;
  bool critical = false;
  std::optional<std::string> value;
};

// A search filter (RFC 4511 section 4.5.1.7).
struct Filter {
  enum class Kind {
    and_,
    or_,
    not_,
    equality,
    substrings,
    greater_or_equal,
    less_or_equal,
    present,
    approx,
    extensible
  };
  Kind kind = Kind::present;
  std::vector<Filter> children;  // and, or, not (one)
  std::string attribute;         // lower case
  std::string value;             // equality, >=, <=, approx, extensible
  // substrings: initial, any..., final (initial/final empty when absent)
  std::optional<std::string> initial;
  std::vector<std::string> any;
  std::optional<std::string> final_;
  bool dn_attributes = false;  // extensible
  std::string rule;            // extensible: the matching rule, if given
  // Set by prepare() (book.h): attribute is the canonical type and the assertion values are in
  // the attribute's matching form, so that evaluation folds nothing per entry.
  bool prepared = false;
  bool known = true;  // prepared: whether the attribute type is one this server knows
};

struct BindRequest {
  int version = 0;
  std::string name;
  bool simple = true;
  std::string password;   // simple
  std::string mechanism;  // SASL
};

struct SearchRequest {
  std::string base;
  int scope = 0;  // 0 base, 1 one level, 2 subtree
  int deref = 0;
  std::int64_t size_limit = 0;
  std::int64_t time_limit = 0;
  bool types_only = false;
  Filter filter;
  std::vector<std::string> attributes;  // as asked (original case)
};

struct ExtendedRequest {
  std::string oid;
  std::optional<std::string> value;
};

struct CompareRequest {
  std::string entry;
  std::string attribute;  // lower case
  std::string value;
};

struct Request {
  std::int32_t id = 0;
  ber_tag_t op = 0;  // LDAP_REQ_*
  std::vector<Control> controls;
  BindRequest bind;
  SearchRequest search;
  ExtendedRequest extended;
  CompareRequest compare;
  std::int32_t abandon_id = 0;
  std::string dn;  // the target of a write operation (for its refusal)
};

struct DecodeLimits {
  int max_filter_depth = 32;
  std::size_t max_filter_nodes = 512;
  std::size_t max_attributes = 256;
  std::size_t max_controls = 16;
};

enum class DecodeStatus { ok, malformed };
// Decodes one LDAPMessage (the PDU as Framer::next returned it). On malformed, request.id holds
// the message id when it could be read (else 0).
DecodeStatus decode(BerElement* pdu, Request& request, const DecodeLimits& limits = {});

// Writes a filter in the string form of RFC 4515 (for logs and tests).
std::string to_string(const Filter& filter);

}  // namespace portico::ldap
