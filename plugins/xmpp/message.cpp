// xmpp — messages (RFC 6121 section 5, routing rules of section 8.5): to a full JID, to a bare
// JID (the available resources of highest non-negative priority, or offline storage, XEP-0160),
// message carbons (XEP-0280), stanza ids (XEP-0359) and the archive (XEP-0313), blocking
// (XEP-0191). No federation: a domain this server does not serve gets
// <remote-server-not-found/>.
#include <algorithm>

#include "portico/directory.h"
#include "session.h"

namespace portico::xmpp {

namespace {

bool known_type(const std::string& t) {
  return t == "chat" || t == "normal" || t == "headline" || t == "groupchat" || t == "error";
}

Element forwarded(const Element& m, std::string_view wrapper, const std::string& from,
                  const std::string& to) {
  Element copy("message", std::string(kClientNs));
  copy.set_attr("from", from);
  copy.set_attr("to", to);
  copy.set_attr("type", m.attr_or("type", "normal"));
  Element& w = copy.add_child(std::string(wrapper), std::string(kCarbonsNs));
  Element& f = w.add_child("forwarded", std::string(kForwardNs));
  Element inner = m;
  std::erase_if(inner.children,
                [](const Element& c) { return c.ns == kCarbonsNs && c.name == "private"; });
  f.children.push_back(std::move(inner));
  return copy;
}

bool wants_carbons(const Element& m) {
  if (m.attr_or("type", "normal") != "chat") return false;
  for (const auto& c : m.children) {
    if (c.ns == kCarbonsNs && c.name == "private") return false;
    if (c.ns == kHintsNs && c.name == "no-copy") return false;
  }
  return true;
}

void add_stanza_id(Element& m, const std::string& by, const std::string& id) {
  Element& sid = m.add_child("stanza-id", std::string(kStanzaIdNs));
  sid.set_attr("by", by);
  sid.set_attr("id", id);
}

bool archivable(const Element& m) {
  const std::string type = m.attr_or("type", "normal");
  return (type == "chat" || type == "normal") && m.child("body", kClientNs) != nullptr;
}

}  // namespace

void XmppSession::message(Element& m) {
  std::string type = m.attr_or("type", "normal");
  if (!known_type(type)) type = "normal";  // RFC 6121 5.2.2
  const std::string* to = m.attr("to");
  Jid target;
  if (to == nullptr) {
    target = jid_;
    target.resource.clear();  // RFC 6120 10.3.1: to the sender's own bare JID
    m.set_attr("to", target.bare());
  } else {
    target = *parse_jid(*to);
  }
  if (target.local.empty()) {
    if (type != "error") bad_stanza(m, ErrorType::cancel, "service-unavailable");
    return;
  }
  if (shared_->blocks(bare(), target)) {
    if (type == "error") return;
    Element reply = stanza_error(m, domain_, ErrorType::cancel, "not-acceptable");
    reply.children.back().add_child("blocked", std::string(kBlockingErrorsNs));
    return write(reply);
  }
  if (target.domain != domain_) {
    auto local = std::make_shared<bool>(false);
    sdk::Directory* directory = shared_->host.directory();
    auto held = std::make_shared<Element>(std::move(m));
    return in_order(
        [directory, domain = target.domain, local] {
          *local = directory != nullptr && directory->is_local_domain(domain);
        },
        [this, held, target, type, local] {
          if (!*local)
            return bad_stanza(*held, ErrorType::cancel, "remote-server-not-found",
                              "this server does not federate with other domains");
          route_message(*held, target, type);
        });
  }
  route_message(m, target, type);
}

void XmppSession::route_message(Element& m, const Jid& to, const std::string& type) {
  const std::string target_bare = to.bare();
  if (shared_->blocks(target_bare, jid_)) {
    if (type != "error") bad_stanza(m, ErrorType::cancel, "service-unavailable");
    return;
  }
  std::vector<Route> routes = shared_->router.routes(target_bare);
  std::vector<const Route*> chosen;
  if (!to.is_bare()) {
    for (const auto& r : routes)
      if (r.resource == to.resource) chosen.push_back(&r);
    if (chosen.empty()) {
      // RFC 6121 8.5.3.2.1: no such resource
      if (type == "groupchat") return bad_stanza(m, ErrorType::cancel, "service-unavailable");
      if (type == "error") return;
    }
  }
  if (chosen.empty()) {
    int best = -1;
    for (const auto& r : routes)
      if (r.available && r.priority >= 0) best = std::max(best, r.priority);
    for (const auto& r : routes) {
      if (!r.available || r.priority < 0) continue;
      if (type == "headline" || r.priority == best) chosen.push_back(&r);
    }
    if (type == "groupchat") return bad_stanza(m, ErrorType::cancel, "service-unavailable");
    if (type == "error" && chosen.empty()) return;
  }

  const bool archive_it = shared_->archive != nullptr && archivable(m);
  std::string recipient_id;
  if (archive_it) {
    // A stanza id of the recipient's archive (XEP-0359); one the client sent is not trusted.
    std::erase_if(m.children,
                  [&](const Element& c) { return c.ns == kStanzaIdNs && c.name == "stanza-id"; });
    recipient_id = archive_id(now_ms());
  }

  if (!chosen.empty()) {
    if (archive_it) add_stanza_id(m, target_bare, recipient_id);
    auto xml = std::make_shared<const std::string>(to_xml(m));
    std::set<std::string> got;
    for (const Route* r : chosen) {
      Router::send(*r, xml);
      got.insert(r->resource);
    }
    if (wants_carbons(m)) carbon_copies(m, target_bare, "received", got);
    return accepted(m, target_bare, archive_it, recipient_id);
  }

  // Nobody available: offline storage for chat and normal (RFC 6121 8.5.2.2.1), after
  // checking that the account exists.
  if (type != "chat" && type != "normal") return;  // headline: silently dropped
  Storage* store = storage();
  sdk::Directory* directory = shared_->host.directory();
  auto held = std::make_shared<Element>(std::move(m));
  Element& delay = held->add_child("delay", std::string(kDelayNs));
  delay.set_attr("from", domain_);
  delay.set_attr("stamp", xmpp_time(now_ms()));
  if (archive_it) add_stanza_id(*held, target_bare, recipient_id);
  enum class Outcome { stored, full, no_account, blocked, failed };
  auto outcome = std::make_shared<Outcome>(Outcome::failed);
  const std::size_t limit = settings_.offline_message_limit;
  in_order(
      [store, directory, target_bare, sender = jid_, xml = to_xml(*held), limit, outcome] {
        auto account = directory != nullptr ? directory->find_account(target_bare) : std::nullopt;
        if (!account || !account->enabled) {
          *outcome = Outcome::no_account;
          return;
        }
        if (store == nullptr || limit == 0) {
          *outcome = Outcome::full;
          return;
        }
        try {
          // The recipient has no session, so its block list may not be in memory (XEP-0191).
          if (store->is_blocked(target_bare, sender.full()) ||
              store->is_blocked(target_bare, sender.bare()) ||
              store->is_blocked(target_bare, sender.domain)) {
            *outcome = Outcome::blocked;
            return;
          }
          *outcome = store->push_offline(target_bare, xml, limit) ? Outcome::stored : Outcome::full;
        } catch (const std::exception&) {
          *outcome = Outcome::failed;
        }
      },
      [this, held, outcome, target_bare, archive_it, recipient_id] {
        std::erase_if(held->children, [](const Element& c) {
          return (c.ns == kDelayNs && c.name == "delay") ||
                 (c.ns == kStanzaIdNs && c.name == "stanza-id");
        });
        switch (*outcome) {
          case Outcome::stored:
            return accepted(*held, target_bare, archive_it, recipient_id);
          case Outcome::no_account:
          case Outcome::blocked:
            return bad_stanza(*held, ErrorType::cancel, "service-unavailable");
          case Outcome::full:
            return bad_stanza(*held, ErrorType::cancel, "service-unavailable",
                              "the recipient's offline storage is full");
          case Outcome::failed:
            return bad_stanza(*held, ErrorType::wait, "internal-server-error");
        }
      });
}

void XmppSession::accepted(const Element& m, const std::string& target_bare, bool archive_it,
                           const std::string& recipient_id) {
  if (archive_it) {
    archive(m, target_bare, bare(), recipient_id);
    archive(m, bare(), target_bare, archive_id(now_ms()));
  }
  if (wants_carbons(m)) carbon_copies(m, bare(), "sent", {jid_.resource});
}

void XmppSession::carbon_copies(const Element& m, const std::string& account,
                                std::string_view direction, const std::set<std::string>& skip) {
  for (const auto& r : shared_->router.routes(account)) {
    if (!r.carbons || skip.count(r.resource) != 0) continue;
    Router::send(r, std::make_shared<const std::string>(
                        to_xml(forwarded(m, direction, account, account + "/" + r.resource))));
  }
}

void XmppSession::archive(const Element& m, const std::string& owner, const std::string& with,
                          const std::string& id) {
  if (!shared_->archive) return;
  ArchiveEntry e;
  e.account = owner;
  e.with = with;
  e.time_ms = now_ms();
  Element copy = m;
  std::erase_if(copy.children,
                [](const Element& c) { return c.ns == kStanzaIdNs && c.name == "stanza-id"; });
  e.stanza = to_xml(copy, "");  // with its xmlns: it is read back inside <forwarded/>
  e.stanza_id = id;
  shared_->archive->add(std::move(e));
  if (shared_->archive->backlog() >= ArchiveWriter::kBacklog && !archive_waiting_) {
    // The writer is behind: this session reads on once it has caught up.
    archive_waiting_ = true;
    ++busy_;
    ctx_.pause_input();
    shared_->archive->when_drained([handle = ctx_.handle(), this] {
      handle->post([this] {
        archive_waiting_ = false;
        work_done();
      });
    });
  }
}

void XmppSession::deliver_offline() {
  Storage* store = storage();
  if (store == nullptr) return;
  auto messages = std::make_shared<std::vector<std::pair<std::int64_t, std::string>>>();
  in_order(
      [store, account = bare(), messages] {
        try {
          *messages = store->take_offline(account);
        } catch (const std::exception&) {
        }
      },
      [this, messages] {
        for (auto& [time, xml] : *messages) {
          (void)time;
          emit(xml);
        }
      });
}

}  // namespace portico::xmpp
