// xmpp — presence (RFC 6121 section 4): initial and later broadcasts to the contacts subscribed
// to the user and to the user's other resources, the contacts' presence sent to a new resource
// (the server answers its own probes from the router), directed presence, unavailable presence
// when a resource goes away; and subscription requests and answers (section 3, roster.h).
#include <algorithm>
#include <cstdlib>

#include "portico/directory.h"
#include "roster.h"
#include "session.h"

namespace portico::xmpp {

namespace {

int priority_of(const Element& p) {
  const Element* e = p.child("priority", kClientNs);
  if (e == nullptr) return 0;
  std::string t = e->all_text();
  char* end = nullptr;
  long v = std::strtol(t.c_str(), &end, 10);
  if (end == t.c_str()) return 0;
  return static_cast<int>(std::clamp(v, -128L, 127L));
}

std::string addressed(const std::string& xml_without_to, const std::string& to) {
  // Adds to='...' to a stanza serialized without one: "<presence ..." -> "<presence to='' ...".
  auto space = xml_without_to.find_first_of(" />");
  return xml_without_to.substr(0, space) + " to='" + escape_attr(to) + "'" +
         xml_without_to.substr(space);
}

// A roster item's JID (stored normalized) as a Jid.
Jid jid_of(const std::string& text) {
  return parse_jid(text).value_or(Jid{});
}

}  // namespace

void XmppSession::presence(Element& p) {
  const std::string type = p.attr_or("type");
  const std::string* to = p.attr("to");
  if (type == "subscribe" || type == "subscribed" || type == "unsubscribe" ||
      type == "unsubscribed") {
    if (to == nullptr) return bad_stanza(p, ErrorType::modify, "bad-request");
    Jid contact = *parse_jid(*to);
    contact.resource.clear();  // subscriptions are between bare JIDs (RFC 6121 3.1.1)
    if (contact.local.empty() || contact.bare() == bare()) return;
    return subscription(p, type, contact);
  }
  if (type == "probe") return;  // a client's probe: the server answers its own (4.3)
  if (type != "" && type != "unavailable" && type != "error")
    return bad_stanza(p, ErrorType::modify, "bad-request");
  if (to == nullptr) {
    if (type == "error") return;
    return broadcast_presence(p, type.empty() && !available_);
  }
  // Directed presence (RFC 6121 4.6) to local accounts.
  Jid target = *parse_jid(*to);
  if (target.domain != domain_ || target.local.empty()) return;
  if (shared_->blocks(bare(), target)) return;
  auto xml = std::make_shared<const std::string>(to_xml(p));
  for (const auto& r : shared_->router.routes(target.bare())) {
    if (!target.is_bare() && r.resource != target.resource) continue;
    if (target.is_bare() && (!r.available || r.priority < 0)) continue;
    Router::send(r, xml);
  }
  if (type.empty() && available_)
    directed_.insert(target.full());
  else if (type == "unavailable")
    directed_.erase(target.full());
}

void XmppSession::broadcast_presence(const Element& p, bool initial) {
  const bool unavailable = p.attr_or("type") == "unavailable";
  const int priority = priority_of(p);
  // The stamped presence (it has no 'to'), addressed per recipient below.
  auto plain = std::make_shared<const std::string>(to_xml(p));
  shared_->router.update(bare(), jid_.resource, this, [&](Route& r) {
    r.available = !unavailable;
    r.priority = priority;
    r.presence = unavailable ? nullptr : plain;
  });
  // The user's own other resources (RFC 6121 4.2.2, 4.4.2).
  for (const auto& r : shared_->router.routes(bare())) {
    if (r.resource == jid_.resource || !r.available) continue;
    Router::send(r,
                 std::make_shared<const std::string>(addressed(*plain, bare() + "/" + r.resource)));
  }
  if (unavailable) {
    for (const auto& d : directed_) {
      auto jid = parse_jid(d);
      if (!jid) continue;
      for (const auto& r : shared_->router.routes(jid->bare()))
        if (jid->is_bare() || r.resource == jid->resource)
          Router::send(r, std::make_shared<const std::string>(
                              addressed(*plain, jid->bare() + "/" + r.resource)));
    }
    directed_.clear();
  }
  available_ = !unavailable;
  Storage* store = storage();
  if (store == nullptr) return;
  auto roster = std::make_shared<std::vector<RosterItem>>();
  in_order(
      [store, account = bare(), roster] {
        try {
          std::string version;
          *roster = store->roster(account, &version);
        } catch (const std::exception&) {
        }
      },
      [this, roster, plain, initial] {
        for (const auto& item : *roster) {
          const bool sends_to =
              item.subscription == Subscription::from || item.subscription == Subscription::both;
          const bool hears_from =
              item.subscription == Subscription::to || item.subscription == Subscription::both;
          if (sends_to && !shared_->blocks(bare(), jid_of(item.jid))) {
            for (const auto& r : shared_->router.routes(item.jid)) {
              if (!r.available) continue;
              Router::send(r, std::make_shared<const std::string>(
                                  addressed(*plain, item.jid + "/" + r.resource)));
            }
          }
          if (!initial) continue;
          // The contacts' current presence, as the answers to the server's probes (4.3.2).
          if (hears_from) {
            for (const auto& r : shared_->router.routes(item.jid))
              if (r.available && r.presence) emit(addressed(*r.presence, full()));
          }
          // Requests that waited for the user (RFC 6121 3.1.3).
          if (item.pending_in && !item.pending_in_stanza.empty()) emit(item.pending_in_stanza);
        }
        if (initial) deliver_offline();
      });
}

void XmppSession::subscription(Element& p, std::string_view type, const Jid& contact) {
  Storage* store = storage();
  if (store == nullptr) return bad_stanza(p, ErrorType::wait, "internal-server-error");
  sdk::Directory* directory = shared_->host.directory();
  auto plan = std::make_shared<SubscriptionPlan>();
  auto failed = std::make_shared<bool>(false);
  auto remote = std::make_shared<bool>(false);
  in_order(
      [store, directory, user = bare(), contact = contact.bare(), domain = contact.domain,
       type = std::string(type), own = domain_, plan, failed, remote] {
        try {
          if (domain != own && (directory == nullptr || !directory->is_local_domain(domain))) {
            *remote = true;
            return;
          }
          bool exists = false;
          if (directory != nullptr) {
            auto account = directory->find_account(contact);
            exists = account.has_value() && account->enabled;
          }
          *plan = plan_subscription(*store, user, contact, type, exists);
        } catch (const std::exception&) {
          *failed = true;
        }
      },
      [this, plan, failed, remote, held = p] {
        if (*remote)
          return bad_stanza(held, ErrorType::cancel, "remote-server-not-found",
                            "this server does not federate with other domains");
        if (*failed) return bad_stanza(held, ErrorType::wait, "internal-server-error");
        for (const auto& push : plan->pushes)
          roster_push(push.account, push.item, push.version);
        for (const auto& send : plan->sends) {
          auto xml = std::make_shared<const std::string>(send.xml);
          for (const auto& r : shared_->router.routes(send.to_bare))
            if (r.available) Router::send(r, xml);
        }
        if (!plan->presence_from.empty()) {
          const auto senders = shared_->router.routes(plan->presence_from);
          const auto receivers = shared_->router.routes(plan->presence_to);
          for (const auto& s : senders) {
            if (!s.available || (!s.presence && !plan->presence_unavailable)) continue;
            for (const auto& r : receivers) {
              if (!r.available) continue;
              const std::string to = plan->presence_to + "/" + r.resource;
              std::string xml = plan->presence_unavailable
                                    ? "<presence from='" +
                                          escape_attr(plan->presence_from + "/" + s.resource) +
                                          "' to='" + escape_attr(to) + "' type='unavailable'/>"
                                    : addressed(*s.presence, to);
              Router::send(r, std::make_shared<const std::string>(std::move(xml)));
            }
          }
        }
      });
}

void XmppSession::roster_push(const std::string& account, const RosterItem& item,
                              const std::string& version) {
  for (const auto& r : shared_->router.routes(account)) {
    if (!r.interested) continue;
    Element iq("iq", std::string(kClientNs));
    iq.set_attr("type", "set");
    iq.set_attr("id", "push-" + random_id());
    iq.set_attr("to", account + "/" + r.resource);
    Element& q = iq.add_child("query", std::string(kRosterNs));
    q.set_attr("ver", version);
    q.children.push_back(roster_item_xml(item));
    Router::send(r, std::make_shared<const std::string>(to_xml(iq)));
  }
}

void XmppSession::unavailable_on_close() {
  announce_unavailable(shared_, full(), bare(), directed_);
  directed_.clear();
}

void XmppSession::announce_unavailable(const std::shared_ptr<Shared>& shared,
                                       const std::string& full_jid, const std::string& account,
                                       const std::set<std::string>& directed) {
  // The resource is gone: tell the account's other resources, the directed-presence targets
  // and the subscribed contacts (RFC 6121 4.5.2); the roster is read on the worker pool.
  auto tell = [shared, full_jid](const std::string& bare_to, bool all) {
    for (const auto& r : shared->router.routes(bare_to)) {
      if (!all && !r.available) continue;
      Router::send(r, std::make_shared<const std::string>(
                          "<presence from='" + escape_attr(full_jid) + "' to='" +
                          escape_attr(bare_to + "/" + r.resource) + "' type='unavailable'/>"));
    }
  };
  tell(account, false);
  for (const auto& d : directed) {
    auto jid = parse_jid(d);
    if (jid) tell(jid->bare(), true);
  }
  if (!shared->storage) return;
  shared->host.post_work([shared, account, tell] {
    try {
      std::string version;
      for (const auto& item : shared->storage->roster(account, &version))
        if (item.subscription == Subscription::from || item.subscription == Subscription::both)
          tell(item.jid, false);
    } catch (const std::exception&) {
    }
  });
}

}  // namespace portico::xmpp
