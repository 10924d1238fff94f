// build_cost.sh: the reference for authorize_only.cpp: the same coroutine and request, the TOKEN
// header set from a string that the service's main file provides.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include <iostream>
#include <string>

namespace asio = boost::asio;
namespace http = boost::beast::http;

const std::string& service_token();  // defined in the service's main file

asio::awaitable<void> authorize(const std::string& token) {
    http::request<http::empty_body> req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, "127.0.0.1");
    if (token.empty()) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    req.set("TOKEN", token);
    std::cout << req["TOKEN"] << '\n';
}

void start(asio::io_context& io) { asio::co_spawn(io, authorize(service_token()), asio::detached); }
