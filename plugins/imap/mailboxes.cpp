// imap — the authenticated state's mailbox commands: SELECT and EXAMINE (RFC 9051 section
// 6.3.2/6.3.3, with CONDSTORE's HIGHESTMODSEQ of RFC 7162), CREATE (with USE of RFC 6154),
// DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (RFC 5258 selection and return options,
// LIST-STATUS of RFC 5819, CHILDREN, SPECIAL-USE), LSUB, STATUS (STATUS=SIZE), APPEND (UIDPLUS's
// APPENDUID, APPENDLIMIT), GETQUOTA and GETQUOTAROOT (RFC 9208, from the directory's quota and
// the store's usage). Mailbox names are the store's, "/" separated, INBOX case-insensitive; on
// the wire they are modified UTF-7 until the client enables UTF-8 (mailbox_name.h).
#include <algorithm>
#include <set>

#include "mailbox_name.h"
#include "session.h"

namespace portico::imap {

namespace {

// An IMAP response code for a store failure (RFC 5530).
std::string store_refusal(const sdk::StoreStatus& s, std::string_view what) {
  switch (s.error) {
    case sdk::StoreError::not_found:
      return "[NONEXISTENT] No such mailbox";
    case sdk::StoreError::exists:
      return "[ALREADYEXISTS] Mailbox already exists";
    case sdk::StoreError::invalid_name:
      return "[CANNOT] Invalid mailbox name";
    case sdk::StoreError::forbidden:
      return "[CANNOT] Not allowed on this mailbox";
    case sdk::StoreError::over_quota:
      return "[OVERQUOTA] Quota exceeded";
    default:
      return "[SERVERBUG] " + std::string(what) + " failed";
  }
}

std::string trim_delimiter(std::string name) {
  while (name.size() > 1 && name.back() == '/')
    name.pop_back();
  return name;
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

struct StatusValues {
  sdk::MailboxInfo info;
  std::uint64_t size = 0;
  std::uint32_t deleted = 0;
  std::uint32_t recent = 0;
};

std::string status_text(const StatusValues& v, const std::vector<std::string>& items) {
  std::string out;
  auto add = [&out](std::string_view name, std::uint64_t value) {
    if (!out.empty()) out += ' ';
    out += name;
    out += ' ';
    out += std::to_string(value);
  };
  for (const auto& item : items) {
    if (item == "MESSAGES")
      add("MESSAGES", v.info.messages);
    else if (item == "UIDNEXT")
      add("UIDNEXT", v.info.uid_next);
    else if (item == "UIDVALIDITY")
      add("UIDVALIDITY", v.info.uid_validity);
    else if (item == "UNSEEN")
      add("UNSEEN", v.info.unseen);
    else if (item == "RECENT")
      add("RECENT", v.recent);
    else if (item == "HIGHESTMODSEQ")
      add("HIGHESTMODSEQ", v.info.highest_modseq);
    else if (item == "SIZE")
      add("SIZE", v.size);
    else if (item == "DELETED")
      add("DELETED", v.deleted);
  }
  return out;
}

// STATUS values of one mailbox (the message list is read only for SIZE, DELETED and RECENT).
sdk::StoreStatus read_status(sdk::Store& store, const std::string& account,
                             const std::string& mailbox, const std::vector<std::string>& items,
                             StatusValues& out) {
  auto info = store.mailbox_status(account, mailbox);
  if (!info.ok()) return {info.error, info.message};
  out.info = info.value;
  // RECENT: the messages no session has claimed yet (RFC 3501 \Recent).
  sdk::UidRange recent{1, 0};
  if (has(items, "RECENT")) {
    auto range = store.recent_uids(account, mailbox, false);
    if (!range.ok()) return {range.error, range.message};
    recent = range.value;
  }
  if (has(items, "SIZE") || has(items, "DELETED") || recent.first <= recent.last) {
    auto list = store.fetch(account, mailbox, {}, false, 0);
    if (!list.ok()) return {list.error, list.message};
    for (const auto& m : list.value) {
      out.size += m.size;
      if (m.flags.system & sdk::flag_deleted) ++out.deleted;
      if (m.uid >= recent.first && m.uid <= recent.last) ++out.recent;
    }
  }
  return {};
}

}  // namespace

bool ImapSession::take_mailbox_names(Command& c) {
  using N = Command::Name;
  std::vector<std::string*> names;
  switch (c.name) {
    case N::list:
    case N::lsub:
      names.push_back(&c.reference);
      for (auto& p : c.patterns)
        names.push_back(&p);
      break;
    case N::rename:
      names.push_back(&c.mailbox2);
      [[fallthrough]];
    case N::select:
    case N::examine:
    case N::create:
    case N::delete_:
    case N::subscribe:
    case N::unsubscribe:
    case N::status:
    case N::append:
    case N::copy:
    case N::move:
    case N::getquotaroot:
      names.push_back(&c.mailbox);
      break;
    default:
      return true;
  }
  for (std::string* name : names) {
    if (utf8_names()) {
      if (valid_utf8(*name)) continue;
      bad(c.tag, "mailbox name is not valid UTF-8");
      return false;
    }
    DecodedName d = decode_mutf7(*name);
    if (d.error == NameError::none) {
      *name = std::move(d.utf8);
      continue;
    }
    spool_.reset();  // a refused APPEND's spooled message
    if (d.error == NameError::eight_bit) {
      bad(c.tag, "8-bit mailbox name without ENABLE UTF8=ACCEPT");
      return false;
    }
    // RFC 9051 section 6.3.2: a SELECT that fails leaves no mailbox selected.
    if (c.name == N::select || c.name == N::examine) deselect();
    complete(
        c, "NO",
        "[CANNOT] Mailbox name is not valid modified UTF-7: " + std::string(describe(d.error)));
    return false;
  }
  return true;
}

std::string ImapSession::wire_mailbox(std::string_view name) const {
  if (utf8_names()) return valid_utf8(name) ? astring(name, true) : "";
  auto encoded = encode_mutf7(name);
  return encoded ? astring(*encoded) : "";
}

void ImapSession::close_mailbox() {
  if (selected_) selected_->subscription.reset();
  selected_.reset();
}

void ImapSession::deselect() {
  if (!selected_) return;
  close_mailbox();
  state_ = State::authenticated;
  untagged("OK [CLOSED] Previous mailbox closed");
}

void ImapSession::do_select(const Command& c) {
  bool read_only = c.name == Command::Name::examine;
  // RFC 7162 section 3.2.5: QRESYNC parameters only after ENABLE QRESYNC.
  if (c.qresync && !qresync_) return bad(c.tag, "QRESYNC is not enabled");
  if (c.condstore) condstore_ = true;
  deselect();
  struct Out {
    sdk::StoreStatus status;
    SelectedMailbox box;
    std::uint32_t first_unseen = 0;
  };
  auto out = std::make_shared<Out>();
  sdk::Store* store = host_.store();
  std::string name = store_mailbox(c.mailbox);
  std::shared_ptr<sdk::SessionHandle> handle = ctx_.handle();
  work(
      [store, out, name, account = account_, handle, read_only, rev2 = rev2_, session = this] {
        auto info = store->mailbox_status(account, name);
        if (!info.ok()) {
          out->status = {info.error, info.message};
          return;
        }
        // Subscribed before the listing, so that nothing committed in between goes unseen.
        auto sub = store->subscribe(account, name, [handle, session](const sdk::StoreChange& c) {
          handle->post([session, c] { session->on_store_change(c); });
        });
        if (sub.ok()) out->box.subscription = std::move(sub.value);
        auto list = store->fetch(account, name, {}, false, 0);
        if (!list.ok()) {
          out->status = {list.error, list.message};
          return;
        }
        SelectedMailbox& b = out->box;
        b.name = name;
        b.read_only = read_only;
        b.uid_validity = info.value.uid_validity;
        b.uid_next = info.value.uid_next;
        b.highest_modseq = info.value.highest_modseq;
        for (const auto& m : list.value) {
          b.uids.push_back(m.uid);
          if (b.uid_next <= m.uid) b.uid_next = m.uid + 1;
          if (b.highest_modseq < m.modseq) b.highest_modseq = m.modseq;
          if (out->first_unseen == 0 && !(m.flags.system & sdk::flag_seen))
            out->first_unseen = static_cast<std::uint32_t>(b.uids.size());
        }
        // RFC 3501 \Recent: SELECT claims what came since the last claim; EXAMINE only looks.
        if (!rev2)
          if (auto r = store->recent_uids(account, name, !read_only); r.ok()) b.add_recent(r.value);
      },
      [this, out, c] {
        if (!out->status.ok()) return complete(c, "NO", store_refusal(out->status, "SELECT"));
        selected_ = std::move(out->box);
        selected_->reported_modseq = selected_->highest_modseq;
        state_ = State::selected;
        const SelectedMailbox& b = *selected_;
        untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
        untagged(std::to_string(b.uids.size()) + " EXISTS");
        if (!rev2_) {
          untagged(std::to_string(b.recent_count()) + " RECENT");
          if (out->first_unseen != 0)
            untagged("OK [UNSEEN " + std::to_string(out->first_unseen) + "] First unseen");
        }
        if (rev2_) untagged("LIST () \"/\" " + wire_mailbox(b.name));
        untagged(b.read_only ? "OK [PERMANENTFLAGS ()] Read-only mailbox"
                             : "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                               "\\Draft \\*)] Flags permitted");
        untagged("OK [UIDVALIDITY " + std::to_string(b.uid_validity) + "] UIDs valid");
        untagged("OK [UIDNEXT " + std::to_string(b.uid_next) + "] Predicted next UID");
        untagged("OK [HIGHESTMODSEQ " + std::to_string(b.highest_modseq) + "] Highest");
        std::string text =
            std::string(b.read_only ? "[READ-ONLY] " : "[READ-WRITE] ") +
            (c.name == Command::Name::examine ? "EXAMINE completed" : "SELECT completed");
        do_select_qresync(c, [this, c, text] { complete(c, "OK", text); });
      });
}

void ImapSession::do_create(const Command& c) {
  std::string name = trim_delimiter(store_mailbox(c.mailbox));
  if (name == "INBOX") return complete(c, "NO", "[ALREADYEXISTS] INBOX always exists");
  std::string use = c.use.empty() ? "" : c.use.front();
  if (!use.empty() &&
      !has({"\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"}, use))
    return complete(c, "NO", "[USEATTR] Unsupported special use");
  auto status = std::make_shared<sdk::StoreStatus>();
  work([store = host_.store(), status, account = account_, name,
        use] { *status = store->create_mailbox(account, name, use); },
       [this, status, c] {
         if (!status->ok()) return complete(c, "NO", store_refusal(*status, "CREATE"));
         complete(c, "OK", "CREATE completed");
       });
}

void ImapSession::do_delete(const Command& c) {
  std::string name = trim_delimiter(store_mailbox(c.mailbox));
  if (name == "INBOX") return complete(c, "NO", "[CANNOT] INBOX cannot be deleted");
  auto status = std::make_shared<sdk::StoreStatus>();
  work([store = host_.store(), status, account = account_,
        name] { *status = store->delete_mailbox(account, name); },
       [this, status, c, name] {
         if (!status->ok()) return complete(c, "NO", store_refusal(*status, "DELETE"));
         if (selected_ && selected_->name == name) {
           close_mailbox();
           state_ = State::authenticated;
         }
         complete(c, "OK", "DELETE completed");
       });
}

void ImapSession::do_rename(const Command& c) {
  std::string from = trim_delimiter(store_mailbox(c.mailbox));
  std::string to = trim_delimiter(store_mailbox(c.mailbox2));
  if (to == "INBOX") return complete(c, "NO", "[ALREADYEXISTS] INBOX always exists");
  auto status = std::make_shared<sdk::StoreStatus>();
  work([store = host_.store(), status, account = account_, from,
        to] { *status = store->rename_mailbox(account, from, to); },
       [this, status, c] {
         if (!status->ok()) return complete(c, "NO", store_refusal(*status, "RENAME"));
         complete(c, "OK", "RENAME completed");
       });
}

void ImapSession::do_subscribe(const Command& c, bool subscribe) {
  std::string name = trim_delimiter(store_mailbox(c.mailbox));
  auto status = std::make_shared<sdk::StoreStatus>();
  work([store = host_.store(), status, account = account_, name,
        subscribe] { *status = store->set_subscribed(account, name, subscribe); },
       [this, status, c, subscribe] {
         if (!status->ok()) return complete(c, "NO", store_refusal(*status, "SUBSCRIBE"));
         complete(c, "OK", subscribe ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
       });
}

void ImapSession::do_list(const Command& c) {
  const bool lsub = c.name == Command::Name::lsub;
  if (c.patterns.size() == 1 && c.patterns.front().empty() && !lsub) {
    // RFC 9051 section 6.3.9: the hierarchy delimiter and the root.
    untagged("LIST (\\Noselect) \"/\" \"\"");
    return complete(c, "OK", "LIST completed");
  }
  struct Row {
    sdk::MailboxInfo info;
    StatusValues status;
    bool has_status = false;
    bool childinfo = false;    // RECURSIVEMATCH: a subscribed mailbox lies below
    bool nonexistent = false;  // listed for its subscribed descendants alone
  };
  auto rows = std::make_shared<std::vector<Row>>();
  auto status = std::make_shared<sdk::StoreStatus>();
  const bool want_status = has(c.return_options, "STATUS") && !c.status_items.empty();
  std::vector<std::string> patterns;
  for (const auto& p : c.patterns)
    patterns.push_back(store_mailbox(c.reference + p));
  const bool only_subscribed = lsub || has(c.select_options, "SUBSCRIBED");
  const bool only_special = has(c.select_options, "SPECIAL-USE");
  // RFC 5258 section 3 (RFC 9051 section 6.3.9): with SUBSCRIBED, RECURSIVEMATCH also lists a
  // matching name that is not subscribed but has a subscribed descendant, with CHILDINFO
  // ("SUBSCRIBED"), and \NonExistent when no mailbox has that name.
  const bool recursive = only_subscribed && !lsub && has(c.select_options, "RECURSIVEMATCH");
  work(
      [store = host_.store(), rows, status, account = account_, patterns, only_subscribed,
       only_special, recursive, want_status, items = c.status_items] {
        auto list = store->list_mailboxes(account);
        if (!list.ok()) {
          *status = {list.error, list.message};
          return;
        }
        auto matches = [&patterns](const std::string& name) {
          for (const auto& p : patterns)
            if (list_match(p, name, '/') || (name == "INBOX" && list_match(p, "inbox", '/')))
              return true;
          return false;
        };
        // Every ancestor of a mailbox, and of a subscribed one.
        std::set<std::string> above, above_subscribed;
        for (const auto& m : list.value)
          for (std::size_t at = m.name.find('/'); at != std::string::npos;
               at = m.name.find('/', at + 1)) {
            above.insert(m.name.substr(0, at));
            if (recursive && m.subscribed) above_subscribed.insert(m.name.substr(0, at));
          }
        std::set<std::string> existing;
        for (const auto& m : list.value) {
          existing.insert(m.name);
          if (!matches(m.name)) continue;
          const bool childinfo = above_subscribed.count(m.name) != 0;
          if (only_subscribed && !m.subscribed && !childinfo) continue;
          if (only_special && m.special_use.empty()) continue;
          Row row{m, {}, false, childinfo, false};
          if (want_status)
            row.has_status = read_status(*store, account, m.name, items, row.status).ok();
          rows->push_back(std::move(row));
        }
        // Levels of the hierarchy that are no mailbox (RFC 9051 section 6.3.9): listed when they
        // match, as \NonExistent (\Noselect in IMAP4rev1); with SUBSCRIBED only for RECURSIVEMATCH.
        for (const auto& name : only_subscribed ? above_subscribed : above) {
          if (existing.count(name) != 0 || !matches(name) || only_special) continue;
          Row row;
          row.info.name = name;
          row.info.has_children = true;
          row.nonexistent = true;
          row.childinfo = recursive;
          rows->push_back(std::move(row));
        }
        std::stable_sort(rows->begin(), rows->end(),
                         [](const Row& a, const Row& b) { return a.info.name < b.info.name; });
      },
      [this, rows, status, c, lsub] {
        if (!status->ok()) return complete(c, "NO", store_refusal(*status, "LIST"));
        const bool show_subscribed =
            has(c.return_options, "SUBSCRIBED") || has(c.select_options, "SUBSCRIBED");
        for (const auto& r : *rows) {
          const std::string name = wire_mailbox(r.info.name);
          if (name.empty()) continue;  // a store name that is not UTF-8 cannot be said
          std::string attrs = r.info.has_children ? "\\HasChildren" : "\\HasNoChildren";
          // \NonExistent is RFC 5258's (and IMAP4rev2's); a plain IMAP4rev1 LIST says \Noselect.
          const bool extended = rev2_ || !c.select_options.empty() || !c.return_options.empty();
          if (r.nonexistent) attrs = (extended ? "\\NonExistent " : "\\Noselect ") + attrs;
          if (show_subscribed && r.info.subscribed) attrs += " \\Subscribed";
          if (!r.info.special_use.empty()) attrs += " " + r.info.special_use;
          untagged(std::string(lsub ? "LSUB (" : "LIST (") + attrs + ") \"/\" " + name +
                   (r.childinfo ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : ""));
          if (r.has_status)
            untagged("STATUS " + name + " (" + status_text(r.status, c.status_items) + ")");
        }
        complete(c, "OK", lsub ? "LSUB completed" : "LIST completed");
      });
}

void ImapSession::do_status(const Command& c) {
  std::string name = store_mailbox(c.mailbox);
  auto values = std::make_shared<StatusValues>();
  auto status = std::make_shared<sdk::StoreStatus>();
  work([store = host_.store(), values, status, account = account_, name,
        items = c.status_items] { *status = read_status(*store, account, name, items, *values); },
       [this, values, status, c, name] {
         if (!status->ok()) return complete(c, "NO", store_refusal(*status, "STATUS"));
         untagged("STATUS " + wire_mailbox(name) + " (" + status_text(*values, c.status_items) +
                  ")");
         complete(c, "OK", "STATUS completed");
       });
}

void ImapSession::do_append(Command& c) {
  std::shared_ptr<AppendSpool> spool = std::move(spool_);  // the message, when it is large
  if ((spool ? spool->size() : c.message.size()) > settings_.append_limit)
    return complete(c, "NO", "[TOOBIG] message too large for APPENDLIMIT");
  struct Out {
    sdk::StoreResult<sdk::Appended> result;
  };
  auto out = std::make_shared<Out>();
  sdk::AppendRequest request;
  request.account = account_;
  request.mailbox = store_mailbox(c.mailbox);
  request.flags = flags_of(c.flags);
  request.internal_date = c.internal_date.value_or(0);
  // The command's octets are not needed after this: the message moves into the request.
  request.message = std::move(c.message);
  work(
      [store = host_.store(), directory = host_.directory(), out, request = std::move(request),
       spool = std::move(spool)]() mutable {
        // RFC 9051 section 6.3.12: APPEND never creates the mailbox (the store's append would).
        auto exists = store->mailbox_status(request.account, request.mailbox);
        if (!exists.ok()) {
          out->result.error = exists.error;
          out->result.message = exists.message;
          return;
        }
        if (directory != nullptr)
          if (auto a = directory->find_account(request.account))
            request.quota_bytes = a->quota_bytes;
        if (!spool) {
          out->result = store->append(request);
          return;
        }
        if (!spool->error().empty()) {
          out->result.error = sdk::StoreError::io;
          out->result.message = spool->error();
          return;
        }
        sdk::AppendFileRequest file;
        file.account = request.account;
        file.mailbox = request.mailbox;
        file.path = spool->path();
        file.flags = request.flags;
        file.internal_date = request.internal_date;
        file.quota_bytes = request.quota_bytes;
        out->result = store->append_file(file);
        spool.reset();  // the file goes now, on the worker pool
      },
      [this, out, c, mailbox = store_mailbox(c.mailbox)] {
        const auto& r = out->result;
        if (!r.ok()) {
          if (r.error == sdk::StoreError::not_found)
            return complete(c, "NO", "[TRYCREATE] No such mailbox");
          return complete(c, "NO", store_refusal({r.error, r.message}, "APPEND"));
        }
        // Into the selected mailbox: told (EXISTS) before the OK, so that the client may fetch
        // the new UID at once (RFC 9051 section 6.3.12), not when the notification comes.
        if (selected_ && selected_->name == mailbox) {
          selected_->added.push_back(r.value.uid);
          selected_->changed = true;
        }
        complete(c, "OK",
                 "[APPENDUID " + std::to_string(r.value.uid_validity) + " " +
                     std::to_string(r.value.uid) + "] APPEND completed");
      });
}

void ImapSession::do_getquotaroot(const Command& c) {
  std::string name = store_mailbox(c.mailbox);
  untagged("QUOTAROOT " + wire_mailbox(name) + " \"\"");
  do_getquota(c);
}

void ImapSession::do_getquota(const Command& c) {
  if (c.name == Command::Name::getquota && !c.mailbox.empty())
    return complete(c, "NO", "[NONEXISTENT] No such quota root");
  struct Out {
    std::uint64_t used = 0, limit = 0;
    bool ok = false;
  };
  auto out = std::make_shared<Out>();
  work(
      [store = host_.store(), directory = host_.directory(), out, account = account_] {
        auto usage = store->usage(account);
        if (!usage.ok()) return;
        out->used = usage.value.bytes;
        if (directory != nullptr)
          if (auto a = directory->find_account(account)) out->limit = a->quota_bytes;
        out->ok = true;
      },
      [this, out, c] {
        if (!out->ok) return complete(c, "NO", "[SERVERBUG] Cannot read the quota");
        if (out->limit > 0)
          untagged("QUOTA \"\" (STORAGE " + std::to_string((out->used + 1023) / 1024) + " " +
                   std::to_string(out->limit / 1024) + ")");
        complete(
            c, "OK",
            c.name == Command::Name::getquota ? "GETQUOTA completed" : "GETQUOTAROOT completed");
      });
}

}  // namespace portico::imap
