// build_cost.sh: the reference TU for putting a token on a request: the same coroutine and
// request as authorize_only.cpp, the TOKEN header set from a string instead of a TokenProvider.
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

asio::awaitable<void> authorize(const std::string& token) {
    http::request<http::empty_body> req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, "127.0.0.1");
    if (token.empty()) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    req.set("TOKEN", token);
    std::cout << req["TOKEN"] << '\n';
}

int main() {
    asio::io_context io;
    asio::co_spawn(io, authorize("a-token"), asio::detached);
    io.run();
}
