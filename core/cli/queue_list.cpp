// Portico core — `portico queue list [--json]` (see queue_commands.cpp).
//
// Text, like mailq: a header line, then per entry its id, size in octets, arrival (UTC), state
// (queued, active: being delivered, held, damaged), next attempt ("now", a UTC time, or "-" when
// held) and sender ("<>" for the null sender); "  last error: ..." or "  damaged: ..." when
// there is one; one line per recipient, "    <state padded to 10><address>", with the last
// reply in parentheses for one not delivered; an empty line; and at the end "N entries".
//
// JSON: {"count": N, "entries": [...]}, each entry with every field of the queue entry and its
// envelope (times as Unix seconds) and its notes; strings are UTF-8, an invalid octet becomes
// U+FFFD so the output is always valid JSON (RFC 8259).
#include <cstdio>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "core/cli/queue_cli.h"
#include "core/queue/envelope.h"

namespace portico::core::cli {

namespace {

// One line of at most `width` printable characters (line breaks and controls become spaces).
std::string one_line(const std::string& text, std::size_t width) {
  std::string out;
  for (unsigned char c : text) {
    out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  if (out.size() > width) out = out.substr(0, width - 3) + "...";
  return out;
}

// Length of the valid UTF-8 sequence at text[i], or 0 when it is not one.
std::size_t utf8_length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t n = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xe  ? 3
                  : (c >> 3) == 0x1e ? 4
                                     : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xc2) return 0;                                          // overlong
  if (n == 3 && c == 0xe0 && byte(i + 1) < 0xa0) return 0;                   // overlong
  if (n == 3 && c == 0xed && byte(i + 1) >= 0xa0) return 0;                  // surrogate
  if (n == 4 && c == 0xf0 && byte(i + 1) < 0x90) return 0;                   // overlong
  if (n == 4 && (c > 0xf4 || (c == 0xf4 && byte(i + 1) >= 0x90))) return 0;  // > U+10FFFF
  return n;
}

// A JSON string literal, quotes included.
std::string json(const std::string& text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text, i, n);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
    i += n;
  }
  return out + "\"";
}

std::string entry_json(const sdk::QueueEntry& e, const queue::Notes& notes, std::int64_t now) {
  const auto& env = e.envelope;
  const bool damaged = !e.damage.empty();
  std::string out = fmt::format(
      "{{\"id\":{},\"state\":{},\"size\":{},\"message_path\":{},\"claimed\":{},"
      "\"claimed_by\":{},\"damage\":{}",
      json(e.id), json(state_text(e)), e.size, json(e.message_path), e.claimed, e.claimed_by,
      json(e.damage));
  if (damaged) return out + "}";
  out += fmt::format(
      ",\"sender\":{},\"ret\":{},\"envid\":{},\"smtputf8\":{},\"eight_bit_mime\":{},"
      "\"received\":{},\"auth_user\":{},\"client_address\":{},\"helo\":{},\"attempts\":{},"
      "\"next_attempt\":{},\"due\":{},\"last_error\":{},\"held\":{},\"notes\":{{",
      json(env.sender), json(queue::ret_name(env.ret)), json(env.envid), env.smtputf8,
      env.eight_bit_mime, env.received, json(env.auth_user), json(env.client_address),
      json(env.helo), env.attempts, env.next_attempt, !env.held && env.next_attempt <= now,
      json(env.last_error), env.held);
  bool first = true;
  for (const auto& [name, value] : notes) {
    out += fmt::format("{}{}:{}", first ? "" : ",", json(name), json(value));
    first = false;
  }
  out += "},\"recipients\":[";
  first = true;
  for (const auto& r : env.recipients) {
    out += fmt::format("{}{{\"address\":{},\"notify\":{},\"orcpt\":{},\"state\":{},\"reply\":{}}}",
                       first ? "" : ",", json(r.address), json(queue::format_notify(r.notify)),
                       json(r.orcpt), json(queue::state_name(r.state)), json(r.reply));
    first = false;
  }
  return out + "]}";
}

int list_json(QueueService& q) {
  auto entries = q.list_with_notes();
  if (!entries.ok()) {
    std::cerr << "error: " << entries.message << "\n";
    return 1;
  }
  const std::int64_t now = unix_now();
  std::string out = fmt::format("{{\"count\":{},\"entries\":[", entries.value.size());
  bool first = true;
  for (const auto& [entry, notes] : entries.value) {
    out += (first ? "\n" : ",\n") + entry_json(entry, notes, now);
    first = false;
  }
  out += "\n]}\n";
  std::cout << out;
  return 0;
}

int list_text(QueueService& q) {
  auto entries = q.list();
  if (!entries.ok()) {
    std::cerr << "error: " << entries.message << "\n";
    return 1;
  }
  std::int64_t now = unix_now();
  std::printf("%-24s %8s %-20s %-7s %-20s %s\n", "ID", "SIZE", "ARRIVED", "STATE", "NEXT ATTEMPT",
              "SENDER");
  for (const auto& e : entries.value) {
    const auto& env = e.envelope;
    const bool damaged = !e.damage.empty();
    std::string sender = damaged ? "?" : env.sender.empty() ? "<>" : one_line(env.sender, 100);
    std::string next = damaged || env.held       ? "-"
                       : env.next_attempt <= now ? "now"
                                                 : time_text(env.next_attempt);
    std::printf("%-24s %8llu %-20s %-7s %-20s %s\n", e.id.c_str(),
                static_cast<unsigned long long>(e.size),
                !damaged && env.received ? time_text(env.received).c_str() : "?",
                state_text(e).c_str(), next.c_str(), sender.c_str());
    if (damaged) {
      std::printf("  damaged: %s\n", one_line(e.damage, 100).c_str());
    } else if (!env.last_error.empty()) {
      std::printf("  last error: %s\n", one_line(env.last_error, 100).c_str());
    }
    for (const auto& r : env.recipients) {
      std::string line = "    " + std::string(queue::state_name(r.state));
      line.resize(4 + 10, ' ');
      line += one_line(r.address, 100);
      if (r.state != sdk::RecipientState::delivered && !r.reply.empty()) {
        line += " (" + one_line(r.reply, 100) + ")";
      }
      std::printf("%s\n", line.c_str());
    }
    std::printf("\n");
  }
  std::printf("%zu %s\n", entries.value.size(), entries.value.size() == 1 ? "entry" : "entries");
  return 0;
}

}  // namespace

int queue_list(const QueueOptions& o) {
  int rc = 0;
  auto q = open_queue_for(o.config, rc);
  if (!q) return rc;
  return o.json ? list_json(*q) : list_text(*q);
}

}  // namespace portico::core::cli
