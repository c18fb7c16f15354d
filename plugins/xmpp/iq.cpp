// xmpp — IQs (RFC 6120 section 8.2.3): those the server answers for itself or on behalf of an
// account (roster, RFC 6121 section 2; service discovery, XEP-0030; ping, XEP-0199; software
// version, XEP-0092; vCard, XEP-0054, from the directory's display name; carbons, XEP-0280;
// blocking, XEP-0191; the message archive, XEP-0313 with result set management, XEP-0059), and
// those routed to another connected resource. Anything else gets <service-unavailable/>.
#include <algorithm>

#include "portico/directory.h"
#include "roster.h"
#include "session.h"

namespace portico::xmpp {

namespace {

constexpr std::string_view kServerFeatures[] = {
    kDiscoInfoNs, kDiscoItemsNs, kPingNs,     kVersionNs,   kVcardNs, kCarbonsNs,
    kBlockingNs,  kRosterNs,     kStanzaIdNs, "msgoffline", kCsiNs,
};

const Element* only_child(const Element& iq) {
  return iq.children.size() == 1 ? &iq.children.front() : nullptr;
}

std::string field_value(const Element& form, std::string_view var) {
  for (const auto& f : form.children) {
    if (f.name != "field" || f.attr_or("var") != var) continue;
    if (const Element* v = f.child("value", kDataNs)) return v->all_text();
  }
  return {};
}

}  // namespace

void XmppSession::iq_result(const Element& iq, std::optional<Element> payload) {
  Element r("iq", std::string(kClientNs));
  r.set_attr("type", "result");
  if (const auto* id = iq.attr("id")) r.set_attr("id", *id);
  if (const auto* to = iq.attr("to"); to != nullptr && state_ == State::active)
    r.set_attr("from", *to);
  if (state_ == State::active) r.set_attr("to", full());
  if (payload) r.children.push_back(std::move(*payload));
  write(r);
}

void XmppSession::iq(Element& iq) {
  const std::string type = iq.attr_or("type");
  if (type != "get" && type != "set" && type != "result" && type != "error")
    return bad_stanza(iq, ErrorType::modify, "bad-request");
  if (iq.attr("id") == nullptr) return bad_stanza(iq, ErrorType::modify, "bad-request");
  const bool request = type == "get" || type == "set";
  if (request && only_child(iq) == nullptr) return bad_stanza(iq, ErrorType::modify, "bad-request");
  const std::string* to = iq.attr("to");
  if (to == nullptr || *to == domain_ || *to == bare()) {
    if (!request) return;  // an answer to the server (its pings)
    return iq_to_server(iq, type);
  }
  Jid target = *parse_jid(*to);
  if (target.domain != domain_) {
    if (request)
      bad_stanza(iq, ErrorType::cancel, "remote-server-not-found",
                 "this server does not federate with other domains");
    return;
  }
  if (target.is_bare()) {
    // Answered by the server on behalf of the account (RFC 6121 8.5.1, 8.5.2.1.3).
    if (!request) return;
    const Element& q = iq.children.front();
    if (type == "get" && q.name == "vCard" && q.ns == kVcardNs)
      return iq_vcard(iq, type, target.bare());
    if (type == "get" && q.name == "query" && q.ns == kDiscoInfoNs)
      return iq_disco_info(iq, type, true);
    return bad_stanza(iq, ErrorType::cancel, "service-unavailable");
  }
  if (shared_->blocks(target.bare(), jid_) || shared_->blocks(bare(), target)) {
    if (request) bad_stanza(iq, ErrorType::cancel, "service-unavailable");
    return;
  }
  if (auto route = shared_->router.route(target.bare(), target.resource)) {
    Router::send(*route, std::make_shared<const std::string>(to_xml(iq)));
    return;
  }
  if (request) bad_stanza(iq, ErrorType::cancel, "service-unavailable");
}

void XmppSession::iq_to_server(Element& iq, const std::string& type) {
  const Element& q = iq.children.front();
  const bool to_server = iq.attr_or("to") == domain_;
  if (q.ns == kPingNs && q.name == "ping" && type == "get") return iq_result(iq);
  if (q.ns == kSessionNs && q.name == "session" && type == "set") return iq_result(iq);
  if (q.ns == kDiscoInfoNs && q.name == "query" && type == "get")
    return iq_disco_info(iq, type, !to_server);
  if (q.ns == kDiscoItemsNs && q.name == "query" && type == "get")
    return iq_result(iq, Element("query", std::string(kDiscoItemsNs)));
  if (q.ns == kVersionNs && q.name == "query" && type == "get" && to_server) {
    Element v("query", std::string(kVersionNs));
    v.add_child("name", std::string(kVersionNs)).text = "Portico";
    v.add_child("version", std::string(kVersionNs)).text = shared_->version;
    return iq_result(iq, std::move(v));
  }
  if (q.ns == kVcardNs && q.name == "vCard") return iq_vcard(iq, type, bare());
  if (to_server) return bad_stanza(iq, ErrorType::cancel, "service-unavailable");
  if (q.ns == kRosterNs && q.name == "query") return iq_roster(iq, type);
  if (q.ns == kCarbonsNs && type == "set" && (q.name == "enable" || q.name == "disable")) {
    const bool on = q.name == "enable";
    shared_->router.update(bare(), jid_.resource, this, [on](Route& r) { r.carbons = on; });
    return iq_result(iq);
  }
  if (q.ns == kBlockingNs) return iq_blocking(iq, type);
  if (q.ns == kMamNs && q.name == "query") return iq_mam(iq, type);
  bad_stanza(iq, ErrorType::cancel, "service-unavailable");
}

void XmppSession::iq_disco_info(Element& iq, const std::string& /*type*/, bool account) {
  const Element& q = iq.children.front();
  Element r("query", std::string(kDiscoInfoNs));
  if (const auto* node = q.attr("node")) r.set_attr("node", *node);
  Element& identity = r.add_child("identity", std::string(kDiscoInfoNs));
  if (account) {
    identity.set_attr("category", "account");
    identity.set_attr("type", "registered");
    if (shared_->archive) r.add_child("feature", std::string(kDiscoInfoNs)).set_attr("var", kMamNs);
  } else {
    identity.set_attr("category", "server");
    identity.set_attr("type", "im");
    identity.set_attr("name", "Portico");
    for (auto f : kServerFeatures)
      r.add_child("feature", std::string(kDiscoInfoNs)).set_attr("var", f);
  }
  iq_result(iq, std::move(r));
}

void XmppSession::iq_vcard(Element& iq, const std::string& type, const std::string& of) {
  if (type == "set") {
    return bad_stanza(iq, ErrorType::cancel, "not-allowed",
                      "the name in the vCard comes from the account directory");
  }
  sdk::Directory* directory = shared_->host.directory();
  auto account = std::make_shared<std::optional<sdk::Account>>();
  auto held = std::make_shared<Element>(iq);
  in_order(
      [directory, of, account] {
        if (directory != nullptr) *account = directory->find_account(of);
      },
      [this, held, account, of] {
        if (!*account) return bad_stanza(*held, ErrorType::cancel, "service-unavailable");
        Element v("vCard", std::string(kVcardNs));
        if (!(*account)->display_name.empty())
          v.add_child("FN", std::string(kVcardNs)).text = (*account)->display_name;
        v.add_child("JABBERID", std::string(kVcardNs)).text = of;
        iq_result(*held, std::move(v));
      });
}

void XmppSession::iq_roster(Element& iq, const std::string& type) {
  Storage* store = storage();
  if (store == nullptr) return bad_stanza(iq, ErrorType::wait, "internal-server-error");
  const Element& q = iq.children.front();
  auto held = std::make_shared<Element>(iq);
  if (type == "get") {
    interested_ = true;
    shared_->router.update(bare(), jid_.resource, this, [](Route& r) { r.interested = true; });
    const std::string* ver = q.attr("ver");
    struct Answer {
      std::vector<RosterItem> items;
      std::optional<std::vector<RosterItem>> changes;
      std::string version;
      bool failed = false;
    };
    auto answer = std::make_shared<Answer>();
    return in_order(
        [store, account = bare(), answer,
         ver = ver ? std::optional<std::string>(*ver) : std::nullopt] {
          try {
            if (ver && !ver->empty())
              answer->changes = store->roster_changes_since(account, *ver, &answer->version);
            if (!answer->changes) answer->items = store->roster(account, &answer->version);
          } catch (const std::exception&) {
            answer->failed = true;
          }
        },
        [this, held, answer, versioned = ver != nullptr] {
          if (answer->failed) return bad_stanza(*held, ErrorType::wait, "internal-server-error");
          if (answer->changes) {
            // RFC 6121 2.6.3: an empty result, then the changes as pushes.
            iq_result(*held);
            for (const auto& item : *answer->changes)
              if (shown_item(item) || item.subscription == Subscription::remove)
                roster_push(bare(), item, answer->version);
            return;
          }
          Element r("query", std::string(kRosterNs));
          if (versioned) r.set_attr("ver", answer->version);
          for (const auto& item : answer->items)
            if (shown_item(item)) r.children.push_back(roster_item_xml(item));
          iq_result(*held, std::move(r));
        });
  }
  // A roster set (RFC 6121 2.3): exactly one item.
  if (q.children.size() != 1 || q.children.front().name != "item")
    return bad_stanza(iq, ErrorType::modify, "bad-request");
  const Element& item = q.children.front();
  auto jid = parse_jid(item.attr_or("jid"));
  if (!jid || !jid->is_bare()) return bad_stanza(iq, ErrorType::modify, "bad-request");
  if (jid->bare() == bare()) return bad_stanza(iq, ErrorType::cancel, "not-allowed");
  const bool remove = item.attr_or("subscription") == "remove";
  RosterItem wanted;
  wanted.jid = jid->bare();
  wanted.name = item.attr_or("name");
  for (const auto& g : item.children) {
    if (g.name != "group") continue;
    std::string name = g.all_text();
    if (name.empty()) return bad_stanza(iq, ErrorType::modify, "not-acceptable");
    if (std::find(wanted.groups.begin(), wanted.groups.end(), name) == wanted.groups.end())
      wanted.groups.push_back(std::move(name));
  }
  if (wanted.name.size() > 1024 || wanted.groups.size() > 64)
    return bad_stanza(iq, ErrorType::modify, "not-acceptable");
  struct Outcome {
    std::optional<RosterItem> pushed;
    std::string version;
    std::vector<std::string> presence_types;  // unsubscribe / unsubscribed to send
    bool too_many = false;
    bool not_found = false;
    bool failed = false;
  };
  auto out = std::make_shared<Outcome>();
  const std::size_t limit = settings_.max_roster_items;
  in_order(
      [store, account = bare(), wanted, remove, limit, out] {
        try {
          auto existing = store->roster_item(account, wanted.jid);
          if (remove) {
            if (!existing) {
              out->not_found = true;
              return;
            }
            auto s = existing->subscription;
            if (s == Subscription::to || s == Subscription::both || existing->ask)
              out->presence_types.push_back("unsubscribe");
            if (s == Subscription::from || s == Subscription::both || existing->pending_in)
              out->presence_types.push_back("unsubscribed");
            out->version = store->remove_roster_item(account, wanted.jid);
            RosterItem gone = *existing;
            gone.subscription = Subscription::remove;
            out->pushed = gone;
            return;
          }
          RosterItem next = existing ? *existing : RosterItem{};
          if (!existing && store->roster_size(account) >= limit) {
            out->too_many = true;
            return;
          }
          next.jid = wanted.jid;
          next.name = wanted.name;
          next.groups = wanted.groups;
          out->version = store->put_roster_item(account, next);
          out->pushed = next;
        } catch (const std::exception&) {
          out->failed = true;
        }
      },
      [this, held, out, contact = wanted.jid] {
        if (out->failed) return bad_stanza(*held, ErrorType::wait, "internal-server-error");
        if (out->not_found) return bad_stanza(*held, ErrorType::cancel, "item-not-found");
        if (out->too_many)
          return bad_stanza(*held, ErrorType::cancel, "not-allowed", "the roster is full");
        iq_result(*held);
        roster_push(bare(), *out->pushed, out->version);
        // Removing a contact cancels the subscriptions both ways (RFC 6121 2.5.2).
        for (const auto& t : out->presence_types) {
          Element p("presence", std::string(kClientNs));
          p.set_attr("from", full());
          p.set_attr("to", contact);
          p.set_attr("type", t);
          auto contact_jid = parse_jid(contact);
          if (contact_jid) subscription(p, t, *contact_jid);
        }
      });
}

void XmppSession::iq_blocking(Element& iq, const std::string& type) {
  Storage* store = storage();
  if (store == nullptr) return bad_stanza(iq, ErrorType::wait, "internal-server-error");
  const Element& q = iq.children.front();
  std::vector<std::string> jids;
  for (const auto& i : q.children) {
    if (i.name != "item") continue;
    auto jid = parse_jid(i.attr_or("jid"));
    if (!jid) return bad_stanza(iq, ErrorType::modify, "jid-malformed");
    jids.push_back(jid->full());
  }
  const bool get = type == "get" && q.name == "blocklist";
  const bool block = type == "set" && q.name == "block";
  const bool unblock = type == "set" && q.name == "unblock";
  if (!get && !block && !unblock) return bad_stanza(iq, ErrorType::modify, "bad-request");
  if (block && jids.empty()) return bad_stanza(iq, ErrorType::modify, "bad-request");
  auto list = std::make_shared<std::vector<std::string>>();
  auto failed = std::make_shared<bool>(false);
  auto held = std::make_shared<Element>(iq);
  in_order(
      [store, account = bare(), jids, block, unblock, list, failed] {
        try {
          if (block) store->block(account, jids);
          if (unblock) store->unblock(account, jids);
          *list = store->blocklist(account);
        } catch (const std::exception&) {
          *failed = true;
        }
      },
      [this, held, list, failed, get, jids, name = q.name] {
        if (*failed) return bad_stanza(*held, ErrorType::wait, "internal-server-error");
        shared_->blocklists.set(bare(), std::set<std::string>(list->begin(), list->end()));
        if (get) {
          Element r("blocklist", std::string(kBlockingNs));
          for (const auto& j : *list)
            r.add_child("item", std::string(kBlockingNs)).set_attr("jid", j);
          return iq_result(*held, std::move(r));
        }
        iq_result(*held);
        // Pushed to every resource that asked for the list (XEP-0191 3.3): all of them here.
        for (const auto& r : shared_->router.routes(bare())) {
          Element push("iq", std::string(kClientNs));
          push.set_attr("type", "set");
          push.set_attr("id", "push-" + random_id());
          push.set_attr("to", bare() + "/" + r.resource);
          Element& w = push.add_child(name, std::string(kBlockingNs));
          for (const auto& j : jids)
            w.add_child("item", std::string(kBlockingNs)).set_attr("jid", j);
          Router::send(r, std::make_shared<const std::string>(to_xml(push)));
        }
      });
}

void XmppSession::iq_mam(Element& iq, const std::string& type) {
  const Element& q = iq.children.front();
  if (!shared_->archive || storage() == nullptr)
    return bad_stanza(iq, ErrorType::cancel, "service-unavailable");
  if (type == "get") {  // the search form (XEP-0313 section 4.1.1)
    Element r("query", std::string(kMamNs));
    Element& x = r.add_child("x", std::string(kDataNs));
    x.set_attr("type", "form");
    Element& ft = x.add_child("field", std::string(kDataNs));
    ft.set_attr("type", "hidden");
    ft.set_attr("var", "FORM_TYPE");
    ft.add_child("value", std::string(kDataNs)).text = std::string(kMamNs);
    for (const char* var : {"with", "start", "end"}) {
      Element& f = x.add_child("field", std::string(kDataNs));
      f.set_attr("type", var == std::string_view("with") ? "jid-single" : "text-single");
      f.set_attr("var", var);
    }
    return iq_result(iq, std::move(r));
  }
  ArchiveQuery query;
  if (const Element* x = q.child("x", kDataNs)) {
    std::string with = field_value(*x, "with");
    if (!with.empty()) {
      auto jid = parse_jid(with);
      if (!jid) return bad_stanza(iq, ErrorType::modify, "jid-malformed");
      query.with = jid->bare();
    }
    for (const char* var : {"start", "end"}) {
      std::string t = field_value(*x, var);
      if (t.empty()) continue;
      std::int64_t ms = parse_xmpp_time(t);
      if (ms < 0) return bad_stanza(iq, ErrorType::modify, "bad-request", "bad time");
      (var == std::string_view("start") ? query.start_ms : query.end_ms) = ms;
    }
  }
  if (const Element* set = q.child("set", kRsmNs)) {
    if (const Element* max = set->child("max", kRsmNs)) {
      std::string t = max->all_text();
      query.max = static_cast<std::size_t>(std::clamp(std::atol(t.c_str()), 0L, 250L));
    }
    if (const Element* after = set->child("after", kRsmNs)) query.after_id = after->all_text();
    if (const Element* before = set->child("before", kRsmNs)) query.before_id = before->all_text();
  }
  auto page = std::make_shared<ArchivePage>();
  auto failed = std::make_shared<bool>(false);
  auto held = std::make_shared<Element>(iq);
  in_order(
      [shared = shared_, account = bare(), query, page, failed] {
        try {
          shared->archive->flush();
          *page = shared->storage->query_archive(account, query);
        } catch (const std::exception&) {
          *failed = true;
        }
      },
      [this, held, page, failed, queryid = q.attr_or("queryid")] {
        if (*failed) return bad_stanza(*held, ErrorType::wait, "internal-server-error");
        if (page->item_not_found) return bad_stanza(*held, ErrorType::cancel, "item-not-found");
        for (const auto& item : page->items) {
          std::string m = "<message from='" + escape_attr(bare()) + "' to='" + escape_attr(full()) +
                          "'><result xmlns='urn:xmpp:mam:2'";
          if (!queryid.empty()) m += " queryid='" + escape_attr(queryid) + "'";
          m += " id='" + escape_attr(item.stanza_id) +
               "'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='" +
               xmpp_time(item.time_ms) + "'/>" + item.stanza + "</forwarded></result></message>";
          emit(m);
        }
        Element fin("fin", std::string(kMamNs));
        if (page->complete) fin.set_attr("complete", "true");
        Element& set = fin.add_child("set", std::string(kRsmNs));
        if (!page->items.empty()) {
          Element& first = set.add_child("first", std::string(kRsmNs));
          first.set_attr("index", "0");
          first.text = page->items.front().stanza_id;
          set.add_child("last", std::string(kRsmNs)).text = page->items.back().stanza_id;
        }
        set.add_child("count", std::string(kRsmNs)).text = std::to_string(page->count);
        iq_result(*held, std::move(fin));
      });
}

}  // namespace portico::xmpp
