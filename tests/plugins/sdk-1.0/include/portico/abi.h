// Portico SDK — the plugin descriptor: the one symbol the core reads before it trusts a plugin.
//
// A plugin library exports exactly one `extern "C"` object, `portico_plugin`, of type
// portico_plugin_descriptor, through PORTICO_PLUGIN(...) in plugin.h. The core checks, in this
// order and before calling anything in the library: the symbol exists; struct_size covers v1;
// abi_major equals the core's; abi_minor is not newer than the core's; build_signature matches
// the core's (same compiler family and major version, same standard library ABI, same NDEBUG);
// the dependencies are loaded. Only then does it call create().
//
// Within one ABI major, fields are only ever added at the end (in place of spare slots), and the
// SDK's interfaces only grow by virtual functions appended at the end of each class.
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PORTICO_ABI_MAJOR 1
#define PORTICO_ABI_MINOR 0

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

#if defined(NDEBUG)
#define PORTICO_NDEBUG_ID "ndebug"
#else
#define PORTICO_NDEBUG_ID "debug"
#endif

// The facts of a build that must agree between the core and a plugin for C++ objects
// (std::string, std::function, exceptions) to cross between them safely.
#define PORTICO_BUILD_SIGNATURE                                   \
  PORTICO_COMPILER_ID ";" PORTICO_STDLIB_ID ";" PORTICO_NDEBUG_ID \
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
