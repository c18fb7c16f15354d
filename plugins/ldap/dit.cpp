// ldap — building the DIT from the directory's address book, and the cache that rebuilds it
// when the directory changes (see book.h).
#include <ldap.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "book.h"

namespace portico::ldap {

namespace {

struct Builder {
  Book& book;
  std::map<std::string, std::string> dn_of;  // address -> DN (people, aliases, lists)

  int add(std::string dn, int parent, int domain, std::string structural,
          std::vector<std::pair<std::string, std::vector<std::string>>> attributes) {
    Entry e;
    e.ndn = normalize_dn(dn).value_or(fold(dn));
    e.dn = std::move(dn);
    e.parent = parent;
    e.domain = domain;
    e.structural = std::move(structural);
    for (auto& [name, values] : attributes) {
      if (values.empty()) continue;
      Attribute a;
      a.key = canonical_attribute(name);
      a.name = std::move(name);
      a.values = std::move(values);
      bool same = true;
      for (const auto& v : a.values) {
        a.folded.push_back(match_form(a.key, v));
        same = same && a.folded.back() == v;
      }
      if (same) a.folded = {};  // most mail and uid values: kept once
      e.attributes.push_back(std::move(a));
    }
    if (parent >= 0) book.entries[static_cast<std::size_t>(parent)].has_children = true;
    book.entries.push_back(std::move(e));
    return static_cast<int>(book.entries.size() - 1);
  }
};

std::string default_base(std::string_view domain) {
  std::string out;
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    if (!out.empty()) out += ',';
    out += "dc=" + escape_dn_value(domain.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

std::string_view domain_of(std::string_view address) {
  auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

std::string_view local_of(std::string_view address) {
  auto at = address.rfind('@');
  return at == std::string_view::npos ? address : address.substr(0, at);
}

// The first RDN's type and value of a base DN, for the base entry's own attribute.
std::pair<std::string, std::string> first_rdn(const std::string& dn) {
  LDAPDN parsed = nullptr;
  std::pair<std::string, std::string> out;
  if (ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) == LDAP_SUCCESS && parsed &&
      parsed[0] && parsed[0][0]) {
    out.first = std::string(view(parsed[0][0]->la_attr));
    out.second = std::string(view(parsed[0][0]->la_value));
  }
  ldap_dnfree(parsed);
  return out;
}

// cn: the display name, else the given name and surname, else the local part.
std::string common_name(const sdk::AddressBookPerson& p, std::string_view local) {
  if (!p.display_name.empty()) return p.display_name;
  std::string name = p.given_name;
  if (!p.surname.empty()) name += (name.empty() ? "" : " ") + p.surname;
  return name.empty() ? std::string(local) : name;
}

}  // namespace

std::shared_ptr<const Book> Book::build(const sdk::AddressBook& ab,
                                        const std::map<std::string, std::string>& base_dns) {
  auto book = std::make_shared<Book>();
  book->version = ab.version;
  Builder b{*book, {}};
  std::vector<std::string> domains = ab.domains;
  std::sort(domains.begin(), domains.end());
  std::map<std::string, int, std::less<>> domain_index;
  for (const auto& d : domains) {
    domain_index[d] = static_cast<int>(book->domains.size());
    book->domains.push_back(d);
  }
  std::vector<std::vector<const sdk::AddressBookPerson*>> people(domains.size());
  std::vector<std::vector<const sdk::AddressBookGroup*>> groups(domains.size());
  for (const auto& p : ab.people) {
    auto it = domain_index.find(domain_of(p.address));
    if (it != domain_index.end() && p.enabled) people[it->second].push_back(&p);
  }
  for (const auto& g : ab.groups) {
    auto it = domain_index.find(domain_of(g.address));
    if (it != domain_index.end()) groups[it->second].push_back(&g);
  }
  // DNs first, so that a list can name its members by DN.
  std::vector<std::string> bases;
  for (std::size_t d = 0; d < domains.size(); ++d) {
    auto it = base_dns.find(domains[d]);
    bases.push_back(it != base_dns.end() ? it->second : default_base(domains[d]));
    for (const auto* p : people[d])
      b.dn_of[p->address] =
          "uid=" + escape_dn_value(local_of(p->address)) + ",ou=people," + bases[d];
    for (const auto* g : groups[d])
      b.dn_of[g->address] =
          "cn=" + escape_dn_value(local_of(g->address)) +
          (g->kind == sdk::AddressBookGroup::Kind::alias ? ",ou=aliases," : ",ou=lists,") +
          bases[d];
  }
  using Attrs = std::vector<std::pair<std::string, std::vector<std::string>>>;
  for (std::size_t d = 0; d < domains.size(); ++d) {
    int di = static_cast<int>(d);
    int first = static_cast<int>(book->entries.size());
    auto [rdn_type, rdn_value] = first_rdn(bases[d]);
    std::string type = canonical_attribute(rdn_type);
    std::string structural = type == "dc"   ? "domain"
                             : type == "o"  ? "organization"
                             : type == "ou" ? "organizationalUnit"
                                            : "extensibleObject";
    Attrs base_attrs{{"objectClass", {"top", structural}}};
    if (!rdn_type.empty()) base_attrs.push_back({rdn_type, {rdn_value}});
    int base = b.add(bases[d], -1, di, structural, std::move(base_attrs));
    book->naming_contexts.push_back(base);
    auto ou = [&](const char* name) {
      return b.add(std::string("ou=") + name + "," + bases[d], base, di, "organizationalUnit",
                   Attrs{{"objectClass", {"top", "organizationalUnit"}}, {"ou", {name}}});
    };
    int people_ou = ou("people");
    int aliases_ou = ou("aliases");
    int lists_ou = ou("lists");
    for (const auto* p : people[d]) {
      std::string local(local_of(p->address));
      std::string cn = common_name(*p, local);
      Attrs attrs{{"objectClass", {"top", "person", "organizationalPerson", "inetOrgPerson"}},
                  {"cn", {cn}},
                  {"sn", {p->surname.empty() ? cn : p->surname}},
                  {"uid", {local}},
                  {"mail", {p->address}}};
      if (!p->given_name.empty()) attrs.push_back({"givenName", {p->given_name}});
      if (!p->display_name.empty()) attrs.push_back({"displayName", {p->display_name}});
      if (!p->phones.empty()) attrs.push_back({"telephoneNumber", p->phones});
      if (!p->title.empty()) attrs.push_back({"title", {p->title}});
      if (!p->department.empty()) attrs.push_back({"ou", {p->department}});
      if (!p->organization.empty()) attrs.push_back({"o", {p->organization}});
      int e = b.add(b.dn_of[p->address], people_ou, di, "inetOrgPerson", std::move(attrs));
      book->entries[static_cast<std::size_t>(e)].address = p->address;
    }
    for (const auto* g : groups[d]) {
      bool alias = g->kind == sdk::AddressBookGroup::Kind::alias;
      std::string local(local_of(g->address));
      Attrs attrs;
      if (alias) {
        attrs = {{"objectClass", {"top", "nisMailAlias", "extensibleObject"}},
                 {"cn", {local}},
                 {"mail", {g->address}},
                 {"rfc822MailMember", g->members}};
      } else {
        std::vector<std::string> member_dns;
        for (const auto& m : g->members) {
          auto it = b.dn_of.find(m);
          if (it != b.dn_of.end()) member_dns.push_back(it->second);
        }
        attrs = {{"objectClass", {"top", "groupOfNames", "extensibleObject"}},
                 {"cn", {local}},
                 {"mail", {g->address}},
                 {"member", std::move(member_dns)},
                 {"rfc822MailMember", g->members}};
      }
      b.add(b.dn_of[g->address], alias ? aliases_ou : lists_ou, di,
            alias ? "nisMailAlias" : "groupOfNames", std::move(attrs));
    }
    book->domain_range.emplace_back(first, static_cast<int>(book->entries.size()));
  }
  for (std::size_t i = 0; i < book->entries.size(); ++i) {
    const Entry& e = book->entries[i];
    book->by_ndn_.emplace(e.ndn, static_cast<int>(i));
    for (const char* key : {"mail", "uid", "cn"})
      if (const Attribute* a = e.find(key))
        for (const auto& v : a->matching())
          book->index_[key][v].push_back(static_cast<int>(i));
    // The attributes address-book clients search by substring (Thunderbird: cn, mail,
    // givenName, sn; Outlook: displayName, ...).
    for (const char* key : {"cn", "mail", "givenname", "sn", "displayname", "uid"})
      if (const Attribute* a = e.find(key)) {
        Column& c = book->columns_[key];
        for (const auto& v : a->matching()) {
          c.starts.push_back(c.text.size());
          c.owners.push_back(static_cast<int>(i));
          c.text += v;
          c.text += '\0';
        }
      }
  }
  return book;
}

std::optional<std::vector<int>> Book::containing(std::string_view key,
                                                 std::string_view folded) const {
  auto it = columns_.find(std::string(key));
  if (it == columns_.end() || folded.empty() ||
      std::memchr(folded.data(), 0, folded.size()) != nullptr)
    return std::nullopt;
  const Column& c = it->second;
  std::vector<int> out;
  std::boyer_moore_horspool_searcher search(folded.begin(), folded.end());
  auto pos = c.text.begin();
  while (true) {
    pos = std::search(pos, c.text.end(), search);
    if (pos == c.text.end()) break;
    std::size_t at = static_cast<std::size_t>(pos - c.text.begin());
    // The value holding the match, then on to the next value.
    auto value = std::upper_bound(c.starts.begin(), c.starts.end(), at) - 1;
    std::size_t index = static_cast<std::size_t>(value - c.starts.begin());
    int owner = c.owners[index];
    if (out.empty() || out.back() != owner) out.push_back(owner);
    if (index + 1 >= c.starts.size()) break;
    pos = c.text.begin() + static_cast<std::ptrdiff_t>(c.starts[index + 1]);
  }
  return out;
}

const Entry* Book::by_ndn(std::string_view ndn) const {
  int i = index_of(ndn);
  return i < 0 ? nullptr : &entries[static_cast<std::size_t>(i)];
}

int Book::index_of(std::string_view ndn) const {
  auto it = by_ndn_.find(ndn);
  return it == by_ndn_.end() ? -1 : it->second;
}

const std::vector<int>* Book::lookup(std::string_view key, std::string_view folded) const {
  auto it = index_.find(std::string(key));
  if (it == index_.end()) return nullptr;
  static const std::vector<int> none;
  auto v = it->second.find(folded);
  return v == it->second.end() ? &none : &v->second;
}

bool Book::in_scope(int e, int base, int scope) const {
  if (base < 0) {  // the root: its children are the naming contexts
    if (scope == 0) return false;
    return scope == 2 || entries[static_cast<std::size_t>(e)].parent < 0;
  }
  if (scope == 0) return e == base;
  if (scope == 1) return entries[static_cast<std::size_t>(e)].parent == base;
  for (int p = e; p >= 0; p = entries[static_cast<std::size_t>(p)].parent)
    if (p == base) return scope == 2 || p != e;
  return false;
}

void BookCache::set_base_dns(std::map<std::string, std::string> base_dns) {
  std::lock_guard lock(mutex_);
  if (base_dns == base_dns_) return;
  base_dns_ = std::move(base_dns);
  ++base_dns_generation_;
}

std::shared_ptr<const Book> BookCache::get(sdk::Directory& directory) {
  // The directory's version is read at most once per kRecheck: under a search load that saves a
  // call per search into the directory's lock, and a change is still seen within a millisecond.
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (book_ && book_->version == checked_version_ && built_generation_ == base_dns_generation_ &&
        now - checked_at_ < kRecheck)
      return book_;
  }
  std::uint64_t version = directory.version();
  {
    std::lock_guard lock(mutex_);
    checked_version_ = version;
    checked_at_ = now;
  }
  auto current = [&]() -> std::shared_ptr<const Book> {
    std::lock_guard lock(mutex_);
    if (book_ && book_->version == version && built_generation_ == base_dns_generation_)
      return book_;
    return nullptr;
  };
  if (auto b = current()) return b;
  // One thread reads the directory again; the others go on with the book they had meanwhile
  // (a large directory takes a second or more to read and index).
  std::unique_lock build(build_mutex_, std::try_to_lock);
  if (!build.owns_lock()) {
    {
      std::lock_guard lock(mutex_);
      if (book_ && built_generation_ == base_dns_generation_) return book_;
    }
    build.lock();
  }
  if (auto b = current()) return b;
  std::map<std::string, std::string> bases;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    bases = base_dns_;
    generation = base_dns_generation_;
  }
  sdk::AddressBook ab = directory.address_book("");
  if (ab.version == 0 && ab.domains.empty()) {  // the directory could not be read
    std::lock_guard lock(mutex_);
    if (book_) return book_;
    return std::make_shared<Book>();
  }
  auto book = Book::build(ab, bases);
  std::lock_guard lock(mutex_);
  book_ = book;
  built_generation_ = generation;
  return book;
}

}  // namespace portico::ldap
