// Portico core — delivery status notifications (see dsn.h; RFC 3464, 3461, 6522, 6533, 3834).
#include "core/reports/dsn.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace portico::core::reports {

namespace {

constexpr std::size_t kMaxFieldText = 900;  // keeps every header line under 998 octets

bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// One line of text for a header field: line breaks and control characters become spaces,
// and it is cut to a length every header line can hold.
std::string field_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    if (out.size() >= kMaxFieldText) break;
  }
  return out;
}

// RFC 3461 section 4: xtext.
std::string xtext(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '+' || c == '=') {
      out += '+';
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

const char* action_name(sdk::ReportAction a) {
  switch (a) {
    case sdk::ReportAction::failed:
      return "failed";
    case sdk::ReportAction::delayed:
      return "delayed";
    case sdk::ReportAction::delivered:
      return "delivered";
    case sdk::ReportAction::relayed:
      return "relayed";
    case sdk::ReportAction::expanded:
      return "expanded";
  }
  return "failed";
}

const char* default_status(sdk::ReportAction a) {
  switch (a) {
    case sdk::ReportAction::failed:
      return "5.0.0";
    case sdk::ReportAction::delayed:
      return "4.0.0";
    default:
      return "2.0.0";
  }
}

// A reply that starts with an SMTP code is an "smtp" diagnostic; anything else is ours.
bool smtp_reply(std::string_view s) {
  return s.size() >= 3 && s[0] >= '2' && s[0] <= '5' &&
         std::isdigit(static_cast<unsigned char>(s[1])) &&
         std::isdigit(static_cast<unsigned char>(s[2])) &&
         (s.size() == 3 || s[3] == ' ' || s[3] == '-');
}

bool any_of_action(const DsnInput& in, sdk::ReportAction a) {
  return std::any_of(in.recipients.begin(), in.recipients.end(),
                     [a](const auto& r) { return r.action == a; });
}

}  // namespace

bool deserves_report(std::uint32_t notify, sdk::ReportAction action) {
  if (notify & sdk::notify_never) return false;
  switch (action) {
    case sdk::ReportAction::failed:
      return notify == 0 || (notify & sdk::notify_failure);
    case sdk::ReportAction::delayed:
      return notify == 0 || (notify & sdk::notify_delay);
    case sdk::ReportAction::delivered:
    case sdk::ReportAction::relayed:
    case sdk::ReportAction::expanded:
      return (notify & sdk::notify_success) != 0;
  }
  return false;
}

std::string_view header_section(std::string_view message) {
  if (message.rfind("\r\n", 0) == 0) return message.substr(0, 2);
  const std::size_t end = message.find("\r\n\r\n");
  if (end != std::string_view::npos) return message.substr(0, end + 4);
  const std::size_t lf = message.find("\n\n");
  if (lf != std::string_view::npos) return message.substr(0, lf + 2);
  return message;
}

std::string rfc5322_date(std::int64_t unix_time) {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t t = static_cast<time_t>(unix_time);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string compose_dsn(const DsnInput& in) {
  const sdk::Envelope& env = *in.envelope;
  bool utf8 = !ascii(env.sender);
  for (const auto& r : in.recipients)
    utf8 = utf8 || !ascii(env.recipients.at(r.index).address);
  const bool failed = any_of_action(in, sdk::ReportAction::failed);
  const bool delayed = any_of_action(in, sdk::ReportAction::delayed);
  const std::string boundary = "=_portico_" + in.message_id;
  const std::string crlf = "\r\n";

  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" + in.reporting_mta + ">" + crlf;
  out += "To: <" + field_text(env.sender) + ">" + crlf;
  out += std::string("Subject: ") +
         (failed    ? "Undelivered Mail Returned to Sender"
          : delayed ? "Delayed Mail (still being retried)"
                    : "Successful Mail Delivery Report") +
         crlf;
  out += "Date: " + rfc5322_date(in.now) + crlf;
  out += "Message-ID: <" + in.message_id + "@" + in.reporting_mta + ">" + crlf;
  out += "Auto-Submitted: auto-replied" + crlf;  // RFC 3834 section 5
  out += "MIME-Version: 1.0" + crlf;
  out += std::string("Content-Type: multipart/report; report-type=") +
         (utf8 ? "global-delivery-status" : "delivery-status") + ";" + crlf + "\tboundary=\"" +
         boundary + "\"" + crlf;
  out += crlf;
  out += "This is a MIME-encapsulated message." + crlf + crlf;

  // The part for people.
  out += "--" + boundary + crlf;
  out += "Content-Description: Notification" + crlf;
  out += "Content-Type: text/plain; charset=utf-8" + crlf + crlf;
  out += "This is the mail system at host " + in.reporting_mta + "." + crlf + crlf;
  if (failed) {
    out +=
        "Your message could not be delivered to one or more recipients. It is attached "
        "below." +
        crlf + crlf;
  } else if (delayed) {
    out +=
        "Your message could not be delivered yet to one or more recipients. This is only a "
        "warning: delivery will be tried again" +
        std::string(in.will_retry_until ? " until " + rfc5322_date(in.will_retry_until) : "") +
        ", and you need not send it again." + crlf + crlf;
  } else {
    out += "Your message was delivered to the recipients below, as you asked to be told." + crlf +
           crlf;
  }
  for (const auto& r : in.recipients) {
    const auto& rcpt = env.recipients.at(r.index);
    out += '<';
    out += field_text(rcpt.address);
    out += ">: ";
    out += action_name(r.action);
    if (!r.diagnostic.empty()) out += ": " + field_text(r.diagnostic);
    out += crlf;
  }
  out += crlf;

  // The machine-readable report (RFC 3464 section 2).
  out += "--" + boundary + crlf;
  out += "Content-Description: Delivery report" + crlf;
  out += std::string("Content-Type: message/") +
         (utf8 ? "global-delivery-status" : "delivery-status") + crlf + crlf;
  out += "Reporting-MTA: dns; " + in.reporting_mta + crlf;
  if (!env.envid.empty()) out += "Original-Envelope-Id: " + xtext(env.envid) + crlf;
  if (env.received > 0) out += "Arrival-Date: " + rfc5322_date(env.received) + crlf;
  for (const auto& r : in.recipients) {
    const auto& rcpt = env.recipients.at(r.index);
    out += crlf;
    if (!rcpt.orcpt.empty()) {
      const std::size_t semi = rcpt.orcpt.find(';');
      if (semi != std::string::npos) {
        out += "Original-Recipient: " + field_text(rcpt.orcpt.substr(0, semi)) + "; " +
               field_text(rcpt.orcpt.substr(semi + 1)) + crlf;
      }
    }
    out += std::string("Final-Recipient: ") + (ascii(rcpt.address) ? "rfc822" : "utf-8") + "; " +
           field_text(rcpt.address) + crlf;
    out += std::string("Action: ") + action_name(r.action) + crlf;
    out +=
        "Status: " + (r.status.empty() ? std::string(default_status(r.action)) : r.status) + crlf;
    if (!r.remote_mta.empty()) out += "Remote-MTA: dns; " + field_text(r.remote_mta) + crlf;
    if (!r.diagnostic.empty()) {
      out += std::string("Diagnostic-Code: ") + (smtp_reply(r.diagnostic) ? "smtp" : "X-Portico") +
             "; " + field_text(r.diagnostic) + crlf;
    }
    out += "Last-Attempt-Date: " + rfc5322_date(in.now) + crlf;
    if (r.action == sdk::ReportAction::delayed && in.will_retry_until > 0)
      out += "Will-Retry-Until: " + rfc5322_date(in.will_retry_until) + crlf;
  }
  out += crlf;

  // The message, or its header.
  out += "--" + boundary + crlf;
  if (in.returned_whole) {
    out += "Content-Description: Undelivered Message" + crlf;
    out += std::string("Content-Type: message/") + (env.smtputf8 ? "global" : "rfc822") + crlf;
  } else {
    out += "Content-Description: Message Headers" + crlf;
    out += std::string("Content-Type: ") +
           (env.smtputf8 ? "message/global-headers" : "text/rfc822-headers") + crlf;
  }
  out += crlf;
  out += in.returned;
  if (!in.returned.empty() && in.returned.back() != '\n') out += crlf;
  out += crlf + "--" + boundary + "--" + crlf;
  return out;
}

}  // namespace portico::core::reports
