// no_symbol.so — a valid shared library that exports no portico_plugin descriptor. The loader
// must refuse it as "not a Portico plugin".
#include "portico/abi.h"

extern "C" PORTICO_EXPORT int some_other_library_function(int x) {
  return x + 1;
}
