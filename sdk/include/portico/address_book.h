// Portico SDK — the directory as an address book (SDK 1.5): every local domain's people, aliases
// and distribution lists with the attributes mail clients look people up by, for the ldap
// plugin and any other that publishes the directory (never a password hash or SCRAM secret).
//
// A plugin reads the whole book once (Directory::address_book) and keeps it in memory with its
// own indexes; Directory::version() says cheaply whether it must read it again. These structs
// are frozen from 1.5 on, as abi.h's rules say.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace portico::sdk {

// One account, as the address book shows it.
struct AddressBookPerson {
  std::string address;              // canonical form
  std::string display_name;         // may be empty
  std::string given_name;           // may be empty
  std::string surname;              // may be empty
  std::string title;                // job title; may be empty
  std::string department;           // may be empty
  std::string organization;         // may be empty
  std::vector<std::string> phones;  // as the operator wrote them, in the order given
  bool enabled = true;
};

// An alias or a distribution list, with its targets or members as stored (not expanded).
struct AddressBookGroup {
  enum class Kind { alias, list };
  Kind kind = Kind::alias;
  std::string address;  // canonical form
  std::vector<std::string> members;
};

struct AddressBook {
  std::uint64_t version = 0;         // Directory::version() when it was read
  std::vector<std::string> domains;  // the local domains (all, or the one asked for)
  std::vector<AddressBookPerson> people;
  std::vector<AddressBookGroup> groups;
};

}  // namespace portico::sdk
