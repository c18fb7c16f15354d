// Test support — the sanitizers' defaults for the unit-test executables (ASan builds only).
//
// LeakSanitizer scans the thread-local blocks of dynamically loaded modules, which it learns of
// by intercepting __tls_get_addr. With glibc 2.36 and GCC 12's runtime it can record a bogus
// range there (seen as "DTLS 13 at 0x000000000599-0x00280000169b" with
// LSAN_OPTIONS=verbosity=1:log_threads=1), and its tracer then dies at exit ("Tracer caught
// signal 11", "LeakSanitizer has encountered a fatal error") although every test passed; whether
// it happens depends on the process's layout, so the same binary passed from a shell and failed
// under ctest. The interception is off by default here; ASAN_OPTIONS still overrides it.
extern "C" const char* __asan_default_options() {
  return "intercept_tls_get_addr=0";
}
