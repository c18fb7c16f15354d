// Maildir import and export: a generated Dovecot-style Maildir++ (multipart/mixed with a base64
// attachment, multipart/alternative, RFC 2047 headers, flags D F P R S T and a keyword) goes in
// and comes back out with byte-identical bodies, the same flags and the same dates.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <fstream>
#include <map>

#include "core/store/files.h"
#include "core/store/maildir.h"
#include "store_test_util.h"

namespace portico::test {
namespace {

constexpr const char* dana = "dana@example.net";

struct Original {
  std::string folder;  // "" for INBOX, ".Sent", ...
  std::string sub;     // cur or new
  std::string info;    // after ":2," (cur only)
  std::string body;
  std::int64_t date;
};

std::string lf(std::string s) {  // Maildir files usually hold LF line ends
  std::string out;
  for (char c : s) {
    if (c != '\r') out += c;
  }
  return out;
}

std::vector<Original> originals() {
  return {
      {"", "cur", "S", lf(mime_message("i1")), 1700000001},
      {"", "cur", "FRS", lf(simple_message("i2", "Replied and flagged")), 1700000002},
      {"", "new", "", lf(simple_message("i3", "Unread, in new/")), 1700000003},
      {"", "cur", "PSa", lf(simple_message("i4", "Forwarded with a keyword")), 1700000004},
      {".Sent", "cur", "S", simple_message("s1", "CRLF kept as is"), 1700000005},
      {".Drafts", "cur", "DS", lf(simple_message("d1", "draft")), 1700000006},
      {".Trash", "cur", "ST", lf(mime_message("t1")), 1700000007},
      {".Archive.2023", "cur", "", lf(simple_message("a1", "old")), 1700000008},
  };
}

void write_maildir(const fs::path& root) {
  int n = 0;
  for (const auto& o : originals()) {
    fs::path folder = o.folder.empty() ? root : root / o.folder;
    for (const char* sub : {"cur", "new", "tmp"})
      fs::create_directories(folder / sub);
    std::string name = std::to_string(o.date) + ".M" + std::to_string(n++) + "P1.host";
    if (o.sub == "cur") name += ":2," + o.info;
    fs::path file = folder / o.sub / name;
    std::ofstream(file, std::ios::binary) << o.body;
    struct utimbuf t {};
    t.actime = t.modtime = static_cast<time_t>(o.date);
    ::utime(file.c_str(), &t);
  }
  std::ofstream(root / "dovecot-keywords") << "0 $Work\n";
}

// body -> (folder, info letters) of every message file under a Maildir.
std::map<std::string, std::pair<std::string, std::string>> read_maildir(const fs::path& root) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    auto parent = e.path().parent_path();
    if (parent.filename() != "cur" && parent.filename() != "new") continue;
    std::string folder =
        parent.parent_path() == root ? "" : parent.parent_path().filename().string();
    std::string name = e.path().filename().string();
    auto info = name.rfind(":2,");
    out[core::store::read_file(e.path())] = {
        folder, info == std::string::npos ? "" : name.substr(info + 3)};
  }
  return out;
}

TEST(Maildir, FlagLetters) {
  std::vector<std::string> letters(26);
  letters[0] = "$Work";
  auto f = core::store::flags_from_info("DFPRSTa", letters);
  EXPECT_EQ(f.system, sdk::flag_draft | sdk::flag_flagged | sdk::flag_answered | sdk::flag_seen |
                          sdk::flag_deleted);
  EXPECT_EQ(f.keywords, (std::vector<std::string>{"$Forwarded", "$Work"}));
  EXPECT_EQ(core::store::maildir_info(f, letters), "DFPRSTa");
  EXPECT_EQ(core::store::maildir_info({}, letters), "");
}

TEST(Maildir, ImportThenExportKeepsBodiesFlagsAndDates) {
  TempDir dir;
  fs::path in = dir.path() / "in";
  fs::path out = dir.path() / "out";
  write_maildir(in);
  auto store = core::open_store(dir.path() / "data");
  auto stats = core::store::import_maildir(*store, in, dana);
  EXPECT_EQ(stats.messages, originals().size());
  EXPECT_EQ(stats.mailboxes, 5u);

  auto inbox = store->fetch(dana, "INBOX", {}, true, 0).value;
  ASSERT_EQ(inbox.size(), 4u);
  EXPECT_EQ(inbox[0].flags.system, sdk::flag_seen);
  EXPECT_NE(inbox[0].bodystructure.find("\"PDF\""), std::string::npos);
  EXPECT_EQ(inbox[1].flags.system, sdk::flag_flagged | sdk::flag_answered | sdk::flag_seen);
  EXPECT_EQ(inbox[2].flags.system, 0u);
  EXPECT_EQ(inbox[3].flags.keywords, (std::vector<std::string>{"$Forwarded", "$Work"}));
  EXPECT_EQ(inbox[0].internal_date, 1700000001);
  EXPECT_EQ(store->mailbox_status(dana, "Archive/2023").value.messages, 1u);
  EXPECT_EQ(store->mailbox_status(dana, "Sent").value.special_use, "\\Sent");
  EXPECT_EQ(store->fetch(dana, "Trash", {}, false, 0).value[0].flags.system,
            sdk::flag_seen | sdk::flag_deleted);
  EXPECT_EQ(store->search_header(dana, "INBOX", "Subject", "Grüße").value,
            (std::vector<std::uint32_t>{1}));

  auto exported = core::store::export_maildir(*store, out, dana);
  EXPECT_EQ(exported.messages, originals().size());
  auto before = read_maildir(in);
  auto after = read_maildir(out);
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [body, where] : before) {
    auto it = after.find(body);
    ASSERT_NE(it, after.end()) << "body not exported byte for byte from " << where.first;
    EXPECT_EQ(it->second.first, where.first);
    EXPECT_EQ(it->second.second, where.second) << where.first;
  }
  // Dates survive as mtimes.
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (e.is_regular_file() && e.path().parent_path().filename() == "cur") {
      struct stat st {};
      ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
      EXPECT_GE(st.st_mtime, 1700000001);
      EXPECT_LE(st.st_mtime, 1700000008);
    }
  }
  // And a second import of the export into another account gives the same mailboxes.
  auto again = core::store::import_maildir(*store, out, "erin@example.net");
  EXPECT_EQ(again.messages, originals().size());
}

TEST(Maildir, RefusesWhatIsNotAMaildir) {
  TempDir dir;
  auto store = core::open_store(dir.path());
  EXPECT_THROW(core::store::import_maildir(*store, dir.path() / "missing", dana),
               std::runtime_error);
  fs::create_directories(dir.path() / "empty");
  EXPECT_THROW(core::store::import_maildir(*store, dir.path() / "empty", dana), std::runtime_error);
}

}  // namespace
}  // namespace portico::test
