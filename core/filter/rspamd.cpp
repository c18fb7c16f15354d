// Portico core — rspamd's HTTP protocol (see rspamd.h).
#include "core/filter/rspamd.h"

#include <gmime/gmime.h>
#include <strings.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdio>

#include "core/store/mime_cache.h"

namespace portico::core::filter {

namespace json = boost::json;

namespace {

bool field_name_ok(std::string_view name) {
  if (name.empty() || name.size() > 76) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != ':';
  });
}

// A header value made one line: unfolded (CR and LF dropped, RFC 5322 section 2.2.3), runs of
// white space and other controls made one space.
std::string one_line(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n') continue;
    if (u < 32 || u == 127 || u == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += c;
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

const char* behaviour_outcome(SpamBehaviour b) {
  switch (b) {
    case SpamBehaviour::accept:
      return "accepted";
    case SpamBehaviour::mark:
    case SpamBehaviour::rewrite_subject:
      return "marked";
    case SpamBehaviour::tempfail:
      return "tempfailed";
    case SpamBehaviour::reject:
      return "rejected";
  }
  return "accepted";
}

// A milter.add_headers value: a string, {"value": ..., "order": ...}, or a list of those.
void add_milter_values(const std::string& name, const json::value& v,
                       std::vector<HeaderField>& out) {
  if (v.is_string()) {
    out.emplace_back(name, std::string(v.get_string()));
  } else if (v.is_object()) {
    if (const auto* value = v.get_object().if_contains("value"); value && value->is_string())
      out.emplace_back(name, std::string(value->get_string()));
  } else if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (!item.is_array()) add_milter_values(name, item, out);
    }
  }
}

double number(const json::value* v) {
  if (v == nullptr) return 0;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return 0;
}

// The header fields this server writes; a copy from the sender is taken out.
std::vector<std::string> own_fields() {
  return {"X-Spam", "X-Spam-Score", "X-Spam-Action", "X-Spam-Symbols", "X-Spam-Check"};
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "4.7.1 Try again later" without its RFC 3463 code: the reply's own comes from the action.
std::string without_status_code(std::string text) {
  std::size_t i = 0, dots = 0;
  while (i < text.size() && (is_digit(text[i]) || text[i] == '.'))
    dots += text[i++] == '.';
  if (dots == 2 && i < text.size() && text[i] == ' ' && is_digit(text[0]) && is_digit(text[i - 1]))
    text.erase(0, i + 1);
  return text;
}

}  // namespace

std::vector<HeaderField> request_fields(const sdk::FilterRequest& r,
                                        const std::string& server_hostname) {
  std::vector<HeaderField> f;
  if (!r.client_address.empty()) f.emplace_back("IP", one_line(r.client_address));
  if (!r.helo.empty()) f.emplace_back("Helo", one_line(r.helo));
  f.emplace_back("From", one_line(r.sender));
  for (const auto& rcpt : r.recipients)
    f.emplace_back("Rcpt", one_line(rcpt));
  if (!r.auth_user.empty()) f.emplace_back("User", one_line(r.auth_user));
  if (!r.queue_id.empty()) f.emplace_back("Queue-Id", one_line(r.queue_id));
  if (!r.tls.empty()) {
    // tls_description() is "TLSv1.3 TLS_AES_256_GCM_SHA384".
    const auto space = r.tls.find(' ');
    f.emplace_back("TLS-Version", one_line(r.tls.substr(0, space)));
    if (space != std::string::npos) f.emplace_back("TLS-Cipher", one_line(r.tls.substr(space + 1)));
  }
  if (!server_hostname.empty()) f.emplace_back("MTA-Name", one_line(server_hostname));
  // No Password field: rspamd takes a check that carries one for a controller's (rspamc)
  // request, which greylisting, rate limits and reputation then leave alone.
  return f;
}

std::optional<Reply> parse_reply(std::string_view body, std::string& error) {
  if (body.size() > kMaxReplyBody) {
    error = "reply too large";
    return std::nullopt;
  }
  json::parse_options opt;
  opt.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opt);
  if (ec) {
    error = "reply is not JSON: " + ec.message();
    return std::nullopt;
  }
  if (!v.is_object()) {
    error = "reply is not a JSON object";
    return std::nullopt;
  }
  const auto& o = v.get_object();
  if (const auto* e = o.if_contains("error"); e && e->is_string()) {
    error = "rspamd: " + client_text(e->get_string());
    return std::nullopt;
  }
  Reply r;
  const auto* action = o.if_contains("action");
  if (action == nullptr || !action->is_string()) {
    error = "reply has no action";
    return std::nullopt;
  }
  r.action = std::string(action->get_string());
  r.score = number(o.if_contains("score"));
  r.required = number(o.if_contains("required_score"));
  if (const auto* s = o.if_contains("is_skipped"); s && s->is_bool()) r.skipped = s->get_bool();
  if (const auto* syms = o.if_contains("symbols"); syms && syms->is_object()) {
    for (const auto& [name, sym] : syms->get_object()) {
      double score = sym.is_object() ? number(sym.get_object().if_contains("score")) : 0;
      r.symbols.push_back({std::string(name), score});
    }
    std::sort(r.symbols.begin(), r.symbols.end(), [](const Symbol& a, const Symbol& b) {
      return a.score != b.score ? a.score > b.score : a.name < b.name;
    });
  }
  if (const auto* m = o.if_contains("messages"); m && m->is_object()) {
    if (const auto* t = m->get_object().if_contains("smtp_message"); t && t->is_string())
      r.smtp_message = std::string(t->get_string());
  }
  if (const auto* s = o.if_contains("subject"); s && s->is_string())
    r.subject = std::string(s->get_string());
  if (const auto* m = o.if_contains("milter"); m && m->is_object()) {
    const auto& mo = m->get_object();
    if (const auto* add = mo.if_contains("add_headers"); add && add->is_object()) {
      for (const auto& [name, value] : add->get_object()) {
        if (field_name_ok(name)) add_milter_values(std::string(name), value, r.milter_add);
      }
    }
    if (const auto* rm = mo.if_contains("remove_headers"); rm && rm->is_object()) {
      for (const auto& [name, value] : rm->get_object()) {
        if (field_name_ok(name)) r.milter_remove.emplace_back(name);
      }
    }
  }
  return r;
}

bool learn_succeeded(std::string_view body, std::string& error) {
  json::parse_options opt;
  opt.max_depth = 8;
  boost::system::error_code ec;
  json::value v = json::parse(body.substr(0, kMaxReplyBody), ec, {}, opt);
  if (ec || !v.is_object()) {
    error = "reply is not a JSON object: " + client_text(body.substr(0, 200));
    return false;
  }
  const auto& o = v.get_object();
  if (const auto* ok = o.if_contains("success"); ok && ok->is_bool() && ok->get_bool()) return true;
  const auto* e = o.if_contains("error");
  error = e && e->is_string() ? client_text(e->get_string()) : client_text(body.substr(0, 200));
  return false;
}

std::string client_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (out.size() >= kMaxReplyText) break;
    if (u >= 32 && u < 127) {
      out += c;
    } else if ((u == '\r' || u == '\n' || u == '\t') && !out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

std::string format_field(std::string_view name, std::string_view raw_value) {
  std::string value = one_line(raw_value);
  if (std::any_of(value.begin(), value.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    store::init_gmime();
    if (char* encoded = g_mime_utils_header_encode_text(nullptr, value.c_str(), "utf-8")) {
      value = encoded;
      g_free(encoded);
    }
  }
  // Fold: break before a space once a line would pass 78 columns (RFC 5322 section 2.2.3).
  std::string out(name);
  out += ':';
  std::size_t column = out.size();
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t next = value.find(' ', i + 1);
    if (next == std::string::npos) next = value.size();
    std::string_view word(value.data() + i, next - i);  // starts with its space, if any
    if (i == 0 && word.front() != ' ') {
      out += ' ';
      ++column;
    }
    if (column + word.size() > 78 && column > name.size() + 2 && word.front() == ' ') {
      out += "\r\n";
      column = 0;
    }
    out += word;
    column += word.size();
    i = next;
  }
  return out + "\r\n";
}

Decision decide(const Reply& reply, const SpamFilterConfig& config) {
  Decision d;
  SpamBehaviour b = SpamBehaviour::accept;
  if (reply.action == "reject") {
    b = config.on_reject;
  } else if (reply.action == "soft reject") {
    b = config.on_soft_reject;
  } else if (reply.action == "greylist") {
    b = config.on_greylist;
  } else if (reply.action == "add header") {
    b = config.on_add_header;
  } else if (reply.action == "rewrite subject") {
    b = config.on_rewrite_subject;
  }  // "no action" and any action this server does not know: accepted
  d.counted_as = behaviour_outcome(b);
  d.log = "rspamd: " + client_text(reply.action) + ", score " + fixed2(reply.score) + "/" +
          fixed2(reply.required);
  if (reply.skipped) d.log += " (skipped by rspamd)";
  const std::string said = without_status_code(client_text(reply.smtp_message));
  switch (b) {
    case SpamBehaviour::reject:
      d.action = sdk::FilterAction::reject;
      d.reply = said.empty() ? "Spam message rejected" : said;
      return d;
    case SpamBehaviour::tempfail:
      d.action = sdk::FilterAction::tempfail;
      d.reply = said.empty() ? "Try again later" : said;
      return d;
    default:
      break;
  }
  d.action = sdk::FilterAction::accept;
  // Fields of this server's own, taken out first so that a sender cannot forge them.
  d.remove = own_fields();
  for (const auto& name : reply.milter_remove)
    d.remove.push_back(name);
  if (b == SpamBehaviour::mark || b == SpamBehaviour::rewrite_subject)
    d.add.emplace_back("X-Spam", "Yes");
  d.add.emplace_back("X-Spam-Score", fixed2(reply.score) + " / " + fixed2(reply.required));
  d.add.emplace_back("X-Spam-Action", client_text(reply.action));
  std::string symbols;
  std::size_t listed = 0;
  for (const auto& s : reply.symbols) {
    if (listed++ == kMaxSymbolsListed) {
      symbols += ", ...";
      break;
    }
    if (!symbols.empty()) symbols += ", ";
    symbols += one_line(s.name) + "(" + fixed2(s.score) + ")";
  }
  if (!symbols.empty()) d.add.emplace_back("X-Spam-Symbols", symbols);
  for (const auto& field : reply.milter_add) {
    const bool ours = std::any_of(d.add.begin(), d.add.end(), [&](const HeaderField& f) {
      return ::strcasecmp(f.first.c_str(), field.first.c_str()) == 0;
    });
    if (!ours) d.add.push_back(field);
  }
  if (b == SpamBehaviour::rewrite_subject) {
    d.subject = reply.subject.value_or("*** SPAM ***");
  }
  return d;
}

Decision on_failure(const std::string& why, const SpamFilterConfig& config) {
  Decision d;
  d.log = "spam check failed: " + why;
  d.counted_as = "failed";
  d.checked = false;
  if (config.tempfail_on_failure) {
    d.action = sdk::FilterAction::tempfail;
    d.reply = "Spam check unavailable, try again later";
  } else {
    // Accepted, and marked as not checked: a forged score must not pass for a real one.
    d.action = sdk::FilterAction::accept;
    d.remove = own_fields();
    d.add.emplace_back("X-Spam-Check", "not checked (" + client_text(why) + ")");
  }
  return d;
}

}  // namespace portico::core::filter
