// Portico core — the DNS resolver (see resolver.h).
#include "core/dns/resolver.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <unbound.h>

#include <algorithm>
#include <cstring>

namespace portico::core {

namespace {

constexpr int kTypeA = 1;
constexpr int kTypeMx = 15;
constexpr int kTypeAaaa = 28;
constexpr int kClassIn = 1;
constexpr int kRcodeServfail = 2;
// A name longer than this (RFC 1035 section 2.3.4) is refused before it reaches the resolver.
constexpr std::size_t kMaxName = 253;

struct Answer {
  sdk::DnsStatus status = sdk::DnsStatus::temporary_failure;
  std::string error;
  bool secure = false;
  std::vector<std::string_view> rdata;  // valid while `result` lives
  std::unique_ptr<ub_result, void (*)(ub_result*)> result{nullptr, ub_resolve_free};
};

std::string strip_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return std::string(name);
}

// Reads a wire-format (uncompressed) domain name; "" when malformed.
std::string wire_name(std::string_view data) {
  std::string out;
  std::size_t i = 0;
  while (i < data.size()) {
    const auto len = static_cast<unsigned char>(data[i++]);
    if (len == 0) return out.empty() ? std::string(".") : out;
    if (len > 63 || i + len > data.size()) return {};
    if (!out.empty()) out += '.';
    out.append(data.substr(i, len));
    i += len;
  }
  return {};
}

}  // namespace

bool ip_literal(std::string_view text, std::string* out) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 64) return false;
  const std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) != 1 && inet_pton(AF_INET6, s.c_str(), buf) != 1) {
    return false;
  }
  if (out) *out = s;
  return true;
}

namespace {

void make_context(DnsResolver::Context& c, const std::vector<std::string>& servers, bool cache) {
  c.ctx = ub_ctx_create();
  if (!c.ctx) {
    c.setup_error = "cannot create the resolver context";
    return;
  }
  if (!cache) {
    // Every answer expires at once: each question goes to the name servers again.
    for (const char* opt : {"cache-max-ttl:", "cache-max-negative-ttl:"}) {
      if (int r = ub_ctx_set_option(c.ctx, opt, "0"); r != 0)
        c.setup_error = std::string(opt) + " " + ub_strerror(r);
    }
  }
  if (!servers.empty()) {
    // Configured servers may be on this machine (a local resolver, a test's): ask them.
    (void)ub_ctx_set_option(c.ctx, "do-not-query-localhost:", "no");
    for (const auto& s : servers) {
      if (int r = ub_ctx_set_fwd(c.ctx, s.c_str()); r != 0)
        c.setup_error = "name server " + s + ": " + ub_strerror(r);
    }
  } else if (int r = ub_ctx_resolvconf(c.ctx, nullptr); r != 0 && r != UB_READFILE) {
    // Missing files are not fatal: no resolv.conf means resolving from the root servers.
    c.setup_error = std::string("resolv.conf: ") + ub_strerror(r);
  }
  (void)ub_ctx_hosts(c.ctx, nullptr);
}

}  // namespace

DnsResolver::DnsResolver(const std::vector<std::string>& servers) : servers_(servers) {}

const DnsResolver::Context& DnsResolver::context(bool cached) {
  Context& c = cached ? cached_ : uncached_;
  std::call_once(c.once, [&] {
    make_context(c, servers_, cached);
    if (!c.setup_error.empty())
      spdlog::error("DNS resolver: {} (look-ups will fail)", c.setup_error);
  });
  return c;
}

DnsResolver::~DnsResolver() {
  for (Context* c : {&cached_, &uncached_}) {
    if (c->ctx) ub_ctx_delete(c->ctx);
  }
}

namespace {

Answer resolve(ub_ctx* ctx, const std::string& setup_error, std::string_view name, int type) {
  Answer a;
  if (!ctx) {
    a.error = setup_error;
    return a;
  }
  if (name.empty() || name.size() > kMaxName + 1 || name.find('\0') != std::string_view::npos) {
    a.status = sdk::DnsStatus::no_such_name;
    return a;
  }
  ub_result* raw = nullptr;
  const std::string query(name);
  const int r = ub_resolve(ctx, query.c_str(), type, kClassIn, &raw);
  a.result.reset(raw);
  if (r != 0 || !raw) {
    a.error = ub_strerror(r);
    return a;
  }
  if (raw->bogus) {
    a.error = std::string("DNSSEC validation failed: ") + (raw->why_bogus ? raw->why_bogus : "");
    return a;
  }
  a.secure = raw->secure != 0;
  if (raw->nxdomain) {
    a.status = sdk::DnsStatus::no_such_name;
  } else if (raw->havedata) {
    a.status = sdk::DnsStatus::ok;
    for (int i = 0; raw->data[i] != nullptr; ++i)
      a.rdata.emplace_back(raw->data[i], raw->len[i]);
  } else if (raw->rcode == 0) {
    a.status = sdk::DnsStatus::no_data;
  } else {
    a.error = raw->rcode == kRcodeServfail
                  ? "the name server failed (SERVFAIL)"
                  : "the name server answered rcode " + std::to_string(raw->rcode);
  }
  return a;
}

}  // namespace

namespace {

sdk::DnsAddresses lookup_addresses(const DnsResolver::Context& c, std::string_view name) {
  sdk::DnsAddresses out;
  std::string literal;
  if (ip_literal(name, &literal)) {
    out.status = sdk::DnsStatus::ok;
    out.addresses.push_back(literal);
    return out;
  }
  bool any_exists = false;
  for (int type : {kTypeAaaa, kTypeA}) {
    Answer a = resolve(c.ctx, c.setup_error, name, type);
    if (a.status == sdk::DnsStatus::temporary_failure) {
      out.status = a.status;
      out.error = a.error;
      out.addresses.clear();
      return out;
    }
    if (a.status == sdk::DnsStatus::no_such_name) {
      out.status = a.status;
      return out;
    }
    any_exists = true;
    const int family = type == kTypeA ? AF_INET : AF_INET6;
    const std::size_t want = type == kTypeA ? 4 : 16;
    for (auto rd : a.rdata) {
      if (rd.size() != want) continue;
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(family, rd.data(), text, sizeof text)) out.addresses.emplace_back(text);
    }
  }
  out.status = !out.addresses.empty() ? sdk::DnsStatus::ok
               : any_exists           ? sdk::DnsStatus::no_data
                                      : sdk::DnsStatus::no_such_name;
  return out;
}

sdk::DnsMx lookup_mx(const DnsResolver::Context& c, std::string_view domain) {
  sdk::DnsMx out;
  Answer a = resolve(c.ctx, c.setup_error, domain, kTypeMx);
  out.status = a.status;
  out.error = a.error;
  out.secure = a.secure;
  for (auto rd : a.rdata) {
    if (rd.size() < 3) continue;
    sdk::MxRecord rec;
    rec.preference = static_cast<std::uint16_t>((static_cast<unsigned char>(rd[0]) << 8) |
                                                static_cast<unsigned char>(rd[1]));
    const std::string name = wire_name(rd.substr(2));
    if (name.empty()) continue;  // malformed
    rec.exchange = name == "." ? std::string() : strip_dot(name);
    out.records.push_back(std::move(rec));
  }
  std::stable_sort(out.records.begin(), out.records.end(),
                   [](const auto& x, const auto& y) { return x.preference < y.preference; });
  if (out.status == sdk::DnsStatus::ok && out.records.empty()) out.status = sdk::DnsStatus::no_data;
  return out;
}

}  // namespace

sdk::DnsAddresses DnsResolver::addresses(std::string_view name) {
  return lookup_addresses(context(true), name);
}

sdk::DnsMx DnsResolver::mx(std::string_view domain) {
  return lookup_mx(context(true), domain);
}

sdk::DnsAddresses DnsResolver::addresses_uncached(std::string_view name) {
  return lookup_addresses(context(false), name);
}

sdk::DnsMx DnsResolver::mx_uncached(std::string_view domain) {
  return lookup_mx(context(false), domain);
}

}  // namespace portico::core
