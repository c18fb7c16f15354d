// Portico core — the embedded MailStore: sdk::Store over per-account SQLite databases and body
// files under <data_dir>/store (see account.h, files.h, notify.h). Turns every internal
// failure into an sdk::StoreError so that no exception reaches a plugin.
#include <map>
#include <mutex>
#include <set>

#include "core/store/account.h"
#include "core/store/check.h"
#include "core/store/files.h"
#include "core/store/mime_cache.h"
#include "core/store/notify.h"
#include "core/store/part_offsets.h"
#include "core/store/store.h"

namespace portico::core {

namespace {

using namespace store;
using sdk::StoreError;

template <class T, class F>
sdk::StoreResult<T> guarded(F&& f) {
  sdk::StoreResult<T> r;
  try {
    r.value = f();
  } catch (const StoreFailure& e) {
    r.error = e.error();
    r.message = e.what();
  } catch (const std::exception& e) {
    r.error = StoreError::io;
    r.message = e.what();
  }
  return r;
}

template <class F>
sdk::StoreStatus guarded_status(F&& f) {
  auto r = guarded<bool>([&] {
    f();
    return true;
  });
  return {r.error, r.message};
}

// A body kept in the database, read in pieces like a file.
class InlineReader final : public sdk::MessageReader {
 public:
  explicit InlineReader(std::string data) : data_(std::move(data)) {}
  std::uint64_t size() const override { return data_.size(); }
  sdk::StoreResult<std::string> read(std::uint64_t offset, std::size_t max) override {
    sdk::StoreResult<std::string> r;
    if (offset < data_.size()) r.value = data_.substr(static_cast<std::size_t>(offset), max);
    return r;
  }

 private:
  std::string data_;
};

std::string octets(Body body) {
  return body.data ? std::move(*body.data) : read_file(body.file);
}

// The part offsets kept with a body, or (a body stored before they were kept, or a damaged
// record) computed from its octets.
sdk::MessageParts parts_of(Body body) {
  sdk::MessageParts out;
  out.size = body.size;
  if (body.parts) {
    if (auto parts = decode_parts(*body.parts, body.size)) {
      out.parts = std::move(*parts);
      return out;
    }
  }
  const MimeSummary summary =
      body.data ? summarize_message(*body.data) : summarize_file(body.file.string());
  out.parts = summary.parts;
  out.size = body.data ? body.data->size() : fs::file_size(body.file);
  return out;
}

std::unique_ptr<sdk::MessageReader> open_body(Body body) {
  if (body.data) return std::make_unique<InlineReader>(std::move(*body.data));
  return store::open_body(body.file);
}

class MaildropLock : public sdk::StoreHandle {
 public:
  explicit MaildropLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}

 private:
  std::unique_ptr<FileLock> lock_;
};

std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

class EmbeddedStore final : public MailStore {
 public:
  explicit EmbeddedStore(const fs::path& data_dir) : root_(data_dir / "store") {
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) throw std::runtime_error("cannot create " + root_.string() + ": " + ec.message());
  }

  sdk::StoreResult<std::vector<sdk::MailboxInfo>> list_mailboxes(
      const std::string& account) override {
    return guarded<std::vector<sdk::MailboxInfo>>([&] { return get(account)->list(); });
  }
  sdk::StoreResult<sdk::MailboxInfo> mailbox_status(const std::string& account,
                                                    const std::string& mailbox) override {
    return guarded<sdk::MailboxInfo>([&] { return get(account)->status(mailbox); });
  }
  sdk::StoreStatus create_mailbox(const std::string& account, const std::string& mailbox,
                                  const std::string& special_use) override {
    return guarded_status([&] { get(account)->create(mailbox, special_use); });
  }
  sdk::StoreStatus rename_mailbox(const std::string& account, const std::string& from,
                                  const std::string& to) override {
    return guarded_status([&] { get(account)->rename(from, to); });
  }
  sdk::StoreStatus delete_mailbox(const std::string& account, const std::string& mailbox) override {
    return guarded_status([&] { get(account)->remove(mailbox); });
  }
  sdk::StoreStatus set_subscribed(const std::string& account, const std::string& mailbox,
                                  bool subscribed) override {
    return guarded_status([&] { get(account)->subscribe(mailbox, subscribed); });
  }

  sdk::StoreResult<std::vector<sdk::Delivered>> deliver(
      const std::vector<sdk::DeliveryTarget>& targets, const std::string& message,
      std::int64_t internal_date) override {
    return guarded<std::vector<sdk::Delivered>>(
        [&] { return do_deliver(targets, message, internal_date, {}); });
  }

  sdk::StoreResult<std::vector<sdk::Delivered>> deliver_file(
      const std::vector<sdk::DeliveryTarget>& targets, const std::string& path,
      std::int64_t internal_date) override {
    return guarded<std::vector<sdk::Delivered>>([&] {
      const std::string message = read_file(path);
      return do_deliver(targets, message, internal_date, {}, false, fs::path(path));
    });
  }

  std::vector<sdk::StoreResult<std::string>> read_messages(
      const std::string& account, const std::string& mailbox,
      const std::vector<std::uint32_t>& uids) override {
    return per_body<std::string>(account, mailbox, uids,
                                 [](Body body) { return octets(std::move(body)); });
  }

  std::vector<sdk::StoreResult<sdk::MessageParts>> message_parts(
      const std::string& account, const std::string& mailbox,
      const std::vector<std::uint32_t>& uids) override {
    return per_body<sdk::MessageParts>(account, mailbox, uids,
                                       [](Body body) { return parts_of(std::move(body)); });
  }

  sdk::StoreResult<sdk::UidRange> recent_uids(const std::string& account,
                                              const std::string& mailbox, bool claim) override {
    return guarded<sdk::UidRange>([&] { return get(account)->recent(mailbox, claim); });
  }

  sdk::StoreResult<std::unique_ptr<sdk::MessageReader>> open_message(const std::string& account,
                                                                     const std::string& mailbox,
                                                                     std::uint32_t uid) override {
    return guarded<std::unique_ptr<sdk::MessageReader>>(
        [&] { return open_body(get(account)->body(mailbox, uid)); });
  }

  sdk::StoreResult<std::vector<sdk::Delivered>> deliver_unsynced_file(
      const std::vector<sdk::DeliveryTarget>& targets, const std::string& path,
      std::int64_t internal_date) override {
    return guarded<std::vector<sdk::Delivered>>([&] {
      const std::string message = read_file(path);
      if (message.size() <= kInlineBody) return do_deliver(targets, message, internal_date, {});
      sync_file(path);
      return do_deliver(targets, message, internal_date, {}, false, fs::path(path));
    });
  }

  sdk::StoreResult<sdk::Appended> append(const sdk::AppendRequest& request) override {
    return guarded<sdk::Appended>([&] {
      sdk::DeliveryTarget t{request.account, request.mailbox, request.quota_bytes};
      auto d = do_deliver({t}, request.message, request.internal_date, request.flags, true);
      if (d[0].error != StoreError::none) fail(d[0].error, d[0].message);
      return sdk::Appended{d[0].uid_validity, d[0].uid};
    });
  }

  sdk::StoreResult<sdk::Appended> append_file(const sdk::AppendFileRequest& request) override {
    return guarded<sdk::Appended>([&] {
      sdk::DeliveryTarget t{request.account, request.mailbox, request.quota_bytes};
      std::error_code ec;
      const std::uint64_t size = fs::file_size(request.path, ec);
      if (ec) fail(StoreError::io, "cannot read " + request.path + ": " + ec.message());
      std::vector<sdk::Delivered> d;
      if (size <= kInlineBody) {
        const std::string message = read_file(request.path);
        d = do_deliver({t}, message, request.internal_date, request.flags, true);
      } else {
        sync_file(request.path);  // durable before it is linked under bodies/
        const MimeSummary summary = summarize_file(request.path);
        d = deliver_parsed({t}, nullptr, size, summary, request.internal_date, request.flags, true,
                           fs::path(request.path));
      }
      if (d[0].error != StoreError::none) fail(d[0].error, d[0].message);
      return sdk::Appended{d[0].uid_validity, d[0].uid};
    });
  }

  sdk::StoreResult<std::vector<sdk::MessageInfo>> fetch(const std::string& account,
                                                        const std::string& mailbox,
                                                        const sdk::UidSet& uids, bool with_mime,
                                                        std::uint64_t changed_since) override {
    return guarded<std::vector<sdk::MessageInfo>>(
        [&] { return get(account)->fetch(mailbox, uids, with_mime, changed_since); });
  }
  sdk::StoreResult<std::string> read_message(const std::string& account, const std::string& mailbox,
                                             std::uint32_t uid) override {
    return guarded<std::string>([&] { return octets(get(account)->body(mailbox, uid)); });
  }
  sdk::StoreResult<sdk::StoreFlagsResult> store_flags(
      const std::string& account, const std::string& mailbox, const sdk::UidSet& uids,
      sdk::FlagOperation op, const sdk::Flags& flags, std::uint64_t unchanged_since) override {
    return guarded<sdk::StoreFlagsResult>(
        [&] { return get(account)->store_flags(mailbox, uids, op, flags, unchanged_since); });
  }
  sdk::StoreResult<sdk::CopyResult> copy(const std::string& account, const std::string& from,
                                         const sdk::UidSet& uids, const std::string& to) override {
    return guarded<sdk::CopyResult>([&] { return get(account)->copy(from, uids, to, false); });
  }
  sdk::StoreResult<sdk::CopyResult> move(const std::string& account, const std::string& from,
                                         const sdk::UidSet& uids, const std::string& to) override {
    return guarded<sdk::CopyResult>([&] { return get(account)->copy(from, uids, to, true); });
  }
  sdk::StoreResult<std::vector<std::uint32_t>> expunge(const std::string& account,
                                                       const std::string& mailbox,
                                                       const sdk::UidSet& uids) override {
    return guarded<std::vector<std::uint32_t>>(
        [&] { return get(account)->expunge(mailbox, uids); });
  }
  sdk::StoreResult<std::vector<std::uint32_t>> search_header(const std::string& account,
                                                             const std::string& mailbox,
                                                             const std::string& field,
                                                             const std::string& text) override {
    return guarded<std::vector<std::uint32_t>>(
        [&] { return get(account)->search_header(mailbox, field, text); });
  }
  sdk::StoreResult<sdk::VanishedUids> vanished(const std::string& account,
                                               const std::string& mailbox, const sdk::UidSet& uids,
                                               std::uint64_t modseq) override {
    return guarded<sdk::VanishedUids>(
        [&] { return get(account)->vanished(mailbox, uids, modseq); });
  }
  sdk::StoreResult<sdk::Usage> usage(const std::string& account) override {
    return guarded<sdk::Usage>([&] { return get(account)->usage(); });
  }

  sdk::StoreResult<std::unique_ptr<sdk::StoreHandle>> lock_maildrop(
      const std::string& account) override {
    return guarded<std::unique_ptr<sdk::StoreHandle>>([&]() -> std::unique_ptr<sdk::StoreHandle> {
      auto a = get(account);
      auto lock =
          std::make_unique<FileLock>(a->maildrop_lock_file(), FileLock::Mode::exclusive, true);
      if (!lock->locked()) {
        fail(StoreError::locked, "the maildrop of " + account + " is in use by another session");
      }
      return std::make_unique<MaildropLock>(std::move(lock));
    });
  }

  sdk::StoreResult<std::unique_ptr<sdk::StoreHandle>> subscribe(
      const std::string& account, const std::string& mailbox,
      sdk::StoreChangeCallback callback) override {
    return guarded<std::unique_ptr<sdk::StoreHandle>>(
        [&] { return notifier_.subscribe(get(account), mailbox, std::move(callback)); });
  }

  std::vector<std::string> accounts() override {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& domain : fs::directory_iterator(root_, ec)) {
      if (!domain.is_directory()) continue;
      for (const auto& local : fs::directory_iterator(domain.path(), ec)) {
        if (fs::exists(local.path() / "meta.sqlite")) {
          out.push_back(unescape(local.path().filename().string()) + "@" +
                        unescape(domain.path().filename().string()));
        }
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  StoreCheckReport check(const std::string& account, bool repair) override {
    StoreCheckReport report;
    report.account = account;
    try {
      check_account(*get(account), repair, report);
    } catch (const std::exception& e) {
      report.problems.push_back(std::string("cannot check: ") + e.what());
    }
    return report;
  }

 private:
  // `f` of the body of each UID (one lookup in one snapshot), a result per UID in order.
  template <class T, class F>
  std::vector<sdk::StoreResult<T>> per_body(const std::string& account, const std::string& mailbox,
                                            const std::vector<std::uint32_t>& uids, F f) {
    auto found = guarded<std::vector<std::optional<Body>>>(
        [&] { return get(account)->bodies_of(mailbox, uids); });
    std::vector<sdk::StoreResult<T>> out(uids.size());
    for (std::size_t i = 0; i < uids.size(); ++i) {
      if (!found.ok()) {
        out[i].error = found.error;
        out[i].message = found.message;
      } else if (!found.value[i]) {
        out[i].error = StoreError::not_found;
        out[i].message = "no message with UID " + std::to_string(uids[i]);
      } else {
        out[i] = guarded<T>([&] { return f(std::move(*found.value[i])); });
      }
    }
    return out;
  }

  std::shared_ptr<Account> get(const std::string& address) {
    fs::path folder = root_ / account_folder(address);
    std::string key = folder.string();
    // Opened under the lock: two threads creating the same new account at once would both
    // create and migrate its database, and one would fail with "database is locked". Opening
    // happens once per account per process, so the serialisation costs nothing later.
    std::lock_guard lock(mutex_);
    auto it = accounts_.find(key);
    if (it != accounts_.end()) return it->second;
    return accounts_.emplace(key, std::make_shared<Account>(folder, address)).first->second;
  }

  fs::path folder_or_empty(const std::string& address) {
    try {
      return root_ / account_folder(address);
    } catch (const StoreFailure&) {
      return {};
    }
  }

  // One body file for all recipients: written once into the first account, hard-linked into
  // the others (see link_body). Bodies are immutable, so sharing the inode is safe, and each
  // account's own directory entry keeps the file alive for as long as that account needs it;
  // it saves the space and the write + fsync of every extra copy of a large list message.
  std::vector<sdk::Delivered> do_deliver(const std::vector<sdk::DeliveryTarget>& targets,
                                         const std::string& message, std::int64_t internal_date,
                                         const sdk::Flags& flags, bool append = false,
                                         const fs::path& durable_source = {}) {
    MimeSummary summary = summarize_message(message);  // parsed once, for every recipient
    return deliver_parsed(targets, &message, message.size(), summary, internal_date, flags, append,
                          durable_source);
  }

  // do_deliver() of a message already parsed; `message` may be null when durable_source holds
  // it and it is too large to keep in the database.
  std::vector<sdk::Delivered> deliver_parsed(const std::vector<sdk::DeliveryTarget>& targets,
                                             const std::string* message, std::uint64_t size,
                                             const MimeSummary& summary, std::int64_t internal_date,
                                             const sdk::Flags& flags, bool append,
                                             const fs::path& durable_source) {
    std::vector<sdk::Delivered> out(targets.size());
    std::string body_name = new_body_name();
    fs::path written = durable_source;  // a durable copy to link from, once there is one
    std::set<std::size_t> done;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (done.count(i)) continue;
      std::shared_ptr<Account> account;
      try {
        account = get(targets[i].account);
      } catch (const StoreFailure& e) {
        if (append) throw;
        out[i].error = e.error();
        out[i].message = e.what();
        continue;
      }
      std::vector<std::size_t> group;
      std::vector<Insertion> into;
      for (std::size_t j = i; j < targets.size(); ++j) {
        if (done.count(j)) continue;
        if (j != i && folder_or_empty(targets[j].account) != account->root()) continue;
        done.insert(j);
        group.push_back(j);
        Insertion ins;
        ins.mailbox = targets[j].mailbox;
        ins.flags = flags;
        into.push_back(std::move(ins));
      }
      NewMessage m;
      m.octets = message;
      m.size = size;
      m.summary = &summary;
      m.body_name = body_name;
      m.link_from = written;
      m.inline_body = message != nullptr && size <= kInlineBody;
      m.internal_date = internal_date;
      m.quota_bytes = targets[i].quota_bytes;
      try {
        account->insert(m, into);
      } catch (const std::exception& e) {
        // An I/O failure in one account does not undo the others already delivered.
        if (append) throw;
        auto* f = dynamic_cast<const StoreFailure*>(&e);
        for (auto& ins : into) {
          ins.error = f ? f->error() : StoreError::io;
          ins.message = e.what();
        }
      }
      for (std::size_t k = 0; k < group.size(); ++k) {
        auto& d = out[group[k]];
        d.error = into[k].error;
        d.message = into[k].message;
        d.uid_validity = into[k].uid_validity;
        d.uid = into[k].uid;
        if (d.error == StoreError::none && written.empty() && !m.inline_body) {
          written = account->bodies() / body_name;
        }
      }
    }
    return out;
  }

  fs::path root_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Account>> accounts_;
  Notifier notifier_;  // last: destroyed first, while the accounts it watches still exist
};

}  // namespace

std::unique_ptr<MailStore> open_store(const fs::path& data_dir) {
  return std::make_unique<EmbeddedStore>(data_dir);
}

}  // namespace portico::core
