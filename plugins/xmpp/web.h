// xmpp — the web chat URL listeners (`web_chat_listeners`): XMPP
// over WebSocket (RFC 7395, subprotocol "xmpp") at each URL's path, the web chat page (web/) at
// its root, and XEP-0156's discovery documents, served by the core's WebSocket listeners (SDK
// 1.9, portico/web.h).
#pragma once

#include <string>
#include <vector>

#include "portico/web.h"
#include "settings.h"

namespace portico::xmpp {

// The listeners of `settings.web_chat_listeners`; URLs that do not parse are left out (check()
// reports them first).
std::vector<sdk::WebSocketListener> web_chat_listeners(const XmppSettings& settings);
// One error per URL that does not parse, or that repeats another's address and port.
std::vector<std::string> check_web_chat_listeners(const XmppSettings& settings);

}  // namespace portico::xmpp
