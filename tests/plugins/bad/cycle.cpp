// cycle_a.so / cycle_b.so — two plugins that depend on each other (CYCLE_SELF and CYCLE_OTHER
// are set by the build). The loader must refuse both, naming the cycle.
#include "minimal.h"

PORTICO_PLUGIN(test_plugins::MinimalPlugin, CYCLE_SELF, "1.0.0", CYCLE_OTHER);
