// ldap — the DIT built from the address book, its indexes, and filter evaluation (see book.h).
#include "book.h"

#include <ldap.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace portico::ldap {

namespace {

char lower_char(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Aliases of attribute types (RFC 4519 names and common short forms).
const std::map<std::string, std::string, std::less<>>& aliases() {
  static const std::map<std::string, std::string, std::less<>> m = {
      {"commonname", "cn"},
      {"surname", "sn"},
      {"gn", "givenname"},
      {"userid", "uid"},
      {"organizationname", "o"},
      {"organizationalunitname", "ou"},
      {"domaincomponent", "dc"},
      {"rfc822mailbox", "mail"},
      {"2.5.4.3", "cn"},
      {"2.5.4.4", "sn"},
      {"2.5.4.42", "givenname"},
      {"0.9.2342.19200300.100.1.3", "mail"},
      {"0.9.2342.19200300.100.1.1", "uid"},
      {"2.5.4.0", "objectclass"},
  };
  return m;
}

// Attribute types a filter may name without becoming Undefined: what entries here carry, and
// the rest of inetOrgPerson's usual attributes (absent here, so FALSE, RFC 4511 4.5.1.7).
const std::set<std::string, std::less<>>& known() {
  static const std::set<std::string, std::less<>> s = {"objectclass",
                                                       "cn",
                                                       "sn",
                                                       "givenname",
                                                       "displayname",
                                                       "mail",
                                                       "uid",
                                                       "telephonenumber",
                                                       "title",
                                                       "ou",
                                                       "o",
                                                       "dc",
                                                       "member",
                                                       "rfc822mailmember",
                                                       "description",
                                                       "entrydn",
                                                       "structuralobjectclass",
                                                       "hassubordinates",
                                                       "mobile",
                                                       "homephone",
                                                       "pager",
                                                       "facsimiletelephonenumber",
                                                       "initials",
                                                       "l",
                                                       "st",
                                                       "street",
                                                       "postalcode",
                                                       "postaladdress",
                                                       "c",
                                                       "co",
                                                       "employeenumber",
                                                       "employeetype",
                                                       "manager",
                                                       "labeleduri",
                                                       "jpegphoto",
                                                       "preferredlanguage",
                                                       "businesscategory",
                                                       "departmentnumber",
                                                       "roomnumber",
                                                       "secretary",
                                                       "carlicense",
                                                       "homepostaladdress",
                                                       "physicaldeliveryofficename",
                                                       "seealso",
                                                       "name",
                                                       "uniquemember",
                                                       "owner",
                                                       "memberof",
                                                       "proxyaddresses",
                                                       "othermailbox",
                                                       "nickname",
                                                       "mailalternateaddress"};
  return s;
}

enum class Rule { case_ignore, phone, dn };

Rule rule_of(std::string_view key) {
  if (key == "telephonenumber" || key == "mobile" || key == "homephone" || key == "pager" ||
      key == "facsimiletelephonenumber")
    return Rule::phone;
  if (key == "member" || key == "entrydn" || key == "uniquemember" || key == "manager" ||
      key == "seealso" || key == "owner" || key == "secretary" || key == "memberof")
    return Rule::dn;
  return Rule::case_ignore;
}

}  // namespace

std::string match_form(std::string_view key, std::string_view value) {
  switch (rule_of(key)) {
    case Rule::phone:
      return fold_phone(value);
    case Rule::dn: {
      auto n = normalize_dn(value);
      return n ? *n : fold(value);
    }
    case Rule::case_ignore:
      break;
  }
  return fold(value);
}

namespace {

// Folds a substring assertion piece: lower case, whitespace runs collapsed, not trimmed.
std::string fold_piece(std::string_view key, std::string_view value) {
  if (rule_of(key) == Rule::phone) return fold_phone(value);
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += lower_char(c);
  }
  if (space) out += ' ';
  return out;
}

std::string approx_form(std::string_view folded) {
  std::string out;
  for (char c : folded)
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80)
      out += c;
  return out;
}

bool substring_match(std::string_view v, const std::vector<std::string>& pieces_any,
                     const std::optional<std::string>& initial,
                     const std::optional<std::string>& final_) {
  std::size_t pos = 0;
  if (initial) {
    if (v.substr(0, initial->size()) != *initial) return false;
    pos = initial->size();
  }
  for (const auto& piece : pieces_any) {
    auto at = v.find(piece, pos);
    if (at == std::string_view::npos) return false;
    pos = at + piece.size();
  }
  if (final_) {
    if (v.size() < pos + final_->size()) return false;
    if (v.substr(v.size() - final_->size()) != *final_) return false;
  }
  return true;
}

// f is prepared: f.attribute is canonical and every assertion value is in its matching form.
Truth match_attribute(const Filter& f, const Entry& e) {
  const Attribute* a = e.find(f.attribute);
  if (a == nullptr) return f.known ? Truth::false_ : Truth::undefined;
  switch (f.kind) {
    case Filter::Kind::present:
      return Truth::true_;
    case Filter::Kind::equality:
      for (const auto& v : a->matching())
        if (v == f.value) return Truth::true_;
      return Truth::false_;
    case Filter::Kind::approx:
      for (const auto& v : a->matching())
        if (approx_form(v) == f.value) return Truth::true_;
      return Truth::false_;
    case Filter::Kind::greater_or_equal:
    case Filter::Kind::less_or_equal:
      for (const auto& v : a->matching())
        if (f.kind == Filter::Kind::greater_or_equal ? v >= f.value : v <= f.value)
          return Truth::true_;
      return Truth::false_;
    case Filter::Kind::substrings:
      for (const auto& v : a->matching())
        if (substring_match(v, f.any, f.initial, f.final_)) return Truth::true_;
      return Truth::false_;
    default:
      return Truth::undefined;
  }
}

// Extensible match (RFC 4511 section 4.5.1.7.7) with the rules this server implements.
Truth match_extensible(const Filter& f, const Entry& e) {
  std::string rule = lower(f.rule);
  bool exact = rule == "caseexactmatch" || rule == "2.5.13.5" || rule == "caseexactia5match" ||
               rule == "1.3.6.1.4.1.1466.109.114.1";
  bool ignore = rule.empty() || rule == "caseignorematch" || rule == "2.5.13.2" ||
                rule == "caseignoreia5match" || rule == "1.3.6.1.4.1.1466.109.114.2" ||
                rule == "telephonenumbermatch" || rule == "2.5.13.20" ||
                rule == "distinguishednamematch" || rule == "2.5.13.1";
  if (!exact && !ignore) return Truth::undefined;
  auto matches = [&](std::string_view key, std::string_view value) {
    if (exact) return value == f.value;
    return match_form(key, value) == match_form(key, f.value);
  };
  bool any_known = false;
  for (const auto& a : e.attributes) {
    if (!f.attribute.empty() && a.key != canonical_attribute(f.attribute)) continue;
    any_known = true;
    for (const auto& v : a.values)
      if (matches(a.key, v)) return Truth::true_;
  }
  if (f.dn_attributes) {
    LDAPDN dn = nullptr;
    if (ldap_str2dn(e.dn.c_str(), &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && dn) {
      bool hit = false;
      for (int i = 0; dn[i] && !hit; ++i)
        for (int j = 0; dn[i][j] && !hit; ++j) {
          std::string key = canonical_attribute(view(dn[i][j]->la_attr));
          if (!f.attribute.empty() && key != canonical_attribute(f.attribute)) continue;
          hit = matches(key, view(dn[i][j]->la_value));
        }
      ldap_dnfree(dn);
      if (hit) return Truth::true_;
    }
  }
  if (!f.attribute.empty() && !any_known && !known_attribute(canonical_attribute(f.attribute)))
    return Truth::undefined;
  return Truth::false_;
}

}  // namespace

std::string fold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += lower_char(c);
  }
  return out;
}

std::string fold_phone(std::string_view value) {
  std::string out;
  for (char c : value)
    if (!is_space(c) && c != '-') out += lower_char(c);
  return out;
}

std::optional<std::string> normalize_dn(std::string_view dn) {
  if (dn.empty()) return std::string();
  if (dn.size() > 4096 || std::memchr(dn.data(), 0, dn.size()) != nullptr) return std::nullopt;
  std::string in(dn);
  LDAPDN parsed = nullptr;
  if (ldap_str2dn(in.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS) return std::nullopt;
  // Attribute types by their canonical names, then one string form, in lower case (every
  // naming attribute here compares case-insensitively). The AVAs' own type strings are put back
  // before ldap_dnfree, which may own them.
  std::vector<std::string> names;
  std::vector<berval> originals;
  for (int i = 0; parsed && parsed[i]; ++i)
    for (int j = 0; parsed[i][j]; ++j) {
      names.push_back(canonical_attribute(view(parsed[i][j]->la_attr)));
      originals.push_back(parsed[i][j]->la_attr);
    }
  std::size_t k = 0;
  for (int i = 0; parsed && parsed[i]; ++i)
    for (int j = 0; parsed[i][j]; ++j, ++k) {
      parsed[i][j]->la_attr.bv_val = names[k].data();
      parsed[i][j]->la_attr.bv_len = names[k].size();
    }
  char* out = nullptr;
  int rc = ldap_dn2str(parsed, &out, LDAP_DN_FORMAT_LDAPV3);
  k = 0;
  for (int i = 0; parsed && parsed[i]; ++i)
    for (int j = 0; parsed[i][j]; ++j, ++k)
      parsed[i][j]->la_attr = originals[k];
  ldap_dnfree(parsed);
  if (rc != LDAP_SUCCESS || out == nullptr) return std::nullopt;
  std::string result = lower(out);
  ldap_memfree(out);
  return result;
}

std::string escape_dn_value(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                   c == ';' || c == '=' || (i == 0 && (c == ' ' || c == '#')) ||
                   (i + 1 == value.size() && c == ' ');
    if (special) out += '\\';
    if (c == 0) {
      out += "\\00";
      continue;
    }
    out += c;
  }
  return out;
}

std::string canonical_attribute(std::string_view name) {
  std::string key = lower(name);
  auto it = aliases().find(key);
  return it == aliases().end() ? key : it->second;
}

bool known_attribute(std::string_view key) {
  return known().count(key) != 0;
}

const Attribute* Entry::find(std::string_view key) const {
  for (const auto& a : attributes)
    if (a.key == key) return &a;
  return nullptr;
}

Filter prepare(const Filter& f) {
  Filter p = f;
  p.prepared = true;
  for (auto& c : p.children)
    c = prepare(c);
  switch (f.kind) {
    case Filter::Kind::and_:
    case Filter::Kind::or_:
    case Filter::Kind::not_:
    case Filter::Kind::extensible:  // matched on the values as given (exact rules need them)
      return p;
    default:
      break;
  }
  p.attribute = canonical_attribute(f.attribute);
  p.known = known_attribute(p.attribute);
  switch (f.kind) {
    case Filter::Kind::equality:
    case Filter::Kind::greater_or_equal:
    case Filter::Kind::less_or_equal:
      p.value = match_form(p.attribute, f.value);
      break;
    case Filter::Kind::approx:
      p.value = approx_form(match_form(p.attribute, f.value));
      break;
    case Filter::Kind::substrings:
      if (f.initial) p.initial = fold_piece(p.attribute, *f.initial);
      if (f.final_) p.final_ = fold_piece(p.attribute, *f.final_);
      for (auto& a : p.any)
        a = fold_piece(p.attribute, a);
      break;
    default:
      break;
  }
  return p;
}

Truth evaluate(const Filter& f, const Entry& e) {
  switch (f.kind) {
    case Filter::Kind::and_: {
      Truth out = Truth::true_;
      for (const auto& c : f.children) {
        Truth t = evaluate(c, e);
        if (t == Truth::false_) return Truth::false_;
        if (t == Truth::undefined) out = Truth::undefined;
      }
      return out;
    }
    case Filter::Kind::or_: {
      Truth out = Truth::false_;
      for (const auto& c : f.children) {
        Truth t = evaluate(c, e);
        if (t == Truth::true_) return Truth::true_;
        if (t == Truth::undefined) out = Truth::undefined;
      }
      return out;
    }
    case Filter::Kind::not_: {
      Truth t = evaluate(f.children.front(), e);
      return t == Truth::true_ ? Truth::false_ : t == Truth::false_ ? Truth::true_ : t;
    }
    case Filter::Kind::extensible:
      return match_extensible(f, e);
    default:
      if (!f.prepared) return evaluate(prepare(f), e);
      return match_attribute(f, e);
  }
}

}  // namespace portico::ldap
