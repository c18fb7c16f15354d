// smtp-out — envelope commands (see command.h).
#include "command.h"

#include <utility>

namespace portico::smtpout {

std::string xtext(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < '!' || u > '~' || c == '+' || c == '=') {
      out += '+';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

bool safe_address(std::string_view address) {
  for (char c : address) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string mail_command(const Job& job, const Extensions& ext) {
  const sdk::Envelope& env = job.envelope;
  std::string out = "MAIL FROM:<" + env.sender + ">";
  if (ext.size) out += " SIZE=" + std::to_string(job.size);
  if (job.eight_bit && ext.eight_bit_mime) out += " BODY=8BITMIME";
  if (job.needs_smtputf8 && ext.smtputf8) out += " SMTPUTF8";
  if (ext.dsn) {
    if (env.ret == sdk::DsnRet::full) out += " RET=FULL";
    if (env.ret == sdk::DsnRet::headers) out += " RET=HDRS";
    if (!env.envid.empty()) out += " ENVID=" + xtext(env.envid);
  }
  return out;
}

std::string rcpt_command(const sdk::QueueRecipient& recipient, const Extensions& ext) {
  std::string out = "RCPT TO:<" + recipient.address + ">";
  if (!ext.dsn) return out;
  const std::uint32_t n = recipient.notify;
  if ((n & sdk::notify_never) != 0) {
    out += " NOTIFY=NEVER";
  } else if (n != 0) {
    std::string list;
    for (const auto& [bit, name] :
         {std::pair{sdk::notify_success, "SUCCESS"}, std::pair{sdk::notify_failure, "FAILURE"},
          std::pair{sdk::notify_delay, "DELAY"}}) {
      if ((n & bit) == 0) continue;
      if (!list.empty()) list += ',';
      list += name;
    }
    if (!list.empty()) out += " NOTIFY=" + list;
  }
  // "addr-type;address": the type as it is, the address in xtext.
  const auto semi = recipient.orcpt.find(';');
  if (semi != std::string::npos && semi > 0) {
    const std::string_view orcpt = recipient.orcpt;
    out += " ORCPT=" + xtext(orcpt.substr(0, semi)) + ";" + xtext(orcpt.substr(semi + 1));
  }
  return out;
}

std::optional<Refusal> local_refusal(const Job& job, const Extensions& ext) {
  if (!safe_address(job.envelope.sender)) {
    return Refusal{"the sender address holds control characters", "5.1.7"};
  }
  if (ext.size && ext.size_limit > 0 && job.size > ext.size_limit) {
    return Refusal{"message too large for the server: " + std::to_string(job.size) +
                       " octets, its SIZE is " + std::to_string(ext.size_limit),
                   "5.3.4"};
  }
  if (job.needs_smtputf8 && !ext.smtputf8) {
    return Refusal{"the message needs SMTPUTF8 and the server does not offer it", "5.6.7"};
  }
  if (job.eight_bit && !ext.eight_bit_mime) {
    return Refusal{"the message has 8-bit content and the server does not offer 8BITMIME", "5.6.3"};
  }
  return std::nullopt;
}

}  // namespace portico::smtpout
