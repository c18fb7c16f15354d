// smtp-out — the SMTP client session (see client_session.h).
#include "client_session.h"

#include <algorithm>
#include <utility>

#include "command.h"

namespace portico::smtpout {

namespace {

Outcome outcome_of(int kind) {
  if (kind == 2) return Outcome::delivered;
  if (kind == 5) return Outcome::permanent;
  return Outcome::temporary;
}

// The reply's status when its class agrees with the outcome, else the generic one.
std::string status_for(Outcome outcome, const Reply& reply) {
  const char klass = outcome == Outcome::delivered   ? '2'
                     : outcome == Outcome::permanent ? '5'
                                                     : '4';
  if (!reply.status.empty() && reply.status[0] == klass) return reply.status;
  return std::string(1, klass) + ".0.0";
}

}  // namespace

ClientSession::ClientSession(sdk::SessionContext& ctx, ClientOptions options, ClientHooks hooks,
                             Job first)
    : ctx_(ctx), options_(std::move(options)), hooks_(std::move(hooks)) {
  adopt(std::move(first), false);
  report_.remote_host = options_.remote_host;
}

ClientSession::~ClientSession() {
  if (!closed_reported_) finish("the session ended early");
}

// --- opening --------------------------------------------------------------------------------

void ClientSession::on_start() {
  touch();
  report_.remote_address = ctx_.connection().remote_address;
  if (ctx_.is_tls()) {  // implicit TLS (a submission port)
    report_.tls = ctx_.tls_description();
    report_.tls_verified = ctx_.tls_verified();
  }
  ctx_.set_max_line_length(kMaxReplyLineLength);
  expect(Await::greeting);
}

void ClientSession::write_line(const std::string& line) {
  ctx_.write(line + "\r\n");
}

void ClientSession::expect(Await what, std::size_t slot, bool last) {
  expected_.push_back({what, slot, last});
  ctx_.set_in_command(true);  // the server owes a reply: the command timeout applies
}

void ClientSession::on_line(std::string_view line) {
  touch();
  if (phase_ == Phase::done) return;
  switch (parser_.feed(line)) {
    case ReplyParser::Result::need_more:
      return;
    case ReplyParser::Result::malformed:
      return fail("malformed reply from the server: " + parser_.error(), "4.5.0", false);
    case ReplyParser::Result::complete:
      break;
  }
  const Reply reply = parser_.take();
  if (phase_ == Phase::idle && reply.code == 421) {  // the server ends an idle connection
    phase_ = Phase::done;
    return ctx_.close();
  }
  if (expected_.empty()) {
    return fail("unexpected reply from the server: " + reply.text(),
                status_for(Outcome::temporary, reply), false);
  }
  const Expected expected = expected_.front();
  expected_.pop_front();
  dispatch(expected, reply);
}

void ClientSession::on_line_too_long() {
  touch();
  if (phase_ == Phase::done) return;
  fail("malformed reply from the server: a line longer than " +
           std::to_string(kMaxReplyLineLength) + " octets",
       "4.5.0", false);
}

void ClientSession::dispatch(const Expected& expected, const Reply& reply) {
  if (phase_ == Phase::quitting) {
    if (expected.what == Await::quit) {
      phase_ = Phase::done;
      ctx_.close();
    }
    return;  // replies to what was in flight before QUIT
  }
  if (reply.code == 421) {  // the server is closing the connection (section 3.8)
    return fail("the server closed the connection: " + reply.text(),
                status_for(Outcome::temporary, reply), false);
  }
  switch (expected.what) {
    case Await::greeting:
      if (reply.code != 220) {
        return fail("the server refused the connection: " + reply.text(),
                    status_for(Outcome::temporary, reply), true);
      }
      report_.greeting = Reply{reply.code, {reply.lines.front()}, reply.status}.text();
      return send_ehlo();
    case Await::ehlo:
      if (reply.kind() == 2) {
        ext_ = parse_ehlo(reply);
        return after_hello();
      }
      if (reply.kind() == 5) {  // no ESMTP here (section 4.1.4): HELO
        write_line("HELO " + options_.helo_name);
        return expect(Await::helo);
      }
      return fail("the server refused EHLO: " + reply.text(), status_for(Outcome::temporary, reply),
                  true);
    case Await::helo:
      if (reply.kind() != 2) {
        return fail("the server refused HELO: " + reply.text(),
                    status_for(Outcome::temporary, reply), true);
      }
      ext_ = {};
      return after_hello();
    case Await::starttls:
      if (reply.code == 220) {
        phase_ = Phase::tls_handshake;
        parser_.reset();
        if (!ctx_.start_tls()) {
          phase_ = Phase::opening;
          return fail("STARTTLS cannot start on this connection", "4.7.5", false);
        }
        return;
      }
      if (options_.require_tls) {
        return fail("TLS is required and the server refused STARTTLS: " + reply.text(), "4.7.5",
                    true);
      }
      tls_declined_ = true;  // go on in plain text (RFC 3207 section 4.1)
      return after_hello();
    case Await::auth:
      return on_auth_reply(reply);
    case Await::rset:
      if (reply.kind() != 2) {
        return fail("the server refused RSET: " + reply.text(),
                    status_for(Outcome::temporary, reply), true);
      }
      return start_job();
    case Await::mail:
      return on_mail_reply(reply);
    case Await::rcpt:
      return on_rcpt_reply(expected.slot, reply);
    case Await::data:
      return on_data_reply(reply);
    case Await::data_end:
      decide_by(reply, true);
      return end_job();
    case Await::empty_data_end:
      return end_job();
    case Await::bdat:
      return on_bdat_reply(expected.last, reply);
    case Await::quit:
      return;
  }
}

void ClientSession::send_ehlo() {
  const std::string name =
      options_.helo_name.empty() ? ctx_.connection().server_hostname : options_.helo_name;
  if (options_.helo_name.empty()) options_.helo_name = name;
  write_line("EHLO " + name);
  expect(Await::ehlo);
}

void ClientSession::after_hello() {
  report_.dsn_supported = ext_.dsn;
  if (!ctx_.is_tls() && !tls_declined_ && options_.starttls && ext_.starttls &&
      ctx_.starttls_available()) {
    write_line("STARTTLS");
    return expect(Await::starttls);
  }
  if (options_.require_tls && !ctx_.is_tls()) {
    return fail("TLS is required and the server does not offer STARTTLS", "4.7.5", true);
  }
  if (!options_.auth_user.empty() && !authenticated_) return start_auth();
  phase_ = Phase::jobs;
  start_job();
}

void ClientSession::on_tls_started() {
  touch();
  if (phase_ != Phase::tls_handshake) return;
  phase_ = Phase::opening;
  report_.tls = ctx_.tls_description();
  report_.tls_verified = ctx_.tls_verified();
  ext_ = {};  // RFC 3207 section 4.2: forget everything learnt before TLS
  parser_.reset();
  send_ehlo();
}

// --- AUTH (RFC 4954) ------------------------------------------------------------------------

void ClientSession::start_auth() {
  if (!ctx_.is_tls() && !options_.allow_auth_without_tls) {
    return fail("not authenticating to the relay without TLS", "4.7.5", true);
  }
  const std::string mechanism = choose_mechanism(ext_.auth);
  if (mechanism.empty()) {
    return fail("the relay offers no AUTH mechanism this client uses (PLAIN, LOGIN)", "4.7.0",
                true);
  }
  std::string error;
  sasl_ = SaslClient::start(mechanism, options_.auth_user, options_.auth_password, error);
  if (!sasl_) return fail(error, "4.7.0", true);
  sasl_done_ = false;
  if (mechanism == "PLAIN") {  // with the initial response (RFC 4954 section 4, RFC 4616)
    const SaslClient::Step step = sasl_->step("");
    if (step.status == SaslClient::Step::Status::error) {
      return fail("SASL PLAIN failed: " + step.error, "4.7.0", true);
    }
    sasl_done_ = step.status == SaslClient::Step::Status::done;
    write_line("AUTH PLAIN " + (step.response.empty() ? std::string("=") : step.response));
  } else {
    write_line("AUTH " + mechanism);
  }
  expect(Await::auth);
}

void ClientSession::on_auth_reply(const Reply& reply) {
  if (reply.code == 334) {
    std::string challenge = reply.lines.empty() ? std::string() : reply.lines.front();
    while (!challenge.empty() && challenge.back() == ' ')
      challenge.pop_back();
    std::string response = "*";  // cancels (RFC 4954 section 4)
    if (sasl_ && !sasl_done_) {
      const SaslClient::Step step = sasl_->step(challenge);
      if (step.status != SaslClient::Step::Status::error) {
        response = step.response;
        sasl_done_ = step.status == SaslClient::Step::Status::done;
      } else {
        sasl_.reset();
      }
    } else {
      sasl_.reset();
    }
    write_line(response);
    return expect(Await::auth);
  }
  if (reply.code == 235 && sasl_) {
    authenticated_ = true;
    sasl_.reset();
    phase_ = Phase::jobs;
    return start_job();
  }
  sasl_.reset();
  fail("authentication to the relay failed: " + reply.text(), status_for(Outcome::temporary, reply),
       true);
}

// --- jobs -----------------------------------------------------------------------------------

void ClientSession::adopt(Job job, bool touched) {
  tx_.emplace();
  Transaction& tx = *tx_;
  tx.job = std::move(job);
  tx.touched = touched;
  for (std::size_t index : tx.job.recipients) {
    const bool duplicate = std::any_of(tx.slots.begin(), tx.slots.end(),
                                       [index](const Slot& s) { return s.index == index; });
    if (index >= tx.job.envelope.recipients.size() || duplicate) {
      ctx_.log(sdk::LogLevel::warn, "job " + tx.job.id + ": recipient index " +
                                        std::to_string(index) + " ignored (out of range or twice)");
      continue;
    }
    Slot slot;
    slot.index = index;
    tx.slots.push_back(slot);
  }
}

void ClientSession::start_job() {
  Transaction& tx = *tx_;
  const Job& job = tx.job;
  const auto& all = job.envelope.recipients;
  if (const auto refusal = local_refusal(job, ext_)) {
    decide_rest(Outcome::permanent, refusal->reason, refusal->status);
  }
  for (Slot& slot : tx.slots) {
    if (!slot.decided && !safe_address(all[slot.index].address)) {
      decide(slot, Outcome::permanent, "the recipient address holds control characters", "5.1.3");
    }
  }
  if (std::all_of(tx.slots.begin(), tx.slots.end(), [](const Slot& s) { return s.decided; })) {
    return end_job();  // nothing is sent for this job
  }
  tx.use_bdat = ext_.chunking;
  tx.reader = std::make_shared<MessageReader>(job.message_path);
  tx.encoder.emplace(!tx.use_bdat);
  if (ext_.pipelining && tx.use_bdat) return read_piece();  // the first chunk goes with MAIL
  if (ext_.pipelining) return send_pipelined(nullptr);
  tx.touched = true;
  tx.mail_sent = true;
  dirty_ = true;
  write_line(mail_command(job, ext_));
  expect(Await::mail);
}

void ClientSession::send_pipelined(const Piece* first_chunk) {
  Transaction& tx = *tx_;
  tx.touched = true;
  tx.mail_sent = true;
  dirty_ = true;
  std::string out = mail_command(tx.job, ext_) + "\r\n";
  std::vector<Expected> replies{{Await::mail}};
  for (std::size_t i = 0; i < tx.slots.size(); ++i) {
    Slot& slot = tx.slots[i];
    if (slot.decided) continue;
    out += rcpt_command(tx.job.envelope.recipients[slot.index], ext_) + "\r\n";
    slot.sent = true;
    ++tx.rcpt_outstanding;
    replies.push_back({Await::rcpt, i});
  }
  if (first_chunk != nullptr) {
    out += chunk(*first_chunk);
    ++tx.bdat_outstanding;
    replies.push_back({Await::bdat, 0, first_chunk->last});
  } else {
    out += "DATA\r\n";
    replies.push_back({Await::data});
  }
  ctx_.write(out);  // one write: RFC 2920 section 3.1
  for (const Expected& e : replies)
    expect(e.what, e.slot, e.last);
}

void ClientSession::on_mail_reply(const Reply& reply) {
  Transaction& tx = *tx_;
  if (reply.kind() == 2) {
    if (!ext_.pipelining) send_next_rcpt();
    return;
  }
  tx.failed = true;
  decide_by(reply, false);
  // With PIPELINING the replies to RCPT and DATA/BDAT follow and end the job.
  if (!ext_.pipelining) end_job();
}

void ClientSession::send_next_rcpt() {
  Transaction& tx = *tx_;
  for (std::size_t i = 0; i < tx.slots.size(); ++i) {
    Slot& slot = tx.slots[i];
    if (slot.decided || slot.sent) continue;
    slot.sent = true;
    ++tx.rcpt_outstanding;
    write_line(rcpt_command(tx.job.envelope.recipients[slot.index], ext_));
    return expect(Await::rcpt, i);
  }
  after_rcpts();
}

void ClientSession::after_rcpts() {
  Transaction& tx = *tx_;
  if (!any_accepted()) return end_job();  // no data without a recipient (RSET comes next)
  if (tx.use_bdat) return pump_bdat();
  write_line("DATA");
  expect(Await::data);
}

void ClientSession::on_rcpt_reply(std::size_t index, const Reply& reply) {
  Transaction& tx = *tx_;
  --tx.rcpt_outstanding;
  if (!tx.failed) {
    Slot& slot = tx.slots[index];
    if (reply.kind() == 2) {
      slot.accepted = true;
    } else {
      decide(slot, outcome_of(reply.kind()), reply.text(),
             status_for(outcome_of(reply.kind()), reply));
    }
  }
  if (!ext_.pipelining) return send_next_rcpt();
  if (tx.rcpt_outstanding == 0 && tx.use_bdat) pump_bdat();
}

void ClientSession::on_data_reply(const Reply& reply) {
  Transaction& tx = *tx_;
  if (reply.code == 354) {
    if (tx.failed || !any_accepted()) {
      // Pipelined DATA accepted with no recipient: an empty message ends it (RFC 2920 3.1).
      ctx_.write(".\r\n");
      return expect(Await::empty_data_end);
    }
    tx.streaming = true;
    return read_piece();
  }
  if (!tx.failed) decide_by(reply, true);
  end_job();
}

void ClientSession::read_piece() {
  Transaction& tx = *tx_;
  tx.reading = true;
  if (tx.job.octets) {  // read when claimed: the whole message is one last piece, here and now
    Piece piece;
    piece.data = *tx.job.octets;
    piece.last = true;
    tx.job.octets.reset();
    return on_piece(std::move(piece));
  }
  auto piece = std::make_shared<Piece>();
  ctx_.post_work_on(
      sdk::WorkPool::delivery, [reader = tx.reader, piece] { *piece = reader->next(); },
      [this, piece] { on_piece(std::move(*piece)); });
}

void ClientSession::on_piece(Piece piece) {
  touch();
  if (phase_ != Phase::jobs || !tx_) return;
  Transaction& tx = *tx_;
  tx.reading = false;
  if (!piece.error.empty()) {
    ctx_.log(sdk::LogLevel::error, "job " + tx.job.id + ": " + piece.error);
    const std::string reason = "cannot read the message: " + piece.error;
    if (!tx.mail_sent) {  // nothing sent yet: this job fails, the connection goes on
      decide_rest(Outcome::temporary, reason, "4.3.0");
      return end_job();
    }
    // The data cannot be ended without sending a truncated message: close instead.
    return fail(reason, "4.3.0", false);
  }
  if (!tx.mail_sent) return send_pipelined(&piece);  // PIPELINING with CHUNKING: the first chunk
  if (tx.use_bdat) {
    if (tx.failed || !any_accepted()) return end_bdat_if_over();
    ctx_.write(chunk(piece));
    expect(Await::bdat, 0, piece.last);
    ++tx.bdat_outstanding;
    return pump_bdat();
  }
  std::string out;
  tx.encoder->encode(piece.data, out);
  if (piece.last) {
    tx.encoder->finish(out);
    ctx_.write(out);
    tx.streaming = false;
    return expect(Await::data_end);
  }
  ctx_.write(out);
  if (ctx_.output_pending() >= kOutputThrottle) {
    tx.waiting_drain = true;
    return;
  }
  read_piece();
}

std::string ClientSession::chunk(const Piece& piece) {
  Transaction& tx = *tx_;
  std::string data;
  tx.encoder->encode(piece.data, data);
  if (piece.last) tx.encoder->finish(data);
  tx.last_chunk_sent = piece.last;
  // An empty message is one "BDAT 0 LAST" (RFC 3030 section 2).
  return "BDAT " + std::to_string(data.size()) + (piece.last ? " LAST" : "") + "\r\n" + data;
}

// The next BDAT chunk, when one may go: RCPT replies in and somebody accepted, nothing refused,
// not throttled, and without PIPELINING only once the last chunk's reply is in.
void ClientSession::pump_bdat() {
  Transaction& tx = *tx_;
  if (tx.failed || tx.last_chunk_sent || tx.reading || tx.waiting_drain) return;
  if (tx.rcpt_outstanding > 0 || !any_accepted()) return;
  if (!ext_.pipelining && tx.bdat_outstanding > 0) return;
  if (ctx_.output_pending() >= kOutputThrottle) {
    tx.waiting_drain = true;
    return;
  }
  read_piece();
}

void ClientSession::on_bdat_reply(bool last, const Reply& reply) {
  Transaction& tx = *tx_;
  --tx.bdat_outstanding;
  if (!tx.failed) {
    if (reply.kind() != 2) {
      tx.failed = true;  // no more chunks (RFC 3030 section 2)
      decide_by(reply, true);
    } else if (last) {
      tx.last_chunk_done = true;
      decide_by(reply, true);
    }
  }
  end_bdat_if_over();
}

// BDAT: the job ends once no chunk goes any more and every chunk's reply is in.
void ClientSession::end_bdat_if_over() {
  Transaction& tx = *tx_;
  const bool over =
      tx.failed || tx.last_chunk_done || (tx.rcpt_outstanding == 0 && !any_accepted());
  if (!over) return pump_bdat();
  if (tx.bdat_outstanding == 0 && !tx.reading) end_job();
}

void ClientSession::on_output_drained() {
  touch();
  if (phase_ != Phase::jobs || !tx_ || !tx_->waiting_drain) return;
  tx_->waiting_drain = false;
  if (tx_->use_bdat) return pump_bdat();
  read_piece();
}

bool ClientSession::any_accepted() const {
  return std::any_of(tx_->slots.begin(), tx_->slots.end(),
                     [](const Slot& s) { return s.accepted && !s.decided; });
}

void ClientSession::decide(Slot& slot, Outcome outcome, std::string reply, std::string status) {
  if (slot.decided) return;
  slot.decided = true;
  slot.outcome.index = slot.index;
  slot.outcome.outcome = outcome;
  slot.outcome.reply = std::move(reply);
  slot.outcome.status = std::move(status);
}

void ClientSession::decide_by(const Reply& reply, bool accepted_only) {
  // A 3xx where a final reply belongs is no success.
  const Outcome outcome = outcome_of(reply.kind() == 3 ? 4 : reply.kind());
  for (Slot& slot : tx_->slots) {
    if (slot.decided || (accepted_only && !slot.accepted)) continue;
    decide(slot, outcome, reply.text(), status_for(outcome, reply));
  }
}

void ClientSession::decide_rest(Outcome outcome, const std::string& reason,
                                const std::string& status) {
  for (Slot& slot : tx_->slots)
    decide(slot, outcome, reason, status);
}

void ClientSession::report_job() {
  if (!tx_) return;
  Transaction tx = std::move(*tx_);
  tx_.reset();
  std::vector<RecipientOutcome> outcomes;
  outcomes.reserve(tx.slots.size());
  for (Slot& slot : tx.slots) {
    if (!slot.decided) decide(slot, Outcome::temporary, "no reply decided this recipient", "4.0.0");
    outcomes.push_back(std::move(slot.outcome));
  }
  if (hooks_.job_done) hooks_.job_done(tx.job, std::move(outcomes), report_);
}

void ClientSession::end_job() {
  tx_->touched = true;
  report_job();
  next_job();
}

void ClientSession::next_job() {
  std::optional<Job> job;
  for (;;) {
    if (hooks_.next_job) job = hooks_.next_job();
    if (job) break;
    if (!hooks_.park || options_.reuse_time.count() <= 0) return quit();
    switch (hooks_.park(make_wake())) {
      case Park::retry:
        continue;
      case Park::quit:
        return quit();
      case Park::parked:
        // Idle: the server owes nothing, so the core's command timeout does not apply.
        phase_ = Phase::idle;
        ctx_.set_in_command(false);
        idle_timer_ = ctx_.start_timer(options_.reuse_time, [this] {
          if (phase_ == Phase::idle && (!hooks_.unpark || hooks_.unpark())) quit();
        });
        return;
    }
  }
  adopt(std::move(*job), true);  // taken: job_done() is owed whatever happens
  if (!dirty_) return start_job();
  dirty_ = false;
  write_line("RSET");
  expect(Await::rset);
}

std::function<bool(bool)> ClientSession::make_wake() {
  std::shared_ptr<sdk::SessionHandle> handle = ctx_.handle();
  const std::uint64_t token = ++idle_token_;
  // The handle runs the call only while this session lives, on its executor.
  return [handle, this, token](bool quit) {
    return handle->post([this, token, quit] { wake(token, quit); });
  };
}

void ClientSession::wake(std::uint64_t token, bool quit_now) {
  if (phase_ != Phase::idle || token != idle_token_) return;
  ctx_.cancel_timer(idle_timer_);
  phase_ = Phase::jobs;
  if (quit_now) return quit();
  touch();
  next_job();
}

// --- endings --------------------------------------------------------------------------------

void ClientSession::quit() {
  if (phase_ == Phase::quitting || phase_ == Phase::done) return;
  phase_ = Phase::quitting;
  write_line("QUIT");
  expect(Await::quit);
  ctx_.post_after(kQuitWait, [this] {
    if (phase_ != Phase::done) {
      phase_ = Phase::done;
      ctx_.close();
    }
  });
}

void ClientSession::fail(std::string reason, std::string status, bool send_quit) {
  if (phase_ == Phase::quitting || phase_ == Phase::done) return;
  ctx_.log(sdk::LogLevel::info, options_.remote_host + ": " + reason);
  if (report_.error.empty()) report_.error = reason;
  if (tx_ && tx_->touched) {
    decide_rest(Outcome::temporary, reason, status);
    report_job();
  }
  if (send_quit) return quit();
  phase_ = Phase::done;
  ctx_.close();
}

std::string ClientSession::waiting_for() const {
  if (phase_ == Phase::tls_handshake) return "the TLS handshake";
  if (tx_ && tx_->streaming) return "the message to be sent";
  if (expected_.empty()) return "nothing";
  switch (expected_.front().what) {
    case Await::greeting:
      return "the greeting";
    case Await::ehlo:
      return "the reply to EHLO";
    case Await::helo:
      return "the reply to HELO";
    case Await::starttls:
      return "the reply to STARTTLS";
    case Await::auth:
      return "the reply to AUTH";
    case Await::rset:
      return "the reply to RSET";
    case Await::mail:
      return "the reply to MAIL FROM";
    case Await::rcpt:
      return "the reply to RCPT TO";
    case Await::data:
      return "the reply to DATA";
    case Await::data_end:
    case Await::empty_data_end:
      return "the reply to the end of the data";
    case Await::bdat:
      return "the reply to BDAT";
    case Await::quit:
      return "the reply to QUIT";
  }
  return "a reply";
}

void ClientSession::on_close() {
  if (closed_reported_) return;
  if (phase_ == Phase::quitting || phase_ == Phase::done || phase_ == Phase::idle)
    return finish({});
  const auto elapsed = std::chrono::steady_clock::now() - last_activity_;
  const bool timed_out =
      options_.reply_timeout.count() > 0 && elapsed * 10 >= options_.reply_timeout * 9;
  std::string reason;
  std::string status = timed_out ? "4.4.7" : "4.4.2";
  if (phase_ == Phase::tls_handshake) {
    report_.tls_failed = true;
    reason = timed_out ? "timed out in the TLS handshake" : "the TLS handshake failed";
    status = "4.7.5";
  } else {
    reason = (timed_out ? "timed out waiting for " : "the connection was lost while waiting for ") +
             waiting_for();
  }
  if (tx_ && tx_->touched) {
    decide_rest(Outcome::temporary, reason, status);
    report_job();
  }
  finish(reason);
}

void ClientSession::finish(std::string reason) {
  if (closed_reported_) return;
  closed_reported_ = true;
  phase_ = Phase::done;
  if (tx_ && tx_->touched) {
    decide_rest(Outcome::temporary, reason.empty() ? "the session ended early" : reason, "4.4.2");
    report_job();
  }
  if (report_.error.empty()) report_.error = std::move(reason);
  report_.first_job_untouched = tx_.has_value();  // only the untouched first job can be left
  report_.dsn_supported = ext_.dsn;
  if (hooks_.closed) hooks_.closed(report_);
}

}  // namespace portico::smtpout
