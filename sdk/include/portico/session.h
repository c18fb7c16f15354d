// Portico SDK — sessions: a protocol engine fed bytes by the core, answering through a context.
//
// The core owns the socket, TLS, timers and limits; a Session only parses and acts. The core
// splits input into lines (LF-terminated; the line handed over keeps its "\r\n" or "\n" so a
// protocol can refuse bare LF) up to a maximum length, or hands over an exact count of raw bytes
// after read_bytes(). All callbacks of one session run one at a time, never concurrently, on the
// session's executor. An exception escaping a callback closes that connection and is logged.
//
// Timers, as the seed's settings define them: the session timeout runs while the core waits for
// a new command (nothing buffered, not in a command); the command timeout runs while the data of
// a command stops arriving (a partial line, raw bytes owed, or the plugin said in_command). At
// either, the core sends the protocol's reply from ProtocolTraits and closes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "portico/host.h"
#include "portico/settings.h"

namespace portico::sdk {

// The pending output at which the core throttles a connection, unless its session sets another
// limit (SDK 1.10, SessionContext::set_output_limit).
inline constexpr std::size_t kDefaultOutputLimit = 256 * 1024;

// Why the core ends a connection on its own (SDK 1.3, Session::on_final_words).
enum class CloseReason {
  command_timeout,  // the data of a command stopped arriving
  session_timeout,  // idle too long between commands
  shutdown,         // the server is stopping
};

// A way for other sessions of this process to reach one session (SDK 1.3): XMPP routing a
// stanza to another client's connection, IMAP waking a session in IDLE. Thread-safe, and safe
// to keep after the connection is gone.
class SessionHandle {
 public:
  virtual ~SessionHandle() = default;
  // Runs fn on that session's executor, after whatever callback runs there now, as one of its
  // callbacks (fn may use its SessionContext and Session); false, and fn dropped, once the
  // connection has ended (fn is also dropped if it ends before fn's turn).
  virtual bool post(std::function<void()> fn) = 0;
  // ConnectionInfo::id of that connection.
  virtual std::uint64_t connection_id() const = 0;
};

class SessionContext {
 public:
  virtual const ConnectionInfo& connection() const = 0;
  // This protocol's settings as they were when the connection was accepted (reloads apply to
  // new connections).
  virtual const Settings& settings() const = 0;
  // The `banner` setting with its #Variables# expanded for this connection.
  virtual std::string banner() const = 0;

  // Queues bytes to send. Output is flushed in order; see output_pending().
  virtual void write(std::string_view bytes) = 0;
  // Bytes queued and not yet sent. Once this reaches the connection's output limit
  // (kDefaultOutputLimit, 256 KiB, unless set_output_limit() says otherwise), from any callback,
  // the core stops delivering input until everything is sent, then calls
  // Session::on_output_drained(): a session streaming a large reply writes a piece, and the
  // next piece from there.
  virtual std::size_t output_pending() const = 0;

  // Lines longer than this (terminator included) are discarded whole and reported through
  // Session::on_line_too_long(). Starts at ProtocolTraits::max_line_length.
  virtual void set_max_line_length(std::size_t bytes) = 0;
  // The next `count` bytes go to Session::on_bytes() (in one or more pieces), then line mode
  // resumes. The command timeout applies meanwhile.
  virtual void read_bytes(std::size_t count) = 0;
  // Marks a multi-line command in progress (SMTP DATA, an IMAP APPEND): the command timeout
  // applies instead of the session timeout.
  virtual void set_in_command(bool in_command) = 0;
  // Stops/restarts delivering input (buffered lines wait), for work that completes later.
  virtual void pause_input() = 0;
  virtual void resume_input() = 0;

  // Counts one unrecognized or improper command. At max_bad_commands the core sends
  // ProtocolTraits::too_many_bad_commands_reply and closes; returns true then.
  virtual bool bad_command() = 0;

  // True if this listener offers STARTTLS and TLS is not yet on.
  virtual bool starttls_available() const = 0;
  virtual bool is_tls() const = 0;
  // After pending output is sent, starts the TLS handshake. Input buffered before it is
  // discarded (RFC 3207 section 4.2). Calls Session::on_tls_started() when done, or closes the
  // connection if the handshake fails. Returns false, doing nothing, when not available.
  virtual bool start_tls() = 0;

  // Sends what is pending, then closes. No callbacks but on_close() follow.
  virtual void close() = 0;

  // Runs work on the worker pool, then done on this session's executor (skipped if the session
  // has closed by then).
  virtual void post_work(std::function<void()> work, std::function<void()> done) = 0;

  virtual void log(LogLevel level, std::string_view message) = 0;

  // --- ABI 1.1 ---
  // Runs fn on this session's executor after delay (skipped if the session has closed by
  // then), e.g. to slow down the reply to a failed authentication.
  virtual void post_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // "TLSv1.3 TLS_AES_256_GCM_SHA384" while TLS is on, else "" (for trace headers).
  virtual std::string tls_description() const = 0;

  // --- ABI 1.3 ---
  // Octets the client has sent that the session has not been handed yet (read by the core and
  // buffered behind the line or bytes being handled now; in on_start(), what arrived before
  // it). Non-zero while a command that requires the client to wait for its reply is handled:
  // the client did not wait (RFC 5321 section 4.3.1, RFC 2920 section 3.1).
  virtual std::size_t input_pending() const = 0;
  // SessionContext::post_work() on a chosen pool (see WorkPool in host.h).
  virtual void post_work_on(WorkPool pool, std::function<void()> work,
                            std::function<void()> done) = 0;
  // Raw input: every octet the client sends goes to Session::on_bytes() as it arrives (`last`
  // false), in pieces of any size, until set_raw_input(false) (a read_bytes() run still comes
  // first). For protocols that frame their own messages: XML streams, LDAP's BER. The session
  // timeout applies while the session is not in a command, the command timeout while it is: a
  // session holding part of a message says so with set_in_command(true).
  virtual void set_raw_input(bool raw) = 0;
  // This connection's own timeouts from now on, instead of the protocol's settings: `session`
  // while idle, `command` while in a command (IMAP IDLE's 29 minutes, RFC 2177; a short one
  // before login). Zero keeps that setting; a negative duration turns that timer off.
  virtual void set_timeouts(std::chrono::milliseconds session,
                            std::chrono::milliseconds command) = 0;
  // A timer: fn runs on this session's executor after delay, unless cancel_timer(id) comes
  // first or the connection has closed. Returns the id.
  virtual std::uint64_t start_timer(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual void cancel_timer(std::uint64_t id) = 0;
  // A handle for other sessions to reach this one (see SessionHandle).
  virtual std::shared_ptr<SessionHandle> handle() = 0;
  // True while TLS is on and the peer's certificate verified: its chain against the system's
  // trusted CAs and, on an outbound connection, its name against OutboundRequest::tls_name (or
  // host), whether or not the request required it.
  virtual bool tls_verified() const = 0;

  // --- ABI 1.4 ---
  // A handle (as handle()) that also keeps this connection open while it exists: for a session
  // that waits, input paused, for an asynchronous service that answers on another thread (the
  // filter stage's check), and posts the answer back through it. Drop it once posted.
  virtual std::shared_ptr<SessionHandle> hold() = 0;

  // --- ABI 1.6 ---
  // Switches the connection to deflate compression (RFC 1951 raw deflate, as RFC 4978's
  // COMPRESS=DEFLATE uses) in both directions, above TLS and below the line framing. Output
  // written before this call is sent as it is (the command's own reply); everything written
  // after it is compressed, and flushed (Z_SYNC_FLUSH) each time the core sends what is queued,
  // so a client never waits on compressed bytes the core holds. Input the session has not been
  // handed yet (bytes that came in behind the command's line) is taken as compressed, and all
  // input from then on is inflated before framing, in bounded pieces: the line length limit,
  // read_bytes() runs, pause_input() and output throttling apply to the inflated octets. A
  // corrupt compressed stream closes the connection. Compression stays on until the connection
  // ends; STARTTLS is no longer available once it is on. Returns false, doing nothing, when
  // compression is already on, a TLS handshake is pending, or the connection is closing.
  virtual bool start_compression() = 0;

  // --- ABI 1.9 ---
  // True on a connection of a WebSocket listener (portico/web.h). Then input comes as whole
  // messages (Session::on_message), never as lines or bytes; each write() call is sent as one
  // text message; a message longer than the maximum line length (set_max_line_length) closes
  // the connection with status 1009 after Session::on_line_too_long(); STARTTLS and
  // compression are not available.
  virtual bool is_websocket() const = 0;

  // --- ABI 1.10 ---
  // The pending output (output_pending()) at which this connection is throttled as described
  // there, instead of kDefaultOutputLimit; 0 restores that default. A session that streams large
  // replies in pieces and stops writing at a lower mark sets the same value here, so that its
  // on_output_drained() still comes, and each connection holds that much less memory. The core
  // compares the pending output with the limit whenever a callback returns, so the limit holds
  // from the callback that sets it, until the session sets another.
  virtual void set_output_limit(std::size_t bytes) = 0;

 protected:
  ~SessionContext() = default;
};

class Session {
 public:
  virtual ~Session() = default;
  // The connection is ready: send the greeting.
  virtual void on_start() = 0;
  // One line, with its terminator.
  virtual void on_line(std::string_view line) = 0;
  // A line exceeded the maximum length and was discarded.
  virtual void on_line_too_long() = 0;
  // Raw bytes requested with read_bytes(); `last` is true on the final piece.
  virtual void on_bytes(std::string_view bytes, bool last) {
    (void)bytes;
    (void)last;
  }
  virtual void on_tls_started() {}
  virtual void on_output_drained() {}
  // The connection is closed (by either side, a timeout, or shutdown). No more writes.
  virtual void on_close() {}

  // --- ABI 1.3 ---
  // The core is about to end the connection for `reason`: write the protocol's own last words
  // (XMPP's <stream:error><connection-timeout/>) and return true, or return false for the
  // core to send the ProtocolTraits reply. Nothing is read afterwards. Called only for plugins
  // built with SDK 1.3 or later.
  virtual bool on_final_words(CloseReason reason) {
    (void)reason;
    return false;
  }

  // --- ABI 1.9 ---
  // One whole WebSocket message (its frames joined) on a WebSocket connection. Called only for
  // plugins built with SDK 1.9 or later.
  virtual void on_message(std::string_view message) { (void)message; }
};

}  // namespace portico::sdk
