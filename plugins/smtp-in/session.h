// smtp-in — one SMTP session: the RFC 5321 state machine with the extensions of RFC 1870
// (SIZE), 2034/3463 (enhanced status codes), 2920 (PIPELINING), 3030 (CHUNKING), 3207
// (STARTTLS), 3461 (DSN parameters, kept for the queue), 4954 (AUTH), 6152 (8BITMIME) and 6531
// (SMTPUTF8).
//
// Sans I/O: the core frames lines and counts bad commands; this class parses, checks policy and
// answers. Work that blocks (directory look-ups, authentication, making a message durable) runs
// on the worker pool with input paused, so pipelined commands are answered in order. A message
// is acknowledged with 250 only after it is durable: sealed on disk, then delivered to the
// store for local recipients and queued for remote ones.
//
// Synchronization (RFC 5321 sections 3.1 and 4.3.1, RFC 2920 section 3.1): with
// forbid_unauth_pipelining, a client that sends before it could have read the reply it must
// wait for is answered 554 5.5.0 and disconnected, as Postfix does. It must wait for the
// greeting, for every reply when PIPELINING is not in force (no EHLO, or HELO), and for the
// reply to a command that ends a group (EHLO, DATA, VRFY, EXPN, NOOP, QUIT). The core hands
// over a line only while none of its earlier output is in flight, so output still pending when
// a line arrives was not yet sent when the client sent that line (see core/net/connection.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "address.h"
#include "command.h"
#include "data.h"
#include "portico/directory.h"
#include "portico/filter.h"
#include "portico/plugin.h"
#include "portico/queue.h"
#include "portico/reports.h"
#include "portico/sasl.h"
#include "portico/store.h"
#include "settings.h"

namespace portico::smtp {

// Limits of one session, each a named constant.
constexpr std::size_t kMaxCommandLine = 2048;    // section 4.5.3.1.4 (512) raised for DSN params
constexpr std::size_t kMaxTextLine = 1000;       // section 4.5.3.1.6, CRLF included
constexpr std::size_t kMaxRecipients = 1000;     // per transaction (section 4.5.3.1.8: >= 100)
constexpr std::size_t kMaxAuthLine = 12 * 1024;  // an AUTH response, base64

struct TxnRecipient {
  Mailbox mailbox;
  std::uint32_t notify = 0;  // sdk::DsnNotify bits
  std::string orcpt;
  std::vector<std::string> local_accounts;  // where it is delivered here
  std::vector<std::string> external;        // where it is relayed to
};

struct Transaction {
  bool active = false;
  Mailbox from;
  bool smtputf8 = false;
  bool eight_bit = false;
  sdk::DsnRet ret = sdk::DsnRet::unspecified;
  std::string envid;
  std::uint64_t declared_size = 0;
  std::vector<TxnRecipient> recipients;
  bool chunking = false;  // BDAT has been used in this transaction
};

class SmtpSession final : public sdk::Session {
 public:
  SmtpSession(sdk::SessionContext& ctx, sdk::Host& host, SmtpSettings settings);

  void on_start() override;
  void on_line(std::string_view line) override;
  void on_line_too_long() override;
  void on_bytes(std::string_view bytes, bool last) override;
  void on_tls_started() override;
  void on_close() override;

 private:
  enum class Mode { command, data, bdat, auth };

  void reply(int code, std::string_view enhanced, std::string_view text);
  // True when `line` arrived before the client could have read the reply it had to wait for;
  // then the client has been refused and the connection is closing.
  // Notes `step` as one the client did not wait for, if it sent more before its reply.
  void check_client_waited(std::string_view step);
  // With forbid_unauth_pipelining, answers 554 and closes once a client was out of step.
  bool refused_out_of_step(std::string_view line);
  void bad(int code, std::string_view enhanced, std::string_view text);  // reply + bad_command
  void command(std::string_view line);
  void dispatch(const CommandLine& c);
  void do_helo(const CommandLine& c, bool extended);
  void do_mail(const CommandLine& c);
  void do_rcpt(const CommandLine& c);
  void do_data(const CommandLine& c);
  void do_bdat(const CommandLine& c);
  void do_vrfy(const CommandLine& c);
  void do_expn(const CommandLine& c);
  void do_starttls(const CommandLine& c);
  void do_auth(const CommandLine& c);
  void auth_event(const sdk::SaslEvent& event);
  void end_auth();
  sdk::SaslPolicy sasl_policy() const;
  void reset_transaction();
  // Creates the incoming file and writes the Received: field; the reason on failure.
  std::string begin_message();
  void finish_message(Verdict verdict);
  // The filter stage's verdict (on the session's executor).
  void filtered(sdk::FilterResult result);
  // Makes the message durable, delivers and queues it, and answers 250 (or why not).
  void store_message();
  std::string received_field() const;
  bool may_relay(bool sender_local_account, bool sender_domain_local) const;
  std::string auth_mechanisms() const;

  sdk::SessionContext& ctx_;
  sdk::Host& host_;
  SmtpSettings settings_;
  bool submission_ = false;  // a submission listener: AUTH required for any mail
  Mode mode_ = Mode::command;
  std::string helo_;
  bool esmtp_ = false;
  std::string user_;  // the authenticated account
  std::int64_t bad_recipients_ = 0;
  std::uint64_t messages_ = 0;
  Transaction txn_;
  std::shared_ptr<sdk::IncomingMessage> incoming_;
  std::optional<DataReader> data_;
  std::optional<MessageMeter> bdat_meter_;
  struct Refusal {
    int code;
    const char* enhanced;
    const char* text;
    bool bad_command;
  };
  std::optional<Refusal> bdat_refusal_;  // the answer owed once a refused chunk is read
  bool bdat_last_ = false;
  std::uint64_t bdat_size_ = 0;
  std::unique_ptr<sdk::SaslExchange> sasl_;  // an AUTH exchange in progress
  bool closed_ = false;
  // The first step whose reply the client sent more before reading: "CONNECT" (the greeting)
  // or a verb; empty while it has waited whenever it had to.
  std::string_view out_of_step_;
};

}  // namespace portico::smtp
