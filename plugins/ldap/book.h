// ldap — the directory as a DIT (RFC 4512): one naming context per local domain (dc=example,
// dc=test, or the operator's base DN), with ou=people (inetOrgPerson per enabled account),
// ou=aliases (nisMailAlias with rfc822MailMember) and ou=lists (groupOfNames with member DNs),
// built in memory from the directory's address book, with indexes for equality on mail, uid and
// cn, and the evaluation of search filters with each attribute's matching rule.
//
// Guarantees: a Book is immutable once built and shared between threads; it never holds a
// password hash or SCRAM secret (the address book it is built from has none); evaluation is
// three-valued (RFC 4511 section 4.5.1.7: TRUE, FALSE, Undefined).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "portico/address_book.h"
#include "portico/directory.h"
#include "protocol.h"

namespace portico::ldap {

// Lower-cases ASCII, trims and collapses whitespace (caseIgnoreMatch, approximately RFC 4518).
std::string fold(std::string_view value);
// telephoneNumberMatch: case-folded with spaces and hyphens removed.
std::string fold_phone(std::string_view value);
// A value of the attribute type `key` (canonical) in the form its equality rule compares:
// telephoneNumber as fold_phone, DN-valued ones as normalize_dn, the rest as fold.
std::string match_form(std::string_view key, std::string_view value);
// A DN in one normal form (RFC 4514 spacing and escaping via libldap, then lower case);
// nullopt when it is not a valid DN. "" stays "".
std::optional<std::string> normalize_dn(std::string_view dn);
// RFC 4514 escaping of one attribute value for a DN.
std::string escape_dn_value(std::string_view value);
// The canonical lower-case name of an attribute type or one of its aliases ("surname" -> "sn").
std::string canonical_attribute(std::string_view name);

struct Attribute {
  std::string name;                 // as published ("givenName")
  std::string key;                  // canonical lower case ("givenname")
  std::vector<std::string> values;  // as published
  std::vector<std::string> folded;  // for matching, same order; empty when equal to values
  const std::vector<std::string>& matching() const { return folded.empty() ? values : folded; }
};

struct Entry {
  std::string dn;
  std::string ndn;
  int parent = -1;      // index of the parent entry; -1 for a naming context
  int domain = -1;      // index in Book::domains
  std::string address;  // a person's account address ("" for other entries)
  std::string structural;
  bool has_children = false;
  std::vector<Attribute> attributes;
  const Attribute* find(std::string_view key) const;
};

enum class Truth { false_, true_, undefined };

class Book {
 public:
  // base_dns: domain -> DN, from the `base_dn` setting (others get dc= components).
  static std::shared_ptr<const Book> build(const sdk::AddressBook& book,
                                           const std::map<std::string, std::string>& base_dns);

  std::uint64_t version = 0;
  std::vector<std::string> domains;  // names, by index
  std::vector<int> naming_contexts;  // entry index of each domain's base
  std::vector<Entry> entries;        // every domain's entries, base first, contiguous per domain
  std::vector<std::pair<int, int>> domain_range;  // [first, last) entry indexes per domain

  const Entry* by_ndn(std::string_view ndn) const;
  int index_of(std::string_view ndn) const;
  // Entries whose (canonical) attribute has this folded value, or nullptr when that attribute
  // has no index.
  const std::vector<int>* lookup(std::string_view key, std::string_view folded) const;
  // Whether entry e is base or below it within `scope` (0 base, 1 one level, 2 subtree).
  bool in_scope(int e, int base, int scope) const;
  // The entries with a value of this (canonical) attribute that contains `folded`, in entry
  // order, each once; nullopt when that attribute has no substring index. Substring searches
  // scan one contiguous string per attribute instead of every entry.
  std::optional<std::vector<int>> containing(std::string_view key, std::string_view folded) const;

 private:
  // Every folded value of one attribute, NUL-separated, with where each starts and whose it is.
  struct Column {
    std::string text;
    std::vector<std::size_t> starts;
    std::vector<int> owners;
  };
  std::unordered_map<std::string, Column> columns_;
  // Keys view the entries' own strings (the entries do not change once built).
  std::unordered_map<std::string_view, int> by_ndn_;
  std::unordered_map<std::string, std::unordered_map<std::string_view, std::vector<int>>> index_;
};

// The filter with canonical attribute types and its assertion values in their matching forms,
// ready for evaluate(). Done once per search, not once per entry.
Filter prepare(const Filter& filter);
// Evaluates a prepared filter against an entry (dn_attributes of extensible matches look at its
// DN).
Truth evaluate(const Filter& filter, const Entry& entry);
// Whether an attribute type is one this server knows (unknown ones make a filter Undefined).
bool known_attribute(std::string_view key);

// Reads the address book again only when the directory's version has changed (looked at no more
// than once a millisecond). Thread-safe; call from a worker thread (it reads the directory).
class BookCache {
 public:
  std::shared_ptr<const Book> get(sdk::Directory& directory);
  void set_base_dns(std::map<std::string, std::string> base_dns);

 private:
  std::mutex mutex_;
  std::mutex build_mutex_;
  std::shared_ptr<const Book> book_;
  std::map<std::string, std::string> base_dns_;
  std::uint64_t base_dns_generation_ = 0;
  std::uint64_t built_generation_ = 0;
  static constexpr std::chrono::milliseconds kRecheck{1};
  std::uint64_t checked_version_ = 0;
  std::chrono::steady_clock::time_point checked_at_{};
};

}  // namespace portico::ldap
