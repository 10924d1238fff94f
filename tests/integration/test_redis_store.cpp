// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// The Redis component against Debian's redis-server on a free loopback port: the hiredis-over-Asio
// connection with raw commands (AUTH, SELECT, every failure: down, paused, restarted, a hostile
// server, close), then RedisTokenStore's operations.
#include "redis_server.hpp"

#include <catch.hpp>

#include <alation/auth/detail/redis_connection.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace alation::auth;
using namespace alation::auth::test;
using detail::RedisConnection;
using detail::RedisConnectionOptions;
using detail::RedisReply;

namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr unsigned any_reply = RedisReply::nil | RedisReply::status | RedisReply::integer | RedisReply::string;

RedisConnectionOptions connection_options(std::uint16_t port) {
    RedisConnectionOptions o;
    o.port = port;
    o.connect_timeout = milliseconds(1000);
    o.command_timeout = milliseconds(1000);
    return o;
}

// Runs `io` until `done` holds; every operation is bounded by its own timeout, so this ends.
template <class Predicate>
void run_until(asio::io_context& io, Predicate done) {
    io.restart();
    while (!done()) io.run_one();
}

struct CommandResult {
    error_code ec;
    RedisReply reply;
};

CommandResult command(asio::io_context& io, RedisConnection& connection, std::vector<std::string> args,
                      unsigned accepted = any_reply) {
    std::optional<CommandResult> result;
    connection.async_command(std::move(args), accepted, [&](error_code ec, RedisReply reply) {
        result.emplace();
        result->ec = ec;
        result->reply = std::move(reply);
    });
    run_until(io, [&] { return result.has_value(); });
    return std::move(*result);
}

// A TCP server that answers whatever it reads with `answer` (bytes that are not RESP, or RESP of
// the wrong kind), then keeps the connection open.
class HostileServer {
public:
    // `later`, when not empty, follows `answer` in a write of its own.
    HostileServer(asio::io_context& io, std::string answer, std::string later = {})
        : acceptor_(io, {asio::ip::make_address_v4("127.0.0.1"), 0}),
          answer_(std::move(answer)),
          later_(std::move(later)) {
        accept();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    int connections() const { return connections_; }

private:
    void accept() {
        acceptor_.async_accept([this](error_code ec, asio::ip::tcp::socket socket) {
            if (ec) return;
            ++connections_;
            auto s = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
            auto buffer = std::make_shared<std::array<char, 256>>();
            s->async_read_some(asio::buffer(*buffer), [this, s, buffer](error_code ec, std::size_t) {
                if (ec) return;
                asio::async_write(*s, asio::buffer(answer_), [this, s](error_code ec, std::size_t) {
                    if (!ec && !later_.empty())
                        asio::async_write(*s, asio::buffer(later_), [s](error_code, std::size_t) {});
                });
            });
            accept();
        });
    }

    asio::ip::tcp::acceptor acceptor_;
    std::string answer_;
    std::string later_;
    int connections_ = 0;
};

}  // namespace

TEST_CASE("RedisConnection: SET and GET in argv form, values with any bytes", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));

    const std::string value("a value with spaces, \"quotes\", %s, \r\n and a \0 byte", 49);
    auto set = command(io, *connection, {"SET", "k", value});
    REQUIRE_FALSE(set.ec);
    CHECK(set.reply.kind == RedisReply::status);
    CHECK(set.reply.text == "OK");

    auto get = command(io, *connection, {"GET", "k"});
    REQUIRE_FALSE(get.ec);
    CHECK(get.reply.kind == RedisReply::string);
    CHECK(get.reply.text == value);

    auto missing = command(io, *connection, {"GET", "absent"});
    REQUIRE_FALSE(missing.ec);
    CHECK(missing.reply.kind == RedisReply::nil);
    CHECK(connection->commands_sent() == 3);
}

TEST_CASE("RedisConnection: an error reply is token_store_error and keeps the connection", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    REQUIRE_FALSE(command(io, *connection, {"SET", "k", "v"}).ec);
    CHECK(command(io, *connection, {"INCR", "k"}).ec == Error::token_store_error);
    auto get = command(io, *connection, {"GET", "k"});
    REQUIRE_FALSE(get.ec);
    CHECK(get.reply.text == "v");
}

TEST_CASE("RedisConnection: a reply of a kind the command does not accept drops the connection", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    CHECK(command(io, *connection, {"GET", "absent"}, RedisReply::string).ec == Error::token_store_error);
    // The next command connects again.
    CHECK_FALSE(command(io, *connection, {"PING"}).ec);
}

TEST_CASE("RedisConnection: pipelined commands complete in order, each with its reply", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    std::vector<std::string> replies;
    constexpr int n = 200;
    for (int i = 0; i < n; ++i)
        connection->async_command({"INCR", "counter"}, RedisReply::integer, [&](error_code ec, RedisReply reply) {
            replies.push_back(ec ? ec.message() : std::to_string(reply.number));
        });
    run_until(io, [&] { return replies.size() == n; });
    for (int i = 0; i < n; ++i) CHECK(replies[i] == std::to_string(i + 1));
}

TEST_CASE("RedisConnection: AUTH with a password, with an ACL user, SELECT", "[redis]") {
    RedisServer redis({.password = "default-pass", .acl_user = "fleet", .acl_password = "fleet-pass"});
    asio::io_context io;

    SECTION("no password: NOAUTH is token_store_error") {
        auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
        CHECK(command(io, *connection, {"PING"}).ec == Error::token_store_error);
    }
    SECTION("the default user's password") {
        auto options = connection_options(redis.port());
        options.password = Secret("default-pass");
        auto connection = RedisConnection::create(io.get_executor(), std::move(options));
        CHECK_FALSE(command(io, *connection, {"PING"}).ec);
        CHECK(connection->commands_sent() == 2);
    }
    SECTION("an ACL user and database 3, isolated from database 0") {
        auto options = connection_options(redis.port());
        options.username = "fleet";
        options.password = Secret("fleet-pass");
        options.database = 3;
        auto connection = RedisConnection::create(io.get_executor(), options);
        REQUIRE_FALSE(command(io, *connection, {"SET", "k", "in-3"}).ec);
        options.database = 0;
        auto other = RedisConnection::create(io.get_executor(), options);
        CHECK(command(io, *other, {"GET", "k"}).reply.kind == RedisReply::nil);
        CHECK(command(io, *connection, {"GET", "k"}).reply.text == "in-3");
    }
    SECTION("a wrong password is token_store_error, every time") {
        auto options = connection_options(redis.port());
        options.username = "fleet";
        options.password = Secret("wrong-pass");
        auto connection = RedisConnection::create(io.get_executor(), options);
        auto result = command(io, *connection, {"PING"});
        CHECK(result.ec == Error::token_store_error);
        CHECK(result.ec.message().find("wrong-pass") == std::string::npos);
        CHECK(command(io, *connection, {"PING"}).ec == Error::token_store_error);
    }
}

TEST_CASE("RedisConnection: Redis down is token_store_unavailable at once; a host name resolves", "[redis]") {
    asio::io_context io;
    std::uint16_t port = 0;
    {
        RedisServer redis;
        port = redis.port();
    }
    auto options = connection_options(port);
    options.host = "localhost";
    auto connection = RedisConnection::create(io.get_executor(), options);
    const auto start = std::chrono::steady_clock::now();
    CHECK(command(io, *connection, {"PING"}).ec == Error::token_store_unavailable);
    CHECK(std::chrono::steady_clock::now() - start < options.connect_timeout);
    options.host = "127.0.0.1";
    connection = RedisConnection::create(io.get_executor(), options);
    CHECK(command(io, *connection, {"PING"}).ec == Error::token_store_unavailable);
}

TEST_CASE("RedisConnection: Redis paused times out within command_timeout, then reconnects", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto options = connection_options(redis.port());
    options.command_timeout = milliseconds(300);
    auto connection = RedisConnection::create(io.get_executor(), options);
    REQUIRE_FALSE(command(io, *connection, {"PING"}).ec);

    redis.pause();
    const auto start = std::chrono::steady_clock::now();
    CHECK(command(io, *connection, {"PING"}).ec == Error::timeout);
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= options.command_timeout);
    CHECK(waited < options.command_timeout + milliseconds(700));
    // A new connection is not answered either: the connect (its TCP part the kernel completes)
    // gets no reply to its command.
    CHECK(command(io, *connection, {"PING"}).ec == Error::timeout);

    redis.resume();
    CHECK_FALSE(command(io, *connection, {"PING"}).ec);
}

TEST_CASE("RedisConnection: AUTH unanswered is bounded by connect_timeout", "[redis]") {
    RedisServer redis({.password = "pass", .acl_user = "", .acl_password = ""});
    asio::io_context io;
    auto options = connection_options(redis.port());
    options.password = Secret("pass");
    options.connect_timeout = milliseconds(200);
    options.command_timeout = milliseconds(5000);
    auto connection = RedisConnection::create(io.get_executor(), options);
    redis.pause();
    const auto start = std::chrono::steady_clock::now();
    CHECK(command(io, *connection, {"PING"}).ec == Error::timeout);
    CHECK(std::chrono::steady_clock::now() - start < milliseconds(2000));
    redis.resume();
    CHECK_FALSE(command(io, *connection, {"PING"}).ec);
}

TEST_CASE("RedisConnection: after a restart the next command reconnects", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    REQUIRE_FALSE(command(io, *connection, {"SET", "k", "v"}).ec);
    redis.restart();
    // The restart closed our connection; hiredis may notice it only when it next reads, so at
    // most this command fails, and the following one runs on a new connection.
    auto first = command(io, *connection, {"GET", "k"});
    if (first.ec) CHECK(first.ec == Error::token_store_unavailable);
    auto second = command(io, *connection, {"GET", "k"});
    REQUIRE_FALSE(second.ec);
    CHECK(second.reply.kind == RedisReply::nil);  // a new, empty server
}

TEST_CASE("RedisConnection: a hostile server answering garbage is an error, and the next command tries again",
          "[redis]") {
    asio::io_context io;
    SECTION("bytes that are not RESP") {
        HostileServer hostile(io, "HTTP/1.1 400 Bad Request\r\n\r\n");
        auto connection = RedisConnection::create(io.get_executor(), connection_options(hostile.port()));
        CHECK(command(io, *connection, {"GET", "k"}).ec == Error::token_store_error);
        CHECK(command(io, *connection, {"GET", "k"}).ec == Error::token_store_error);
        CHECK(hostile.connections() == 2);
    }
    SECTION("a reply of the wrong kind") {
        HostileServer hostile(io, ":42\r\n");
        auto connection = RedisConnection::create(io.get_executor(), connection_options(hostile.port()));
        CHECK(command(io, *connection, {"GET", "k"}, RedisReply::string | RedisReply::nil).ec ==
              Error::token_store_error);
        CHECK(command(io, *connection, {"GET", "k"}, RedisReply::string | RedisReply::nil).ec ==
              Error::token_store_error);
        CHECK(hostile.connections() == 2);
    }
    SECTION("more replies than commands, in one read or later (hiredis 0.14 would abort)") {
        HostileServer hostile(io, "+OK\r\n+OK\r\n", "+OK\r\n");
        auto connection = RedisConnection::create(io.get_executor(), connection_options(hostile.port()));
        CHECK(command(io, *connection, {"PING"}).ec == Error::token_store_error);
        CHECK(command(io, *connection, {"PING"}).ec == Error::token_store_error);
        CHECK(hostile.connections() == 2);
    }
    SECTION("an unasked reply while idle drops the connection") {
        HostileServer hostile(io, "+OK\r\n", "+OK\r\n");
        auto connection = RedisConnection::create(io.get_executor(), connection_options(hostile.port()));
        // The first reply may come alone (the extra one then arrives while idle) or with the extra
        // one (refused at once).
        const auto first = command(io, *connection, {"PING"});
        if (first.ec) CHECK(first.ec == Error::token_store_error);
        run_until(io, [&] { return hostile.connections() == 1; });
        const auto second = command(io, *connection, {"PING"});
        CHECK(hostile.connections() == 2);
        if (second.ec) CHECK(second.ec == Error::token_store_error);
    }
    SECTION("a refusal of AUTH that is not an error reply") {
        HostileServer hostile(io, "$3\r\nabc\r\n");
        auto options = connection_options(hostile.port());
        options.password = Secret("pass");
        auto connection = RedisConnection::create(io.get_executor(), options);
        CHECK(command(io, *connection, {"PING"}).ec == Error::token_store_error);
    }
}

TEST_CASE("RedisConnection: close() aborts pending commands; the next command connects again", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    redis.pause();
    std::optional<error_code> result;
    connection->async_command({"PING"}, any_reply, [&](error_code ec, RedisReply) { result = ec; });
    connection->close();
    run_until(io, [&] { return result.has_value(); });
    CHECK(*result == asio::error::operation_aborted);
    redis.resume();
    CHECK_FALSE(command(io, *connection, {"PING"}).ec);
}

TEST_CASE("RedisConnection: handlers never run inside the call, and on their associated executor", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    asio::io_context other;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    bool ran = false;
    bool on_other = false;
    connection->async_command({"PING"}, any_reply, asio::bind_executor(other, [&](error_code ec, RedisReply) {
                                  ran = !ec;
                                  on_other = other.get_executor().running_in_this_thread();
                              }));
    CHECK_FALSE(ran);
    run_until(io, [&] {
        other.restart();
        other.poll();
        return ran;
    });
    CHECK(on_other);
}
