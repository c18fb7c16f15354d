// missing_dep.so — a plugin depending on "no-such-plugin", which no library provides. The loader
// must refuse it with "missing dependency 'no-such-plugin'" and never call its factory.
#include "minimal.h"

PORTICO_PLUGIN(test_plugins::MinimalPlugin, "missing-dep", "1.0.0", "no-such-plugin");
