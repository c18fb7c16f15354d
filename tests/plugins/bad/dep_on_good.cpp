// dep_on_good.so — "needs-lineproto", depending on "lineproto". It loads, after lineproto, when
// both are in the folder, and is refused with "missing dependency 'lineproto'" otherwise.
#include "minimal.h"

PORTICO_PLUGIN(test_plugins::MinimalPlugin, "needs-lineproto", "1.0.0", "lineproto");
