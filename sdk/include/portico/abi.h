// Portico SDK — the plugin descriptor, the ABI version, and the rules by which the SDK grows.
//
// A plugin library exports exactly one `extern "C"` object, `portico_plugin`, of type
// portico_plugin_descriptor, through PORTICO_PLUGIN(...) in plugin.h. The core checks, in this
// order and before calling anything in the library: the symbol exists; struct_size covers v1;
// abi_major equals the core's; abi_minor is not newer than the core's; build_signature matches
// the core's (same compiler family and major version, same standard library and library ABI,
// same container layout, same pointer size); the dependencies are loaded. Only then does it
// call create().
//
// How the SDK grows within one ABI major (a plugin built against any older minor of the major
// keeps loading and serving; tests/plugins/sdk-1.0 holds the 1.0 headers and a plugin built
// against them, which every core must keep serving):
//
// 1. Structs are frozen once a minor is published: no member is added, removed, reordered or
//    retyped, and no default changes meaning. A plugin creates them, returns them by value,
//    passes them in vectors and reads their members at fixed offsets, so any change of size or
//    layout breaks it. New data comes in a new struct (e.g. FooV2, or a struct of just the new
//    facts) passed through a new function.
// 2. Classes (interfaces) grow only by virtual functions appended after the last one, under a
//    "--- ABI 1.N ---" marker. Nothing is inserted, removed or reordered, and no signature
//    changes (an overload added in the middle shifts the vtable too).
// 3. The core calls a virtual of a plugin-implemented class (Plugin, Session) added in minor N
//    only when that plugin's abi_minor >= N (see the core's LoadedPlugin::abi_minor, carried to
//    every connection the plugin serves). Classes the core implements (Host, SessionContext,
//    Store, Queue, Directory, Auth, Dns, SaslServer, SaslExchange, MessageReader) may grow
//    freely at the end: an older plugin never calls what it does not know. Where the core's
//    behaviour toward a session changes with a minor, it keeps the old behaviour for plugins
//    built against an older one.
// 4. Enumerations the core hands to plugins may gain enumerators at the end only; a plugin
//    treats an unknown value as the most general failure of that enum (e.g. StoreError::io).
//    std::variant and other std types whose layout depends on their parameters are frozen like
//    structs.
// 5. The descriptor grows only into its spare slots, each given meaning by a new minor.
// 6. Each minor that adds anything bumps PORTICO_ABI_MINOR once, and the history below names
//    every addition.
//
// History: 1.0 the first; 1.1 Host services (directory, auth, store, queue),
// SessionContext::post_after and tls_description, Plugin::extra_listeners; 1.2 Host::connect
// (outbound connections), Host::schedule (timers), Host::dns, Store::open_message (MessageReader),
// read_messages and deliver_unsynced_file, IncomingMessage::seal_unsynced and held_in_memory;
// 1.3 Host::sasl (SaslServer, SaslExchange: the SASL exchange of every protocol, run by the
// core), Host::post_work_on and SessionContext::post_work_on (the bounded pools of WorkPool),
// Host::reports (Reports: delivery status notifications), SessionContext::input_pending,
// tls_verified, set_raw_input, set_timeouts, start_timer, cancel_timer and handle
// (SessionHandle), Session::on_final_words (CloseReason), Dns::addresses_uncached and mx_uncached,
// Queue::set_note and note, portico/units.h (durations and sizes), the test kit (Portico::testkit:
// SessionDriver, TestHost, settings, golden transcripts, plugins from descriptors); the build
// signature names the standard library ABI as it really is (the headers of 1.0 to 1.2 include no
// C++ header first and wrote "stdlib-unknown") and the container layout (_GLIBCXX_DEBUG) instead of
// NDEBUG, which changes no layout; 1.4 Host::filter (portico/filter.h: Filter, FilterRequest,
// FilterResult, FilterAction: the content filter stage, spam checks before a message is
// accepted), SessionContext::hold (a SessionHandle that keeps its connection open); 1.5
// Directory::version and address_book (portico/address_book.h: AddressBook, AddressBookPerson,
// AddressBookGroup: the directory published as an address book); 1.6
// SessionContext::start_compression (RFC 4978 deflate below the framing, above TLS),
// Store::vanished (portico/store.h: VanishedUids, kExpungeLogDays: RFC 7162 QRESYNC from the
// store's log of expunges), Store::append_file (AppendFileRequest: an IMAP APPEND streamed to a
// file, never held whole); 1.7 Store::message_parts (MessagePart, MessageParts: each MIME part's
// octet offsets, kept with the message, so IMAP reads one part of a large message alone) and
// Store::recent_uids (RFC 3501 \Recent, claimed by one session); 1.8 Auth::start_in_domain and
// SaslServer::start_in_domain (user names that are local parts of the domain the client
// addressed, as XMPP's SASL sends them); 1.9 Plugin::websocket_listeners (portico/web.h:
// WebSocketListener, WebPage: WebSocket listeners run by the core, with their static pages),
// SessionContext::is_websocket and Session::on_message (a session fed WebSocket messages); 1.10
// SessionContext::set_output_limit and kDefaultOutputLimit (portico/session.h: the pending output
// at which a connection is throttled, chosen by its session); 1.11 Queue::enqueue accepts a
// message sealed with IncomingMessage::seal_unsynced (the queue makes its octets durable with
// the envelope, in one fsync).
#pragma once

#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
#include <version>  // defines the standard library's own macros (_GLIBCXX_USE_CXX11_ABI, ...)
#endif

#define PORTICO_ABI_MAJOR 1
#define PORTICO_ABI_MINOR 11

#define PORTICO_STRINGIFY_INNER(x) #x
#define PORTICO_STRINGIFY(x) PORTICO_STRINGIFY_INNER(x)

#if defined(__clang__)
#define PORTICO_COMPILER_ID "clang-" PORTICO_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define PORTICO_COMPILER_ID "gcc-" PORTICO_STRINGIFY(__GNUC__)
#else
#define PORTICO_COMPILER_ID "unknown"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define PORTICO_STDLIB_ID "libstdc++-cxx11abi" PORTICO_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define PORTICO_STDLIB_ID "libc++-" PORTICO_STRINGIFY(_LIBCPP_ABI_VERSION)
#else
#define PORTICO_STDLIB_ID "stdlib-unknown"
#endif

// Checked containers change the layout of std::vector, std::map, ... (NDEBUG changes none).
#if defined(_GLIBCXX_DEBUG) || (defined(_LIBCPP_DEBUG) && _LIBCPP_DEBUG > 0)
#define PORTICO_CONTAINERS_ID "debug-containers"
#else
#define PORTICO_CONTAINERS_ID "containers"
#endif

// The facts of a build that must agree between the core and a plugin for C++ objects
// (std::string, std::function, exceptions) to cross between them safely, for example
// "gcc-12;libstdc++-cxx11abi1;containers;ptr8".
#define PORTICO_BUILD_SIGNATURE                                       \
  PORTICO_COMPILER_ID ";" PORTICO_STDLIB_ID ";" PORTICO_CONTAINERS_ID \
                      ";ptr" PORTICO_STRINGIFY(__SIZEOF_POINTER__)

#define PORTICO_DESCRIPTOR_SYMBOL portico_plugin
#define PORTICO_DESCRIPTOR_SYMBOL_NAME "portico_plugin"

#if defined(_WIN32)
#define PORTICO_EXPORT __declspec(dllexport)
#else
#define PORTICO_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

// create() returns a new portico::sdk::Plugin* (as void*) or NULL, with a reason written into
// error (NUL-terminated, at most error_size bytes). It never throws. destroy() deletes what
// create() returned, inside the plugin.
typedef struct portico_plugin_descriptor {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  const char* build_signature;
  const char* name;
  const char* version;
  const char* const* dependencies;  // names of plugins that must be loaded first; NULL-ended
  void* (*create)(void* host, char* error, size_t error_size);
  void (*destroy)(void* plugin);
  void* spare[8];  // zero; later minor versions give them meaning
} portico_plugin_descriptor;

#ifdef __cplusplus
}
#endif
