// build_cost.sh: a file of a service that puts its token on a request (try_authorize, and
// authorize from a coroutine) and does nothing else with alation-auth: the provider is built once
// elsewhere, in the service's main file, as request_only.cpp's token is.
#include <alation/auth/token_provider.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <iostream>

namespace asio = boost::asio;
namespace http = boost::beast::http;

alation::auth::TokenProvider& service_provider();  // defined in the service's main file

asio::awaitable<void> authorize(alation::auth::TokenProvider& provider) {
    http::request<http::empty_body> req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, "127.0.0.1");
    if (!provider.try_authorize(req)) co_await provider.authorize(req);
    std::cout << req["TOKEN"] << '\n';
}

void start(asio::io_context& io) { asio::co_spawn(io, authorize(service_provider()), asio::detached); }
