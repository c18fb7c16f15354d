// Test client of the ldap plugin (see ldap_client.h).
#include "ldap_client.h"

#include <lber.h>
#include <ldap.h>

#include <stdexcept>

namespace portico::testing::ldap_client {

namespace {

struct Ber {
  BerElement* ber = ber_alloc_t(LBER_USE_DER);
  ~Ber() { ber_free(ber, 1); }
  std::string bytes() {
    berval bv{};
    if (ber_flatten2(ber, &bv, 0) != 0) throw std::runtime_error("ber_flatten2");
    return std::string(bv.bv_val, bv.bv_len);
  }
};

// A BerElement reading a copy of `bytes`.
struct Reader {
  explicit Reader(const std::string& bytes) {
    berval bv{static_cast<ber_len_t>(bytes.size()), const_cast<char*>(bytes.data())};
    ber = ber_init(&bv);
    if (ber == nullptr) throw std::runtime_error("ber_init");
  }
  ~Reader() { ber_free(ber, 1); }
  BerElement* ber;
};

// The value of the response control `oid` of a message, if it has one.
const std::string* control(const Message& m, const char* oid) {
  for (const auto& [name, value] : m.controls)
    if (name == oid) return &value;
  return nullptr;
}

void put_filter(BerElement* b, const F& f) {
  switch (f.tag) {
    case LDAP_FILTER_AND:
    case LDAP_FILTER_OR:
      ber_printf(b, "t[", static_cast<ber_tag_t>(f.tag));
      for (const auto& c : f.children)
        put_filter(b, c);
      ber_printf(b, "]");
      break;
    case LDAP_FILTER_NOT:
      ber_printf(b, "t{", static_cast<ber_tag_t>(f.tag));
      put_filter(b, f.children.front());
      ber_printf(b, "}");
      break;
    case LDAP_FILTER_PRESENT:
      ber_printf(b, "ts", static_cast<ber_tag_t>(f.tag), f.attribute.c_str());
      break;
    case LDAP_FILTER_SUBSTRINGS:
      ber_printf(b, "t{s{", static_cast<ber_tag_t>(f.tag), f.attribute.c_str());
      if (f.initial) ber_printf(b, "ts", LDAP_SUBSTRING_INITIAL, f.initial->c_str());
      for (const auto& a : f.any)
        ber_printf(b, "ts", LDAP_SUBSTRING_ANY, a.c_str());
      if (f.final_) ber_printf(b, "ts", LDAP_SUBSTRING_FINAL, f.final_->c_str());
      ber_printf(b, "}}");
      break;
    case LDAP_FILTER_EXT:
      ber_printf(b, "t{", static_cast<ber_tag_t>(f.tag));
      if (!f.rule.empty()) ber_printf(b, "ts", LDAP_FILTER_EXT_OID, f.rule.c_str());
      if (!f.attribute.empty()) ber_printf(b, "ts", LDAP_FILTER_EXT_TYPE, f.attribute.c_str());
      ber_printf(b, "ts}", LDAP_FILTER_EXT_VALUE, f.value.c_str());
      break;
    default:
      ber_printf(b, "t{ss}", static_cast<ber_tag_t>(f.tag), f.attribute.c_str(), f.value.c_str());
  }
}

F simple(unsigned long tag, std::string a, std::string v) {
  F f;
  f.tag = tag;
  f.attribute = std::move(a);
  f.value = std::move(v);
  return f;
}

void put_controls(BerElement* b, const std::vector<RequestControl>& controls) {
  if (controls.empty()) return;
  ber_printf(b, "t{", LDAP_TAG_CONTROLS);
  for (const auto& c : controls) {
    ber_printf(b, "{s", c.oid.c_str());
    if (c.critical) ber_printf(b, "b", static_cast<ber_int_t>(1));
    if (c.value) ber_printf(b, "o", c.value->data(), static_cast<ber_len_t>(c.value->size()));
    ber_printf(b, "}");
  }
  ber_printf(b, "}");
}

std::string get(BerElement* b) {
  berval bv{};
  if (ber_get_stringbv(b, &bv, LBER_BV_NOTERM) == LBER_DEFAULT)
    throw std::runtime_error("bad string");
  return std::string(bv.bv_val ? bv.bv_val : "", bv.bv_len);
}

}  // namespace

F eq(std::string a, std::string v) {
  return simple(LDAP_FILTER_EQUALITY, a, v);
}
F ge(std::string a, std::string v) {
  return simple(LDAP_FILTER_GE, a, v);
}
F le(std::string a, std::string v) {
  return simple(LDAP_FILTER_LE, a, v);
}
F approx(std::string a, std::string v) {
  return simple(LDAP_FILTER_APPROX, a, v);
}
F present(std::string a) {
  return simple(LDAP_FILTER_PRESENT, a, "");
}
F sub(std::string a, std::optional<std::string> initial, std::vector<std::string> any,
      std::optional<std::string> final_) {
  F f = simple(LDAP_FILTER_SUBSTRINGS, a, "");
  f.initial = std::move(initial);
  f.any = std::move(any);
  f.final_ = std::move(final_);
  return f;
}
F ext(std::string a, std::string rule, std::string v) {
  F f = simple(LDAP_FILTER_EXT, a, v);
  f.rule = std::move(rule);
  return f;
}
F and_(std::vector<F> c) {
  F f;
  f.tag = LDAP_FILTER_AND;
  f.children = std::move(c);
  return f;
}
F or_(std::vector<F> c) {
  F f;
  f.tag = LDAP_FILTER_OR;
  f.children = std::move(c);
  return f;
}
F not_(F c) {
  F f;
  f.tag = LDAP_FILTER_NOT;
  f.children = {std::move(c)};
  return f;
}

RequestControl paged(int size, const std::string& cookie) {
  Ber b;
  ber_printf(b.ber, "{io}", static_cast<ber_int_t>(size), cookie.data(),
             static_cast<ber_len_t>(cookie.size()));
  return {LDAP_CONTROL_PAGEDRESULTS, false, b.bytes()};
}

RequestControl sort(const std::string& attribute, bool reverse) {
  Ber b;
  ber_printf(b.ber, "{{s", attribute.c_str());
  if (reverse) ber_printf(b.ber, "tb", static_cast<ber_tag_t>(0x81), static_cast<ber_int_t>(1));
  ber_printf(b.ber, "}}");
  return {LDAP_CONTROL_SORTREQUEST, false, b.bytes()};
}

RequestControl vlv(int before, int after, int offset, int content_count) {
  Ber b;
  ber_printf(b.ber, "{iit{ii}}", static_cast<ber_int_t>(before), static_cast<ber_int_t>(after),
             static_cast<ber_tag_t>(0xa0), static_cast<ber_int_t>(offset),
             static_cast<ber_int_t>(content_count));
  return {LDAP_CONTROL_VLVREQUEST, false, b.bytes()};
}

RequestControl vlv(int before, int after, const std::string& value) {
  Ber b;
  ber_printf(b.ber, "{iits}", static_cast<ber_int_t>(before), static_cast<ber_int_t>(after),
             static_cast<ber_tag_t>(0x81), value.c_str());
  return {LDAP_CONTROL_VLVREQUEST, false, b.bytes()};
}

std::string bind(int id, const std::string& name, const std::string& password, int version) {
  Ber c;
  ber_printf(c.ber, "{it{isto}}", static_cast<ber_int_t>(id), LDAP_REQ_BIND,
             static_cast<ber_int_t>(version), name.c_str(), LDAP_AUTH_SIMPLE, password.data(),
             static_cast<ber_len_t>(password.size()));
  return c.bytes();
}

std::string search(int id, const std::string& base, int scope, const F& filter,
                   const std::vector<std::string>& attributes, int size_limit, bool types_only,
                   const std::vector<RequestControl>& controls) {
  Ber b;
  ber_printf(b.ber, "{it{seeiib", static_cast<ber_int_t>(id), LDAP_REQ_SEARCH, base.c_str(),
             static_cast<ber_int_t>(scope), static_cast<ber_int_t>(0),
             static_cast<ber_int_t>(size_limit), static_cast<ber_int_t>(0),
             static_cast<ber_int_t>(types_only ? 1 : 0));
  put_filter(b.ber, filter);
  ber_printf(b.ber, "{");
  for (const auto& a : attributes)
    ber_printf(b.ber, "s", a.c_str());
  ber_printf(b.ber, "}}");
  put_controls(b.ber, controls);
  ber_printf(b.ber, "}");
  return b.bytes();
}

std::string extended(int id, const std::string& oid) {
  Ber b;
  ber_printf(b.ber, "{it{ts}}", static_cast<ber_int_t>(id), LDAP_REQ_EXTENDED,
             LDAP_TAG_EXOP_REQ_OID, oid.c_str());
  return b.bytes();
}

std::string compare(int id, const std::string& dn, const std::string& attribute,
                    const std::string& value) {
  Ber b;
  ber_printf(b.ber, "{it{s{ss}}}", static_cast<ber_int_t>(id), LDAP_REQ_COMPARE, dn.c_str(),
             attribute.c_str(), value.c_str());
  return b.bytes();
}

std::string del(int id, const std::string& dn) {
  Ber b;
  ber_printf(b.ber, "{its}", static_cast<ber_int_t>(id), LDAP_REQ_DELETE, dn.c_str());
  return b.bytes();
}

std::string abandon(int id, int target) {
  Ber b;
  ber_printf(b.ber, "{iti}", static_cast<ber_int_t>(id), LDAP_REQ_ABANDON,
             static_cast<ber_int_t>(target));
  return b.bytes();
}

std::string unbind(int id) {
  Ber b;
  ber_printf(b.ber, "{itn}", static_cast<ber_int_t>(id), LDAP_REQ_UNBIND);
  return b.bytes();
}

const std::vector<std::string>* Message::attribute(const std::string& name) const {
  for (const auto& [n, v] : attributes)
    if (n == name) return &v;
  return nullptr;
}

std::vector<Message> parse(const std::string& bytes) {
  std::vector<Message> out;
  for (const auto& pdu : split(bytes)) {
    Reader reader(pdu);
    BerElement* ber = reader.ber;
    ber_len_t len = 0, remaining = 0;
    ber_skip_tag(ber, &len);
    Message m;
    ber_int_t id = 0;
    ber_get_int(ber, &id);
    m.id = id;
    m.op = ber_skip_tag(ber, &len);
    if (m.op == LDAP_RES_SEARCH_ENTRY) {
      m.dn = get(ber);
      char* last = nullptr;
      for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
           t = ber_next_element(ber, &len, last)) {
        ber_skip_tag(ber, &len);
        std::string name = get(ber);
        std::vector<std::string> values;
        char* vlast = nullptr;
        ber_len_t vlen = 0;
        for (ber_tag_t u = ber_first_element(ber, &vlen, &vlast); u != LBER_DEFAULT;
             u = ber_next_element(ber, &vlen, vlast))
          values.push_back(get(ber));
        m.attributes.emplace_back(name, values);
      }
    } else {
      ber_int_t code = 0;
      ber_get_enum(ber, &code);
      m.code = code;
      m.matched = get(ber);
      m.text = get(ber);
      while (true) {
        ber_get_option(ber, LBER_OPT_BER_REMAINING_BYTES, &remaining);
        if (remaining == 0) break;
        ber_tag_t t = ber_peek_tag(ber, &len);
        if (t == LDAP_TAG_EXOP_RES_OID) {
          m.name = get(ber);
        } else if (t == LDAP_TAG_EXOP_RES_VALUE) {
          m.value = get(ber);
        } else if (t == LDAP_TAG_CONTROLS) {
          char* last = nullptr;
          for (ber_tag_t u = ber_first_element(ber, &len, &last); u != LBER_DEFAULT;
               u = ber_next_element(ber, &len, last)) {
            ber_len_t l2 = 0;
            ber_skip_tag(ber, &l2);
            std::string oid = get(ber);
            std::string value;
            ber_get_option(ber, LBER_OPT_BER_REMAINING_BYTES, &remaining);
            if (remaining > 0 && ber_peek_tag(ber, &l2) == LBER_OCTETSTRING) value = get(ber);
            m.controls.emplace_back(oid, value);
          }
        } else {
          berval skipped{};
          ber_skip_element(ber, &skipped);
        }
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> split(const std::string& bytes) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    berval all{static_cast<ber_len_t>(bytes.size() - pos), const_cast<char*>(bytes.data() + pos)};
    BerElement* probe = ber_init(&all);
    ber_len_t len = 0, remaining = 0;
    ber_tag_t tag = ber_skip_tag(probe, &len);
    ber_get_option(probe, LBER_OPT_BER_REMAINING_BYTES, &remaining);
    ber_free(probe, 1);
    if (tag != LBER_SEQUENCE) break;
    std::size_t whole = bytes.size() - pos - remaining + len;  // header and contents
    out.push_back(bytes.substr(pos, whole));
    pos += whole;
  }
  return out;
}

std::string paged_cookie(const Message& done) {
  const std::string* value = control(done, LDAP_CONTROL_PAGEDRESULTS);
  if (value == nullptr) return {};
  Reader r(*value);
  ber_int_t size = 0;
  berval cookie{};
  if (ber_scanf(r.ber, "{im}", &size, &cookie) == LBER_ERROR) return {};
  return std::string(cookie.bv_val ? cookie.bv_val : "", cookie.bv_len);
}

int sort_result(const Message& done) {
  const std::string* value = control(done, LDAP_CONTROL_SORTRESPONSE);
  if (value == nullptr) return -1;
  Reader r(*value);
  ber_int_t code = -1;
  return ber_scanf(r.ber, "{e", &code) == LBER_ERROR ? -1 : code;
}

VlvAnswer vlv_answer(const Message& done) {
  const std::string* value = control(done, LDAP_CONTROL_VLVRESPONSE);
  if (value == nullptr) return {};
  Reader r(*value);
  VlvAnswer a;
  if (ber_scanf(r.ber, "{iie", &a.target, &a.count, &a.code) == LBER_ERROR) return {};
  return a;
}

}  // namespace portico::testing::ldap_client
