// ldap — one connection (see session.h).
#include "session.h"

#include <ldap.h>

#include <algorithm>
#include <charconv>

#include "encode.h"
#include "portico/directory.h"

namespace portico::ldap {

namespace {

constexpr std::size_t kMaxPagedSearches = 8;

ber_tag_t response_tag(ber_tag_t request) {
  switch (request) {
    case LDAP_REQ_MODIFY:
      return LDAP_RES_MODIFY;
    case LDAP_REQ_ADD:
      return LDAP_RES_ADD;
    case LDAP_REQ_DELETE:
      return LDAP_RES_DELETE;
    case LDAP_REQ_MODDN:
      return LDAP_RES_MODDN;
    case LDAP_REQ_COMPARE:
      return LDAP_RES_COMPARE;
    default:
      return LDAP_RES_EXTENDED;
  }
}

std::string domain_of(std::string_view address) {
  auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(address.substr(at + 1));
}

}  // namespace

LdapSession::LdapSession(sdk::SessionContext& ctx, sdk::Host& host, std::shared_ptr<Shared> shared,
                         LdapSettings settings)
    : ctx_(ctx),
      host_(host),
      shared_(std::move(shared)),
      settings_(std::move(settings)),
      framer_(std::make_unique<Framer>(settings_.max_request_size)) {
  // The DIT follows the base DNs of the settings this connection was accepted with.
  shared_->cache.set_base_dns(settings_.base_dns);
}

void LdapSession::on_start() {
  // LDAP has no greeting: the client speaks first, in BER.
  ctx_.set_raw_input(true);
}

void LdapSession::on_line(std::string_view line) {
  on_bytes(line, true);
}

void LdapSession::on_bytes(std::string_view bytes, bool) {
  if (closing_) return;
  framer_->feed(bytes);
  pump();
}

void LdapSession::on_tls_started() {
  tls_pending_ = false;
  pump();
}

void LdapSession::on_close() {
  closing_ = true;
  for (auto& [id, abandoned] : outstanding_)
    *abandoned = true;
}

bool LdapSession::on_final_words(sdk::CloseReason reason) {
  const char* why = reason == sdk::CloseReason::shutdown          ? "server shutting down"
                    : reason == sdk::CloseReason::session_timeout ? "idle too long"
                                                                  : "request timed out";
  ctx_.write(notice_of_disconnection(unavailable, why));
  return true;
}

bool LdapSession::blocked() const {
  return closing_ || binding_ || tls_pending_ || deferred_.has_value() ||
         outstanding_.size() >= settings_.max_outstanding;
}

void LdapSession::pump() {
  while (!blocked()) {
    BerPtr pdu;
    Framer::Status status = framer_->next(pdu);
    if (status == Framer::Status::need_more) {
      ctx_.set_in_command(framer_->partial());
      if (paused_) {
        paused_ = false;
        ctx_.resume_input();
      }
      return;
    }
    if (status == Framer::Status::too_large) {
      disconnect(protocol_error, "request too large");
      return;
    }
    Request request;
    if (status == Framer::Status::malformed || decode(pdu.get(), request) != DecodeStatus::ok) {
      disconnect(protocol_error, "malformed request");
      return;
    }
    dispatch(request);
  }
  if (!closing_ && !paused_) {
    paused_ = true;
    ctx_.pause_input();
  }
}

void LdapSession::disconnect(int code, std::string_view message) {
  ctx_.log(sdk::LogLevel::info, "ldap: " + std::string(message) + ", closing the connection");
  closing_ = true;
  // Counted as a bad request; when that was the last one allowed, the core's notice goes out.
  if (ctx_.bad_command()) return;
  ctx_.write(notice_of_disconnection(code, message));
  ctx_.close();
}

void LdapSession::answer(std::int32_t id, ber_tag_t op, int code, std::string message) {
  std::string out;
  if (op == LDAP_RES_EXTENDED)
    encode_extended(out, id, Result{code, "", std::move(message)}, std::nullopt, std::nullopt);
  else
    encode_result(out, id, op, Result{code, "", std::move(message)});
  ctx_.write(out);
}

bool LdapSession::may_read() const {
  return !user_.empty() || settings_.allow_anonymous;
}

void LdapSession::dispatch(Request& r) {
  switch (r.op) {
    case LDAP_REQ_BIND:
    case LDAP_REQ_EXTENDED:
      // RFC 4511 section 4.2.1: a bind waits for the operations in progress. StartTLS
      // (section 4.14.1) needs none outstanding: it waits for them too.
      if (!outstanding_.empty() &&
          (r.op == LDAP_REQ_BIND || r.extended.oid == LDAP_EXOP_START_TLS)) {
        deferred_ = std::move(r);
        return;
      }
      if (r.op == LDAP_REQ_BIND)
        bind(r);
      else
        extended(r);
      return;
    case LDAP_REQ_UNBIND:
      closing_ = true;
      ctx_.close();
      return;
    case LDAP_REQ_SEARCH:
      search(r);
      return;
    case LDAP_REQ_COMPARE:
      compare(r);
      return;
    case LDAP_REQ_ABANDON: {
      auto it = outstanding_.find(r.abandon_id);
      if (it != outstanding_.end()) *it->second = true;
      return;
    }
    default:  // modify, add, delete, modify DN
      if (ctx_.bad_command()) {
        closing_ = true;
        return;
      }
      answer(r.id, response_tag(r.op), unwilling_to_perform,
             "the directory is read-only over LDAP; it is changed with `portico user`");
      return;
  }
}

void LdapSession::bind(Request& r) {
  // RFC 4513 section 5: the connection is anonymous from the start of a bind on.
  user_.clear();
  user_dn_.clear();
  const BindRequest& b = r.bind;
  if (b.version != 3) {
    answer(r.id, LDAP_RES_BIND, protocol_error, "only LDAPv3 is supported");
    return;
  }
  if (!b.simple) {
    answer(r.id, LDAP_RES_BIND, auth_method_not_supported,
           "only simple bind is supported; use StartTLS to protect the password");
    return;
  }
  if (b.name.empty() && b.password.empty()) {
    if (settings_.allow_anonymous)
      answer(r.id, LDAP_RES_BIND, success, "");
    else
      answer(r.id, LDAP_RES_BIND, inappropriate_authentication, "anonymous bind is not allowed");
    return;
  }
  if (b.password.empty()) {  // RFC 4513 section 5.1.2: unauthenticated bind
    answer(r.id, LDAP_RES_BIND, unwilling_to_perform, "unauthenticated bind is not allowed");
    return;
  }
  if (!ctx_.is_tls() && !settings_.allow_plaintext_auth) {
    answer(r.id, LDAP_RES_BIND, confidentiality_required,
           "TLS is required before a password is sent; use StartTLS");
    return;
  }
  binding_ = true;
  struct Outcome {
    sdk::AuthResult result;
    std::string dn;
  };
  auto outcome = std::make_shared<Outcome>();
  auto shared = shared_;
  sdk::Host* host = &host_;
  std::string name = b.name, password = b.password;
  std::string remote = ctx_.connection().remote_address;
  std::int32_t id = r.id;
  ctx_.post_work_on(
      sdk::WorkPool::auth,
      [outcome, shared, host, name, password, remote] {
        sdk::Directory* dir = host->directory();
        if (dir == nullptr) {
          outcome->result.status = sdk::AuthStatus::temporary_failure;
          return;
        }
        auto book = shared->cache.get(*dir);
        // A DN names a person entry; anything else is taken as an account address. An unknown
        // DN is checked as given, so that it fails in the same time as a wrong password.
        std::string user = name;
        if (name.find('=') != std::string::npos) {
          std::string address = address_for_dn(*book, name);
          if (!address.empty()) user = address;
        }
        outcome->result = dir->authenticate(user, password, remote);
        if (outcome->result.status == sdk::AuthStatus::ok) {
          if (const auto* hits = book->lookup("mail", fold(outcome->result.user)))
            for (int i : *hits) {
              const Entry& e = book->entries[static_cast<std::size_t>(i)];
              if (e.address == outcome->result.user) outcome->dn = e.dn;
            }
        }
      },
      [this, outcome, id] {
        if (outcome->result.delay.count() > 0) {
          ctx_.post_after(outcome->result.delay,
                          [this, outcome, id] { finish_bind(id, outcome->result, outcome->dn); });
          return;
        }
        finish_bind(id, outcome->result, outcome->dn);
      });
}

void LdapSession::finish_bind(std::int32_t id, const sdk::AuthResult& result,
                              const std::string& dn) {
  binding_ = false;
  switch (result.status) {
    case sdk::AuthStatus::ok:
      user_ = result.user;
      user_dn_ = dn;
      answer(id, LDAP_RES_BIND, success, "");
      break;
    case sdk::AuthStatus::throttled:
      answer(id, LDAP_RES_BIND, unwilling_to_perform, "too many failed attempts; try again later");
      break;
    case sdk::AuthStatus::temporary_failure:
      answer(id, LDAP_RES_BIND, unavailable, "the directory is unavailable; try again later");
      break;
    default:  // bad credentials, disabled: never told apart (RFC 4513 section 6.1)
      answer(id, LDAP_RES_BIND, invalid_credentials, "");
      break;
  }
  pump();
}

void LdapSession::search(Request& r) {
  SearchRequest& s = r.search;
  bool root_dse = s.scope == 0 && normalize_dn(s.base) == std::string();
  auto job = std::make_shared<SearchJob>();
  job->id = r.id;
  job->all_domains = user_.empty() || settings_.all_domains;
  job->domain = domain_of(user_);
  job->facts.starttls_offered = ctx_.starttls_available();
  job->facts.vendor_version = shared_->version;
  std::shared_ptr<PagedState> state;
  for (const auto& c : r.controls) {
    if (c.oid == LDAP_CONTROL_PAGEDRESULTS) {
      auto paged = c.value ? decode_paged_request(*c.value) : std::nullopt;
      if (!paged) {
        answer(r.id, LDAP_RES_SEARCH_RESULT, protocol_error, "malformed paged results control");
        return;
      }
      if (!paged->cookie.empty()) {
        std::uint64_t number = 0;
        const char* end = paged->cookie.data() + paged->cookie.size();
        auto parsed = std::from_chars(paged->cookie.data(), end, number);
        auto it =
            parsed.ec == std::errc() && parsed.ptr == end ? paging_.find(number) : paging_.end();
        if (it == paging_.end() || it->second->key != paged_key(s)) {
          answer(r.id, LDAP_RES_SEARCH_RESULT, unwilling_to_perform,
                 "paged results cookie is invalid");
          return;
        }
        state = std::move(it->second);
        paging_.erase(it);
      }
      job->paged = std::move(paged);
    } else if (c.oid == LDAP_CONTROL_SORTREQUEST) {
      auto keys = c.value ? decode_sort_request(*c.value) : std::nullopt;
      if (!keys) {
        answer(r.id, LDAP_RES_SEARCH_RESULT, protocol_error, "malformed sort control");
        return;
      }
      job->sort = std::move(keys);
      job->sort_critical = c.critical;
    } else if (c.oid == LDAP_CONTROL_VLVREQUEST) {
      auto vlv = c.value ? decode_vlv_request(*c.value) : std::nullopt;
      if (!vlv) {
        answer(r.id, LDAP_RES_SEARCH_RESULT, protocol_error, "malformed virtual list view control");
        return;
      }
      job->vlv = std::move(vlv);
      job->vlv_critical = c.critical;
    } else if (c.critical) {
      answer(r.id, LDAP_RES_SEARCH_RESULT, unavailable_critical_extension,
             "unsupported critical control " + c.oid);
      return;
    }
  }
  if (!root_dse && !may_read()) {
    answer(r.id, LDAP_RES_SEARCH_RESULT, stronger_auth_required, "authentication required");
    return;
  }
  job->size_limit = settings_.size_limit;
  if (s.size_limit > 0 && (job->size_limit == 0 || s.size_limit < job->size_limit))
    job->size_limit = s.size_limit;
  job->time_limit = settings_.time_limit;
  auto client_time = std::chrono::milliseconds(s.time_limit * 1000);
  if (s.time_limit > 0 && (job->time_limit.count() == 0 || client_time < job->time_limit))
    job->time_limit = client_time;
  job->request = std::move(s);

  auto abandoned = std::make_shared<std::atomic<bool>>(false);
  outstanding_[r.id] = abandoned;
  auto output = std::make_shared<SearchOutput>();
  const std::uint64_t cookie_number = shared_->next_cookie.fetch_add(1);
  std::string cookie = std::to_string(cookie_number);
  auto shared = shared_;
  sdk::Host* host = &host_;
  std::int32_t id = r.id;
  ctx_.post_work(
      [output, shared, host, job, state, cookie, abandoned] {
        if (*abandoned) return;
        sdk::Directory* dir = host->directory();
        std::shared_ptr<const Book> book = state ? state->book
                                           : dir ? shared->cache.get(*dir)
                                                 : std::make_shared<Book>();
        std::unique_ptr<PagedState> owned;
        if (state) owned = std::make_unique<PagedState>(std::move(*state));
        *output = run_search(book, *job, std::move(owned), cookie);
      },
      [this, output, id, cookie_number, abandoned] {
        if (!*abandoned && !closing_) {
          ctx_.write(output->pdus);
          if (output->more) {
            if (paging_.size() >= kMaxPagedSearches) paging_.erase(paging_.begin());
            paging_[cookie_number] = std::shared_ptr<PagedState>(std::move(output->more));
          }
        }
        operation_done(id);
      });
}

void LdapSession::compare(Request& r) {
  if (!may_read()) {
    answer(r.id, LDAP_RES_COMPARE, stronger_auth_required, "authentication required");
    return;
  }
  auto abandoned = std::make_shared<std::atomic<bool>>(false);
  outstanding_[r.id] = abandoned;
  auto result = std::make_shared<Result>();
  auto shared = shared_;
  sdk::Host* host = &host_;
  bool all = user_.empty() || settings_.all_domains;
  std::string domain = domain_of(user_);
  std::int32_t id = r.id;
  CompareRequest request = std::move(r.compare);
  ctx_.post_work(
      [result, shared, host, request, all, domain] {
        sdk::Directory* dir = host->directory();
        if (dir == nullptr) {
          *result = {unavailable, "", "the directory is unavailable"};
          return;
        }
        *result = run_compare(*shared->cache.get(*dir), request, all, domain);
      },
      [this, result, id, abandoned] {
        if (!*abandoned && !closing_) answer(id, LDAP_RES_COMPARE, result->code, result->message);
        operation_done(id);
      });
}

void LdapSession::operation_done(std::int32_t id) {
  outstanding_.erase(id);
  if (deferred_ && outstanding_.empty()) {
    Request next = std::move(*deferred_);
    deferred_.reset();
    dispatch(next);
  }
  pump();
}

void LdapSession::extended(Request& r) {
  const std::string& oid = r.extended.oid;
  std::string out;
  if (oid == LDAP_EXOP_START_TLS) {
    if (ctx_.is_tls()) {
      encode_extended(out, r.id, Result{operations_error, "", "TLS is already on"}, oid,
                      std::nullopt);
    } else if (!ctx_.starttls_available()) {
      encode_extended(out, r.id, Result{unavailable, "", "TLS is not offered on this listener"},
                      oid, std::nullopt);
    } else {
      encode_extended(out, r.id, Result{success, "", ""}, oid, std::nullopt);
      ctx_.write(out);
      // Whatever the client sent after the request is discarded with the core's buffer (RFC 4511
      // section 4.14.1: it must wait for the response); so is what the framer holds.
      framer_ = std::make_unique<Framer>(settings_.max_request_size);
      tls_pending_ = true;
      ctx_.start_tls();
      return;
    }
    ctx_.write(out);
    return;
  }
  if (oid == LDAP_EXOP_WHO_AM_I) {
    // RFC 4532 section 2.2: the authorization identity, empty for anonymous.
    std::string authz = user_.empty()       ? std::string()
                        : !user_dn_.empty() ? "dn:" + user_dn_
                                            : "u:" + user_;
    encode_extended(out, r.id, Result{success, "", ""}, std::nullopt, authz);
    ctx_.write(out);
    return;
  }
  if (ctx_.bad_command()) {
    closing_ = true;
    return;
  }
  encode_extended(out, r.id, Result{protocol_error, "", "unsupported extended operation " + oid},
                  std::nullopt, std::nullopt);
  ctx_.write(out);
}

}  // namespace portico::ldap
