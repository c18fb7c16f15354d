// addressbench: the cost of the directory's address book (SDK 1.5) over a large directory:
// DirectoryService::address_book() of every domain and of one, and version(). Prints figures;
// passes or fails nothing.
//
//   addressbench [COUNT] [DIR]   COUNT accounts (default 100000) without password (hashing
//                                would dominate), each with every attribute and two phone
//                                numbers, spread over two domains, plus COUNT/50 aliases and
//                                COUNT/100 lists of 10 members; in DIR (default: a temporary
//                                folder, removed at the end). A DIR that already holds a
//                                directory is reused as it is.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/directory/directory.h"

namespace {

using portico::core::AccountAttributes;
using portico::core::open_directory;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string address(std::size_t i) {
  return "user" + std::to_string(i) + (i % 2 ? "@example.org" : "@example.com");
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  std::filesystem::path dir;
  bool temporary = argc <= 2;
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "addressbench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = pattern;
  } else {
    dir = argv[2];
  }
  spdlog::set_level(spdlog::level::warn);  // not a line per account added
  int rc = 0;
  try {
    auto d = open_directory(dir);
    if (d->domains().empty()) {
      d->add_domain("example.com");
      d->add_domain("example.org");
      auto start = Clock::now();
      for (std::size_t i = 0; i < count; ++i) {
        AccountAttributes a;
        a.given_name = "Given" + std::to_string(i);
        a.surname = "Surname" + std::to_string(i);
        a.title = "Engineer";
        a.department = "Department " + std::to_string(i % 40);
        a.organization = "Example Inc.";
        a.phones = std::vector<std::string>{"+1 555 " + std::to_string(i), "+1 555 0100"};
        d->add_account(address(i), "User " + std::to_string(i), 0, std::nullopt, std::nullopt, a);
      }
      double added = seconds_since(start);
      for (std::size_t i = 0; i < count / 50; ++i)
        d->add_alias("alias" + std::to_string(i) + "@example.com", {address(i), address(i + 1)});
      for (std::size_t i = 0; i < count / 100; ++i) {
        std::vector<std::string> members;
        for (std::size_t m = 0; m < 10; ++m)
          members.push_back(address((i * 10 + m) % count));
        d->add_list("list" + std::to_string(i) + "@example.com", members);
      }
      std::printf("built: %zu accounts in %.1f s (%.0f/s), %zu aliases, %zu lists\n", count, added,
                  count / added, count / 50, count / 100);
    }
    auto start = Clock::now();
    auto all = d->address_book("");
    double all_s = seconds_since(start);
    std::printf("address_book(\"\"): %zu people, %zu groups, %zu domains in %.3f s\n",
                all.people.size(), all.groups.size(), all.domains.size(), all_s);
    start = Clock::now();
    auto one = d->address_book("example.com");
    double one_s = seconds_since(start);
    std::printf("address_book(\"example.com\"): %zu people, %zu groups in %.3f s\n",
                one.people.size(), one.groups.size(), one_s);
    constexpr int kCalls = 10000;
    start = Clock::now();
    std::uint64_t v = 0;
    for (int i = 0; i < kCalls; ++i)
      v ^= d->version();
    std::printf("version(): %.2f us per call (%llu)\n", seconds_since(start) / kCalls * 1e6,
                static_cast<unsigned long long>(v));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "addressbench: %s\n", e.what());
    rc = 1;
  }
  if (temporary) std::filesystem::remove_all(dir);
  return rc;
}
