// Compiles Asio, Beast and alation-auth once for every test, example and benchmark.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

#include <alation/auth/src.hpp>
