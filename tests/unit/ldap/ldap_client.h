// Test client of the ldap plugin: LDAPv3 requests encoded with liblber as a client library
// would, and the server's replies decoded back into plain structs. Filters are built as trees
// (eq("mail", "x"), sub("cn", {}, {"smi"}, {}), and_({...})) and encoded per RFC 4511 4.5.1.7.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace portico::testing::ldap_client {

struct F {  // a filter tree
  unsigned long tag = 0;
  std::string attribute, value;
  std::optional<std::string> initial, final_;
  std::vector<std::string> any;
  std::vector<F> children;
  std::string rule;
};
F eq(std::string attribute, std::string value);
F ge(std::string attribute, std::string value);
F le(std::string attribute, std::string value);
F approx(std::string attribute, std::string value);
F present(std::string attribute);
F sub(std::string attribute, std::optional<std::string> initial, std::vector<std::string> any,
      std::optional<std::string> final_);
F ext(std::string attribute, std::string rule, std::string value);
F and_(std::vector<F> children);
F or_(std::vector<F> children);
F not_(F child);

struct RequestControl {
  std::string oid;
  bool critical = false;
  std::optional<std::string> value;
};
RequestControl paged(int size, const std::string& cookie = "");
RequestControl sort(const std::string& attribute, bool reverse = false);
// A virtual list view by offset (1-based, content_count 0: the server's count) or, with
// `value`, from the first entry whose sort key is at least `value`.
RequestControl vlv(int before, int after, int offset, int content_count);
RequestControl vlv(int before, int after, const std::string& value);

std::string bind(int id, const std::string& name, const std::string& password, int version = 3);
std::string search(int id, const std::string& base, int scope, const F& filter,
                   const std::vector<std::string>& attributes = {}, int size_limit = 0,
                   bool types_only = false, const std::vector<RequestControl>& controls = {});
std::string extended(int id, const std::string& oid);
std::string compare(int id, const std::string& dn, const std::string& attribute,
                    const std::string& value);
std::string del(int id, const std::string& dn);
std::string abandon(int id, int target);
std::string unbind(int id);

struct Message {
  int id = -1;
  unsigned long op = 0;
  // results
  int code = -1;
  std::string matched, text;
  std::optional<std::string> name, value;  // extended responses
  // entries
  std::string dn;
  std::vector<std::pair<std::string, std::vector<std::string>>> attributes;
  std::vector<std::pair<std::string, std::string>> controls;  // oid, value

  const std::vector<std::string>* attribute(const std::string& name) const;
};
// Every whole message in `bytes`; a trailing partial one is left out.
std::vector<Message> parse(const std::string& bytes);
// The whole messages in `bytes`, each as its bytes.
std::vector<std::string> split(const std::string& bytes);
// The paged results cookie of a SearchResultDone (RFC 2696), or "" when none.
std::string paged_cookie(const Message& done);
// The sortResult code of a SearchResultDone (RFC 2891), or -1.
int sort_result(const Message& done);
// The targetPosition and contentCount of a VLV response control, and its result ({-1,-1,-1}).
struct VlvAnswer {
  int target = -1, count = -1, code = -1;
};
VlvAnswer vlv_answer(const Message& done);

}  // namespace portico::testing::ldap_client
