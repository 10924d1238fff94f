// build_cost.sh: the same request, its token put on by a TokenProvider (try_authorize, and
// authorize from a coroutine), no other I/O of the TU's own.
#include <alation/auth/token_provider.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <iostream>

namespace asio = boost::asio;
namespace http = boost::beast::http;

asio::awaitable<void> authorize(alation::auth::TokenProvider& provider) {
    http::request<http::empty_body> req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, "127.0.0.1");
    if (!provider.try_authorize(req)) co_await provider.authorize(req);
    std::cout << req["TOKEN"] << '\n';
}

int main() {
    asio::io_context io;
    alation::auth::Client client(io.get_executor(), "http://127.0.0.1:8080");
    alation::auth::TokenProvider provider(client, alation::auth::Secret("refresh-token"), 1);
    asio::co_spawn(io, authorize(provider), asio::detached);
    io.run();
}
