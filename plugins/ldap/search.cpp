// ldap — search and compare over a Book (see search.h).
#include "search.h"

#include <ldap.h>

#include <algorithm>
#include <set>

namespace portico::ldap {

namespace {

constexpr const char* kPagedOid = LDAP_CONTROL_PAGEDRESULTS;
constexpr const char* kSortResponseOid = LDAP_CONTROL_SORTRESPONSE;
constexpr const char* kVlvResponseOid = LDAP_CONTROL_VLVRESPONSE;
// The draft's result codes.
constexpr int kSortControlMissing = 60;
constexpr int kOffsetRangeError = 61;

bool visible(const Book& book, const Entry& e, const SearchJob& job) {
  return job.all_domains || book.domains[static_cast<std::size_t>(e.domain)] == job.domain;
}

// Which attributes to return (RFC 4511 section 4.5.1.8).
struct Selection {
  bool all_user = false;
  bool all_operational = false;
  std::set<std::string, std::less<>> names;

  // No list means every user attribute; "1.1" alone means none (RFC 4511 section 4.5.1.8).
  explicit Selection(const std::vector<std::string>& requested) {
    for (const auto& r : requested) {
      if (r == "*") {
        all_user = true;
      } else if (r == "+") {
        all_operational = true;
      } else if (r != "1.1") {
        names.insert(canonical_attribute(r));
      }
    }
    if (requested.empty()) all_user = true;
  }
  bool user(std::string_view key) const { return all_user || names.count(key) != 0; }
  bool operational(std::string_view key) const { return all_operational || names.count(key) != 0; }
};

void encode_one(std::string& out, std::int32_t id, const Entry& e, const Selection& sel,
                bool types_only) {
  std::vector<OutAttribute> attrs;
  attrs.reserve(e.attributes.size() + 3);
  for (const auto& a : e.attributes)
    if (sel.user(a.key)) attrs.push_back({a.name, &a.values});
  // Operational attributes, computed (RFC 4512 section 3.4, RFC 5020).
  std::vector<std::string> entry_dn{e.dn}, structural{e.structural},
      subordinates{e.has_children ? "TRUE" : "FALSE"};
  if (sel.operational("entrydn")) attrs.push_back({"entryDN", &entry_dn});
  if (sel.operational("structuralobjectclass"))
    attrs.push_back({"structuralObjectClass", &structural});
  if (sel.operational("hassubordinates")) attrs.push_back({"hasSubordinates", &subordinates});
  encode_entry(out, id, e.dn, attrs, types_only);
}

// The root DSE as an entry; its attributes are operational except objectClass.
Entry root_dse(const Book& book, const SearchJob& job) {
  Entry e;
  auto add = [&](const char* name, std::vector<std::string> values) {
    if (values.empty()) return;
    Attribute a;
    a.name = name;
    a.key = canonical_attribute(name);
    a.values = std::move(values);
    for (const auto& v : a.values)
      a.folded.push_back(fold(v));
    e.attributes.push_back(std::move(a));
  };
  std::vector<std::string> contexts;
  for (int i : book.naming_contexts) {
    const Entry& c = book.entries[static_cast<std::size_t>(i)];
    if (visible(book, c, job)) contexts.push_back(c.dn);
  }
  std::vector<std::string> extensions;
  if (job.facts.starttls_offered) extensions.push_back(LDAP_EXOP_START_TLS);
  extensions.push_back(LDAP_EXOP_WHO_AM_I);
  add("objectClass", {"top", "extensibleObject"});
  add("namingContexts", std::move(contexts));
  add("supportedLDAPVersion", {"3"});
  add("supportedControl",
      {LDAP_CONTROL_PAGEDRESULTS, LDAP_CONTROL_SORTREQUEST, LDAP_CONTROL_VLVREQUEST});
  add("supportedExtension", std::move(extensions));
  // RFC 3673 (all operational attributes), RFC 4526 (absolute true and false filters).
  add("supportedFeatures", {"1.3.6.1.4.1.4203.1.5.1", "1.3.6.1.4.1.4203.1.5.3"});
  add("vendorName", {"Portico"});
  add("vendorVersion", {job.facts.vendor_version});
  e.structural = "extensibleObject";
  return e;
}

void encode_root_dse(std::string& out, std::int32_t id, const Entry& e, const Selection& sel,
                     bool types_only) {
  std::vector<OutAttribute> attrs;
  for (const auto& a : e.attributes)
    if (a.key == "objectclass" ? sel.user(a.key) : sel.operational(a.key))
      attrs.push_back({a.name, &a.values});
  encode_entry(out, id, "", attrs, types_only);
}

// An index that narrows the candidates: equality on mail, uid or cn at the top of the (prepared)
// filter or in a top-level AND.
const std::vector<int>* indexed(const Book& book, const Filter& f) {
  if (f.kind == Filter::Kind::equality &&
      (f.attribute == "mail" || f.attribute == "uid" || f.attribute == "cn"))
    return book.lookup(f.attribute, f.value);
  if (f.kind == Filter::Kind::and_)
    for (const auto& c : f.children)
      if (const auto* v = indexed(book, c)) return v;
  return nullptr;
}

// Candidates from the substring columns: a substring filter on an indexed attribute (its longest
// piece), an OR whose every branch narrows (the union), an AND with one branch that narrows.
// Every candidate is still evaluated against the whole filter.
std::optional<std::vector<int>> narrowed(const Book& book, const Filter& f) {
  switch (f.kind) {
    case Filter::Kind::substrings: {
      const std::string* longest = nullptr;
      if (f.initial) longest = &*f.initial;
      for (const auto& a : f.any)
        if (longest == nullptr || a.size() > longest->size()) longest = &a;
      if (f.final_ && (longest == nullptr || f.final_->size() > longest->size()))
        longest = &*f.final_;
      if (longest == nullptr || longest->size() < 2) return std::nullopt;
      return book.containing(f.attribute, *longest);
    }
    case Filter::Kind::equality: {
      if (const auto* hits = indexed(book, f)) return *hits;
      return std::nullopt;
    }
    case Filter::Kind::or_: {
      std::vector<int> all;
      for (const auto& c : f.children) {
        auto part = narrowed(book, c);
        if (!part) return std::nullopt;
        std::vector<int> merged;
        merged.reserve(all.size() + part->size());
        std::set_union(all.begin(), all.end(), part->begin(), part->end(),
                       std::back_inserter(merged));
        all.swap(merged);
      }
      return all;
    }
    case Filter::Kind::and_:
      for (const auto& c : f.children)
        if (auto part = narrowed(book, c)) return part;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// The least (or, reversed, greatest) folded value of an attribute, for sorting.
const std::string* sort_value(const Entry& e, const SortKey& key) {
  const Attribute* a = e.find(canonical_attribute(key.attribute));
  if (a == nullptr || a->matching().empty()) return nullptr;
  auto it = key.reverse ? std::max_element(a->matching().begin(), a->matching().end())
                        : std::min_element(a->matching().begin(), a->matching().end());
  return &*it;
}

// Sorts the matches by the keys (RFC 2891) when every key can be used; returns the sortResult.
int sort_matches(const Book& book, const std::vector<SortKey>& keys, std::vector<int>& matches) {
  for (const auto& k : keys) {
    if (!k.ordering_rule.empty()) return inappropriate_matching;
    if (!known_attribute(canonical_attribute(k.attribute))) return no_such_attribute;
  }
  std::stable_sort(matches.begin(), matches.end(), [&](int a, int b) {
    const Entry& ea = book.entries[static_cast<std::size_t>(a)];
    const Entry& eb = book.entries[static_cast<std::size_t>(b)];
    for (const auto& k : keys) {
      const std::string* va = sort_value(ea, k);
      const std::string* vb = sort_value(eb, k);
      if (va == nullptr && vb == nullptr) continue;
      // RFC 2891 section 1.2: a missing attribute is larger than every value.
      if (va == nullptr) return k.reverse;
      if (vb == nullptr) return !k.reverse;
      if (*va == *vb) continue;
      return k.reverse ? *va > *vb : *va < *vb;
    }
    return false;
  });
  return success;
}

// The 0-based target of a virtual list view over the sorted matches (draft section 6.2): an
// offset scaled from the client's content count to ours, or the first entry whose first sort
// key is at least the assertion value. By offset, v.offset is not 0.
std::size_t vlv_target(const Book& book, const VlvRequest& v, const SortKey& key,
                       const std::vector<int>& matches) {
  const std::size_t count = matches.size();
  if (v.by_offset) {
    double position = v.content_count == 0
                          ? v.offset
                          : static_cast<double>(v.offset) * static_cast<double>(count) /
                                static_cast<double>(v.content_count);
    std::size_t one_based = static_cast<std::size_t>(position + 0.5);
    return std::clamp<std::size_t>(one_based, 1, count == 0 ? 1 : count) - 1;
  }
  const std::string want = match_form(canonical_attribute(key.attribute), v.greater_or_equal);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string* value = sort_value(book.entries[static_cast<std::size_t>(matches[i])], key);
    if (value != nullptr && (key.reverse ? *value <= want : *value >= want)) return i;
  }
  return count;
}

}  // namespace

std::string paged_key(const SearchRequest& r) {
  std::string key = r.base + '\n' + std::to_string(r.scope) + '\n' + to_string(r.filter);
  for (const auto& a : r.attributes)
    key += '\n' + a;
  return key;
}

SearchOutput run_search(const std::shared_ptr<const Book>& book_ptr, const SearchJob& job,
                        std::unique_ptr<PagedState> state, const std::string& cookie_for_more) {
  const Book& book = *book_ptr;
  const SearchRequest& r = job.request;
  const Filter filter = prepare(r.filter);
  SearchOutput out;
  Selection sel(r.attributes);
  std::vector<ResponseControl> controls;
  auto finish = [&](int code, std::string message = {}) {
    out.result.code = code;
    out.result.message = std::move(message);
    encode_result(out.pdus, job.id, LDAP_RES_SEARCH_RESULT, out.result, controls);
    return std::move(out);
  };

  auto base_ndn = normalize_dn(r.base);
  if (!base_ndn) return finish(invalid_dn_syntax, "invalid base DN");
  if (base_ndn->empty() && r.scope == 0) {  // the root DSE
    Entry dse = root_dse(book, job);
    if (evaluate(filter, dse) == Truth::true_) {
      encode_root_dse(out.pdus, job.id, dse, sel, r.types_only);
      out.entries = 1;
    }
    return finish(success);
  }
  int base = -1;
  if (!base_ndn->empty()) {
    base = book.index_of(*base_ndn);
    if (base < 0 || !visible(book, book.entries[static_cast<std::size_t>(base)], job))
      return finish(no_such_object, "no such entry");
  }

  auto deadline = std::chrono::steady_clock::now() + job.time_limit;
  bool timed_out = false;
  if (!state) {
    state = std::make_unique<PagedState>();
    state->book = book_ptr;
    state->key = paged_key(r);
    auto consider = [&](int i) {
      const Entry& e = book.entries[static_cast<std::size_t>(i)];
      if (visible(book, e, job) && book.in_scope(i, base, r.scope) &&
          evaluate(filter, e) == Truth::true_)
        state->matches.push_back(i);
    };
    std::size_t checked = 0;
    // Without sorting or paging, one match past the size limit is all there is to know.
    const std::size_t enough = !job.sort && !job.paged && !job.vlv && job.size_limit > 0
                                   ? static_cast<std::size_t>(job.size_limit) + 1
                                   : static_cast<std::size_t>(-1);
    auto out_of_time = [&] {
      return job.time_limit.count() > 0 && (++checked & 255) == 0 &&
             std::chrono::steady_clock::now() > deadline;
    };
    if (auto candidates = narrowed(book, filter)) {
      for (int i : *candidates) {
        consider(i);
        if (state->matches.size() >= enough) break;
        if (out_of_time()) {
          timed_out = true;
          break;
        }
      }
    } else if (r.scope == 0) {
      consider(base);
    } else {
      for (std::size_t d = 0; d < book.domains.size() && !timed_out; ++d) {
        auto [first, last] = book.domain_range[d];
        if (base >= 0 && (base < first || base >= last)) continue;
        if (!job.all_domains && book.domains[d] != job.domain) continue;
        for (int i = first; i < last && state->matches.size() < enough; ++i) {
          consider(i);
          if (out_of_time()) {
            timed_out = true;
            break;
          }
        }
      }
    }
    if (job.sort) {
      const auto& keys = *job.sort;
      int sort_code = sort_matches(book, keys, state->matches);
      controls.push_back({kSortResponseOid, sort_result_value(sort_code)});
      if (sort_code != success && job.sort_critical) {
        return finish(unavailable_critical_extension, "cannot sort by that attribute");
      }
    }
  }

  if (job.vlv) {
    // The window of the sorted results around the target (the draft's section 6.2).
    const VlvRequest& v = *job.vlv;
    const std::size_t count = state->matches.size();
    if (!job.sort) {
      controls.push_back({kVlvResponseOid, vlv_response_value(0, 0, kSortControlMissing)});
      return finish(job.vlv_critical ? unavailable_critical_extension : kSortControlMissing,
                    "a virtual list view needs a sort control");
    }
    if (v.by_offset && v.offset == 0) {
      controls.push_back({kVlvResponseOid, vlv_response_value(0, 0, kOffsetRangeError)});
      return finish(kOffsetRangeError, "offset 0 is out of range");
    }
    const std::size_t target = vlv_target(book, v, job.sort->front(), state->matches);
    std::size_t first = target > static_cast<std::size_t>(v.before) ? target - v.before : 0;
    std::size_t last = std::min(count, target + static_cast<std::size_t>(v.after) + 1);
    if (job.size_limit > 0) last = std::min(last, first + static_cast<std::size_t>(job.size_limit));
    for (std::size_t i = first; i < last; ++i)
      encode_one(out.pdus, job.id, book.entries[static_cast<std::size_t>(state->matches[i])], sel,
                 r.types_only);
    out.entries = last > first ? last - first : 0;
    controls.push_back(
        {kVlvResponseOid, vlv_response_value(static_cast<std::int32_t>(target + 1),
                                             static_cast<std::int32_t>(count), success)});
    return finish(timed_out ? time_limit_exceeded : success);
  }

  const auto& matches = state->matches;
  std::size_t begin = state->next;
  std::size_t end = matches.size();
  bool size_exceeded = false;
  if (job.paged) {
    if (job.paged->size == 0) {  // RFC 2696 section 3: the client gives up the search
      controls.push_back({kPagedOid, paged_results_value(0, "")});
      return finish(success);
    }
    end = std::min(end, begin + static_cast<std::size_t>(job.paged->size));
    if (job.size_limit > 0 && end > static_cast<std::size_t>(job.size_limit)) {
      end = std::max(begin, static_cast<std::size_t>(job.size_limit));
      size_exceeded = end < matches.size();
    }
  } else if (job.size_limit > 0 && end - begin > static_cast<std::size_t>(job.size_limit)) {
    end = begin + static_cast<std::size_t>(job.size_limit);
    size_exceeded = true;
  }
  for (std::size_t i = begin; i < end; ++i)
    encode_one(out.pdus, job.id, book.entries[static_cast<std::size_t>(matches[i])], sel,
               r.types_only);
  out.entries = end - begin;
  if (job.paged) {
    bool more = end < matches.size() && !size_exceeded && !timed_out;
    controls.push_back({kPagedOid, paged_results_value(0, more ? cookie_for_more : "")});
    if (more) {
      state->next = end;
      out.more = std::move(state);
    }
  }
  if (timed_out) return finish(time_limit_exceeded, "time limit exceeded");
  if (size_exceeded) return finish(size_limit_exceeded, "size limit exceeded");
  return finish(success);
}

Result run_compare(const Book& book, const CompareRequest& request, bool all_domains,
                   const std::string& domain) {
  auto ndn = normalize_dn(request.entry);
  if (!ndn) return {invalid_dn_syntax, "", "invalid DN"};
  const Entry* e = book.by_ndn(*ndn);
  if (e == nullptr || (!all_domains && book.domains[static_cast<std::size_t>(e->domain)] != domain))
    return {no_such_object, "", "no such entry"};
  Filter f;
  f.kind = Filter::Kind::equality;
  f.attribute = request.attribute;
  f.value = request.value;
  std::string key = canonical_attribute(request.attribute);
  if (e->find(key) == nullptr) return {no_such_attribute, "", ""};
  return {evaluate(prepare(f), *e) == Truth::true_ ? compare_true : compare_false, "", ""};
}

std::string address_for_dn(const Book& book, const std::string& dn) {
  auto ndn = normalize_dn(dn);
  if (!ndn) return {};
  const Entry* e = book.by_ndn(*ndn);
  return e == nullptr ? std::string() : e->address;
}

}  // namespace portico::ldap
