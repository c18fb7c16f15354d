// imap — the session's frame: reading commands and literals (RFC 9051 sections 2.2 and 4.3,
// LITERAL+ of RFC 7888), the state machine of RFC 9051 section 3, the capability list, tagged
// and untagged replies, and reporting other sessions' changes at the points section 7.5.1
// allows (see session.h).
#include "session.h"

#include <algorithm>

namespace portico::imap {

ImapSession::ImapSession(sdk::SessionContext& ctx, sdk::Host& host, ImapSettings settings)
    : ctx_(ctx),
      host_(host),
      settings_(settings),
      assembler_(static_cast<std::size_t>(settings.append_limit)),
      alive_(std::make_shared<bool>(true)) {}

ImapSession::~ImapSession() {
  *alive_ = false;
}

void ImapSession::on_start() {
  ctx_.set_max_line_length(kMaxCommandBytes);
  ctx_.set_timeouts(settings_.login_timeout, std::chrono::milliseconds(0));
  std::string banner = ctx_.banner();
  untagged("OK [CAPABILITY " + capabilities() + "] " +
           (banner.empty() ? "IMAP4rev2 server ready" : banner));
}

std::string ImapSession::capabilities() const {
  std::string caps = "IMAP4rev1 IMAP4rev2";
  if (state_ == State::not_authenticated) {
    if (ctx_.starttls_available()) caps += " STARTTLS";
    if (!plaintext_allowed()) caps += " LOGINDISABLED";
    caps += " SASL-IR";
    if (sdk::SaslServer* sasl = host_.sasl()) {
      sdk::SaslPolicy policy{"imap", sdk::SaslEncoding::base64, settings_.allow_plaintext_auth};
      for (const auto& m : sasl->mechanisms(ctx_, policy))
        caps += " AUTH=" + m;
    }
  }
  caps +=
      " LITERAL+ ENABLE ID NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE SPECIAL-USE "
      "CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH SEARCHRES CONDSTORE QRESYNC BINARY "
      "STATUS=SIZE QUOTA QUOTA=RES-STORAGE SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT "
      "THREAD=REFERENCES";
  if (settings_.enable_idle) caps += " IDLE";
  if (state_ != State::not_authenticated) caps += " COMPRESS=DEFLATE";
  caps += " APPENDLIMIT=" + std::to_string(settings_.append_limit);
  return caps;
}

void ImapSession::untagged(std::string_view text) {
  std::string line = "* ";
  line += text;
  line += "\r\n";
  ctx_.write(line);
}

void ImapSession::tagged(const std::string& tag, std::string_view status, std::string_view text) {
  std::string line = tag;
  line += ' ';
  line += status;
  line += ' ';
  line += text;
  line += "\r\n";
  ctx_.write(line);
}

void ImapSession::bad(const std::string& tag, std::string_view text) {
  if (ctx_.bad_command()) return;  // the core has said goodbye and closes
  tagged(tag.empty() ? "*" : tag, "BAD", text);
}

void ImapSession::work(std::function<void()> fn, std::function<void()> done) {
  busy_ = true;
  ctx_.pause_input();
  ctx_.post_work(std::move(fn), [this, done = std::move(done)] {
    busy_ = false;
    done();
  });
}

void ImapSession::complete(const Command& c, std::string_view status, std::string text) {
  auto finish = [this, tag = c.tag, status = std::string(status), text = std::move(text)] {
    tagged(tag, status, text);
    if (state_ == State::logout) {
      ctx_.close();
      return;
    }
    ctx_.resume_input();
  };
  // RFC 9051 section 7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH by sequence
  // number; everything may be told after any other command.
  bool by_number = !c.uid && (c.name == Command::Name::fetch || c.name == Command::Name::store ||
                              c.name == Command::Name::search || c.name == Command::Name::sort ||
                              c.name == Command::Name::thread);
  if (selected_ && selected_->changed && state_ == State::selected)
    return sync(!by_number, std::move(finish));
  finish();
}

void ImapSession::on_line(std::string_view line) {
  if (sasl_) {
    std::string_view r = line;
    while (!r.empty() && (r.back() == '\n' || r.back() == '\r'))
      r.remove_suffix(1);
    sasl_->respond(r);
    return;
  }
  if (idling_) {
    std::string_view r = line;
    while (!r.empty() && (r.back() == '\n' || r.back() == '\r'))
      r.remove_suffix(1);
    if (r.size() == 4 && (r[0] | 0x20) == 'd' && (r[1] | 0x20) == 'o' && (r[2] | 0x20) == 'n' &&
        (r[3] | 0x20) == 'e')
      return end_idle(true);
    end_idle(false);
    return bad(idle_tag_, "expected DONE");
  }
  handle_step(assembler_.add_line(line));
}

void ImapSession::on_line_too_long() {
  assembler_.reset();
  bad("*", "command line too long");
}

void ImapSession::on_bytes(std::string_view bytes, bool last) {
  if (discard_ > 0) {
    discard_ -= std::min<std::uint64_t>(discard_, bytes.size());
    if (last) {
      discard_ = 0;
      ctx_.set_in_command(false);
    }
    return;
  }
  if (spooling_) return spool_bytes(bytes, last);
  assembler_.add_literal(bytes);
  if (last) ctx_.set_in_command(true);  // the rest of the command's line is still owed
}

void ImapSession::spool_bytes(std::string_view bytes, bool last) {
  spool_pending_.append(bytes);
  if (last) {
    spooling_ = false;
    ctx_.set_in_command(true);
  }
  if (spool_pending_.size() < kSpoolChunk && !last) return;
  // Written on the worker pool; no more input until it is, so memory holds one chunk.
  ctx_.pause_input();
  ctx_.post_work(
      [spool = spool_, chunk = std::move(spool_pending_), last] {
        spool->write(chunk);
        if (last) spool->finish();
      },
      [this] { ctx_.resume_input(); });
  spool_pending_.clear();
}

void ImapSession::handle_step(const CommandAssembler::Step& step) {
  using K = CommandAssembler::Step::Kind;
  switch (step.kind) {
    case K::literal:
      ctx_.set_in_command(true);
      // A large APPEND message goes to a file as it comes (never whole in memory).
      if (step.append && step.size > kSpoolAppendAbove && !spool_ && !host_.data_dir().empty()) {
        spool_ = std::make_shared<AppendSpool>(host_.data_dir() + "/imap-append");
        spooling_ = true;
        assembler_.spool_literal();
      }
      if (step.synchronizing) ctx_.write("+ Ready for literal data\r\n");
      ctx_.read_bytes(static_cast<std::size_t>(step.size));
      return;
    case K::too_long: {
      std::string tag = step.tag.empty() ? "*" : step.tag;
      if (assembler_.discard_remaining() > 0) {
        discard_ = assembler_.discard_remaining();
        ctx_.read_bytes(static_cast<std::size_t>(discard_));
      }
      assembler_.reset();
      ctx_.set_in_command(false);
      if (step.append) {
        tagged(tag, "NO", "[TOOBIG] message too large for APPENDLIMIT");
        return;
      }
      return bad(tag, "command too long");
    }
    case K::bad_literal:
      assembler_.reset();
      ctx_.set_in_command(false);
      return bad(step.tag, "invalid literal");
    case K::complete:
      break;
  }
  ctx_.set_in_command(false);
  ParseResult r = parse(assembler_.command());
  assembler_.reset();
  // A spooled message belongs to this command, if it is an APPEND; else it is dropped.
  if (spool_ && (!r.command || r.command->name != Command::Name::append)) spool_.reset();
  if (!r.command) {
    // RFC 9051 section 6.4.4: an unknown charset is NO [BADCHARSET], not a syntax error.
    if (r.error.rfind("[BADCHARSET", 0) == 0) return tagged(r.tag, "NO", r.error);
    return bad(r.tag, r.error);
  }
  run(*r.command);
}

bool ImapSession::allowed_in_state(const Command& c) {
  using N = Command::Name;
  switch (c.name) {
    case N::capability:
    case N::noop:
    case N::logout:
    case N::id:
      return true;
    case N::starttls:
    case N::authenticate:
    case N::login:
      return state_ == State::not_authenticated;
    case N::check:
    case N::close:
    case N::unselect:
    case N::expunge:
    case N::search:
    case N::sort:
    case N::thread:
    case N::fetch:
    case N::store:
    case N::copy:
    case N::move:
      return state_ == State::selected;
    default:
      return state_ == State::authenticated || state_ == State::selected;
  }
}

void ImapSession::run(Command& c) {
  if (!allowed_in_state(c)) {
    if (state_ == State::not_authenticated) return bad(c.tag, "log in first");
    if (c.name == Command::Name::login || c.name == Command::Name::authenticate ||
        c.name == Command::Name::starttls)
      return bad(c.tag, "already logged in");
    return bad(c.tag, "no mailbox selected");
  }
  if (!take_mailbox_names(c)) return;
  dispatch(c);
}

void ImapSession::dispatch(Command& c) {
  using N = Command::Name;
  switch (c.name) {
    case N::capability:
      untagged("CAPABILITY " + capabilities());
      return complete(c, "OK", "CAPABILITY completed");
    case N::noop:
    case N::check:
      return complete(c, "OK", c.name == N::noop ? "NOOP completed" : "CHECK completed");
    case N::logout:
      untagged("BYE logging out");
      state_ = State::logout;
      tagged(c.tag, "OK", "LOGOUT completed");
      ctx_.close();
      return;
    case N::starttls:
      return do_starttls(c);
    case N::login:
      return do_login(c);
    case N::authenticate:
      return do_authenticate(c);
    case N::enable:
      return do_enable(c);
    case N::id:
      return do_id(c);
    case N::namespace_:
      return do_namespace(c);
    case N::select:
    case N::examine:
      return do_select(c);
    case N::create:
      return do_create(c);
    case N::delete_:
      return do_delete(c);
    case N::rename:
      return do_rename(c);
    case N::subscribe:
    case N::unsubscribe:
      return do_subscribe(c, c.name == N::subscribe);
    case N::list:
    case N::lsub:
      return do_list(c);
    case N::status:
      return do_status(c);
    case N::append:
      return do_append(c);
    case N::getquota:
      return do_getquota(c);
    case N::getquotaroot:
      return do_getquotaroot(c);
    case N::idle:
      return do_idle(c);
    case N::close:
      return do_close(c);
    case N::unselect:
      close_mailbox();
      state_ = State::authenticated;
      return complete(c, "OK", "UNSELECT completed");
    case N::expunge:
      return do_expunge(c);
    case N::search:
    case N::sort:
    case N::thread:
      return do_search(c);
    case N::fetch:
      return do_fetch(c);
    case N::store:
      return do_store(c);
    case N::copy:
    case N::move:
      return do_copy(c, c.name == N::move);
    case N::compress:
      return do_compress(c);
  }
}

void ImapSession::do_enable(const Command& c) {
  std::string enabled;
  bool condstore_enabled = false;  // said once per command
  for (const auto& cap : c.capabilities) {
    if (cap == "IMAP4REV2") {
      rev2_ = true;
      enabled += " IMAP4rev2";
    } else if (cap == "UTF8=ACCEPT" && !utf8_) {
      utf8_ = true;  // RFC 6855: UTF-8 mailbox names from now on
      enabled += " UTF8=ACCEPT";
    } else if (cap == "CONDSTORE" && !condstore_enabled) {
      condstore_ = condstore_enabled = true;
      enabled += " CONDSTORE";
    } else if (cap == "QRESYNC" && !qresync_) {
      // RFC 7162 section 3.2.3: QRESYNC implies CONDSTORE.
      qresync_ = condstore_ = true;
      enabled += " QRESYNC";
    }
  }
  untagged("ENABLED" + enabled);
  complete(c, "OK", "ENABLE completed");
}

void ImapSession::do_id(const Command& c) {
  if (!c.id_params.empty()) {
    std::string seen;
    for (const auto& [k, v] : c.id_params) {
      if (seen.size() > 512) break;
      seen += (seen.empty() ? "" : ", ") + k + "=" + v;
    }
    ctx_.log(sdk::LogLevel::debug, "client id: " + seen);
  }
  untagged("ID (\"name\" \"Portico\")");
  complete(c, "OK", "ID completed");
}

void ImapSession::do_namespace(const Command& c) {
  untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
  complete(c, "OK", "NAMESPACE completed");
}

void ImapSession::on_tls_started() {
  // RFC 9051 section 6.2.1: the client must discard what it knew of the capabilities.
  ctx_.resume_input();
}

void ImapSession::on_close() {
  *alive_ = false;
  sasl_.reset();
  if (selected_) selected_->subscription.reset();
}

bool ImapSession::on_final_words(sdk::CloseReason reason) {
  switch (reason) {
    case sdk::CloseReason::session_timeout:
      untagged(idling_ ? "BYE IDLE for too long, logging out"
                       : "BYE autologout; idle for too long");
      return true;
    case sdk::CloseReason::command_timeout:
      untagged("BYE command timed out");
      return true;
    case sdk::CloseReason::shutdown:
      untagged("BYE [UNAVAILABLE] server shutting down");
      return true;
  }
  return false;
}

}  // namespace portico::imap
