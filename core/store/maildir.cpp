// Portico core — Maildir import and export (see maildir.h).
#include "core/store/maildir.h"

#include <sys/stat.h>
#include <utime.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/store/files.h"

namespace portico::core::store {

namespace fs = std::filesystem;

namespace {

constexpr const char* forwarded = "$Forwarded";
// Dovecot keyword letters a..z.
constexpr std::size_t max_keyword_letters = 26;

std::vector<std::string> read_keywords(const fs::path& root) {
  std::vector<std::string> out(max_keyword_letters);
  std::ifstream in(root / "dovecot-keywords");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::size_t index;
    std::string name;
    if (ss >> index >> name && index < max_keyword_letters) out[index] = name;
  }
  return out;
}

void write_keywords(const fs::path& root, const std::vector<std::string>& letters) {
  if (std::all_of(letters.begin(), letters.end(), [](const auto& k) { return k.empty(); })) return;
  std::ofstream out(root / "dovecot-keywords", std::ios::trunc);
  for (std::size_t i = 0; i < letters.size(); ++i) {
    if (!letters[i].empty()) out << i << ' ' << letters[i] << '\n';
  }
}

bool is_maildir(const fs::path& dir) {
  return fs::is_directory(dir / "cur") || fs::is_directory(dir / "new");
}

struct Folder {
  std::string mailbox;
  fs::path path;
};

std::vector<Folder> folders_of(const fs::path& root) {
  std::vector<Folder> out;
  if (is_maildir(root)) out.push_back({"INBOX", root});
  std::vector<Folder> subs;
  for (const auto& e : fs::directory_iterator(root)) {
    std::string name = e.path().filename().string();
    if (!e.is_directory() || name.size() < 2 || name[0] != '.' || name == "..") continue;
    if (!is_maildir(e.path())) continue;
    std::string mailbox = name.substr(1);
    std::replace(mailbox.begin(), mailbox.end(), '.', '/');
    subs.push_back({mailbox, e.path()});
  }
  std::sort(subs.begin(), subs.end(),
            [](const Folder& a, const Folder& b) { return a.mailbox < b.mailbox; });
  out.insert(out.end(), subs.begin(), subs.end());
  return out;
}

std::int64_t mtime_of(const fs::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_mtime) : 0;
}

template <class T>
T value_or_throw(sdk::StoreResult<T> r, const std::string& what) {
  if (!r.ok()) throw std::runtime_error(what + ": " + r.message);
  return std::move(r.value);
}

}  // namespace

std::string maildir_info(const sdk::Flags& flags, const std::vector<std::string>& letters) {
  std::string out;
  if (flags.system & sdk::flag_draft) out += 'D';
  if (flags.system & sdk::flag_flagged) out += 'F';
  if (std::find(flags.keywords.begin(), flags.keywords.end(), forwarded) != flags.keywords.end()) {
    out += 'P';
  }
  if (flags.system & sdk::flag_answered) out += 'R';
  if (flags.system & sdk::flag_seen) out += 'S';
  if (flags.system & sdk::flag_deleted) out += 'T';
  for (std::size_t i = 0; i < letters.size(); ++i) {
    if (!letters[i].empty() && std::find(flags.keywords.begin(), flags.keywords.end(),
                                         letters[i]) != flags.keywords.end()) {
      out += static_cast<char>('a' + i);
    }
  }
  return out;
}

sdk::Flags flags_from_info(const std::string& info, const std::vector<std::string>& letters) {
  sdk::Flags f;
  for (char c : info) {
    switch (c) {
      case 'D':
        f.system |= sdk::flag_draft;
        break;
      case 'F':
        f.system |= sdk::flag_flagged;
        break;
      case 'P':
        f.keywords.push_back(forwarded);
        break;
      case 'R':
        f.system |= sdk::flag_answered;
        break;
      case 'S':
        f.system |= sdk::flag_seen;
        break;
      case 'T':
        f.system |= sdk::flag_deleted;
        break;
      default:
        if (c >= 'a' && c <= 'z' && static_cast<std::size_t>(c - 'a') < letters.size() &&
            !letters[static_cast<std::size_t>(c - 'a')].empty()) {
          f.keywords.push_back(letters[static_cast<std::size_t>(c - 'a')]);
        }
    }
  }
  std::sort(f.keywords.begin(), f.keywords.end());
  return f;
}

MaildirStats import_maildir(sdk::Store& store, const fs::path& dir, const std::string& account) {
  if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + ": not a folder");
  auto folders = folders_of(dir);
  if (folders.empty()) throw std::runtime_error(dir.string() + ": not a Maildir (no cur/, new/)");
  auto letters = read_keywords(dir);
  MaildirStats stats;
  value_or_throw(store.list_mailboxes(account), account);  // creates the account
  for (const auto& folder : folders) {
    auto created = store.create_mailbox(account, folder.mailbox, "");
    if (!created.ok() && created.error != sdk::StoreError::exists) {
      throw std::runtime_error(folder.mailbox + ": " + created.message);
    }
    ++stats.mailboxes;
    std::vector<std::pair<std::string, fs::path>> files;  // (name, path), delivery order
    for (const char* sub : {"cur", "new"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(folder.path / sub, ec)) {
        if (e.is_regular_file()) files.emplace_back(e.path().filename().string(), e.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& [name, path] : files) {
      sdk::AppendRequest req;
      req.account = account;
      req.mailbox = folder.mailbox;
      req.message = read_file(path);
      auto info = name.rfind(":2,");
      if (info != std::string::npos) req.flags = flags_from_info(name.substr(info + 3), letters);
      req.internal_date = mtime_of(path);
      value_or_throw(store.append(req), path.string());
      ++stats.messages;
    }
  }
  return stats;
}

MaildirStats export_maildir(sdk::Store& store, const fs::path& dir, const std::string& account) {
  MaildirStats stats;
  auto mailboxes = value_or_throw(store.list_mailboxes(account), account);
  std::vector<std::string> letters = read_keywords(dir);
  fs::create_directories(dir);
  for (const auto& mb : mailboxes) {
    if (mb.name.find('.') != std::string::npos) {
      stats.warnings.push_back("mailbox '" + mb.name + "': '.' becomes a hierarchy level");
    }
    std::string folder_name = mb.name;
    std::replace(folder_name.begin(), folder_name.end(), '/', '.');
    fs::path folder = mb.name == "INBOX" ? dir : dir / ("." + folder_name);
    for (const char* sub : {"cur", "new", "tmp"})
      fs::create_directories(folder / sub);
    ++stats.mailboxes;
    auto messages = value_or_throw(store.fetch(account, mb.name, {}, false, 0), mb.name);
    for (const auto& m : messages) {
      for (const auto& k : m.flags.keywords) {
        if (k == forwarded || std::find(letters.begin(), letters.end(), k) != letters.end()) {
          continue;
        }
        auto free = std::find(letters.begin(), letters.end(), std::string());
        if (free == letters.end()) {
          stats.warnings.push_back("keyword '" + k + "' dropped: no Maildir letter left");
        } else {
          *free = k;
        }
      }
      std::string body = value_or_throw(store.read_message(account, mb.name, m.uid), mb.name);
      std::string base =
          std::to_string(m.internal_date) + ".M" + std::to_string(m.uid) + "P" + m.id + ".portico";
      write_body(folder / "tmp", base, body);
      fs::path target = folder / "cur" / (base + ":2," + maildir_info(m.flags, letters));
      fs::rename(folder / "tmp" / base, target);
      struct utimbuf times {};
      times.actime = static_cast<time_t>(m.internal_date);
      times.modtime = static_cast<time_t>(m.internal_date);
      ::utime(target.c_str(), &times);
      ++stats.messages;
    }
  }
  write_keywords(dir, letters);
  return stats;
}

}  // namespace portico::core::store
