// xmpp — stream management (XEP-0198, urn:xmpp:sm:3): counting the stanzas each side has
// handled, acknowledgements (<r/>, <a h=''/>), and resumption: when the connection of a session
// with resumption on drops without the stream being closed, its resource stays bound for
// `resumption_timeout` with the stanzas the client had not acknowledged and those that arrive
// meanwhile; a new connection of the same account that resumes gets them all, in order. At the
// timeout the resource goes offline (unavailable presence to those who had its presence) and
// the messages with a body among them go to offline storage.
#include "session.h"

namespace portico::xmpp {

namespace {

constexpr std::string_view kSmNs = "urn:xmpp:sm:3";
constexpr std::size_t kMaxUnacked = 5000;   // beyond this the stream ends: the client never acks
constexpr std::uint32_t kRequestEvery = 5;  // the server asks for an ack after this many stanzas

std::string failed(std::string_view condition, std::optional<std::uint32_t> h = std::nullopt) {
  std::string out = "<failed xmlns='urn:xmpp:sm:3'";
  if (h) out += " h='" + std::to_string(*h) + "'";
  out += "><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
  return out;
}

std::optional<std::uint32_t> parse_h(const Element& e) {
  const std::string* h = e.attr("h");
  if (h == nullptr || h->empty() || h->size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : *h) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xffffffffULL) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

bool is_message_with_body(const std::string& xml) {
  return xml.rfind("<message", 0) == 0 && xml.find("<body") != std::string::npos &&
         xml.find("urn:xmpp:mam:2") == std::string::npos;
}

}  // namespace

void XmppSession::emit(const std::string& xml) {
  send(xml);
  if (!sm_.enabled) return;
  ++sm_.sent;
  sm_.unacked.push_back(xml);
  if (sm_.unacked.size() > kMaxUnacked) {
    sm_.resumable = false;
    return stream_error("resource-constraint", "too many stanzas not acknowledged");
  }
  if (++sm_.since_request >= kRequestEvery) {
    sm_.since_request = 0;
    send("<r xmlns='urn:xmpp:sm:3'/>");
  }
}

bool XmppSession::sm_nonza(Element& e) {
  if (e.ns != kSmNs) return false;
  if (e.name == "r") {
    if (sm_.enabled) send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_.h_in) + "'/>");
    return true;
  }
  if (e.name == "a") {
    if (!sm_.enabled) return true;
    auto h = parse_h(e);
    const std::uint32_t acked = sm_.sent - static_cast<std::uint32_t>(sm_.unacked.size());
    if (!h || *h - acked > sm_.unacked.size()) {
      stream_error("undefined-condition", "the acknowledged count is more than was sent");
      return true;
    }
    for (std::uint32_t i = acked; i != *h; ++i)
      sm_.unacked.pop_front();
    return true;
  }
  if (e.name == "enable") {
    if (state_ != State::active || sm_.enabled) {  // before binding, or a second time
      send(failed("unexpected-request"));
    } else {
      sm_.enabled = true;
      const std::string resume = e.attr_or("resume");
      sm_.resumable =
          (resume == "true" || resume == "1") && settings_.resumption_timeout.count() > 0;
      std::string out = "<enabled xmlns='urn:xmpp:sm:3'";
      if (sm_.resumable) {
        sm_.id = random_id() + random_id();
        out += " id='" + sm_.id + "' resume='true' max='" +
               std::to_string(settings_.resumption_timeout.count() / 1000) + "'";
      }
      out += "/>";
      send(out);
    }
    return true;
  }
  if (e.name == "resume") {
    sm_resume(e);
    return true;
  }
  send(failed("feature-not-implemented"));
  return true;
}

void XmppSession::sm_resume(const Element& e) {
  if (state_ != State::bind) return send(failed("unexpected-request"));
  auto h = parse_h(e);
  std::shared_ptr<Detached> d = shared_->resumptions.take(e.attr_or("previd"));
  if (!h || !d || d->bare != bare()) {
    if (d) shared_->resumptions.put(d);  // another account's id: leave it be
    return send(failed("item-not-found"));
  }
  std::deque<std::string> pending;
  std::uint32_t h_in = 0;
  std::uint32_t first_unacked = 0;
  std::size_t sent_unacked = 0;
  std::set<std::string> directed;
  {
    std::lock_guard lock(d->mu);
    if (d->taken) return send(failed("item-not-found"));
    d->taken = true;
    d->successor = ctx_.handle();
    d->successor_session = this;
    d->expiry.reset();
    pending.swap(d->pending);
    h_in = d->h_in;
    sent_unacked = d->sent_unacked;
    first_unacked = d->sent - static_cast<std::uint32_t>(sent_unacked);
    directed = d->directed;
  }
  if (*h - first_unacked > sent_unacked) {
    return stream_error("undefined-condition", "the acknowledged count is more than was sent");
  }
  for (std::uint32_t i = first_unacked; i != *h; ++i)
    pending.pop_front();
  jid_.resource = d->resource;
  auto current = shared_->router.route(bare(), jid_.resource);
  Route route = current ? *current : Route{};
  route.resource = jid_.resource;
  route.handle = ctx_.handle();
  route.session = this;
  route.detached = nullptr;
  shared_->router.bind(bare(), route);
  bound_ = true;
  available_ = route.available;
  interested_ = route.interested;
  directed_ = std::move(directed);
  state_ = State::active;
  sm_.enabled = true;
  sm_.resumable = true;
  sm_.id = d->id;
  sm_.h_in = h_in;
  sm_.sent = *h;
  send("<resumed xmlns='urn:xmpp:sm:3' h='" + std::to_string(h_in) + "' previd='" +
       escape_attr(sm_.id) + "'/>");
  ctx_.log(sdk::LogLevel::info, "resumed " + full() + " with " + std::to_string(pending.size()) +
                                    " stanzas to send again");
  for (const auto& xml : pending)
    emit(xml);
  schedule_ping();
}

bool XmppSession::detach() {
  if (!sm_.resumable || !bound_ || clean_close_) return false;
  auto d = std::make_shared<Detached>();
  d->bare = bare();
  d->resource = jid_.resource;
  d->id = sm_.id;
  d->h_in = sm_.h_in;
  d->sent = sm_.sent;
  d->sent_unacked = sm_.unacked.size();
  d->pending.assign(std::make_move_iterator(sm_.unacked.begin()),
                    std::make_move_iterator(sm_.unacked.end()));
  sm_.unacked.clear();
  d->directed = directed_;
  d->offline_limit = settings_.offline_message_limit;
  const bool kept = shared_->router.update(bare(), jid_.resource, this, [&](Route& r) {
    r.handle = nullptr;
    r.session = nullptr;
    r.detached = d;
  });
  if (!kept) return false;
  shared_->resumptions.put(d);
  std::weak_ptr<Detached> weak = d;
  auto shared = shared_;
  std::lock_guard lock(d->mu);
  d->expiry = shared_->host.schedule(settings_.resumption_timeout, [shared, weak] {
    if (auto held = weak.lock()) expire_detached(shared, held);
  });
  ctx_.log(sdk::LogLevel::info, "connection of " + full() + " lost: resumable for " +
                                    std::to_string(settings_.resumption_timeout.count() / 1000) +
                                    " s");
  return true;
}

void XmppSession::expire_detached(const std::shared_ptr<Shared>& shared,
                                  const std::shared_ptr<Detached>& d) {
  std::deque<std::string> pending;
  std::set<std::string> directed;
  {
    std::lock_guard lock(d->mu);
    if (d->taken) return;
    d->taken = true;
    pending.swap(d->pending);
    directed = d->directed;
  }
  shared->resumptions.take(d->id);
  shared->router.unbind(d->bare, d->resource, nullptr);
  announce_unavailable(shared, d->bare + "/" + d->resource, d->bare, directed);
  if (!shared->storage) return;
  for (const auto& xml : pending) {
    if (!is_message_with_body(xml)) continue;
    try {
      shared->storage->push_offline(d->bare, xml, d->offline_limit);
    } catch (const std::exception&) {
    }
  }
}

}  // namespace portico::xmpp
