// build_cost.sh: the same HTTP GET, authorized by a TokenProvider, in the file that builds the
// Client and the provider from <alation/auth.hpp>.
#include <alation/auth.hpp>

#include "get_through_send.hpp"

int main() {
    asio::io_context io;
    alation::auth::Client client(io.get_executor(), "http://127.0.0.1:8080");
    alation::auth::TokenProvider provider(client, alation::auth::Secret("refresh-token"), 1);
    asio::co_spawn(io, get(provider, 8080), asio::detached);
    io.run();
}
