// bench/ldap/booksearch — the ldap plugin's in-memory DIT on N synthetic people (default
// 100,000): how long building it takes, what it holds in memory, and the cost of one search by
// equality on mail, by substring on cn (with and without matches) and Thunderbird's query (an OR
// of four substrings), each including the encoding of its replies (size limit 500). Pure
// computation, one thread: the figures are the searches' own cost, without sockets.
//   booksearch [PEOPLE]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "search.h"

using namespace portico::ldap;

namespace {

long rss_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::string(field).size());
  return -1;
}

Filter substring(const char* attribute, const char* piece) {
  Filter f;
  f.kind = Filter::Kind::substrings;
  f.attribute = attribute;
  f.any = {piece};
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  const char* given[] = {"Anna",  "Boris", "Clara", "David", "Emma",   "Felix",
                         "Grace", "Henry", "Iris",  "Jack",  "Smilla", "Omar"};
  const char* surnames[] = {"Smith",  "Jones",  "Brown",  "Miller", "Davis",
                            "Garcia", "Wilson", "Moore",  "Taylor", "Smithson",
                            "Lee",    "Clark",  "Walker", "Hall",   "Young"};
  std::shared_ptr<const Book> book;
  long before = 0;
  {
    portico::sdk::AddressBook ab;
    ab.version = 1;
    ab.domains = {"example.test"};
    for (int i = 1; i <= n; ++i) {
      portico::sdk::AddressBookPerson p;
      p.address = "user" + std::to_string(i) + "@example.test";
      p.given_name = given[i % 12];
      p.surname = surnames[(i / 12) % 15];
      p.phones = {"+1 555 " + std::to_string(1000 + i % 9000)};
      ab.people.push_back(std::move(p));
    }
    before = rss_kib("VmRSS:");
    auto t0 = std::chrono::steady_clock::now();
    book = Book::build(ab, {});
    auto t1 = std::chrono::steady_clock::now();
    std::printf("build %d people: %.0f ms, book %.1f MiB (RSS %ld -> %ld KiB)\n", n,
                std::chrono::duration<double, std::milli>(t1 - t0).count(),
                (rss_kib("VmRSS:") - before) / 1024.0, before, rss_kib("VmRSS:"));
  }
  auto run = [&](const char* label, const Filter& f, int reps) {
    SearchJob job;
    job.id = 2;
    job.all_domains = true;
    job.size_limit = 500;
    job.request.base = "dc=example,dc=test";
    job.request.scope = 2;
    job.request.filter = f;
    job.request.attributes = {"cn", "mail", "telephoneNumber"};
    std::size_t entries = 0;
    auto a = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r)
      entries = run_search(book, job, nullptr, "c").entries;
    auto b = std::chrono::steady_clock::now();
    std::printf("%-40s %9.1f us/search  %zu entries\n", label,
                std::chrono::duration<double, std::micro>(b - a).count() / reps, entries);
  };
  Filter eq;
  eq.kind = Filter::Kind::equality;
  eq.attribute = "mail";
  eq.value = "user4242@example.test";
  run("(mail=user4242@example.test)", eq, 20000);
  run("(cn=*smi*), size limit 500", substring("cn", "smi"), 100);
  run("(cn=*zzz*), no match", substring("cn", "zzz"), 100);
  Filter thunderbird;
  thunderbird.kind = Filter::Kind::or_;
  for (const char* a : {"cn", "mail", "givenname", "sn"})
    thunderbird.children.push_back(substring(a, "omar smith"));
  run("(|(cn=*x*)(mail=*x*)(givenName=*x*)(sn=*x*))", thunderbird, 100);
  std::printf("peak RSS %ld KiB\n", rss_kib("VmHWM:"));
}
