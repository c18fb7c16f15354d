// Portico core — the queue's envelope file format (see envelope.h).
#include "core/queue/envelope.h"

#include <charconv>
#include <set>
#include <vector>

namespace portico::core::queue {

namespace {

constexpr std::string_view kVersionKey = "portico-envelope";
constexpr char kHex[] = "0123456789ABCDEF";

bool needs_escape(unsigned char c) {
  return c < 0x20 || c == 0x7f || c == '%';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  out += ':';
  if (!value.empty()) {
    out += ' ';
    out += escape_value(value);
  }
  out += '\n';
}

void put_number(std::string& out, std::string_view key, std::int64_t value) {
  put(out, key, std::to_string(value));
}

const char* yes_no(bool b) {
  return b ? "yes" : "no";
}

template <class Int>
bool parse_int(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits `text` into lines; false when the last line is not LF-terminated.
bool split_lines(std::string_view text, std::vector<std::string_view>& lines) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return false;
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return true;
}

// The state of one parse: where it is and what it has seen.
class Parser {
 public:
  EnvelopeParse run(std::string_view text) {
    if (text.size() > kMaxEnvelopeSize) {
      return fail(0, "envelope larger than " + std::to_string(kMaxEnvelopeSize) + " octets");
    }
    std::vector<std::string_view> lines;
    if (!split_lines(text, lines)) return fail(0, "truncated: the last line has no line feed");
    if (lines.empty()) return fail(0, "empty envelope");
    bool ended = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      line_ = i + 1;
      if (ended) return fail(line_, "text after \"end\"");
      if (lines[i] == "end") {
        ended = true;
        continue;
      }
      if (!line(lines[i], i == 0)) return std::move(result_);
    }
    if (!ended) return fail(0, "truncated: no \"end\" line");
    result_.envelope = std::move(envelope_);
    return std::move(result_);
  }

 private:
  void set_error(std::size_t line, const std::string& message, sdk::QueueError error) {
    result_.error = error;
    result_.message = line ? "line " + std::to_string(line) + ": " + message : message;
    result_.envelope.reset();
  }
  EnvelopeParse fail(std::size_t line, const std::string& message) {
    set_error(line, message, sdk::QueueError::damaged);
    return std::move(result_);
  }
  // Records an error at the current line; the caller stops.
  bool bad(const std::string& message, sdk::QueueError error = sdk::QueueError::damaged) {
    set_error(line_, message, error);
    return false;
  }

  bool line(std::string_view text, bool first) {
    for (unsigned char c : text) {
      if (c < 0x20 || c == 0x7f) return bad("raw control character (values must be escaped)");
    }
    std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad("expected \"key: value\"");
    std::string_view key = text.substr(0, colon);
    std::string_view raw = text.substr(colon + 1);
    if (!raw.empty()) {
      if (raw[0] != ' ') return bad("expected a space after \"" + std::string(key) + ":\"");
      raw.remove_prefix(1);
    }
    auto value = unescape_value(raw);
    if (!value) return bad("bad %-escape in the value of \"" + std::string(key) + "\"");
    if (first != (key == kVersionKey)) {
      return bad(first ? "not a Portico envelope (no version line)" : "repeated version line");
    }
    if (first) {
      int version = 0;
      if (!parse_int(*value, version) || version < 1) return bad("bad version");
      if (version > kEnvelopeVersion) {
        return bad("written by a newer version of Portico (envelope format " +
                       std::to_string(version) + ")",
                   sdk::QueueError::too_new);
      }
      return true;
    }
    if (key.rfind("note.", 0) == 0) {
      const std::string_view name = key.substr(5);
      if (!valid_note_name(name)) return bad("bad note name \"" + std::string(name) + "\"");
      if (!result_.notes.emplace(name, std::move(*value)).second)
        return bad("\"" + std::string(key) + "\" given twice");
      return true;
    }
    if (key == "recipient") return recipient(std::move(*value));
    if (key == "notify" || key == "orcpt" || key == "state" || key == "reply") {
      return recipient_field(key, std::move(*value));
    }
    return envelope_field(key, std::move(*value));
  }

  bool once(std::set<std::string, std::less<>>& seen, std::string_view key) {
    if (!seen.emplace(key).second) return bad("\"" + std::string(key) + "\" given twice");
    return true;
  }

  bool envelope_field(std::string_view key, std::string value) {
    if (!once(envelope_keys_, key)) return false;
    auto& e = envelope_;
    auto flag = [&](bool& out) {
      if (value == "yes")
        out = true;
      else if (value == "no")
        out = false;
      else
        return bad("\"" + std::string(key) + "\" must be yes or no");
      return true;
    };
    auto number = [&](auto& out) {
      if (!parse_int(value, out)) return bad("\"" + std::string(key) + "\" must be a number");
      return true;
    };
    if (key == "sender")
      e.sender = std::move(value);
    else if (key == "envid")
      e.envid = std::move(value);
    else if (key == "auth-user")
      e.auth_user = std::move(value);
    else if (key == "client-address")
      e.client_address = std::move(value);
    else if (key == "helo")
      e.helo = std::move(value);
    else if (key == "last-error")
      e.last_error = std::move(value);
    else if (key == "smtputf8")
      return flag(e.smtputf8);
    else if (key == "8bitmime")
      return flag(e.eight_bit_mime);
    else if (key == "held")
      return flag(e.held);
    else if (key == "received")
      return number(e.received);
    else if (key == "attempts")
      return number(e.attempts);
    else if (key == "next-attempt")
      return number(e.next_attempt);
    else if (key == "ret") {
      if (value.empty())
        e.ret = sdk::DsnRet::unspecified;
      else if (value == "full")
        e.ret = sdk::DsnRet::full;
      else if (value == "hdrs")
        e.ret = sdk::DsnRet::headers;
      else
        return bad("\"ret\" must be full, hdrs or empty");
    } else {
      return bad("unknown key \"" + std::string(key) + "\"");
    }
    return true;
  }

  bool recipient(std::string value) {
    if (envelope_.recipients.size() >= kMaxRecipients) {
      return bad("more than " + std::to_string(kMaxRecipients) + " recipients");
    }
    envelope_.recipients.push_back({});
    envelope_.recipients.back().address = std::move(value);
    recipient_seen_.clear();
    return true;
  }

  bool recipient_field(std::string_view key, std::string value) {
    if (envelope_.recipients.empty()) {
      return bad("\"" + std::string(key) + "\" before any \"recipient\"");
    }
    if (!once(recipient_seen_, key)) return false;
    auto& r = envelope_.recipients.back();
    if (key == "notify") {
      auto n = parse_notify(value);
      if (!n) return bad("\"notify\" must be never, or a list of success, failure, delay");
      r.notify = *n;
    } else if (key == "orcpt") {
      r.orcpt = std::move(value);
    } else if (key == "reply") {
      r.reply = std::move(value);
    } else if (value == "pending") {
      r.state = sdk::RecipientState::pending;
    } else if (value == "delivered") {
      r.state = sdk::RecipientState::delivered;
    } else if (value == "failed") {
      r.state = sdk::RecipientState::failed;
    } else {
      return bad("\"state\" must be pending, delivered or failed");
    }
    return true;
  }

  EnvelopeParse result_;
  sdk::Envelope envelope_;
  std::size_t line_ = 0;
  std::set<std::string, std::less<>> envelope_keys_;
  std::set<std::string, std::less<>> recipient_seen_;
};

}  // namespace

const char* ret_name(sdk::DsnRet ret) {
  switch (ret) {
    case sdk::DsnRet::full:
      return "full";
    case sdk::DsnRet::headers:
      return "hdrs";
    case sdk::DsnRet::unspecified:
      break;
  }
  return "";
}

std::string escape_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (needs_escape(c)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> unescape_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    if (i + 2 >= value.size()) return std::nullopt;
    int hi = hex_value(value[i + 1]);
    int lo = hex_value(value[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

std::string format_notify(std::uint32_t notify) {
  if (notify & sdk::notify_never) return "never";
  std::string out;
  auto add = [&](std::uint32_t bit, const char* name) {
    if (!(notify & bit)) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(sdk::notify_success, "success");
  add(sdk::notify_failure, "failure");
  add(sdk::notify_delay, "delay");
  return out;
}

std::optional<std::uint32_t> parse_notify(std::string_view text) {
  if (text.empty()) return 0u;
  if (text == "never") return std::uint32_t{sdk::notify_never};
  std::uint32_t out = 0;
  while (true) {
    std::size_t comma = text.find(',');
    std::string_view word = text.substr(0, comma);
    std::uint32_t bit = word == "success"   ? sdk::notify_success
                        : word == "failure" ? sdk::notify_failure
                        : word == "delay"   ? sdk::notify_delay
                                            : 0u;
    if (bit == 0 || (out & bit)) return std::nullopt;
    out |= bit;
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

const char* state_name(sdk::RecipientState state) {
  switch (state) {
    case sdk::RecipientState::delivered:
      return "delivered";
    case sdk::RecipientState::failed:
      return "failed";
    case sdk::RecipientState::pending:
      break;
  }
  return "pending";
}

bool valid_note_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string format_envelope(const sdk::Envelope& e, const Notes& notes) {
  std::string out;
  put_number(out, kVersionKey, kEnvelopeVersion);
  put(out, "sender", e.sender);
  put(out, "ret", ret_name(e.ret));
  put(out, "envid", e.envid);
  put(out, "smtputf8", yes_no(e.smtputf8));
  put(out, "8bitmime", yes_no(e.eight_bit_mime));
  put_number(out, "received", e.received);
  put(out, "auth-user", e.auth_user);
  put(out, "client-address", e.client_address);
  put(out, "helo", e.helo);
  put_number(out, "attempts", e.attempts);
  put_number(out, "next-attempt", e.next_attempt);
  put(out, "last-error", e.last_error);
  put(out, "held", yes_no(e.held));
  for (const auto& [name, value] : notes) {
    if (!value.empty()) put(out, "note." + name, value);
  }
  for (const auto& r : e.recipients) {
    put(out, "recipient", r.address);
    put(out, "notify", format_notify(r.notify));
    put(out, "orcpt", r.orcpt);
    put(out, "state", state_name(r.state));
    put(out, "reply", r.reply);
  }
  out += "end\n";
  return out;
}

EnvelopeParse parse_envelope(std::string_view text) {
  return Parser().run(text);
}

}  // namespace portico::core::queue
