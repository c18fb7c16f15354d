// xmpp — the router (see router.h).
#include "router.h"

#include "session.h"

namespace portico::xmpp {

std::optional<Route> Router::bind(const std::string& bare, Route route) {
  std::lock_guard lock(mu_);
  auto& list = routes_[bare];
  for (auto& r : list) {
    if (r.resource == route.resource) {
      Route old = std::move(r);
      r = std::move(route);
      return old;
    }
  }
  list.push_back(std::move(route));
  return std::nullopt;
}

void Router::unbind(const std::string& bare, const std::string& resource,
                    const XmppSession* session) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(bare);
  if (it == routes_.end()) return;
  auto& list = it->second;
  for (auto r = list.begin(); r != list.end(); ++r) {
    if (r->resource == resource && r->session == session) {
      list.erase(r);
      break;
    }
  }
  if (list.empty()) routes_.erase(it);
}

std::vector<Route> Router::routes(const std::string& bare) const {
  std::lock_guard lock(mu_);
  auto it = routes_.find(bare);
  return it == routes_.end() ? std::vector<Route>{} : it->second;
}

std::optional<Route> Router::route(const std::string& bare, const std::string& resource) const {
  std::lock_guard lock(mu_);
  auto it = routes_.find(bare);
  if (it == routes_.end()) return std::nullopt;
  for (const auto& r : it->second)
    if (r.resource == resource) return r;
  return std::nullopt;
}

bool Router::update(const std::string& bare, const std::string& resource,
                    const XmppSession* session, const std::function<void(Route&)>& change) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(bare);
  if (it == routes_.end()) return false;
  for (auto& r : it->second) {
    if (r.resource == resource && r.session == session) {
      change(r);
      return true;
    }
  }
  return false;
}

std::size_t Router::accounts() const {
  std::lock_guard lock(mu_);
  return routes_.size();
}

bool Router::send(const Route& route, std::shared_ptr<const std::string> xml) {
  if (!route.handle && route.detached) {
    Detached& d = *route.detached;
    std::lock_guard lock(d.mu);
    if (!d.taken) {
      d.pending.push_back(*xml);
      return true;
    }
    if (!d.successor) return false;
    XmppSession* next = d.successor_session;
    return d.successor->post([next, xml = std::move(xml)] { next->deliver(*xml); });
  }
  if (!route.handle) return false;
  XmppSession* session = route.session;
  return route.handle->post([session, xml = std::move(xml)] { session->deliver(*xml); });
}

}  // namespace portico::xmpp
