// Portico core — the one translation unit that compiles Boost.Asio and Boost.Asio SSL
// (BOOST_ASIO_SEPARATE_COMPILATION keeps every other file from compiling them again).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
