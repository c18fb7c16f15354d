// xmpp — rosters and presence subscriptions (RFC 6121 sections 2 and 3) as storage changes:
// what a subscription stanza from a local user to a local contact does to both rosters, and
// the roster items as XML. Runs on the worker pool; the session sends what the plan says.
#pragma once

#include <string>
#include <vector>

#include "storage.h"
#include "xml.h"

namespace portico::xmpp {

// An item with nothing of its own: no subscription, no request out, no pre-approval, no name,
// no group.
bool hidden_item(const RosterItem& item);
// Whether an item is part of the roster clients see: not one kept only for a pending inbound
// request (RFC 6121 3.1.3: the request is not a roster item). A contact the user added with no
// name and no group is not shown while a request from it waits.
bool shown_item(const RosterItem& item);
// <item jid='' name='' subscription='' ask='subscribe' approved='true'><group/></item>
Element roster_item_xml(const RosterItem& item);

struct SubscriptionPlan {
  struct Push {
    std::string account;
    RosterItem item;
    std::string version;
  };
  struct Send {
    std::string to_bare;  // delivered to that account's available resources
    std::string xml;
  };
  std::vector<Push> pushes;
  std::vector<Send> sends;
  // After an approval: the approver's available resources send their presence to the other
  // account's available resources (RFC 6121 3.1.5); after a cancellation, unavailable presence.
  std::string presence_from;  // bare JID whose resources send presence
  std::string presence_to;    // bare JID whose resources receive it
  bool presence_unavailable = false;
};

// `type` is subscribe, subscribed, unsubscribe or unsubscribed, sent by `user` to `contact`
// (bare JIDs, both local; `contact_exists` false when the contact's account does not exist).
// Throws what the storage throws.
SubscriptionPlan plan_subscription(Storage& storage, const std::string& user,
                                   const std::string& contact, const std::string& type,
                                   bool contact_exists);

}  // namespace portico::xmpp
