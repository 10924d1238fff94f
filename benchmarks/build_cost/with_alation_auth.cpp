// build_cost.sh: the same HTTP GET, authorized by a TokenProvider, alation-auth header-only.
#include <alation/auth.hpp>

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

int main() {
    asio::io_context io;
    alation::auth::Client client(io.get_executor(), "http://127.0.0.1:8080");
    alation::auth::TokenProvider provider(client, alation::auth::Secret("refresh-token"), 1);
    asio::co_spawn(io, get(provider, 8080), asio::detached);
    io.run();
}
