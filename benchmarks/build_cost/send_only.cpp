// build_cost.sh: the same HTTP GET through TokenProvider::send, in a file of a service whose
// provider is built once elsewhere, in its main file (as authorize_only.cpp's is). It includes the
// provider's header alone, so header-only it does not compile the Client.
#include "get_through_send.hpp"

alation::auth::TokenProvider& service_provider();  // defined in the service's main file

void start(asio::io_context& io) { asio::co_spawn(io, get(service_provider(), 8080), asio::detached); }
