// build_cost.sh: the HTTP GET of with_alation_auth.cpp and send_only.cpp, authorized by
// TokenProvider::send: the same work in both units, which differ in what else they include and do.
#ifndef BUILD_COST_GET_THROUGH_SEND_HPP
#define BUILD_COST_GET_THROUGH_SEND_HPP

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

inline asio::awaitable<void> get(alation::auth::TokenProvider& provider, unsigned short port) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    http::request<http::empty_body> req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, "127.0.0.1");
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await provider.send(stream, req, buffer, res);
    std::cout << res.result_int() << '\n';
}

#endif
