// pop — the client side of POP retrieval (see retrieval_session.h).
#include "retrieval_session.h"

#include <openssl/evp.h>

#include <charconv>
#include <ctime>

#include "command.h"

namespace portico::pop {

namespace {

bool positive(std::string_view line) {
  return line.substr(0, 3) == "+OK";
}

bool terminator(std::string_view line) {
  return chomp(line) == ".";
}

// The server's text after +OK/-ERR, for errors (bounded, printable).
std::string server_text(std::string_view line) {
  line = chomp(line);
  std::string out;
  for (char c : line.substr(0, 200))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

// A UIDL listing line: "n uid" (RFC 1939 section 7: 1 to 70 characters 0x21-0x7E).
bool parse_listed(std::string_view line, std::uint64_t& number, std::string& uid) {
  line = chomp(line);
  const auto space = line.find(' ');
  if (space == std::string_view::npos) return false;
  const auto digits = line.substr(0, space);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc() || end != digits.data() + digits.size() || number == 0) return false;
  auto rest = line.substr(space + 1);
  while (!rest.empty() && rest.back() == ' ')
    rest.remove_suffix(1);
  if (rest.empty() || rest.size() > 70) return false;
  for (char c : rest) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  uid.assign(rest);
  return true;
}

}  // namespace

retrieval::Protocol retrieval_protocol() {
  return retrieval::protocol_of<RetrievalSession>(sdk::RetrievalSource::Protocol::pop,
                                                  "pop-retrieval", 110, 995, kRetrievalMaxLine);
}

std::string RetrievalSession::apop_digest(std::string_view timestamp, std::string_view secret) {
  std::string input(timestamp);
  input += secret;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md, &len, EVP_md5(), nullptr);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

RetrievalSession::RetrievalSession(sdk::SessionContext& ctx, std::shared_ptr<RunContext> run)
    : ClientSession(ctx, std::move(run), kRetrievalMaxLine) {}

void RetrievalSession::send(const std::string& command, State next) {
  ctx_.write(command);
  ctx_.write("\r\n");
  state_ = next;
}

void RetrievalSession::on_line(std::string_view line) {
  const auto& source = run_->source;
  switch (state_) {
    case State::greeting: {
      if (!positive(line)) return fail("the server refused the connection: " + server_text(line));
      const auto open = line.find('<');
      const auto close = line.find('>', open == std::string_view::npos ? 0 : open);
      if (open != std::string_view::npos && close != std::string_view::npos) {
        timestamp_ = line.substr(open, close - open + 1);
      }
      if (source.tls == sdk::RetrievalSource::Tls::starttls && !ctx_.is_tls()) {
        return send("STLS", State::stls);
      }
      return authenticate();
    }
    case State::stls:
      if (!positive(line)) return fail("the server refused STLS: " + server_text(line));
      state_ = State::tls;
      if (!ctx_.start_tls()) fail("STLS is not possible on this connection");
      return;
    case State::tls:
      return;  // nothing is read before the handshake
    case State::user:
      if (!positive(line)) return fail("the server refused the user: " + server_text(line));
      return send("PASS " + source.secret, State::pass);
    case State::pass:
    case State::apop:
      if (!positive(line)) return fail("authentication failed: " + server_text(line));
      return send("UIDL", State::uidl);
    case State::uidl:
      if (!positive(line)) return fail("the server does not support UIDL: " + server_text(line));
      state_ = State::uidl_list;
      return;
    case State::uidl_list: {
      if (terminator(line)) return plan();
      Listed item;
      if (!parse_listed(line, item.number, item.uid)) {
        return fail("a malformed UIDL line: " + server_text(line));
      }
      if (listed_.size() >= kRetrievalMaxListed) return fail("the server lists too many messages");
      listed_.push_back(std::move(item));
      return;
    }
    case State::retr:
      if (!positive(line)) {
        // Gone meanwhile (another client deleted it): fetched at no later run either.
        ctx_.log(sdk::LogLevel::info, "message " + std::to_string(current_.number) +
                                          " not retrieved: " + server_text(line));
        return next();
      }
      state_ = State::retr_body;
      download_.start(current_.uid,
                      SourceSpool::trace_line(source, current_.uid, run_->hostname,
                                              static_cast<std::int64_t>(std::time(nullptr))));
      return;
    case State::retr_body:
      if (terminator(line)) return flush_body(true);
      if (line.front() == '.') line.remove_prefix(1);  // byte-stuffing
      download_.append(line);
      if (download_.full()) flush_body(false);
      return;
    case State::dele:
      if (!positive(line)) {
        ctx_.log(sdk::LogLevel::warn, "DELE refused: " + server_text(line));
      }
      return next();
    case State::quit:
      state_ = State::done;
      if (!positive(line)) {
        run_->report(
            {false, run_->fetched, "the server could not delete messages: " + server_text(line)});
      } else {
        run_->report({true, run_->fetched, {}});
      }
      ctx_.close();
      return;
    case State::done:
      return;
  }
}

void RetrievalSession::on_line_too_long() {
  fail(state_ == State::retr_body
           ? "a line of message " + std::to_string(current_.number) + " is too long"
           : "the server sent a line that is too long");
}

void RetrievalSession::on_tls_started() {
  if (state_ == State::tls) authenticate();
}

void RetrievalSession::authenticate() {
  const auto& source = run_->source;
  if (source.apop) {
    if (timestamp_.empty()) return fail("APOP is configured but the server offers no timestamp");
    return send("APOP " + source.user + " " + apop_digest(timestamp_, source.secret), State::apop);
  }
  send("USER " + source.user, State::user);
}

void RetrievalSession::plan() {
  ctx_.pause_input();
  auto error = std::make_shared<std::string>();
  auto listed = std::make_shared<std::vector<Listed>>(std::move(listed_));
  auto fetch = std::make_shared<std::deque<Listed>>();
  auto remove = std::make_shared<std::deque<std::uint64_t>>();
  ctx_.post_work(
      [run = run_, error, listed, fetch, remove] {
        try {
          std::unordered_set<std::string> present;
          for (const auto& item : *listed) {
            present.insert(item.uid);
            if (!run->spool->seen(item.uid)) {
              fetch->push_back(item);
            } else if (!run->source.leave_on_server) {
              remove->push_back(item.number);
            }
          }
          run->spool->keep_only(present);
        } catch (const std::exception& e) {
          *error = e.what();
        }
      },
      [this, error, fetch, remove] {
        ctx_.resume_input();
        if (!error->empty()) return fail(*error);
        to_fetch_ = std::move(*fetch);
        to_delete_ = std::move(*remove);
        next();
      });
}

void RetrievalSession::next() {
  if (!to_fetch_.empty()) {
    current_ = std::move(to_fetch_.front());
    to_fetch_.pop_front();
    return send("RETR " + std::to_string(current_.number), State::retr);
  }
  if (!to_delete_.empty()) {
    const auto n = to_delete_.front();
    to_delete_.pop_front();
    return send("DELE " + std::to_string(n), State::dele);
  }
  send("QUIT", State::quit);
}

void RetrievalSession::flush_body(bool last) {
  download_.flush(ctx_, run_, last, [this, last](const std::string& error) {
    if (!error.empty()) return fail(error);
    if (!last) return;
    ++run_->fetched;
    if (!run_->source.leave_on_server) to_delete_.push_back(current_.number);
    next();
  });
}

void RetrievalSession::fail(std::string error) {
  if (state_ == State::done) return;
  state_ = State::done;
  fail_run(std::move(error));
}

void RetrievalSession::on_close() {
  if (run_->reported) return;
  static constexpr const char* waiting[] = {
      "the greeting",   "the STLS reply", "the TLS handshake", "the USER reply",
      "the PASS reply", "the APOP reply", "the UIDL reply",    "the UIDL listing",
      "the RETR reply", "a message",      "the DELE reply",    "the QUIT reply",
      "nothing"};
  run_->report({false, run_->fetched,
                std::string("the connection closed while waiting for ") +
                    waiting[static_cast<int>(state_)] + " (timeout, TLS failure or server gone)"});
}

}  // namespace portico::pop
