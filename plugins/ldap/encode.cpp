// ldap — reply encoding with liblber (see encode.h).
#include "encode.h"

#include <ldap.h>

#include "protocol.h"

namespace portico::ldap {

namespace {

void put_controls(BerElement* ber, const std::vector<ResponseControl>& controls) {
  if (controls.empty()) return;
  ber_printf(ber, "t{", LDAP_TAG_CONTROLS);
  for (const auto& c : controls)
    ber_printf(ber, "{oo}", c.oid.data(), static_cast<ber_len_t>(c.oid.size()), c.value.data(),
               static_cast<ber_len_t>(c.value.size()));
  ber_printf(ber, "}");
}

struct BerFromString {
  // liblber leaves the element without a buffer for an empty value: no element then.
  explicit BerFromString(std::string_view value) {
    if (value.empty()) return;
    berval bv{static_cast<ber_len_t>(value.size()), const_cast<char*>(value.data())};
    ber = ber_init(&bv);
  }
  ~BerFromString() {
    if (ber) ber_free(ber, 1);
  }
  BerElement* ber = nullptr;
};

}  // namespace

void encode_result(std::string& out, std::int32_t id, ber_tag_t op, const Result& r,
                   const std::vector<ResponseControl>& controls) {
  Encoder e;
  ber_printf(e.ber(), "{it{eoo}", static_cast<ber_int_t>(id), op, static_cast<ber_int_t>(r.code),
             r.matched.data(), static_cast<ber_len_t>(r.matched.size()), r.message.data(),
             static_cast<ber_len_t>(r.message.size()));
  put_controls(e.ber(), controls);
  if (ber_printf(e.ber(), "}") == -1) return;
  e.append_to(out);
}

void encode_extended(std::string& out, std::int32_t id, const Result& r,
                     std::optional<std::string_view> name, std::optional<std::string_view> value) {
  Encoder e;
  ber_printf(e.ber(), "{it{eoo", static_cast<ber_int_t>(id), LDAP_RES_EXTENDED,
             static_cast<ber_int_t>(r.code), r.matched.data(),
             static_cast<ber_len_t>(r.matched.size()), r.message.data(),
             static_cast<ber_len_t>(r.message.size()));
  if (name)
    ber_printf(e.ber(), "to", LDAP_TAG_EXOP_RES_OID, name->data(),
               static_cast<ber_len_t>(name->size()));
  if (value)
    ber_printf(e.ber(), "to", LDAP_TAG_EXOP_RES_VALUE, value->data(),
               static_cast<ber_len_t>(value->size()));
  if (ber_printf(e.ber(), "N}N}") == -1) return;
  e.append_to(out);
}

std::string notice_of_disconnection(int code, std::string_view message) {
  std::string out;
  encode_extended(out, 0, Result{code, "", std::string(message)},
                  std::string_view(LDAP_NOTICE_OF_DISCONNECTION), std::nullopt);
  return out;
}

void encode_entry(std::string& out, std::int32_t id, std::string_view dn,
                  const std::vector<OutAttribute>& attributes, bool types_only) {
  Encoder e;
  BerElement* ber = e.ber();
  ber_printf(ber, "{it{o{", static_cast<ber_int_t>(id), LDAP_RES_SEARCH_ENTRY, dn.data(),
             static_cast<ber_len_t>(dn.size()));
  for (const auto& a : attributes) {
    ber_printf(ber, "{o[", a.name.data(), static_cast<ber_len_t>(a.name.size()));
    if (!types_only && a.values != nullptr)
      for (const auto& v : *a.values)
        ber_printf(ber, "o", v.data(), static_cast<ber_len_t>(v.size()));
    ber_printf(ber, "]N}");
  }
  if (ber_printf(ber, "}N}N}") == -1) return;
  e.append_to(out);
}

std::string paged_results_value(std::int32_t size, std::string_view cookie) {
  Encoder e;
  std::string out;
  if (ber_printf(e.ber(), "{io}", static_cast<ber_int_t>(size), cookie.data(),
                 static_cast<ber_len_t>(cookie.size())) != -1)
    e.append_to(out);
  return out;
}

std::string sort_result_value(int code) {
  Encoder e;
  std::string out;
  if (ber_printf(e.ber(), "{e}", static_cast<ber_int_t>(code)) != -1) e.append_to(out);
  return out;
}

std::optional<PagedRequest> decode_paged_request(std::string_view value) {
  BerFromString b(value);
  if (b.ber == nullptr) return std::nullopt;
  ber_int_t size = 0;
  berval cookie{};
  if (ber_scanf(b.ber, "{im}", &size, &cookie) == LBER_ERROR || size < 0) return std::nullopt;
  return PagedRequest{size, std::string(view(cookie))};
}

std::optional<std::vector<SortKey>> decode_sort_request(std::string_view value) {
  BerFromString b(value);
  if (b.ber == nullptr) return std::nullopt;
  std::vector<SortKey> keys;
  ber_len_t len = 0;
  char* last = nullptr;
  for (ber_tag_t t = ber_first_element(b.ber, &len, &last); t != LBER_DEFAULT;
       t = ber_next_element(b.ber, &len, last)) {
    if (t != LBER_SEQUENCE || keys.size() >= 8) return std::nullopt;
    SortKey key;
    char* inner_last = nullptr;
    ber_len_t inner_len = 0;
    int index = 0;
    for (ber_tag_t u = ber_first_element(b.ber, &inner_len, &inner_last); u != LBER_DEFAULT;
         u = ber_next_element(b.ber, &inner_len, inner_last), ++index) {
      berval bv{};
      if (index == 0 && u == LBER_OCTETSTRING) {
        if (ber_get_stringbv(b.ber, &bv, LBER_BV_NOTERM) == LBER_DEFAULT) return std::nullopt;
        key.attribute = lower(view(bv));
      } else if (index > 0 && u == 0x80) {  // orderingRule [0]
        if (ber_get_stringbv(b.ber, &bv, LBER_BV_NOTERM) == LBER_DEFAULT) return std::nullopt;
        key.ordering_rule.assign(view(bv));
      } else if (index > 0 && u == 0x81) {  // reverseOrder [1] BOOLEAN
        ber_int_t r = 0;
        if (ber_get_boolean(b.ber, &r) == LBER_DEFAULT) return std::nullopt;
        key.reverse = r != 0;
      } else {
        return std::nullopt;
      }
    }
    if (key.attribute.empty()) return std::nullopt;
    keys.push_back(std::move(key));
  }
  if (keys.empty()) return std::nullopt;
  return keys;
}

std::optional<VlvRequest> decode_vlv_request(std::string_view value) {
  BerFromString b(value);
  if (b.ber == nullptr) return std::nullopt;
  VlvRequest r;
  ber_len_t len = 0;
  if (ber_scanf(b.ber, "{ii", &r.before, &r.after) == LBER_ERROR || r.before < 0 || r.after < 0)
    return std::nullopt;
  ber_tag_t tag = ber_peek_tag(b.ber, &len);
  if (tag == 0xa0) {  // byOffset [0] SEQUENCE { offset, contentCount }
    if (ber_scanf(b.ber, "{ii}", &r.offset, &r.content_count) == LBER_ERROR || r.offset < 0 ||
        r.content_count < 0)
      return std::nullopt;
  } else if (tag == 0x81) {  // greaterThanOrEqual [1] AssertionValue
    berval bv{};
    if (ber_get_stringbv(b.ber, &bv, LBER_BV_NOTERM) == LBER_DEFAULT) return std::nullopt;
    r.by_offset = false;
    r.greater_or_equal.assign(view(bv));
  } else {
    return std::nullopt;
  }
  return r;
}

std::string vlv_response_value(std::int32_t target, std::int32_t count, int code) {
  Encoder e;
  std::string out;
  if (ber_printf(e.ber(), "{iie}", static_cast<ber_int_t>(target), static_cast<ber_int_t>(count),
                 static_cast<ber_int_t>(code)) != -1)
    e.append_to(out);
  return out;
}

}  // namespace portico::ldap
