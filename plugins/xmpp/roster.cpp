// xmpp — subscription state changes (see roster.h). The state tables are RFC 6121 section 3
// and its Appendix A: outbound (the user's roster) and inbound (the contact's roster).
#include "roster.h"

#include "ns.h"

namespace portico::xmpp {

namespace {

using S = Subscription;

std::string presence_xml(const std::string& from, const std::string& to, const std::string& type) {
  return "<presence from='" + escape_attr(from) + "' to='" + escape_attr(to) + "' type='" + type +
         "'/>";
}

class Planner {
 public:
  Planner(Storage& storage, SubscriptionPlan& plan) : storage_(storage), plan_(plan) {}

  RosterItem get(const std::string& account, const std::string& jid, bool* existed) {
    auto item = storage_.roster_item(account, jid);
    *existed = item.has_value();
    if (item) return *item;
    RosterItem fresh;
    fresh.jid = jid;
    return fresh;
  }

  void put(const std::string& account, const RosterItem& item, bool was_shown) {
    if (hidden_item(item) && !item.pending_in && !was_shown) {
      storage_.remove_roster_item(account, item.jid);  // never shown: nothing to tell
      return;
    }
    std::string version = storage_.put_roster_item(account, item);
    if (shown_item(item)) {
      plan_.pushes.push_back({account, item, version});
    } else if (was_shown) {
      RosterItem removed = item;
      removed.subscription = S::remove;
      plan_.pushes.push_back({account, removed, version});
    }
  }

  // The contact's side of a request from `user` (RFC 6121 3.1.3).
  void inbound_subscribe(const std::string& contact, const std::string& user,
                         const std::string& xml) {
    bool existed = false;
    RosterItem c = get(contact, user, &existed);
    const bool visible = existed && shown_item(c);
    if (c.subscription == S::from || c.subscription == S::both) {
      inbound_subscribed(user, contact, presence_xml(contact, user, "subscribed"));
      return;
    }
    if (c.approved) {
      c.approved = false;
      c.subscription = c.subscription == S::to ? S::both : S::from;
      put(contact, c, visible);
      inbound_subscribed(user, contact, presence_xml(contact, user, "subscribed"));
      plan_.presence_from = contact;
      plan_.presence_to = user;
      return;
    }
    c.pending_in = true;
    c.pending_in_stanza = xml;
    put(contact, c, visible);
    plan_.sends.push_back({contact, xml});
  }

  // The user's side when the contact approved (RFC 6121 3.1.6).
  void inbound_subscribed(const std::string& user, const std::string& contact,
                          const std::string& xml) {
    bool existed = false;
    RosterItem u = get(user, contact, &existed);
    if (!existed || !u.ask) return;  // not asked: ignored
    u.ask = false;
    u.subscription = u.subscription == S::from ? S::both : S::to;
    put(user, u, shown_item(u));
    plan_.sends.push_back({user, xml});
  }

 private:
  Storage& storage_;
  SubscriptionPlan& plan_;
};

}  // namespace

bool shown_item(const RosterItem& item) {
  return !(hidden_item(item) && item.pending_in);
}

bool hidden_item(const RosterItem& item) {
  return item.subscription == S::none && !item.ask && !item.approved && item.name.empty() &&
         item.groups.empty();
}

Element roster_item_xml(const RosterItem& item) {
  Element e("item", "jabber:iq:roster");
  e.set_attr("jid", item.jid);
  if (!item.name.empty()) e.set_attr("name", item.name);
  e.set_attr("subscription", subscription_name(item.subscription));
  if (item.ask && item.subscription != S::remove) e.set_attr("ask", "subscribe");
  if (item.approved && item.subscription != S::remove) e.set_attr("approved", "true");
  if (item.subscription != S::remove)
    for (const auto& g : item.groups)
      e.add_child("group", "jabber:iq:roster").text = g;
  return e;
}

SubscriptionPlan plan_subscription(Storage& storage, const std::string& user,
                                   const std::string& contact, const std::string& type,
                                   bool contact_exists) {
  SubscriptionPlan plan;
  Planner p(storage, plan);
  const std::string xml = presence_xml(user, contact, type);
  bool existed = false;
  RosterItem u = p.get(user, contact, &existed);
  const bool visible = existed && shown_item(u);

  if (type == "subscribe") {
    if ((u.subscription == S::none || u.subscription == S::from) && !u.ask) {
      u.ask = true;
      p.put(user, u, visible);
    }
    if (!contact_exists) {  // RFC 6121 3.1.3: no such account, as if refused
      RosterItem again = p.get(user, contact, &existed);
      again.ask = false;
      p.put(user, again, true);
      plan.sends.push_back({user, presence_xml(contact, user, "unsubscribed")});
      return plan;
    }
    p.inbound_subscribe(contact, user, xml);
  } else if (type == "subscribed") {
    if (u.pending_in) {
      u.pending_in = false;
      u.pending_in_stanza.clear();
      u.subscription = u.subscription == S::to ? S::both : S::from;
      p.put(user, u, visible);
      if (contact_exists) p.inbound_subscribed(contact, user, xml);
      plan.presence_from = user;
      plan.presence_to = contact;
    } else if ((u.subscription == S::none || u.subscription == S::to) && !u.approved) {
      u.approved = true;  // pre-approval (RFC 6121 3.4)
      p.put(user, u, visible);
    }
  } else if (type == "unsubscribe") {
    if (u.subscription == S::to || u.subscription == S::both || u.ask) {
      u.subscription = u.subscription == S::both ? S::from
                       : u.subscription == S::to ? S::none
                                                 : u.subscription;
      u.ask = false;
      p.put(user, u, visible);
    }
    if (!contact_exists) return plan;
    RosterItem c = p.get(contact, user, &existed);
    const bool c_visible = existed && shown_item(c);
    if (existed) {
      c.subscription = c.subscription == S::both   ? S::to
                       : c.subscription == S::from ? S::none
                                                   : c.subscription;
      c.pending_in = false;
      c.pending_in_stanza.clear();
      p.put(contact, c, c_visible);
      plan.sends.push_back({contact, xml});
      plan.presence_from = contact;
      plan.presence_to = user;
      plan.presence_unavailable = true;
    }
  } else if (type == "unsubscribed") {
    if (existed) {
      u.subscription = u.subscription == S::both   ? S::to
                       : u.subscription == S::from ? S::none
                                                   : u.subscription;
      u.pending_in = false;
      u.pending_in_stanza.clear();
      u.approved = false;
      p.put(user, u, visible);
    }
    if (!contact_exists) return plan;
    RosterItem c = p.get(contact, user, &existed);
    if (existed) {
      const bool c_visible = shown_item(c);
      c.subscription = c.subscription == S::both ? S::from
                       : c.subscription == S::to ? S::none
                                                 : c.subscription;
      c.ask = false;
      p.put(contact, c, c_visible);
      plan.sends.push_back({contact, xml});
    }
    plan.presence_from = user;
    plan.presence_to = contact;
    plan.presence_unavailable = true;
  }
  return plan;
}

}  // namespace portico::xmpp
