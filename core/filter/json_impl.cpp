// Portico core — Boost.JSON's compiled part, built once here (header-only use of the Boost 1.81
// headers: Debian's libboost1.81-dev, no compiled Boost library needed).
#include <boost/json/src.hpp>
