// schema_throws.so — a plugin whose schema() throws. The loader must refuse it with
// "schema() threw: ..." and destroy the instance through the plugin.
#include <stdexcept>

#include "minimal.h"

namespace {

class SchemaThrows : public test_plugins::MinimalPlugin {
 public:
  using MinimalPlugin::MinimalPlugin;
  portico::sdk::Schema schema() const override { throw std::logic_error("schema table is broken"); }
};

}  // namespace

PORTICO_PLUGIN(SchemaThrows, "schema-throws", "1.0.0");
