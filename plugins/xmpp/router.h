// xmpp — the router: which resources of which account are connected to this process, and how to
// hand a stanza to one of them (RFC 6120 section 7 resource binding, RFC 6121 section 8 routing).
//
// One Router per plugin, shared by every session. Each bound resource is a Route: the session's
// SessionHandle (thread-safe, safe after the connection ends), its priority and presence, and
// what it asked for (roster pushes, carbons). A stanza is handed over as serialized XML, posted
// onto the target session's executor; a post to a connection that has ended is dropped and
// reported. Thread-safe: every call takes the router's mutex for a short copy or update.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "portico/session.h"

namespace portico::xmpp {

class XmppSession;
struct Detached;

struct Route {
  std::string resource;
  std::shared_ptr<sdk::SessionHandle> handle;
  XmppSession* session = nullptr;  // only dereferenced on its own executor, through handle
  int priority = 0;
  bool available = false;   // has sent available presence (RFC 6121 4.2)
  bool interested = false;  // has asked for the roster (RFC 6121 2.1.6: gets roster pushes)
  bool carbons = false;     // XEP-0280 enabled
  std::shared_ptr<const std::string> presence;  // the last available presence, stamped
  // Set while the connection is gone and the session may be resumed (XEP-0198): stanzas for
  // this resource wait there (handle and session are null meanwhile).
  std::shared_ptr<Detached> detached;
};

// A resource whose connection dropped with stream management's resumption on (XEP-0198): what
// the client has not acknowledged, what arrived since, and the route it had, until the client
// resumes or the resumption timeout passes. Guarded by `mu`.
struct Detached {
  std::mutex mu;
  std::string bare;
  std::string resource;
  std::string id;
  std::uint32_t h_in = 0;           // stanzas the server had handled from the client
  std::uint32_t sent = 0;           // stanzas the server had sent before the drop
  std::size_t sent_unacked = 0;     // how many of `pending` are among those `sent`
  std::deque<std::string> pending;  // unacknowledged ones first, then what arrived since
  bool taken = false;               // resumed or expired: no longer collects
  // Once resumed: where stanzas that raced the resumption go.
  std::shared_ptr<sdk::SessionHandle> successor;
  XmppSession* successor_session = nullptr;
  std::set<std::string> directed;  // directed presence targets, for the unavailable at expiry
  std::size_t offline_limit = 0;   // for its messages at expiry
  std::unique_ptr<sdk::Scheduled> expiry;
};

class Router {
 public:
  // Binds `route` under the bare JID. A resource of that name already bound is replaced and
  // returned (the caller ends that session with <conflict/>, RFC 6120 7.7.2.2).
  std::optional<Route> bind(const std::string& bare, Route route);
  // Removes the resource if it still belongs to `session`.
  void unbind(const std::string& bare, const std::string& resource, const XmppSession* session);
  // Copies of the routes of one account (empty when none is connected).
  std::vector<Route> routes(const std::string& bare) const;
  std::optional<Route> route(const std::string& bare, const std::string& resource) const;
  // Changes one route in place (false when it is gone or belongs to another session).
  bool update(const std::string& bare, const std::string& resource, const XmppSession* session,
              const std::function<void(Route&)>& change);
  std::size_t accounts() const;

  // Hands serialized XML to a route's session (XmppSession::deliver). False when its
  // connection has ended.
  static bool send(const Route& route, std::shared_ptr<const std::string> xml);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<Route>> routes_;
};

}  // namespace portico::xmpp
