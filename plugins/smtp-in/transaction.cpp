// smtp-in — the mail transaction: MAIL, RCPT, DATA, BDAT and making the message durable
// (RFC 5321 sections 3.3 and 4.1.1.2-4, RFC 1870, 3030, 3461, 6152, 6531).
#include "session.h"

#include <time.h>

#include <ctime>

#include <algorithm>
#include <cstdio>
#include <set>

namespace portico::smtp {

namespace {

// A recipient that failed after the message was accepted for others.
struct Failure {
  std::string address;         // the local account, or the remote address
  const TxnRecipient* origin;  // the SMTP recipient it came from (local ones)
  std::string status;          // RFC 3463
  std::string reason;
  std::uint32_t notify = 0;  // remote ones: their own NOTIFY and ORCPT
  std::string orcpt = {};
};

// Sends the sender a report on `failures` (RFC 3464), from the worker pool. A failure to make
// it is not the client's problem any more: the message was accepted for the others.
void report_failures(sdk::IncomingMessage& incoming, const sdk::Envelope& base,
                     const std::vector<Failure>& failures, sdk::Reports* reports) {
  if (reports == nullptr || base.sender.empty()) return;
  if (!incoming.sealed() && !incoming.seal_unsynced().ok()) return;  // held in memory so far
  sdk::Envelope env;
  env.sender = base.sender;
  env.ret = base.ret;
  env.envid = base.envid;
  env.smtputf8 = base.smtputf8;
  env.eight_bit_mime = base.eight_bit_mime;
  env.received = std::time(nullptr);
  std::vector<sdk::ReportRecipient> report;
  for (const auto& f : failures) {
    sdk::QueueRecipient r;
    r.address = f.address;
    r.notify = f.origin ? f.origin->notify : f.notify;
    r.orcpt = f.origin ? f.origin->orcpt : f.orcpt;
    if (r.orcpt.empty() && f.origin && f.origin->mailbox.address() != f.address)
      r.orcpt = "rfc822;" + f.origin->mailbox.address();  // an alias or list member
    report.push_back({env.recipients.size(), sdk::ReportAction::failed, f.status, f.reason, ""});
    env.recipients.push_back(std::move(r));
  }
  (void)reports->report(env, incoming.path(), report, 0);
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ascii_lower(a) == ascii_lower(b);
}

std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::string rfc5322_now() {
  const time_t t = time(nullptr);
  struct tm tmv {};
  localtime_r(&t, &tmv);
  char buf[64];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S %z", &tmv);
  return buf;
}

const char* path_error_text(PathError e) {
  switch (e) {
    case PathError::too_long:
      return "Address too long";
    case PathError::needs_utf8:
      return "Non-ASCII address requires SMTPUTF8";
    case PathError::bad_utf8:
      return "Malformed UTF-8 in address";
    default:
      return "Bad address syntax";
  }
}

// What one RCPT needs to know from the directory, gathered on the worker pool.
struct RcptLookup {
  bool directory = true;
  bool recipient_domain_local = false;
  sdk::Recipient recipient;
  bool sender_domain_local = false;
  bool sender_local_account = false;
  std::uint64_t quota_bytes = 0;
  std::uint64_t used_bytes = 0;
};

// Section 4.5.1: mail for postmaster (bare, at our host name, or at a local domain that has no
// such address) is always accepted. It goes to `target` (the postmaster setting, or
// postmaster@<host name> when `configured` is false) as the directory resolves it. When the
// directory knows nothing of that name: a configured address outside the local domains is
// forwarded there; otherwise the mail goes to the store account of that address, where it
// waits for the account to be created rather than being refused.
sdk::Recipient resolve_postmaster(sdk::Directory& dir, const std::string& target, bool configured) {
  sdk::Recipient r = dir.resolve(target);
  if (r.kind != sdk::Recipient::Kind::none) return r;
  r.address = target;
  if (configured && !dir.is_local_domain(ascii_lower(target.substr(target.rfind('@') + 1)))) {
    r.kind = sdk::Recipient::Kind::alias;
    r.external = {target};
    return r;
  }
  r.kind = sdk::Recipient::Kind::account;
  r.address = target;
  r.local_accounts = {target};
  return r;
}

}  // namespace

void SmtpSession::do_mail(const CommandLine& c) {
  if (helo_.empty()) return bad(503, "5.5.1", "Send HELO or EHLO first");
  if (txn_.active) return bad(503, "5.5.1", "Nested MAIL command");
  if (submission_ && user_.empty()) return bad(530, "5.7.0", "Authentication required");
  const auto rest = after_prefix(c.args, "FROM:");
  if (!rest) return bad(501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
  const PathResult path = parse_path(*rest, true, false, true);
  if (path.error == PathError::syntax) return bad(501, "5.1.7", "Bad sender address syntax");
  if (path.error != PathError::none) return bad(553, "5.1.7", path_error_text(path.error));
  const std::string_view params_text = rest->substr(path.consumed);
  if (!params_text.empty() && params_text.front() != ' ') {
    return bad(501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
  }
  const auto params = parse_params(params_text);
  if (!params) return bad(501, "5.5.4", "Bad MAIL parameters");
  Transaction t;
  for (const Param& p : *params) {
    if (!esmtp_) return bad(555, "5.5.4", "Parameters need EHLO");
    if (p.keyword == "SIZE" && p.value) {
      const auto size = parse_decimal(*p.value);
      if (!size) return bad(501, "5.5.4", "Bad SIZE value");
      if (settings_.max_message_size != 0 && *size > settings_.max_message_size) {
        return reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
      }
      t.declared_size = *size;
    } else if (p.keyword == "BODY" && p.value) {
      if (iequal(*p.value, "8BITMIME")) {
        t.eight_bit = true;
      } else if (!iequal(*p.value, "7BIT")) {
        return bad(555, "5.5.4", "Unsupported BODY value");
      }
    } else if (p.keyword == "SMTPUTF8" && !p.value) {
      t.smtputf8 = true;
    } else if (p.keyword == "RET" && p.value) {
      if (iequal(*p.value, "FULL")) {
        t.ret = sdk::DsnRet::full;
      } else if (iequal(*p.value, "HDRS")) {
        t.ret = sdk::DsnRet::headers;
      } else {
        return bad(501, "5.5.4", "Bad RET value");
      }
    } else if (p.keyword == "ENVID" && p.value) {
      auto envid = xtext_decode(*p.value);
      if (!envid || envid->size() > 100) return bad(501, "5.5.4", "Bad ENVID value");
      t.envid = *envid;
    } else if (p.keyword == "AUTH" && p.value) {
      // RFC 4954 section 5: accepted; the trace keeps the session's own authentication.
    } else {
      return bad(555, "5.5.4", "Unsupported MAIL parameter " + p.keyword);
    }
  }
  if (path.mailbox.has_non_ascii() && !t.smtputf8) {
    return bad(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
  }
  t.active = true;
  t.from = path.mailbox;
  txn_ = std::move(t);
  reply(250, "2.1.0", "Ok");
}

bool SmtpSession::may_relay(bool sender_local_account, bool sender_domain_local) const {
  const std::string& remote = ctx_.connection().remote_address;
  for (const auto& n : settings_.relay_whitelist) {
    if (n.contains(remote)) return true;
  }
  if (!user_.empty() &&
      (settings_.auth_bypasses_relay_rules || settings_.allow_relay == RelayPolicy::nobody)) {
    return true;
  }
  switch (settings_.allow_relay) {
    case RelayPolicy::anyone:
      return true;
    case RelayPolicy::local_users:
      return sender_local_account;
    case RelayPolicy::local_domains:
      return sender_domain_local;
    case RelayPolicy::nobody:
      return false;
  }
  return false;
}

void SmtpSession::do_rcpt(const CommandLine& c) {
  if (!txn_.active) return bad(503, "5.5.1", "Need MAIL command");
  const auto rest = after_prefix(c.args, "TO:");
  if (!rest) return bad(501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]");
  PathResult path = parse_path(*rest, false, true, true);
  if (path.error == PathError::syntax) return bad(501, "5.1.3", "Bad recipient address syntax");
  if (path.error != PathError::none) return bad(553, "5.1.3", path_error_text(path.error));
  if (path.mailbox.has_non_ascii() && !txn_.smtputf8) {
    return bad(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
  }
  const std::string_view params_text = rest->substr(path.consumed);
  if (!params_text.empty() && params_text.front() != ' ') {
    return bad(501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]");
  }
  const auto params = parse_params(params_text);
  if (!params) return bad(501, "5.5.4", "Bad RCPT parameters");
  TxnRecipient r;
  for (const Param& p : *params) {
    if (!esmtp_) return bad(555, "5.5.4", "Parameters need EHLO");
    if (p.keyword == "NOTIFY" && p.value) {
      std::string_view v = *p.value;
      while (!v.empty()) {
        const auto comma = v.find(',');
        const std::string item = ascii_lower(v.substr(0, comma));
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
        if (item == "never") {
          r.notify |= sdk::notify_never;
        } else if (item == "success") {
          r.notify |= sdk::notify_success;
        } else if (item == "failure") {
          r.notify |= sdk::notify_failure;
        } else if (item == "delay") {
          r.notify |= sdk::notify_delay;
        } else {
          return bad(501, "5.5.4", "Bad NOTIFY value");
        }
      }
      if ((r.notify & sdk::notify_never) && r.notify != sdk::notify_never) {
        return bad(501, "5.5.4", "NOTIFY=NEVER cannot be combined");
      }
    } else if (p.keyword == "ORCPT" && p.value) {
      const auto semi = p.value->find(';');
      auto addr =
          semi == std::string::npos ? std::nullopt : xtext_decode(p.value->substr(semi + 1));
      if (!addr || semi == 0) return bad(501, "5.5.4", "Bad ORCPT value");
      r.orcpt = p.value->substr(0, semi) + ";" + *addr;
    } else {
      return bad(555, "5.5.4", "Unsupported RCPT parameter " + p.keyword);
    }
  }
  if (txn_.recipients.size() >= kMaxRecipients) {
    return reply(452, "4.5.3", "Too many recipients");
  }
  const bool bare = path.mailbox.domain.empty();  // only <Postmaster> parses without a domain
  if (bare) path.mailbox.domain = ctx_.connection().server_hostname;
  r.mailbox = path.mailbox;

  sdk::Directory* dir = host_.directory();
  sdk::Store* store = host_.store();
  auto look = std::make_shared<RcptLookup>();
  const std::string rcpt_domain = ascii_lower(r.mailbox.domain);
  const std::string rcpt_address = r.mailbox.address();
  const std::string sender_domain = ascii_lower(txn_.from.domain);
  const std::string sender = txn_.from.address();
  const bool postmaster = ascii_lower(path.mailbox.local) == "postmaster";
  const bool our_name = bare || rcpt_domain == ascii_lower(ctx_.connection().server_hostname);
  const bool configured = !settings_.postmaster.empty();
  const std::string postmaster_target =
      !configured ? "postmaster@" + ctx_.connection().server_hostname : settings_.postmaster;
  ctx_.pause_input();
  ctx_.post_work(
      [dir, store, look, rcpt_domain, rcpt_address, sender_domain, sender, postmaster, our_name,
       configured, postmaster_target] {
        if (dir == nullptr) {
          look->directory = false;
          return;
        }
        look->recipient_domain_local = dir->is_local_domain(rcpt_domain);
        if (look->recipient_domain_local) look->recipient = dir->resolve(rcpt_address);
        if (postmaster && (our_name || look->recipient_domain_local) &&
            look->recipient.kind == sdk::Recipient::Kind::none) {
          look->recipient_domain_local = true;
          look->recipient = resolve_postmaster(*dir, postmaster_target, configured);
        }
        if (!sender_domain.empty()) {
          look->sender_domain_local = dir->is_local_domain(sender_domain);
          if (look->sender_domain_local) {
            look->sender_local_account = dir->find_account(sender).has_value();
          }
        }
        if (look->recipient.kind == sdk::Recipient::Kind::account && store != nullptr) {
          if (auto a = dir->find_account(look->recipient.address); a && a->quota_bytes) {
            look->quota_bytes = a->quota_bytes;
            if (auto u = store->usage(a->address); u.ok()) look->used_bytes = u.value.bytes;
          }
        }
      },
      [this, look, r = std::move(r)]() mutable {
        ctx_.resume_input();
        using K = sdk::Recipient::Kind;
        const std::string who = "<" + r.mailbox.address() + ">";
        if (!look->directory || look->recipient.kind == K::temporary_failure) {
          return reply(451, "4.3.0", who + ": directory unavailable, try again later");
        }
        if (look->recipient_domain_local) {
          if (look->recipient.kind == K::none) {
            reply(550, "5.1.1", who + ": Recipient address rejected: User unknown");
            ++bad_recipients_;
            if (settings_.max_bad_recipients > 0 &&
                bad_recipients_ >= settings_.max_bad_recipients) {
              reply(421, "4.7.0",
                    ctx_.connection().server_hostname +
                        " Too many bad recipients, closing connection");
              ctx_.close();
            }
            return;
          }
          if (settings_.require_auth_for_local_delivery && user_.empty() &&
              look->sender_domain_local) {
            return reply(530, "5.7.0", "Authentication required for mail from a local domain");
          }
          const std::uint64_t incoming = std::max<std::uint64_t>(txn_.declared_size, 1);
          if (look->quota_bytes != 0 && look->used_bytes + incoming > look->quota_bytes) {
            return reply(552, "5.2.2", who + ": Mailbox full");
          }
          r.local_accounts = look->recipient.local_accounts;
          r.external = look->recipient.external;
        } else {
          if (!may_relay(look->sender_local_account, look->sender_domain_local)) {
            return reply(554, "5.7.1", who + ": Relay access denied");
          }
          r.external = {r.mailbox.address()};
        }
        txn_.recipients.push_back(std::move(r));
        reply(250, "2.1.5", "Ok");
      });
}

std::string SmtpSession::received_field() const {
  const sdk::ConnectionInfo& conn = ctx_.connection();
  std::string with = esmtp_ ? "ESMTP" : "SMTP";
  if (ctx_.is_tls()) with += "S";
  if (!user_.empty()) with += "A";  // RFC 3848
  std::string field = "Received: from " + helo_ + " ([" + conn.remote_address + "])\r\n\tby " +
                      conn.server_hostname + " (Portico) with " + with + " id " +
                      std::to_string(conn.id) + "." + std::to_string(messages_ + 1) + "\r\n";
  if (const std::string tls = ctx_.tls_description(); !tls.empty()) {
    field += "\t(using " + tls + ")\r\n";
  }
  if (txn_.recipients.size() == 1) field += "\tfor <" + txn_.recipients[0].mailbox.address() + ">";
  field += ";\r\n\t" + rfc5322_now() + "\r\n";
  return field;
}

std::string SmtpSession::begin_message() {
  sdk::Queue* queue = host_.queue();
  if (queue == nullptr) return "no mail queue";
  auto created = queue->create_incoming();
  if (!created.ok()) return "cannot create an incoming message: " + created.message;
  incoming_ = std::shared_ptr<sdk::IncomingMessage>(std::move(created.value));
  if (!(settings_.omit_received_for_authenticated && !user_.empty())) {
    incoming_->append(received_field());
  }
  return {};
}

void SmtpSession::do_data(const CommandLine& c) {
  if (!c.args.empty()) return bad(501, "5.5.4", "Syntax: DATA");
  if (!txn_.active) return bad(503, "5.5.1", "Need MAIL command");
  if (txn_.chunking) return bad(503, "5.5.1", "DATA cannot follow BDAT");
  if (txn_.recipients.empty()) return bad(554, "5.5.1", "No valid recipients");
  if (const std::string error = begin_message(); !error.empty()) {
    ctx_.log(sdk::LogLevel::error, error);
    return reply(451, "4.3.0", "Local error in processing, try again later");
  }
  data_.emplace(settings_.max_message_size, settings_.max_hop_count,
                [this](std::string_view bytes) { incoming_->append(bytes); });
  mode_ = Mode::data;
  ctx_.set_in_command(true);
  ctx_.set_max_line_length(kMaxTextLine);
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
}

void SmtpSession::do_bdat(const CommandLine& c) {
  const std::string_view args = c.args;
  const std::size_t space = args.find(' ');
  const auto size = parse_decimal(args.substr(0, space));
  bool last = false;
  if (space != std::string_view::npos) {
    if (!iequal(args.substr(space + 1), "LAST")) {
      return bad(501, "5.5.4", "Syntax: BDAT size [LAST]");
    }
    last = true;
  }
  if (!size) return bad(501, "5.5.4", "Syntax: BDAT size [LAST]");
  // RFC 3030 section 2: the data of a refused BDAT is still read, then ignored.
  bdat_refusal_.reset();
  if (!txn_.active) {
    bdat_refusal_ = Refusal{503, "5.5.1", "Need MAIL command", true};
  } else if (txn_.recipients.empty()) {
    bdat_refusal_ = Refusal{554, "5.5.1", "No valid recipients", true};
  } else if (!txn_.chunking) {
    if (const std::string error = begin_message(); !error.empty()) {
      ctx_.log(sdk::LogLevel::error, error);
      bdat_refusal_ = Refusal{451, "4.3.0", "Local error in processing, try again later", false};
    } else {
      txn_.chunking = true;
      bdat_meter_.emplace(settings_.max_message_size, settings_.max_hop_count);
    }
  }
  bdat_size_ = *size;
  bdat_last_ = last;
  mode_ = Mode::bdat;
  ctx_.set_in_command(true);
  if (*size == 0) return on_bytes({}, true);
  ctx_.read_bytes(*size);
}

void SmtpSession::on_bytes(std::string_view bytes, bool last) {
  if (bdat_refusal_) {
    if (!last) return;
    const Refusal r = *bdat_refusal_;
    bdat_refusal_.reset();
    mode_ = Mode::command;
    ctx_.set_in_command(false);
    reply(r.code, r.enhanced, r.text);
    if (r.bad_command) ctx_.bad_command();
    return;
  }
  if (bdat_meter_->feed(bytes)) incoming_->append(bytes);
  if (!last) return;
  mode_ = Mode::command;
  if (bdat_last_) return finish_message(bdat_meter_->verdict());
  ctx_.set_in_command(false);
  reply(250, "2.0.0", std::to_string(bdat_size_) + " octets received");
}

void SmtpSession::finish_message(Verdict verdict) {
  mode_ = Mode::command;
  ctx_.set_in_command(false);
  switch (verdict) {
    case Verdict::ok:
      break;
    case Verdict::too_big:
      reset_transaction();
      return reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    case Verdict::too_many_hops:
      reset_transaction();
      return reply(554, "5.4.6", "Too many hops (Received: header fields): mail loop?");
    case Verdict::bare_lf:
    case Verdict::bare_cr:
      reset_transaction();
      return reply(550, "5.6.0",
                   "Message refused: bare CR or LF in the data (RFC 5321 section 2.3.8)");
    case Verdict::nul:
      reset_transaction();
      return reply(550, "5.6.0", "Message refused: NUL octet in the data (RFC 5322 section 3.5)");
    case Verdict::line_too_long:
      reset_transaction();
      return reply(550, "5.6.0", "Message refused: a line is longer than 1000 octets");
  }
  if (sdk::Filter* filter = host_.filter()) {
    sdk::FilterRequest request;
    request.protocol = "smtp-in";
    request.client_address = ctx_.connection().remote_address;
    request.helo = helo_;
    request.sender = txn_.from.address();
    for (const auto& r : txn_.recipients)
      request.recipients.push_back(r.mailbox.address());
    request.auth_user = user_;
    request.tls = ctx_.tls_description();
    request.queue_id = std::to_string(ctx_.connection().id) + "." + std::to_string(messages_ + 1);
    request.size = incoming_->size();
    if (filter->wants(request)) {
      // Checked before the reply (no bounce for what is refused); the client waits, its input
      // paused, while the check waits for a free slot and runs.
      ctx_.pause_input();
      filter->check(request, incoming_, [held = ctx_.hold(), this](sdk::FilterResult r) {
        held->post([this, r = std::move(r)]() mutable { filtered(std::move(r)); });
      });
      return;
    }
  }
  store_message();
}

void SmtpSession::filtered(sdk::FilterResult result) {
  ctx_.log(result.checked ? sdk::LogLevel::info : sdk::LogLevel::warn, result.log);
  switch (result.action) {
    case sdk::FilterAction::reject:
      ctx_.resume_input();
      reset_transaction();
      return reply(550, "5.7.1", result.reply);
    case sdk::FilterAction::tempfail:
      ctx_.resume_input();
      reset_transaction();
      return reply(451, "4.7.1", result.reply);
    case sdk::FilterAction::accept:
      break;
  }
  if (result.message && result.message != incoming_) {
    incoming_->abort();  // the marked copy replaces it
    incoming_ = std::move(result.message);
  }
  store_message();  // input stays paused until it is answered
}

void SmtpSession::store_message() {
  // Everything the worker needs, copied: the session may not be touched from there.
  struct Job {
    std::shared_ptr<sdk::IncomingMessage> incoming;
    std::vector<sdk::DeliveryTarget> local;
    std::vector<const TxnRecipient*> local_origin;  // the SMTP recipient of each local target
    std::vector<TxnRecipient> recipients;           // owns what local_origin points to
    sdk::Envelope remote;
    std::string error;
    std::string id;
    std::size_t bounced = 0;  // recipients that failed after the message was accepted
  };
  auto job = std::make_shared<Job>();
  job->incoming = incoming_;
  job->recipients = std::move(txn_.recipients);
  sdk::Directory* dir = host_.directory();
  std::set<std::string> seen;
  for (const TxnRecipient& r : job->recipients) {
    for (const auto& account : r.local_accounts) {
      if (!seen.insert(account).second) continue;
      job->local.push_back(sdk::DeliveryTarget{account, "INBOX", 0});
      job->local_origin.push_back(&r);
    }
    for (const auto& ext : r.external) {
      sdk::QueueRecipient q;
      q.address = ext;
      q.notify = r.notify;
      q.orcpt = r.orcpt;
      job->remote.recipients.push_back(std::move(q));
    }
  }
  job->remote.sender = txn_.from.address();
  job->remote.ret = txn_.ret;
  job->remote.envid = txn_.envid;
  job->remote.smtputf8 = txn_.smtputf8;
  job->remote.eight_bit_mime = txn_.eight_bit;
  job->remote.auth_user = user_;
  job->remote.client_address = ctx_.connection().remote_address;
  job->remote.helo = helo_;
  ++messages_;
  incoming_.reset();
  data_.reset();
  bdat_meter_.reset();
  txn_ = Transaction{};
  sdk::Store* store = host_.store();
  sdk::Queue* queue = host_.queue();
  sdk::Reports* reports = host_.reports();
  ctx_.pause_input();
  ctx_.post_work(
      [job, dir, store, queue, reports] {
        // Local recipients only: the store makes the message durable (a small one in the
        // commit it shares with concurrent deliveries), so the spool file needs no fsync, and
        // a message still held in memory needs no file at all.
        const bool local_only = job->remote.recipients.empty();
        std::optional<std::string> held;
        if (local_only) {
          if (auto octets = job->incoming->held_in_memory()) held.emplace(*octets);
        }
        // Remote recipients only: the queue's enqueue makes the octets durable with their
        // envelope, in one fsync. Both kinds: the store's link needs them durable first.
        const bool both = !local_only && !job->local.empty();
        sdk::QueueStatus sealed;
        if (!held) sealed = both ? job->incoming->seal() : job->incoming->seal_unsynced();
        if (!sealed.ok()) {
          job->error = "cannot make the message durable: " + sealed.message;
          return;
        }
        // What failed after the message reached someone: reported to the sender (RFC 3464)
        // rather than answered 451 for all, which would make the client send it again to the
        // recipients already served.
        std::vector<Failure> failures;
        std::size_t served = 0;
        if (!job->local.empty()) {
          if (store == nullptr) {
            job->error = "no mail store";
            return;
          }
          for (auto& t : job->local) {
            if (auto a = dir ? dir->find_account(t.account) : std::nullopt)
              t.quota_bytes = a->quota_bytes;
          }
          const std::string path = held ? std::string() : job->incoming->path();
          auto done = held         ? store->deliver(job->local, *held, 0)
                      : local_only ? store->deliver_unsynced_file(job->local, path, 0)
                                   : store->deliver_file(job->local, path, 0);
          for (std::size_t i = 0; i < job->local.size(); ++i) {
            const bool ok =
                done.ok() && i < done.value.size() && done.value[i].error == sdk::StoreError::none;
            if (ok) {
              ++served;
              continue;
            }
            const bool full = done.ok() && i < done.value.size() &&
                              done.value[i].error == sdk::StoreError::over_quota;
            failures.push_back({job->local[i].account, job->local_origin[i],
                                full ? "5.2.2" : "5.3.0",
                                full ? "mailbox full"
                                     : "local delivery failed: " +
                                           (done.ok() ? done.value[i].message : done.message)});
          }
        }
        if (!job->remote.recipients.empty()) {
          auto q = queue->enqueue(job->remote, *job->incoming);
          if (q.ok()) {
            job->id = q.value;
            served += job->remote.recipients.size();
          } else {
            for (const auto& r : job->remote.recipients) {
              failures.push_back(
                  {r.address, nullptr, "5.3.0", "cannot queue the message: " + q.message});
              failures.back().notify = r.notify;
              failures.back().orcpt = r.orcpt;
            }
          }
        }
        if (served == 0) {
          // Nobody has it: the client may safely send it again.
          job->error = failures.empty() ? "nothing delivered" : failures.front().reason;
          return;
        }
        if (!failures.empty()) report_failures(*job->incoming, job->remote, failures, reports);
        job->bounced = failures.size();
      },
      [this, job] {
        ctx_.resume_input();
        if (!job->error.empty()) {
          ctx_.log(sdk::LogLevel::error, job->error);
          return reply(451, "4.3.0", "Local error in processing, try again later");
        }
        if (job->bounced > 0) {
          ctx_.log(sdk::LogLevel::warn, std::to_string(job->bounced) +
                                            " recipient(s) failed after the message was accepted;"
                                            " the sender is sent a delivery report");
        }
        reply(250, "2.0.0", job->id.empty() ? "Ok: delivered" : "Ok: queued as " + job->id);
      });
}

}  // namespace portico::smtp
