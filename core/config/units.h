// Portico core — durations and sizes as operators write them: the SDK's own (portico/units.h),
// under the core's names.
#pragma once

#include "portico/units.h"

namespace portico::core {

using sdk::format_duration;
using sdk::format_size;
using sdk::parse_duration;
using sdk::parse_size;

}  // namespace portico::core
