// ldap — decoding LDAPv3 requests from a PDU with liblber (RFC 4511 sections 4.1–4.14).
#include <ldap.h>

#include <algorithm>

#include "protocol.h"

namespace portico::ldap {

namespace {

bool get_string(BerElement* ber, std::string& out) {
  berval bv{};
  if (ber_get_stringbv(ber, &bv, LBER_BV_NOTERM) == LBER_DEFAULT) return false;
  out.assign(view(bv));
  return true;
}

bool get_int(BerElement* ber, std::int64_t& out) {
  ber_int_t v = 0;
  if (ber_get_int(ber, &v) == LBER_DEFAULT) return false;
  out = v;
  return true;
}

// The read position within the PDU (liblber names it "bytes to write", ber_ptr - ber_buf; set, it
// moves the read position).
ber_len_t offset(BerElement* ber) {
  ber_len_t off = 0;
  ber_get_option(ber, LBER_OPT_BER_BYTES_TO_WRITE, &off);
  return off;
}

class FilterDecoder {
 public:
  FilterDecoder(BerElement* ber, const DecodeLimits& limits) : ber_(ber), limits_(limits) {}

  bool decode(Filter& f, int depth) {
    if (depth > limits_.max_filter_depth || ++nodes_ > limits_.max_filter_nodes) return false;
    ber_len_t len = 0;
    ber_tag_t tag = ber_peek_tag(ber_, &len);
    switch (tag) {
      case LDAP_FILTER_AND:
      case LDAP_FILTER_OR: {
        f.kind = tag == LDAP_FILTER_AND ? Filter::Kind::and_ : Filter::Kind::or_;
        char* last = nullptr;
        for (ber_tag_t t = ber_first_element(ber_, &len, &last); t != LBER_DEFAULT;
             t = ber_next_element(ber_, &len, last)) {
          f.children.emplace_back();
          if (!decode(f.children.back(), depth + 1)) return false;
        }
        return true;
      }
      case LDAP_FILTER_NOT:
        f.kind = Filter::Kind::not_;
        if (ber_skip_tag(ber_, &len) == LBER_DEFAULT) return false;
        f.children.emplace_back();
        return decode(f.children.back(), depth + 1);
      case LDAP_FILTER_EQUALITY:
      case LDAP_FILTER_GE:
      case LDAP_FILTER_LE:
      case LDAP_FILTER_APPROX:
        f.kind = tag == LDAP_FILTER_EQUALITY ? Filter::Kind::equality
                 : tag == LDAP_FILTER_GE     ? Filter::Kind::greater_or_equal
                 : tag == LDAP_FILTER_LE     ? Filter::Kind::less_or_equal
                                             : Filter::Kind::approx;
        if (ber_skip_tag(ber_, &len) == LBER_DEFAULT) return false;
        if (!get_string(ber_, f.attribute) || !get_string(ber_, f.value)) return false;
        f.attribute = lower(f.attribute);
        return !f.attribute.empty();
      case LDAP_FILTER_PRESENT:
        f.kind = Filter::Kind::present;
        if (!get_string(ber_, f.attribute)) return false;
        f.attribute = lower(f.attribute);
        return !f.attribute.empty();
      case LDAP_FILTER_SUBSTRINGS:
        return substrings(f);
      case LDAP_FILTER_EXT:
        return extensible(f);
      default:
        return false;
    }
  }

 private:
  bool substrings(Filter& f) {
    f.kind = Filter::Kind::substrings;
    ber_len_t len = 0;
    if (ber_skip_tag(ber_, &len) == LBER_DEFAULT) return false;
    if (!get_string(ber_, f.attribute)) return false;
    f.attribute = lower(f.attribute);
    char* last = nullptr;
    std::size_t count = 0;
    for (ber_tag_t t = ber_first_element(ber_, &len, &last); t != LBER_DEFAULT;
         t = ber_next_element(ber_, &len, last)) {
      std::string value;
      if (!get_string(ber_, value) || ++count > limits_.max_filter_nodes) return false;
      // RFC 4511 section 4.5.1.7.2: initial at most once and first, final at most once and
      // last, and no value empty.
      if (value.empty() || f.final_) return false;
      if (t == LDAP_SUBSTRING_INITIAL) {
        if (count != 1) return false;
        f.initial = std::move(value);
      } else if (t == LDAP_SUBSTRING_ANY) {
        f.any.push_back(std::move(value));
      } else if (t == LDAP_SUBSTRING_FINAL) {
        f.final_ = std::move(value);
      } else {
        return false;
      }
    }
    return count > 0 && !f.attribute.empty();
  }

  bool extensible(Filter& f) {
    f.kind = Filter::Kind::extensible;
    ber_len_t len = 0;
    char* last = nullptr;
    bool has_value = false;
    for (ber_tag_t t = ber_first_element(ber_, &len, &last); t != LBER_DEFAULT;
         t = ber_next_element(ber_, &len, last)) {
      if (t == LDAP_FILTER_EXT_OID) {
        if (!get_string(ber_, f.rule)) return false;
      } else if (t == LDAP_FILTER_EXT_TYPE) {
        if (!get_string(ber_, f.attribute)) return false;
        f.attribute = lower(f.attribute);
      } else if (t == LDAP_FILTER_EXT_VALUE) {
        if (!get_string(ber_, f.value)) return false;
        has_value = true;
      } else if (t == LDAP_FILTER_EXT_DNATTRS) {
        ber_int_t b = 0;
        if (ber_get_boolean(ber_, &b) == LBER_DEFAULT) return false;
        f.dn_attributes = b != 0;
      } else {
        return false;
      }
    }
    // RFC 4511 section 4.5.1.7.7: matchValue is required, and a rule or a type must be given.
    return has_value && (!f.rule.empty() || !f.attribute.empty());
  }

  BerElement* ber_;
  const DecodeLimits& limits_;
  std::size_t nodes_ = 0;
};

bool decode_bind(BerElement* ber, BindRequest& b) {
  ber_len_t len = 0;
  std::int64_t version = 0;
  if (ber_skip_tag(ber, &len) == LBER_DEFAULT || !get_int(ber, version)) return false;
  b.version = static_cast<int>(version);
  if (!get_string(ber, b.name)) return false;
  ber_tag_t tag = ber_peek_tag(ber, &len);
  if (tag == LDAP_AUTH_SIMPLE) {
    b.simple = true;
    return get_string(ber, b.password);
  }
  if (tag == LDAP_AUTH_SASL) {
    b.simple = false;
    return ber_skip_tag(ber, &len) != LBER_DEFAULT && get_string(ber, b.mechanism);
  }
  // Other authentication choices (RFC 4511 leaves room for them): answered, not malformed.
  b.simple = false;
  b.mechanism.clear();
  return tag != LBER_DEFAULT;
}

bool decode_search(BerElement* ber, SearchRequest& s, const DecodeLimits& limits) {
  ber_len_t len = 0;
  if (ber_skip_tag(ber, &len) == LBER_DEFAULT || !get_string(ber, s.base)) return false;
  ber_int_t scope = 0, deref = 0, types_only = 0;
  if (ber_get_enum(ber, &scope) == LBER_DEFAULT || ber_get_enum(ber, &deref) == LBER_DEFAULT)
    return false;
  if (scope < 0 || scope > 3 || deref < 0 || deref > 3) return false;
  s.scope = scope;
  s.deref = deref;
  if (!get_int(ber, s.size_limit) || !get_int(ber, s.time_limit)) return false;
  if (s.size_limit < 0 || s.time_limit < 0) return false;
  if (ber_get_boolean(ber, &types_only) == LBER_DEFAULT) return false;
  s.types_only = types_only != 0;
  FilterDecoder filters(ber, limits);
  if (!filters.decode(s.filter, 0)) return false;
  char* last = nullptr;
  for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
       t = ber_next_element(ber, &len, last)) {
    std::string name;
    if (!get_string(ber, name) || s.attributes.size() >= limits.max_attributes) return false;
    s.attributes.push_back(std::move(name));
  }
  return true;
}

bool decode_controls(BerElement* ber, std::vector<Control>& controls, const DecodeLimits& limits) {
  ber_len_t len = 0;
  char* last = nullptr;
  for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
       t = ber_next_element(ber, &len, last)) {
    if (t != LBER_SEQUENCE || controls.size() >= limits.max_controls) return false;
    Control c;
    char* inner_last = nullptr;
    ber_len_t inner_len = 0;
    int index = 0;
    for (ber_tag_t u = ber_first_element(ber, &inner_len, &inner_last); u != LBER_DEFAULT;
         u = ber_next_element(ber, &inner_len, inner_last), ++index) {
      if (index == 0) {
        if (u != LBER_OCTETSTRING || !get_string(ber, c.oid)) return false;
      } else if (u == LBER_BOOLEAN && index == 1) {
        ber_int_t b = 0;
        if (ber_get_boolean(ber, &b) == LBER_DEFAULT) return false;
        c.critical = b != 0;
      } else if (u == LBER_OCTETSTRING && !c.value) {
        std::string value;
        if (!get_string(ber, value)) return false;
        c.value = std::move(value);
      } else {
        return false;
      }
    }
    if (c.oid.empty()) return false;
    controls.push_back(std::move(c));
  }
  return true;
}

}  // namespace

DecodeStatus decode(BerElement* pdu, Request& r, const DecodeLimits& limits) {
  std::int64_t id = 0;
  if (!get_int(pdu, id)) return DecodeStatus::malformed;
  if (id < 0 || id > 2147483647) return DecodeStatus::malformed;
  r.id = static_cast<std::int32_t>(id);
  // RFC 4511 section 4.1.1.1: a request's messageID is never zero.
  if (r.id == 0) return DecodeStatus::malformed;

  ber_len_t len = 0;
  ber_len_t start = offset(pdu);
  r.op = ber_skip_tag(pdu, &len);
  if (r.op == LBER_DEFAULT) return DecodeStatus::malformed;
  ber_len_t end = offset(pdu) + len;
  ber_set_option(pdu, LBER_OPT_BER_BYTES_TO_WRITE, &start);

  bool ok = false;
  switch (r.op) {
    case LDAP_REQ_BIND:
      ok = decode_bind(pdu, r.bind);
      break;
    case LDAP_REQ_UNBIND:
      ok = true;
      break;
    case LDAP_REQ_SEARCH:
      ok = decode_search(pdu, r.search, limits);
      break;
    case LDAP_REQ_ABANDON: {
      std::int64_t target = 0;
      ok = get_int(pdu, target) && target >= 0 && target <= 2147483647;
      r.abandon_id = static_cast<std::int32_t>(target);
      break;
    }
    case LDAP_REQ_EXTENDED: {
      ber_len_t l = 0;
      ok = ber_skip_tag(pdu, &l) != LBER_DEFAULT &&
           ber_peek_tag(pdu, &l) == LDAP_TAG_EXOP_REQ_OID && get_string(pdu, r.extended.oid);
      if (ok && offset(pdu) < end && ber_peek_tag(pdu, &l) == LDAP_TAG_EXOP_REQ_VALUE) {
        std::string value;
        ok = get_string(pdu, value);
        r.extended.value = std::move(value);
      }
      break;
    }
    case LDAP_REQ_COMPARE: {
      ber_len_t l = 0;
      ok = ber_skip_tag(pdu, &l) != LBER_DEFAULT && get_string(pdu, r.compare.entry) &&
           ber_skip_tag(pdu, &l) != LBER_DEFAULT && get_string(pdu, r.compare.attribute) &&
           get_string(pdu, r.compare.value);
      r.compare.attribute = lower(r.compare.attribute);
      break;
    }
    case LDAP_REQ_DELETE:
      ok = get_string(pdu, r.dn);
      break;
    case LDAP_REQ_MODIFY:
    case LDAP_REQ_ADD:
    case LDAP_REQ_MODDN: {
      ber_len_t l = 0;
      ok = ber_skip_tag(pdu, &l) != LBER_DEFAULT && get_string(pdu, r.dn);
      break;
    }
    default:
      return DecodeStatus::malformed;
  }
  if (!ok || offset(pdu) > end) return DecodeStatus::malformed;
  ber_set_option(pdu, LBER_OPT_BER_BYTES_TO_WRITE, &end);
  ber_len_t remaining = 0;
  ber_get_option(pdu, LBER_OPT_BER_REMAINING_BYTES, &remaining);
  if (remaining > 0) {
    if (ber_peek_tag(pdu, &len) != LDAP_TAG_CONTROLS) return DecodeStatus::malformed;
    if (!decode_controls(pdu, r.controls, limits)) return DecodeStatus::malformed;
  }
  return DecodeStatus::ok;
}

namespace {

void escape(std::string& out, std::string_view value) {
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0) {
      out += '\\';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
}

}  // namespace

std::string to_string(const Filter& f) {
  std::string out = "(";
  switch (f.kind) {
    case Filter::Kind::and_:
    case Filter::Kind::or_:
    case Filter::Kind::not_:
      out += f.kind == Filter::Kind::and_ ? '&' : f.kind == Filter::Kind::or_ ? '|' : '!';
      for (const auto& c : f.children)
        out += to_string(c);
      break;
    case Filter::Kind::equality:
    case Filter::Kind::greater_or_equal:
    case Filter::Kind::less_or_equal:
    case Filter::Kind::approx:
      out += f.attribute;
      out += f.kind == Filter::Kind::equality           ? "="
             : f.kind == Filter::Kind::greater_or_equal ? ">="
             : f.kind == Filter::Kind::less_or_equal    ? "<="
                                                        : "~=";
      escape(out, f.value);
      break;
    case Filter::Kind::present:
      out += f.attribute + "=*";
      break;
    case Filter::Kind::substrings:
      out += f.attribute + "=";
      if (f.initial) escape(out, *f.initial);
      out += '*';
      for (const auto& a : f.any) {
        escape(out, a);
        out += '*';
      }
      if (f.final_) escape(out, *f.final_);
      break;
    case Filter::Kind::extensible:
      out += f.attribute;
      if (f.dn_attributes) out += ":dn";
      if (!f.rule.empty()) out += ":" + f.rule;
      out += ":=";
      escape(out, f.value);
      break;
  }
  return out + ")";
}

}  // namespace portico::ldap
