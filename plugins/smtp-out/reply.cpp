// smtp-out — SMTP replies and EHLO keywords (see reply.h).
#include "reply.h"

#include <charconv>
#include <utility>

namespace portico::smtpout {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = upper(c);
  return out;
}

std::string_view strip_terminator(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Splits "KEYWORD p1 p2" at spaces (tabs too, which some servers send).
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
      ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t')
      ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace

std::size_t enhanced_status_length(std::string_view text) {
  if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return 0;
  std::size_t i = 1;
  for (int part = 0; part < 2; ++part) {
    if (i >= text.size() || text[i] != '.') return 0;
    ++i;
    std::size_t digits = 0;
    while (i < text.size() && is_digit(text[i]) && digits < 4) {
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 3) return 0;
  }
  if (i < text.size() && text[i] != ' ') return 0;
  return i;
}

std::string Reply::text() const {
  std::string out = std::to_string(code);
  auto add = [&out](std::string_view piece) {
    if (piece.empty()) return;
    if (out.size() >= kMaxReplyText) return;
    out += ' ';
    for (char c : piece) {
      if (out.size() >= kMaxReplyText) break;
      const auto u = static_cast<unsigned char>(c);
      out += (u >= 0x20 && u < 0x7f) ? c : '?';
    }
  };
  add(status);
  for (const std::string& line : lines) {
    std::string_view rest = line;
    if (!status.empty() && rest.substr(0, status.size()) == status &&
        (rest.size() == status.size() || rest[status.size()] == ' ')) {
      rest.remove_prefix(status.size());
    }
    while (!rest.empty() && rest.front() == ' ')
      rest.remove_prefix(1);
    while (!rest.empty() && rest.back() == ' ')
      rest.remove_suffix(1);
    add(rest);
  }
  if (out.size() >= kMaxReplyText) {
    out.resize(kMaxReplyText - 3);
    out += "...";
  }
  return out;
}

std::string Reply::status_or_default() const {
  if (!status.empty()) return status;
  switch (kind()) {
    case 2:
      return "2.0.0";
    case 5:
      return "5.0.0";
    default:
      return "4.0.0";
  }
}

ReplyParser::Result ReplyParser::fail(std::string why) {
  current_ = {};
  error_ = std::move(why);
  return Result::malformed;
}

ReplyParser::Result ReplyParser::feed(std::string_view line) {
  if (!error_.empty()) return Result::malformed;
  if (line.size() > kMaxReplyLineLength) return fail("a reply line is too long");
  line = strip_terminator(line);
  if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
      !is_digit(line[2])) {
    return fail("a reply line does not start with a reply code");
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  bool last = true;
  if (line.size() > 3) {
    if (line[3] == '-') {
      last = false;
    } else if (line[3] != ' ') {
      return fail("a reply code is not followed by a space or '-'");
    }
  }
  if (!current_.lines.empty() && code != current_.code) {
    return fail("the lines of a reply have different codes");
  }
  if (current_.lines.size() >= kMaxReplyLines) return fail("a reply has too many lines");
  const std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  if (current_.lines.empty()) {
    current_.code = code;
    const std::size_t n = enhanced_status_length(text);
    if (n > 0 && text[0] - '0' == code / 100) current_.status.assign(text.substr(0, n));
  }
  current_.lines.emplace_back(text);
  if (!last) return Result::need_more;
  done_ = std::move(current_);
  current_ = {};
  return Result::complete;
}

Reply ReplyParser::take() {
  return std::exchange(done_, {});
}

void ReplyParser::reset() {
  current_ = {};
  done_ = {};
  error_.clear();
}

Extensions parse_ehlo(const Reply& reply) {
  Extensions ext;
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    const auto w = words(reply.lines[i]);
    if (w.empty()) continue;
    std::string keyword = upper(w[0]);
    std::vector<std::string_view> params(w.begin() + 1, w.end());
    // "AUTH=PLAIN LOGIN", the form of drafts some servers still send.
    if (keyword.rfind("AUTH=", 0) == 0) {
      params.insert(params.begin(), w[0].substr(5));
      keyword = "AUTH";
    }
    if (keyword == "PIPELINING") {
      ext.pipelining = true;
    } else if (keyword == "SIZE") {
      ext.size = true;
      ext.size_limit = 0;
      if (!params.empty()) {
        std::uint64_t n = 0;
        const auto p = params[0];
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
        if (ec == std::errc() && end == p.data() + p.size()) ext.size_limit = n;
      }
    } else if (keyword == "8BITMIME") {
      ext.eight_bit_mime = true;
    } else if (keyword == "SMTPUTF8") {
      ext.smtputf8 = true;
    } else if (keyword == "CHUNKING") {
      ext.chunking = true;
    } else if (keyword == "STARTTLS") {
      ext.starttls = true;
    } else if (keyword == "DSN") {
      ext.dsn = true;
    } else if (keyword == "ENHANCEDSTATUSCODES") {
      ext.enhanced_status_codes = true;
    } else if (keyword == "AUTH") {
      for (auto p : params) {
        std::string mech = upper(p);
        if (mech.empty() || ext.auth.size() >= 32) continue;
        bool seen = false;
        for (const auto& m : ext.auth)
          seen = seen || m == mech;
        if (!seen) ext.auth.push_back(std::move(mech));
      }
    }
  }
  return ext;
}

}  // namespace portico::smtpout
