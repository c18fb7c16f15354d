// xmpp — the stream of one client connection (see session.h): header and features, STARTTLS
// (RFC 6120 section 5), SASL (section 6) over the core's exchange, resource binding (section
// 7), stream errors (4.9), the server's pings (XEP-0199) and its last words at a timeout or
// shutdown.
#include "session.h"

#include "portico/directory.h"

namespace portico::xmpp {

namespace {

constexpr std::string_view kStreamOpen =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams'";
// Over WebSocket each message is a whole element with no stream around it (RFC 7395 3.3.3): the
// parser gets this wrapper first, so that messages parse as the stream's top-level elements.
constexpr std::string_view kWsPrelude =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
constexpr std::string_view kWsClose = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";

// Inserts `text` after the element name of the start tag that begins `xml`.
std::string after_name(std::string_view xml, std::string_view text) {
  const std::size_t end = xml.find_first_of(" />", 1);
  if (end == std::string_view::npos) return std::string(xml);
  std::string out(xml.substr(0, end));
  out += text;
  out += xml.substr(end);
  return out;
}

// Whether the start tag that begins `xml` declares a default namespace (the serializer escapes
// '>' in attribute values, so the first '>' ends the tag).
bool declares_namespace(std::string_view xml) {
  const std::string_view tag = xml.substr(0, xml.find('>'));
  return tag.find(" xmlns='") != std::string_view::npos ||
         tag.find(" xmlns=\"") != std::string_view::npos;
}

std::string_view sasl_condition(sdk::AuthStatus status) {
  switch (status) {
    case sdk::AuthStatus::ok:
    case sdk::AuthStatus::bad_credentials:
      return "not-authorized";
    case sdk::AuthStatus::disabled:
      return "account-disabled";
    case sdk::AuthStatus::throttled:
    case sdk::AuthStatus::temporary_failure:
      return "temporary-auth-failure";
  }
  return "not-authorized";
}

XmlLimits limits_for(const XmppSettings& s) {
  XmlLimits l;
  l.max_stanza_bytes = s.max_stanza_size;
  return l;
}

}  // namespace

XmppSession::XmppSession(sdk::SessionContext& ctx, std::shared_ptr<Shared> shared,
                         XmppSettings settings)
    : ctx_(ctx),
      shared_(std::move(shared)),
      settings_(std::move(settings)),
      xml_(*this, limits_for(settings_)) {}

XmppSession::~XmppSession() = default;

void XmppSession::on_start() {
  ws_ = ctx_.is_websocket();
  if (!ws_) return ctx_.set_raw_input(true);
  // One message holds one stanza, or the <open/> (RFC 7395 3.3.3).
  ctx_.set_max_line_length(settings_.max_stanza_size + 1);
  ws_prelude_ = true;
}

void XmppSession::on_message(std::string_view message) {
  if (state_ == State::closed) return;
  // A message is a document of its own (RFC 7395 3.3.3), so it could carry a DTD, which inside
  // the parser's wrapper would only be "not well-formed": refused as over TCP (RFC 6120 11.1).
  const std::size_t first = message.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && message.substr(first, 2) == "<!")
    return stream_error("restricted-xml");
  if (ws_prelude_) {
    ws_prelude_ = false;
    xml_.feed(kWsPrelude);
  }
  on_bytes(message, true);
  // RFC 7395 3.3.3: a message is one whole element.
  if (state_ != State::closed && xml_.in_element())
    stream_error("not-well-formed", "a WebSocket message must hold whole elements");
}

void XmppSession::on_line_too_long() {
  // Over WebSocket only: the core has closed it with status 1009 (nothing can be written).
  ctx_.log(sdk::LogLevel::info, "a message over max_stanza_size: closed");
  state_ = State::closed;
  xml_.stop();
}

void XmppSession::send(std::string_view xml) {
  if (xml.empty()) return;
  if (!ws_) return ctx_.write(xml);
  if (xml.substr(0, 8) == "<stream:")
    return ctx_.write(after_name(xml, " xmlns:stream='http://etherx.jabber.org/streams'"));
  if ((xml.substr(0, 8) == "<message" || xml.substr(0, 9) == "<presence" ||
       xml.substr(0, 3) == "<iq") &&
      !declares_namespace(xml))
    return ctx_.write(after_name(xml, " xmlns='jabber:client'"));
  ctx_.write(xml);
}

void XmppSession::restart_parser() {
  xml_.reset();
  if (ws_) ws_prelude_ = true;
}

void XmppSession::count_bad() {
  if (ws_ && state_ != State::closed) {
    const std::int64_t limit = ctx_.settings().get_int("max_bad_commands");
    if (limit > 0 && ++bad_ >= limit) stream_error("policy-violation", "too many bad requests");
  }
  ctx_.bad_command();
}

void XmppSession::on_bytes(std::string_view bytes, bool /*last*/) {
  if (state_ == State::closed) return;
  heard_since_ping_ = true;
  XmlError error = xml_.feed(bytes);
  if (state_ == State::closed) return;
  if (error != XmlError::none) {
    ctx_.log(sdk::LogLevel::info,
             "stream error: " + std::string(xml_error_condition(error)) + " from the client");
    return stream_error(xml_error_condition(error));
  }
  const bool partial = xml_.in_element();
  ctx_.set_in_command(partial);
  // Between stanzas the parser's memory goes back (xml.h): most connections of a chat server
  // are idle most of the time, and a parser costs about 10 KiB.
  if (!partial && state_ == State::active) xml_.release_idle();
}

void XmppSession::on_tls_started() {
  restart_parser();
  state_ = State::start;
  ctx_.resume_input();
}

bool XmppSession::on_final_words(sdk::CloseReason reason) {
  if (state_ == State::closed) return true;
  sm_.resumable = false;
  if (!header_sent_) send_header();
  // The core closes the connection after these words.
  end_stream(stream_error_xml(reason == sdk::CloseReason::shutdown ? "system-shutdown"
                                                                   : "connection-timeout"),
             false);
  return true;
}

void XmppSession::end_stream(const std::string& last_words, bool close) {
  if (ws_) {
    send(last_words);
    send(kWsClose);
  } else {
    send(last_words + "</stream:stream>");
  }
  state_ = State::closed;
  xml_.stop();
  if (close) ctx_.close();
}

void XmppSession::send_header() {
  stream_id_ = random_id();  // a new one for every stream, restarts included (RFC 6120 4.7.3)
  std::string h(ws_ ? "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'" : kStreamOpen);
  h += " id='" + stream_id_ + "'";
  h += " from='" + escape_attr(domain_.empty() ? ctx_.connection().server_hostname : domain_) + "'";
  h += " version='1.0' xml:lang='" + escape_attr(lang_) + (ws_ ? "'/>" : "'>");
  send(h);
  header_sent_ = true;
}

void XmppSession::stream_error(std::string_view condition, std::string_view text) {
  if (state_ == State::closed) return;
  sm_.resumable = false;  // a stream error ends the session (XEP-0198 section 5)
  if (!header_sent_) send_header();
  end_stream(stream_error_xml(condition, text));
}

void XmppSession::on_stream_open(const Element& header, std::string_view content_ns) {
  if (ws_) return;  // the wrapper of kWsPrelude: RFC 7395's <open/> comes as an element
  open_stream(header, content_ns);
}

void XmppSession::open_stream(const Element& header, std::string_view content_ns) {
  if (const auto* lang = header.attr("xml:lang");
      lang != nullptr && !lang->empty() && lang->size() < 36 && valid_utf8(*lang))
    lang_ = *lang;
  const std::string* to = header.attr("to");
  std::optional<Jid> to_jid = to != nullptr ? parse_jid(*to) : std::nullopt;
  if (content_ns != kClientNs) return stream_error("invalid-namespace");
  if (to == nullptr) return stream_error("host-unknown", "the stream names no domain ('to')");
  if (!to_jid || !to_jid->local.empty() || !to_jid->is_bare()) return stream_error("host-unknown");
  const std::string* version = header.attr("version");
  if (version == nullptr || version->empty() || (*version)[0] < '1')
    return stream_error("unsupported-version");
  if (!domain_.empty()) {  // a restart: the same domain
    if (to_jid->domain != domain_) return stream_error("host-unknown");
    send_header();
    return send_features();
  }
  std::string domain = to_jid->domain;
  auto local = std::make_shared<bool>(false);
  sdk::Directory* directory = shared_->host.directory();
  in_order([directory, domain,
            local] { *local = directory != nullptr && directory->is_local_domain(domain); },
           [this, domain, local] {
             if (!*local)
               return stream_error("host-unknown", "this server does not serve " + domain);
             domain_ = domain;
             send_header();
             send_features();
           });
}

void XmppSession::send_features() {
  std::string f = "<stream:features>";
  if (state_ == State::start && !authenticated_) {
    state_ = State::negotiating;
    const bool tls = secure();
    const bool offer_tls = !tls && ctx_.starttls_available();
    if (offer_tls) {
      f += "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>";
      if (settings_.require_tls) f += "<required/>";
      f += "</starttls>";
    }
    if (tls || !settings_.require_tls) {
      f += "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
      for (const auto& m : shared_->host.sasl()->mechanisms(ctx_, sasl_policy()))
        f += "<mechanism>" + escape_text(m) + "</mechanism>";
      f += "</mechanisms>";
    } else if (!offer_tls) {
      ctx_.log(sdk::LogLevel::warn,
               "require_tls is on but this listener has no TLS: no way to authenticate");
    }
  } else if (state_ == State::start && authenticated_) {
    state_ = State::bind;
    f += "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
         "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>"
         "<ver xmlns='urn:xmpp:features:rosterver'/>"
         "<sub xmlns='urn:xmpp:features:pre-approval'/>"
         "<csi xmlns='urn:xmpp:csi:0'/>"
         "<sm xmlns='urn:xmpp:sm:3'/>";
  }
  f += "</stream:features>";
  send(f);
}

void XmppSession::on_stanza(Element e) {
  if (state_ == State::closed) return;
  if (busy_ > 0) {
    queued_.push_back(std::move(e));
    return;
  }
  handle(e);
}

void XmppSession::handle(Element& e) {
  if (ws_ && e.ns == kFramingNs && state_ != State::closed) {
    if (e.name == "open") {
      if (state_ != State::start) return stream_error("invalid-xml", "an <open/> inside a stream");
      return open_stream(e, kClientNs);
    }
    if (e.name == "close") return on_stream_close();
  }
  switch (state_) {
    case State::start:
    case State::closed:
      return;
    case State::negotiating:
    case State::authenticating:
      return negotiate(e);
    case State::bind:
      if (e.ns == "urn:xmpp:sm:3") {
        sm_nonza(e);
        return;
      }
      if (e.name == "iq" && e.ns == kClientNs && e.child("bind", kBindNs) != nullptr)
        return do_bind(e);
      if (e.name == "iq" && e.ns == kClientNs && e.child("session", kSessionNs) != nullptr)
        return iq_result(e);
      return stream_error("not-authorized", "bind a resource first");
    case State::active:
      return stanza(e);
  }
}

void XmppSession::on_stream_close() {
  clean_close_ = true;
  if (state_ == State::closed) return;
  end_stream({});
}

void XmppSession::in_order(std::function<void()> work, std::function<void()> done) {
  ++busy_;
  ctx_.pause_input();
  ctx_.post_work(std::move(work), [this, done = std::move(done)] {
    ++busy_;  // done() may queue more work: stanzas wait until it has
    done();
    --busy_;
    work_done();
  });
}

void XmppSession::work_done() {
  --busy_;
  while (busy_ == 0 && !queued_.empty() && state_ != State::closed) {
    Element next = std::move(queued_.front());
    queued_.pop_front();
    handle(next);
  }
  if (busy_ == 0 && state_ != State::closed) ctx_.resume_input();
}

// --- STARTTLS and SASL ---

void XmppSession::negotiate(Element& e) {
  if (e.ns == kTlsNs && e.name == "starttls") {
    if (state_ != State::negotiating || !ctx_.starttls_available())
      return end_stream("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    return start_tls();
  }
  if (e.ns == kSaslNs) {
    if (e.name == "auth" && state_ == State::negotiating) return start_sasl(e);
    if (e.name == "response" && sasl_) return sasl_->respond(e.all_text());
    if (e.name == "abort" && sasl_) return sasl_->respond("*");
    if (e.name == "abort") return sasl_failure("aborted");
    count_bad();
    return stream_error("not-authorized");
  }
  if (e.name == "iq" || e.name == "message" || e.name == "presence")
    return stream_error("not-authorized", "authenticate first");
  stream_error("unsupported-stanza-type");
}

void XmppSession::start_tls() {
  send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  xml_.stop();  // what follows <starttls/> is discarded (RFC 6120 5.4.3.3)
  ctx_.pause_input();
  header_sent_ = false;
  if (!ctx_.start_tls()) {
    state_ = State::closed;
    ctx_.close();
  }
}

// XMPP's SASL: no LOGIN, PLAIN only under TLS unless the operator allows it, SCRAM's final
// data inside <success/> (RFC 6120 6.4.6).
sdk::SaslPolicy XmppSession::sasl_policy() const {
  sdk::SaslPolicy policy;
  policy.service = "xmpp";
  policy.allow_plaintext_without_tls = settings_.allow_plaintext_auth || secure();
  policy.disable_login = true;
  policy.final_data_as_challenge = false;
  return policy;
}

void XmppSession::start_sasl(const Element& auth) {
  if (settings_.require_tls && !secure()) return sasl_failure("encryption-required");
  const sdk::SaslPolicy policy = sasl_policy();
  std::string mechanism = auth.attr_or("mechanism");
  std::string text = auth.all_text();
  std::optional<std::string_view> initial;
  if (!text.empty()) initial = text;
  auto started = shared_->host.sasl()->start_in_domain(
      ctx_, mechanism, initial, policy, domain_, [this](const sdk::SaslEvent& ev) { on_sasl(ev); });
  using S = sdk::SaslStart::Status;
  switch (started.status) {
    case S::started:
      sasl_ = std::move(started.exchange);
      state_ = State::authenticating;
      return;
    case S::unknown_mechanism:
      return sasl_failure("invalid-mechanism");
    case S::encryption_required:
      return sasl_failure("encryption-required");
    case S::bad_encoding:
      return sasl_failure("incorrect-encoding");
    case S::unavailable:
      return sasl_failure("temporary-auth-failure");
  }
}

void XmppSession::sasl_failure(std::string_view condition, std::string_view text) {
  state_ = State::negotiating;
  std::string out = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><";
  out += condition;
  out += "/>";
  if (!text.empty()) out += "<text>" + escape_text(text) + "</text>";
  out += "</failure>";
  send(out);
  if (condition != "aborted") count_bad();
}

void XmppSession::on_sasl(const sdk::SaslEvent& e) {
  using K = sdk::SaslEvent::Kind;
  if (state_ == State::closed) return;
  if (e.kind == K::challenge) {
    ctx_.set_in_command(true);
    send("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + e.data + "</challenge>");
    return;
  }
  sasl_.reset();
  ctx_.set_in_command(false);
  switch (e.kind) {
    case K::success: {
      auto user = parse_jid(e.user);
      if (!user || user->local.empty() || user->domain != domain_) {
        ctx_.log(sdk::LogLevel::info, "authenticated as " + e.user + ", not in " + domain_);
        return sasl_failure("not-authorized", "that account is not in " + domain_);
      }
      jid_ = *user;
      authenticated_ = true;
      state_ = State::start;
      header_sent_ = false;
      restart_parser();  // the client restarts the stream (RFC 6120 6.4.6)
      send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
           (e.data.empty() ? std::string() : e.data) + "</success>");
      ctx_.log(sdk::LogLevel::info, "authenticated as " + jid_.bare());
      return;
    }
    case K::failure:
      return sasl_failure(sasl_condition(e.reason));
    case K::cancelled:
      return sasl_failure("aborted");
    case K::bad_encoding:
      return sasl_failure("incorrect-encoding");
    case K::malformed:
    case K::challenge:
      return sasl_failure("malformed-request");
  }
}

// --- resource binding (RFC 6120 section 7) ---

void XmppSession::do_bind(Element& iq) {
  if (iq.attr_or("type") != "set") return bad_stanza(iq, ErrorType::modify, "bad-request");
  const Element* bind = iq.child("bind", kBindNs);
  std::string resource;
  if (const Element* r = bind->child("resource", kBindNs)) resource = r->all_text();
  if (resource.empty()) {
    resource = random_id();
  } else if (!parse_jid("x@" + domain_ + "/" + resource)) {
    return bad_stanza(iq, ErrorType::modify, "bad-request", "not a valid resourcepart");
  }
  // The account's block list is in memory before anything is routed to or from it (XEP-0191).
  Storage* store = storage();
  if (store == nullptr || shared_->blocklists.loaded(bare()))
    return finish_bind(std::move(resource), iq);
  auto list = std::make_shared<std::vector<std::string>>();
  in_order(
      [store, account = bare(), list] {
        try {
          *list = store->blocklist(account);
        } catch (const std::exception&) {
        }
      },
      [this, list, resource = std::move(resource), held = iq]() mutable {
        if (!shared_->blocklists.loaded(bare()))
          shared_->blocklists.set(bare(), std::set<std::string>(list->begin(), list->end()));
        finish_bind(std::move(resource), held);
      });
}

void XmppSession::finish_bind(std::string resource, const Element& iq) {
  jid_.resource = std::move(resource);
  Route route;
  route.resource = jid_.resource;
  route.handle = ctx_.handle();
  route.session = this;
  auto old = shared_->router.bind(bare(), std::move(route));
  if (old && old->handle) {
    XmppSession* s = old->session;
    old->handle->post([s] { s->displaced(); });
  } else if (old && old->detached) {
    expire_detached(shared_, old->detached);  // a new session took the resource over
  }
  bound_ = true;
  state_ = State::active;
  Element result("iq", std::string(kClientNs));
  result.set_attr("type", "result");
  if (const auto* id = iq.attr("id")) result.set_attr("id", *id);
  Element& b = result.add_child("bind", std::string(kBindNs));
  b.add_child("jid", std::string(kBindNs)).text = full();
  write(result);
  schedule_ping();
}

void XmppSession::displaced() {
  bound_ = false;
  sm_.resumable = false;  // the resource is another session's now: do not unbind it
  stream_error("conflict", "another client logged in with this resource");
}

// --- stanzas ---

void XmppSession::stanza(Element& e) {
  if (sm_nonza(e)) return;
  if (e.ns != kClientNs) {
    if (e.ns == kCsiNs && (e.name == "active" || e.name == "inactive")) return;
    return stream_error("unsupported-stanza-type");
  }
  if (e.name != "message" && e.name != "presence" && e.name != "iq")
    return stream_error("unsupported-stanza-type");
  ++sm_.h_in;
  // The server stamps the sender's full JID (RFC 6120 8.1.2.1).
  e.set_attr("from", full());
  if (const auto* to = e.attr("to"); to != nullptr && !parse_jid(*to)) {
    if (e.attr_or("type") == "error") return;
    return bad_stanza(e, ErrorType::modify, "jid-malformed");
  }
  if (e.name == "message") return message(e);
  if (e.name == "presence") return presence(e);
  iq(e);
}

void XmppSession::bad_stanza(const Element& e, ErrorType type, std::string_view condition,
                             std::string_view text) {
  if (e.attr_or("type") == "error") return;  // never answer an error with an error
  write(stanza_error(e, domain_, type, condition, text));
  if (condition == "bad-request" || condition == "jid-malformed") count_bad();
}

void XmppSession::schedule_ping() {
  ping_timer_ = ctx_.start_timer(settings_.ping_interval, [this] {
    if (state_ != State::active) return;
    if (!heard_since_ping_) {
      emit("<iq type='get' id='ping-" + random_id() + "' from='" + escape_attr(domain_) + "' to='" +
           escape_attr(full()) + "'><ping xmlns='urn:xmpp:ping'/></iq>");
    }
    heard_since_ping_ = false;
    schedule_ping();
  });
}

void XmppSession::deliver(const std::string& xml) {
  if (state_ != State::active) return;
  emit(xml);
}

void XmppSession::on_close() {
  state_ = State::closed;
  sasl_.reset();
  if (bound_ && detach()) {
    bound_ = false;  // the resource waits for a resumption (sm.cpp)
    return;
  }
  if (bound_) {
    // However the stream ended (closed by the client, a stream error, a timeout), those who
    // saw the resource available are told it is gone.
    shared_->router.unbind(bare(), jid_.resource, this);
    bound_ = false;
    if (available_) unavailable_on_close();
  }
}

}  // namespace portico::xmpp
