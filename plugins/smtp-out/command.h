// smtp-out — the envelope commands of a delivery, as the server's EHLO keywords allow them.
//
// RFC 5321 section 4.1.1.2-3: MAIL FROM:<reverse-path> and RCPT TO:<forward-path>; with their
// parameters only when the server offered the extension: SIZE=n (RFC 1870), BODY=8BITMIME (RFC
// 6152), SMTPUTF8 (RFC 6531), RET, ENVID, NOTIFY and ORCPT (RFC 3461, the values in xtext,
// section 4). Before anything is sent, local_refusal() says whether the server cannot take the
// job at all: too large for its SIZE (5.3.4), 8-bit to a server without 8BITMIME (5.6.3: no
// downgrade), or SMTPUTF8 needed and not offered (5.6.7, RFC 6531 section 3.2). Addresses with
// control octets are refused too, so no address can inject a command.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "delivery.h"
#include "portico/queue.h"
#include "reply.h"

namespace portico::smtpout {

// RFC 3461 section 4: octets outside "!".."~", and "+" and "=", as "+XX".
std::string xtext(std::string_view text);

// True when `address` has no octet that could end or split a command line.
bool safe_address(std::string_view address);

// "MAIL FROM:<sender> SIZE=... BODY=8BITMIME SMTPUTF8 RET=... ENVID=..." without CRLF.
std::string mail_command(const Job& job, const Extensions& ext);
// "RCPT TO:<address> NOTIFY=... ORCPT=..." without CRLF.
std::string rcpt_command(const sdk::QueueRecipient& recipient, const Extensions& ext);

// Why the server cannot take `job` at all: the reason (one line) and its RFC 3463 status.
struct Refusal {
  std::string reason;
  std::string status;
};
std::optional<Refusal> local_refusal(const Job& job, const Extensions& ext);

}  // namespace portico::smtpout
