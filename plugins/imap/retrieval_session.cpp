// imap — the client side of IMAP retrieval (see retrieval_session.h).
#include "retrieval_session.h"

#include <algorithm>
#include <ctime>

#include "portico/base64.h"
#include "portico/store.h"

namespace portico::imap {

namespace {

using client::Response;

// The most of a Message-ID header section kept (the rest of a longer one is dropped).
constexpr std::size_t kMaxHeader = 64 * 1024;
// The longest UID set in one UID STORE or UID EXPUNGE command.
constexpr std::size_t kMaxUidSet = 4000;

// The note that says since when new messages of a UIDVALIDITY ("<uidvalidity> <unix time>") are
// compared by Message-ID.
constexpr const char* kChangeNote = "uidvalidity-change";

// Whether new messages are compared by Message-ID: keys of another UIDVALIDITY are seen, or were
// within kRetrievalDedupeWindow. Keeps the note. Blocks on the disk.
bool compare_message_ids(retrieval::SourceSpool& spool, const std::string& validity,
                         bool old_keys) {
  const std::string note = spool.note(kChangeNote);
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const bool noted = note.compare(0, validity.size() + 1, validity + " ") == 0;
  if (old_keys) {
    if (!noted) spool.set_note(kChangeNote, validity + " " + std::to_string(now));
    return true;
  }
  if (noted) {
    std::int64_t since = 0;
    for (char c : note.substr(validity.size() + 1)) {
      if (c < '0' || c > '9' || since > now) break;
      since = since * 10 + (c - '0');
    }
    if (now - since < kRetrievalDedupeWindow.count()) return true;
  }
  if (!note.empty()) spool.set_note(kChangeNote, "");  // the window is over
  return false;
}

const char* waiting_for(int state) {
  static constexpr const char* names[] = {"the greeting",        "the STARTTLS reply",
                                          "the TLS handshake",   "the CAPABILITY reply",
                                          "the login reply",     "the CAPABILITY reply",
                                          "the SELECT reply",    "the UID SEARCH reply",
                                          "a message's header",  "a message",
                                          "the UID STORE reply", "the EXPUNGE reply",
                                          "the LOGOUT reply",    "nothing"};
  return names[state];
}

}  // namespace

retrieval::Protocol retrieval_protocol() {
  return retrieval::protocol_of<RetrievalSession>(sdk::RetrievalSource::Protocol::imap,
                                                  "imap-retrieval", 143, 993, kRetrievalMaxLine);
}

RetrievalSession::RetrievalSession(sdk::SessionContext& ctx,
                                   std::shared_ptr<retrieval::RunContext> run)
    : ClientSession(ctx, std::move(run), kRetrievalMaxLine) {}

std::string RetrievalSession::key(std::uint32_t uid) const {
  return std::to_string(uid_validity_) + "." + std::to_string(uid);
}

void RetrievalSession::send(std::vector<std::string> pieces, State next) {
  pieces_.assign(std::make_move_iterator(pieces.begin() + 1),
                 std::make_move_iterator(pieces.end()));
  ctx_.write(pieces.front());
  state_ = next;
}

void RetrievalSession::command(std::string_view verb, const std::vector<std::string>& args,
                               State next) {
  tag_ = "r" + std::to_string(++tag_number_);
  send(client::compose(tag_, verb, args), next);
}

void RetrievalSession::on_line(std::string_view line) {
  if (state_ == State::done || state_ == State::tls) return;
  if (continuing_) {  // the rest of a response after its literal
    continuing_ = false;
    if (auto size = client::trailing_literal(line)) start_literal(current_response_, line, *size);
    return;
  }
  on_response(line);
}

void RetrievalSession::on_response(std::string_view line) {
  const Response r = client::parse_response(line);
  const auto literal = client::trailing_literal(line);
  switch (r.kind) {
    case Response::Kind::invalid:
      return fail("a malformed response: " + client::printable(line));
    case Response::Kind::continuation:
      return on_continuation();
    case Response::Kind::tagged:
      if (literal) return fail("a malformed response: " + client::printable(line));
      return on_tagged(r);
    case Response::Kind::untagged:
      if (literal) {
        current_response_ = r;
        return start_literal(r, line, *literal);
      }
      return on_untagged(r, line);
  }
}

void RetrievalSession::on_untagged(const Response& r, std::string_view line) {
  const auto code = client::response_code(r.text);
  if (code && code->name == "CAPABILITY") {
    caps_ = client::parse_capabilities(code->args);
    have_caps_ = true;
  }
  if (state_ == State::greeting) {
    if (r.name == "OK") return after_greeting();
    if (r.name == "PREAUTH") {
      preauth_ = true;
      return after_greeting();
    }
    return fail("the server refused the connection: " + client::printable(line));
  }
  if (r.name == "BYE") {
    if (state_ == State::logout) return;
    return fail("the server ended the session: " + client::printable(r.text));
  }
  if (r.name == "CAPABILITY") {
    caps_ = client::parse_capabilities(r.text);
    have_caps_ = true;
  } else if (r.name == "OK" && code && code->name == "UIDVALIDITY" && state_ == State::select) {
    std::uint64_t value = 0;
    for (char c : code->args) {
      if (c < '0' || c > '9' || value > 0xffffffffu) return fail("a malformed UIDVALIDITY");
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (value == 0 || value > 0xffffffffu) return fail("a malformed UIDVALIDITY");
    uid_validity_ = value;
  } else if (r.name == "SEARCH" && state_ == State::search) {
    if (!client::parse_search(r.text, listed_, kRetrievalMaxListed)) {
      return fail(listed_.size() >= kRetrievalMaxListed
                      ? "the server lists too many messages"
                      : "a malformed SEARCH response: " + client::printable(line));
    }
  }
  // Anything else (EXISTS, EXPUNGE, FLAGS, FETCH of flags, ...) is of no use to a run.
}

void RetrievalSession::on_tagged(const Response& r) {
  if (tag_.empty() || r.tag != tag_) {
    return fail("a reply to a command not sent: " + client::printable(r.tag + " " + r.name));
  }
  tag_.clear();
  pieces_.clear();
  sasl_response_.clear();
  const bool ok = r.name == "OK";
  const std::string said = client::printable(r.name + " " + r.text);
  const auto code = client::response_code(r.text);
  const bool caps_given = code && code->name == "CAPABILITY";
  if (caps_given) {
    caps_ = client::parse_capabilities(code->args);
    have_caps_ = true;
  }
  const auto& source = run_->source;
  switch (state_) {
    case State::starttls:
      if (!ok) return fail("the server refused STARTTLS: " + said);
      state_ = State::tls;
      if (!ctx_.start_tls()) fail("STARTTLS is not possible on this connection");
      return;
    case State::capability:
      if (!ok) return fail("CAPABILITY failed: " + said);
      return login();
    case State::login:
      if (!ok) return fail("authentication failed: " + said);
      if (!caps_given) return command("CAPABILITY", {}, State::capability_after_login);
      [[fallthrough]];
    case State::capability_after_login: {
      const std::string folder = source.source_folder.empty() ? "INBOX" : source.source_folder;
      // EXAMINE opens the folder read-only (RFC 9051 section 6.3.3): nothing can change there.
      return command(source.leave_on_server ? "EXAMINE" : "SELECT", {folder}, State::select);
    }
    case State::select:
      if (!ok) return fail("cannot open the folder " + source.source_folder + ": " + said);
      if (uid_validity_ == 0) return fail("the server gave no UIDVALIDITY for the folder");
      return command("UID SEARCH ALL", {}, State::search);
    case State::search:
      if (!ok) return fail("UID SEARCH failed: " + said);
      return plan();
    case State::fetch_header:
      if (!ok) return fail("UID FETCH failed: " + said);
      return check_duplicate();
    case State::fetch_body:
      if (!ok) return fail("UID FETCH failed: " + said);
      if (!delivered_) {
        // Expunged meanwhile by another client: fetched at no later run either.
        ctx_.log(sdk::LogLevel::info,
                 "message UID " + std::to_string(current_) + " not retrieved: not on the server");
      }
      return next();
    case State::store:
      if (!ok) return fail("the server could not flag messages deleted: " + said);
      return delete_next();
    case State::expunge:
      if (!ok) return fail("the server could not expunge messages: " + said);
      return delete_next();
    case State::logout:
      state_ = State::done;
      run_->report({true, run_->fetched, {}});
      ctx_.close();
      return;
    case State::greeting:
    case State::tls:
    case State::done:
      return fail("an unexpected reply: " + said);
  }
}

void RetrievalSession::on_continuation() {
  if (!pieces_.empty()) {
    ctx_.write(pieces_.front());
    pieces_.pop_front();
    return;
  }
  if (!sasl_response_.empty()) {
    ctx_.write(std::exchange(sasl_response_, {}) + "\r\n");
    return;
  }
  fail("an unexpected continuation request from the server");
}

void RetrievalSession::after_greeting() {
  if (run_->source.tls == sdk::RetrievalSource::Tls::starttls && !ctx_.is_tls()) {
    if (preauth_) return fail("the server logged the connection in before STARTTLS");
    return command("STARTTLS", {}, State::starttls);
  }
  if (have_caps_) return login();
  command("CAPABILITY", {}, State::capability);
}

void RetrievalSession::on_tls_started() {
  if (state_ != State::tls) return;
  caps_.clear();  // asked again: what was said in the clear is not trusted (section 6.2.1)
  have_caps_ = false;
  command("CAPABILITY", {}, State::capability);
}

void RetrievalSession::login() {
  const auto& source = run_->source;
  if (preauth_) return command("CAPABILITY", {}, State::capability_after_login);
  if (caps_.count("LOGINDISABLED") == 0) {
    return command("LOGIN", {source.user, source.secret}, State::login);
  }
  if (caps_.count("AUTH=PLAIN") == 0) {
    return fail("the server refuses LOGIN (LOGINDISABLED) and offers no AUTH=PLAIN");
  }
  std::string plain;  // RFC 4616: no authorization identity, the user, the password
  plain += '\0';
  plain += source.user;
  plain += '\0';
  plain += source.secret;
  const std::string encoded = sdk::base64_encode(plain);
  tag_ = "r" + std::to_string(++tag_number_);
  if (caps_.count("SASL-IR")) {  // RFC 4959: the response in the command
    return send({tag_ + " AUTHENTICATE PLAIN " + encoded + "\r\n"}, State::login);
  }
  sasl_response_ = encoded;
  send({tag_ + " AUTHENTICATE PLAIN\r\n"}, State::login);
}

void RetrievalSession::start_literal(const Response& first, std::string_view line,
                                     std::uint64_t size) {
  if (size > kRetrievalMaxMessage) {
    return fail("the server sent a literal of " + std::to_string(size) +
                " octets, more than the limit of " + std::to_string(kRetrievalMaxMessage));
  }
  literal_ = Literal::discard;
  if (first.kind == Response::Kind::untagged && first.name == "FETCH" && size > 0) {
    const auto item = client::fetch_item_before_literal(line);
    const auto uid = client::fetch_uid(first.text);
    const bool ours = !uid || *uid == current_;
    if (ours && state_ == State::fetch_body && item == client::FetchItem::body && !body_seen_) {
      literal_ = Literal::body;
      body_seen_ = true;
      download_.start(key(current_), retrieval::SourceSpool::trace_line(
                                         run_->source, key(current_), run_->hostname,
                                         static_cast<std::int64_t>(std::time(nullptr))));
    } else if (ours && state_ == State::fetch_header && item == client::FetchItem::header) {
      literal_ = Literal::header;
      header_.clear();
    }
  }
  continuing_ = true;
  literal_left_ = size;
  if (size == 0) return literal_done();
  ctx_.read_bytes(static_cast<std::size_t>(size));
}

void RetrievalSession::on_bytes(std::string_view bytes, bool last) {
  if (state_ == State::done) return;
  literal_left_ -= std::min<std::uint64_t>(literal_left_, bytes.size());
  if (literal_ == Literal::header) {
    header_.append(bytes.substr(0, kMaxHeader - std::min(kMaxHeader, header_.size())));
  } else if (literal_ == Literal::body) {
    download_.append(bytes);
    if (!last && download_.full()) flush_body(false);
  }
  if (last) literal_done();
}

void RetrievalSession::literal_done() {
  const Literal was = std::exchange(literal_, Literal::discard);
  if (was == Literal::body) flush_body(true);
}

void RetrievalSession::plan() {
  ctx_.pause_input();
  struct Plan {
    std::string error;
    std::deque<std::uint32_t> fetch;
    std::vector<std::uint32_t> remove;
    bool dedupe = false;
  };
  auto result = std::make_shared<Plan>();
  std::sort(listed_.begin(), listed_.end());
  listed_.erase(std::unique(listed_.begin(), listed_.end()), listed_.end());
  std::vector<std::string> keys;
  keys.reserve(listed_.size());
  for (auto uid : listed_)
    keys.push_back(key(uid));
  ctx_.post_work(
      [run = run_, result, keys = std::move(keys), uids = listed_,
       prefix = std::to_string(uid_validity_) + "."] {
        try {
          for (std::size_t i = 0; i < uids.size(); ++i) {
            if (!run->spool->seen(keys[i])) {
              result->fetch.push_back(uids[i]);
            } else if (!run->source.leave_on_server) {
              result->remove.push_back(uids[i]);
            }
          }
          bool old_keys = false;
          for (const auto& k : run->spool->seen_keys()) {
            if (k.compare(0, prefix.size(), prefix) != 0) old_keys = true;
          }
          result->dedupe =
              compare_message_ids(*run->spool, prefix.substr(0, prefix.size() - 1), old_keys);
        } catch (const std::exception& e) {
          result->error = e.what();
        }
      },
      [this, result] {
        ctx_.resume_input();
        if (!result->error.empty()) return fail(result->error);
        to_fetch_ = std::move(result->fetch);
        to_delete_ = std::move(result->remove);
        dedupe_ = result->dedupe;
        if (dedupe_ && !to_fetch_.empty()) {
          ctx_.log(sdk::LogLevel::info,
                   "UIDVALIDITY is now " + std::to_string(uid_validity_) +
                       ": messages already in the mailbox (by Message-ID) are not fetched again");
        }
        next();
      });
}

void RetrievalSession::next() {
  if (!to_fetch_.empty()) {
    current_ = to_fetch_.front();
    to_fetch_.pop_front();
    return fetch(dedupe_);
  }
  if (!run_->source.leave_on_server && !to_delete_.empty()) {
    delete_sets_ = client::uid_sets(std::move(to_delete_), kMaxUidSet);
    to_delete_.clear();
    delete_at_ = 0;
    expunging_ = false;
    return delete_next();
  }
  finish();
}

void RetrievalSession::fetch(bool header_first) {
  header_.clear();
  body_seen_ = false;
  delivered_ = false;
  const std::string uid = std::to_string(current_);
  if (header_first) {
    return command("UID FETCH " + uid + " (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", {},
                   State::fetch_header);
  }
  command("UID FETCH " + uid + " (BODY.PEEK[])", {}, State::fetch_body);
}

void RetrievalSession::check_duplicate() {
  const std::string id = client::message_id(header_);
  if (id.empty()) return fetch(false);
  ctx_.pause_input();
  auto error = std::make_shared<std::string>();
  auto found = std::make_shared<bool>(false);
  ctx_.post_work(
      [run = run_, error, found, id, k = key(current_)] {
        try {
          const auto& s = run->source;
          auto hits = run->store->search_header(
              s.account, s.destination_folder.empty() ? "INBOX" : s.destination_folder,
              "Message-ID", id);
          if (!hits.ok() && hits.error != sdk::StoreError::not_found) {
            *error = "cannot read the mailbox: " + hits.message;
            return;
          }
          if (hits.ok() && !hits.value.empty()) {
            run->spool->mark_seen(k);
            *found = true;
          }
        } catch (const std::exception& e) {
          *error = e.what();
        }
      },
      [this, error, found] {
        ctx_.resume_input();
        if (!error->empty()) return fail(*error);
        if (!*found) return fetch(false);
        if (!run_->source.leave_on_server) to_delete_.push_back(current_);
        next();
      });
}

void RetrievalSession::delete_next() {
  if (!expunging_) {
    if (delete_at_ < delete_sets_.size()) {
      return command("UID STORE " + delete_sets_[delete_at_++] + " +FLAGS.SILENT (\\Deleted)", {},
                     State::store);
    }
    expunging_ = true;
    delete_at_ = 0;
    if (caps_.count("UIDPLUS") == 0) {  // removes every \Deleted message of the folder
      delete_at_ = delete_sets_.size();
      return command("EXPUNGE", {}, State::expunge);
    }
  }
  if (delete_at_ < delete_sets_.size()) {  // RFC 4315 section 2.1: only these
    return command("UID EXPUNGE " + delete_sets_[delete_at_++], {}, State::expunge);
  }
  finish();
}

void RetrievalSession::finish() {
  ctx_.pause_input();
  auto error = std::make_shared<std::string>();
  std::unordered_set<std::string> keys;
  for (auto uid : listed_)
    keys.insert(key(uid));
  ctx_.post_work(
      [run = run_, error, keys = std::move(keys)] {
        try {
          // Keys of another UIDVALIDITY go only now: until this run completes, the next one
          // must still know to compare Message-IDs.
          run->spool->keep_only(keys);
        } catch (const std::exception& e) {
          *error = e.what();
        }
      },
      [this, error] {
        ctx_.resume_input();
        if (!error->empty()) return fail(*error);
        command("LOGOUT", {}, State::logout);
      });
}

void RetrievalSession::flush_body(bool last) {
  download_.flush(ctx_, run_, last, [this, last](const std::string& error) {
    if (!error.empty()) return fail(error);
    if (!last) return;
    delivered_ = true;
    ++run_->fetched;
    if (!run_->source.leave_on_server) to_delete_.push_back(current_);
  });
}

void RetrievalSession::on_line_too_long() {
  fail("the server sent a line that is too long");
}

void RetrievalSession::fail(std::string error) {
  if (state_ == State::done) return;
  state_ = State::done;
  fail_run(std::move(error));
}

void RetrievalSession::on_close() {
  if (run_->reported) return;
  if (state_ == State::logout) {  // the server closed after its BYE: the work was done
    state_ = State::done;
    return run_->report({true, run_->fetched, {}});
  }
  run_->report({false, run_->fetched,
                std::string("the connection closed while waiting for ") +
                    waiting_for(static_cast<int>(state_)) +
                    " (timeout, TLS failure or server gone)"});
}

}  // namespace portico::imap
