// Portico core — moving an account in from a Maildir (Dovecot, Postfix, Courier: Maildir++)
// and back out, through the sdk::Store interface (so it works with any backend).
//
// Layout: the root's cur/ and new/ are INBOX; a folder ".A.B" is the mailbox "A/B". Flags
// travel in the ":2," info suffix: D \Draft, F \Flagged, P $Forwarded, R \Answered, S \Seen,
// T \Deleted; letters a-z are keywords named in dovecot-keywords. The file's mtime is the
// internal date. Message octets are copied byte for byte both ways.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "portico/store.h"

namespace portico::core::store {

struct MaildirStats {
  std::size_t mailboxes = 0;
  std::size_t messages = 0;
  std::vector<std::string> warnings;
};

// Appends every message of the Maildir at `dir` to `account`, creating mailboxes as needed.
// Throws std::runtime_error when the folder is not a Maildir or the store fails.
MaildirStats import_maildir(sdk::Store& store, const std::filesystem::path& dir,
                            const std::string& account);
// Writes every mailbox of `account` into the Maildir at `dir` (created if missing).
MaildirStats export_maildir(sdk::Store& store, const std::filesystem::path& dir,
                            const std::string& account);

// The ":2," info letters for flags, and back (keyword letters through `keyword_letters`).
std::string maildir_info(const sdk::Flags& flags, const std::vector<std::string>& keyword_letters);
sdk::Flags flags_from_info(const std::string& info,
                           const std::vector<std::string>& keyword_letters);

}  // namespace portico::core::store
