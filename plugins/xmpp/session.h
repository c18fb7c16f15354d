// xmpp — one client connection (RFC 6120): the stream and its restarts, STARTTLS (section 5),
// SASL through the core's exchange (section 6), resource binding (section 7), then stanzas:
// presence and subscriptions (RFC 6121 sections 3-4, presence.cpp), messages (section 5 and
// 8, message.cpp) and IQs (iq.cpp).
//
// Input arrives raw and is parsed as a stream (xml.h); every callback runs on the connection's
// executor. Other sessions reach this one only through the router's SessionHandle posts
// (deliver()). A stream error always follows a stream header (RFC 6120 4.9.1.2), then the
// stream is closed and the connection ends. Storage work runs on the worker pool with the
// session's input paused, so that stanzas are handled in the order they arrived.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jid.h"
#include "ns.h"
#include "portico/sasl.h"
#include "portico/session.h"
#include "settings.h"
#include "shared.h"
#include "xml.h"

namespace portico::xmpp {

class XmppSession final : public sdk::Session, private XmlStream::Handler {
 public:
  XmppSession(sdk::SessionContext& ctx, std::shared_ptr<Shared> shared, XmppSettings settings);
  ~XmppSession() override;

  void on_start() override;
  void on_line(std::string_view) override {}
  void on_line_too_long() override;
  void on_bytes(std::string_view bytes, bool last) override;
  void on_message(std::string_view message) override;
  void on_tls_started() override;
  void on_close() override;
  bool on_final_words(sdk::CloseReason reason) override;

  // A stanza from another session (or this plugin on its behalf), already addressed and
  // stamped: written to this client as it is.
  void deliver(const std::string& xml);
  // Another resource of this account took our resource name (RFC 6120 7.7.2.2).
  void displaced();

 private:
  enum class State {
    start,           // waiting for the stream header
    negotiating,     // features sent: STARTTLS or SASL
    authenticating,  // a SASL exchange runs
    bind,            // authenticated, the stream restarted: waiting for <bind/>
    active,          // a bound resource
    closed,
  };

  // XmlStream::Handler
  void on_stream_open(const Element& header, std::string_view content_ns) override;
  void on_stanza(Element stanza) override;
  void on_stream_close() override;

  // session.cpp: the stream
  // Writes one element (or the stream's header and end over TCP). Over WebSocket (RFC 7395) each
  // write is one message and must stand alone: a stream-namespace element gets its prefix
  // declared, a stanza its namespace.
  void send(std::string_view xml);
  // A new stream on this connection (RFC 6120 4.3.3): the parser starts over.
  void restart_parser();
  // The client's stream header, or RFC 7395's <open/>.
  void open_stream(const Element& header, std::string_view content_ns);
  // Counts bad input (the core's max_bad_commands); over WebSocket the session itself sends the
  // stream error at the limit, as one message.
  void count_bad();
  void send_header();
  void send_features();
  void stream_error(std::string_view condition, std::string_view text = {});
  // Writes the last words and the stream's end tag; nothing is parsed or handled afterwards;
  // the connection closes once they are sent (unless the core is closing it already).
  void end_stream(const std::string& last_words, bool close = true);
  sdk::SaslPolicy sasl_policy() const;
  void write(const Element& e) { emit(to_xml(e)); }
  void handle(Element& e);
  void negotiate(Element& e);
  void start_tls();
  void start_sasl(const Element& auth);
  void on_sasl(const sdk::SaslEvent& e);
  void sasl_failure(std::string_view condition, std::string_view text = {});
  void do_bind(Element& iq);
  void finish_bind(std::string resource, const Element& iq);
  void stanza(Element& e);
  void bad_stanza(const Element& e, ErrorType type, std::string_view condition,
                  std::string_view text = {});
  void schedule_ping();
  // Runs work on the worker pool with input paused, then done here, then input resumes.
  void in_order(std::function<void()> work, std::function<void()> done);
  // One of the works that paused input is done: queued stanzas go on, input resumes.
  void work_done();

  // presence.cpp
  void presence(Element& p);
  void broadcast_presence(const Element& p, bool initial);
  void subscription(Element& p, std::string_view type, const Jid& to);
  void roster_push(const std::string& account, const RosterItem& item, const std::string& version);
  void unavailable_on_close();
  // Unavailable presence from `full_jid` to the account's other resources, the directed-presence
  // targets and the contacts subscribed to it; from any thread.
  static void announce_unavailable(const std::shared_ptr<Shared>& shared,
                                   const std::string& full_jid, const std::string& account,
                                   const std::set<std::string>& directed);

  // sm.cpp (XEP-0198)
  // A stanza to the client: written, and kept until acknowledged while stream management is on.
  void emit(const std::string& xml);
  // Handles <r/>, <a/>, <enable/>, <resume/>; false when `e` is not stream management's.
  bool sm_nonza(Element& e);
  void sm_resume(const Element& e);
  // At the connection's end: keeps the resource for resumption; false when it is not to be kept.
  bool detach();
  static void expire_detached(const std::shared_ptr<Shared>& shared,
                              const std::shared_ptr<Detached>& d);

  // message.cpp
  void message(Element& m);
  void route_message(Element& m, const Jid& to, const std::string& type);
  // Copies of `m` to the account's resources with carbons on, but those in `skip` (XEP-0280).
  void carbon_copies(const Element& m, const std::string& account, std::string_view direction,
                     const std::set<std::string>& skip);
  // What follows a message's acceptance, delivered or stored: both parties' archives and the
  // sender's carbon copies.
  void accepted(const Element& m, const std::string& target_bare, bool archive_it,
                const std::string& recipient_id);
  void archive(const Element& m, const std::string& owner, const std::string& with,
               const std::string& id);
  void deliver_offline();

  // iq.cpp
  void iq(Element& iq);
  void iq_to_server(Element& iq, const std::string& type);
  void iq_roster(Element& iq, const std::string& type);
  void iq_disco_info(Element& iq, const std::string& type, bool account);
  void iq_vcard(Element& iq, const std::string& type, const std::string& of);
  void iq_blocking(Element& iq, const std::string& type);
  void iq_mam(Element& iq, const std::string& type);
  void iq_result(const Element& iq, std::optional<Element> payload = std::nullopt);

  // Small helpers.
  // TLS is on, or this is a web chat connection the operator declared secure (a reverse proxy
  // in front terminates TLS: web_chat_considered_secure).
  bool secure() const { return ctx_.is_tls() || (ws_ && settings_.web_chat_considered_secure); }
  std::string full() const { return jid_.full(); }
  std::string bare() const { return jid_.bare(); }
  Storage* storage() const { return shared_->storage.get(); }

  sdk::SessionContext& ctx_;
  std::shared_ptr<Shared> shared_;
  XmppSettings settings_;
  XmlStream xml_;
  State state_ = State::start;
  bool header_sent_ = false;
  bool ws_ = false;          // a WebSocket connection (RFC 7395)
  bool ws_prelude_ = false;  // the parser needs its stream wrapper before the next message
  std::int64_t bad_ = 0;
  bool authenticated_ = false;
  std::string stream_id_;
  std::string domain_;  // the domain the client addressed (the stream's `to`)
  std::string lang_ = "en";
  std::unique_ptr<sdk::SaslExchange> sasl_;
  Jid jid_;             // the bound full JID
  bool bound_ = false;  // registered with the router
  bool available_ = false;
  bool interested_ = false;         // asked for the roster
  std::set<std::string> directed_;  // full JIDs sent directed presence while available
  std::uint64_t ping_timer_ = 0;
  bool heard_since_ping_ = true;
  struct Sm {
    bool enabled = false;
    bool resumable = false;
    std::string id;
    std::uint32_t h_in = 0;  // stanzas received from the client
    std::uint32_t sent = 0;  // stanzas sent to it
    std::uint32_t since_request = 0;
    std::list<std::string> unacked;  // the last of `sent`, not acknowledged yet
  } sm_;
  bool archive_waiting_ = false;  // input paused until the archive writer catches up
  bool clean_close_ = false;      // the client closed its stream: nothing to resume
  int busy_ = 0;                  // works of in_order() running: stanzas wait in queued_
  std::list<Element> queued_;     // bounded by what one read of input holds (a list: an idle
                                  // connection holds no allocation for it)
};

}  // namespace portico::xmpp
