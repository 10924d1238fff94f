// build_cost.sh: the same HTTP GET through TokenProvider::send, in a file of a service whose
// provider is built once elsewhere, in its main file (as authorize_only.cpp's is). It includes the
// provider's header alone, so header-only it does not compile the Client.
#include <alation/auth/token_provider.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <iostream>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

alation::auth::TokenProvider& service_provider();  // defined in the service's main file

asio::awaitable<void> get(alation::auth::TokenProvider& provider, unsigned short port) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    http::request<http::empty_body> req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, "127.0.0.1");
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await provider.send(stream, req, buffer, res);
    std::cout << res.result_int() << '\n';
}

void start(asio::io_context& io) { asio::co_spawn(io, get(service_provider(), 8080), asio::detached); }
