// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// The Redis component against Debian's redis-server on a free loopback port: the hiredis-over-Asio
// connection with raw commands (AUTH, SELECT, every failure: down, paused, restarted, a hostile
// server, close), then RedisTokenStore's operations, then TLS where hiredis has it (else the error
// that TLS options are).
#include "redis_server.hpp"

#include <catch.hpp>

#include <alation/auth/redis_token_store.hpp>

#if ALATION_AUTH_HAS_HIREDIS_SSL
#include "temp_dir.hpp"

#include <alation/auth/testing/certificates.hpp>
// Compiled here, internals and all (the client certificate is signed with them): redis_tests links
// the library (alation_auth_compiled), not the test doubles.
#include <alation/auth/testing/impl/certificates.ipp>

#include <openssl/pem.h>
#endif

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
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

// Starts an operation with a handler bound to another io_context and checks that it does not
// complete inside the call, and completes, without error, on that io_context.
template <class Start>
void check_completes_on_other_executor(asio::io_context& io, Start start) {
    asio::io_context other;
    bool ran = false;
    bool on_other = false;
    start(asio::bind_executor(other, [&](error_code ec, auto&&) {
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
        connection->async_command(detail::RedisArgs::of("INCR", "counter"), RedisReply::integer,
                                  [&](error_code ec, RedisReply reply) {
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
    connection->async_command(detail::RedisArgs::of("PING"), any_reply,
                              [&](error_code ec, RedisReply) { result = ec; });
    connection->close();
    run_until(io, [&] { return result.has_value(); });
    CHECK(*result == asio::error::operation_aborted);
    redis.resume();
    CHECK_FALSE(command(io, *connection, {"PING"}).ec);
}

TEST_CASE("RedisConnection: handlers never run inside the call, and on their associated executor", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto connection = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    check_completes_on_other_executor(
        io, [&](auto handler) { connection->async_command(detail::RedisArgs::of("PING"), any_reply, handler); });
}

// RedisTokenStore

namespace {

RedisTokenStoreOptions store_options(std::uint16_t port) {
    RedisTokenStoreOptions o;
    o.port = port;
    o.connect_timeout = milliseconds(1000);
    o.command_timeout = milliseconds(1000);
    return o;
}

// Starts an operation with a handler and runs `io` until it completes: {error, result}.
template <class T, class Start>
std::pair<error_code, T> await(asio::io_context& io, Start start) {
    std::optional<std::pair<error_code, T>> result;
    start([&](error_code ec, T value) { result.emplace(ec, std::move(value)); });
    run_until(io, [&] { return result.has_value(); });
    return std::move(*result);
}

template <class Start>
error_code await_done(asio::io_context& io, Start start) {
    std::optional<error_code> result;
    start([&](error_code ec) { result = ec; });
    run_until(io, [&] { return result.has_value(); });
    return *result;
}

Timestamp at(std::int64_t seconds) { return Timestamp(std::chrono::seconds(seconds)); }

RefreshToken refresh_token(std::string value) {
    RefreshToken t;
    t.value = Secret(std::move(value));
    t.user_id = 42;
    t.name = "fleet \"token\"";
    t.status = TokenStatus::active;
    t.created_at = at(1'900'000'000) + std::chrono::microseconds(123456);
    t.expires_at = at(1'905'184'000);
    t.last_used_at = at(1'900'000'100);
    return t;
}

std::optional<RefreshToken> load(asio::io_context& io, RedisTokenStore& store, std::string_view identity,
                                 error_code* ec_out = nullptr) {
    auto [ec, token] =
        await<std::optional<RefreshToken>>(io, [&](auto handler) { store.async_load(identity, std::move(handler)); });
    if (ec_out != nullptr)
        *ec_out = ec;
    else
        CHECK_FALSE(ec);
    return std::move(token);
}

bool compare_and_swap(asio::io_context& io, RedisTokenStore& store, std::string_view identity,
                      std::string_view expected, const RefreshToken& desired) {
    auto [ec, swapped] = await<bool>(io, [&](auto handler) {
        store.async_compare_and_swap(identity, Secret(expected), desired, std::move(handler));
    });
    CHECK_FALSE(ec);
    return swapped;
}

bool acquire(asio::io_context& io, RedisTokenStore& store, std::string_view owner, milliseconds ttl,
             std::string_view name = "regenerate") {
    auto [ec, acquired] = await<bool>(
        io, [&](auto handler) { store.async_acquire_lease("user:42", name, owner, ttl, std::move(handler)); });
    CHECK_FALSE(ec);
    return acquired;
}

void release(asio::io_context& io, RedisTokenStore& store, std::string_view owner) {
    CHECK_FALSE(await_done(
        io, [&](auto handler) { store.async_release_lease("user:42", "regenerate", owner, std::move(handler)); }));
}

AccessToken access_token(std::string value, std::chrono::milliseconds lifetime) {
    AccessToken t;
    t.value = Secret(std::move(value));
    t.user_id = 42;
    t.status = TokenStatus::active;
    t.scope = "catalog:read";
    t.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    t.expires_at = t.created_at + lifetime;
    return t;
}

std::optional<AccessToken> load_access_token(asio::io_context& io, RedisTokenStore& store,
                                             std::string_view identity = "user:42") {
    auto [ec, token] = await<std::optional<AccessToken>>(
        io, [&](auto handler) { store.async_load_access_token(identity, std::move(handler)); });
    CHECK_FALSE(ec);
    return std::move(token);
}

// Polls until `condition` holds, for at most `bound` (a safety net, not a timing).
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds bound = milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
}

}  // namespace

TEST_CASE("RedisTokenStore: nothing stored loads as nullopt, without error", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto store = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));
    CHECK(store->shares_access_tokens());
    CHECK_FALSE(load(io, *store, "user:42").has_value());
    CHECK_FALSE(load_access_token(io, *store).has_value());
    CHECK(store->commands_sent() == 2);
}

TEST_CASE("RedisTokenStore: compare-and-swap stores when absent, refuses a mismatch, swaps on a match", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto store = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));

    CHECK(compare_and_swap(io, *store, "user:42", "anything", refresh_token("first")));
    auto stored = load(io, *store, "user:42");
    REQUIRE(stored);
    CHECK(stored->value.reveal() == "first");

    CHECK_FALSE(compare_and_swap(io, *store, "user:42", "not-first", refresh_token("second")));
    CHECK(load(io, *store, "user:42")->value.reveal() == "first");

    CHECK(compare_and_swap(io, *store, "user:42", "first", refresh_token("second")));
    CHECK(load(io, *store, "user:42")->value.reveal() == "second");
}

TEST_CASE("RedisTokenStore: the record round-trips every field", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto store = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));
    auto token = refresh_token("value with \"quotes\" and \\ and unicode \xc3\xa9");
    token.status = TokenStatus::expired;  // still the stored token: the provider decides
    REQUIRE(compare_and_swap(io, *store, "user:42", "", token));
    auto loaded = load(io, *store, "user:42");
    REQUIRE(loaded);
    CHECK(loaded->value.reveal() == token.value.reveal());
    CHECK(loaded->user_id == token.user_id);
    CHECK(loaded->name == token.name);
    CHECK(loaded->status == token.status);
    CHECK(loaded->created_at == token.created_at);
    CHECK(loaded->expires_at == token.expires_at);
    CHECK(loaded->last_used_at == token.last_used_at);

    token.last_used_at.reset();
    REQUIRE(compare_and_swap(io, *store, "user:42", token.value.reveal(), token));
    CHECK_FALSE(load(io, *store, "user:42")->last_used_at.has_value());
}

TEST_CASE("RedisTokenStore: a malformed record is malformed_token_file, without its contents", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto raw = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    REQUIRE_FALSE(command(io, *raw, {"HSET", "alation-auth:user:42:refresh_token", "record", "{\"secret-ish\":"}).ec);
    REQUIRE_FALSE(command(io, *raw, {"SET", "alation-auth:user:42:access_token", "[\"secret-ish\"]"}).ec);
    auto store = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));
    error_code ec;
    CHECK_FALSE(load(io, *store, "user:42", &ec).has_value());
    CHECK(ec == Error::malformed_token_file);
    CHECK(ec.message().find("secret-ish") == std::string::npos);
    auto [access_ec, access] = await<std::optional<AccessToken>>(
        io, [&](auto handler) { store->async_load_access_token("user:42", std::move(handler)); });
    CHECK(access_ec == Error::malformed_token_file);
    CHECK_FALSE(access.has_value());
}

TEST_CASE("RedisTokenStore: leases are exclusive, re-entrant for their owner, expire, and end by their owner only",
          "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto a = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));
    auto b = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));

    CHECK(acquire(io, *a, "replica-a", milliseconds(60000)));
    CHECK_FALSE(acquire(io, *b, "replica-b", milliseconds(60000)));
    CHECK(acquire(io, *a, "replica-a", milliseconds(60000)));          // re-entrant
    CHECK(acquire(io, *b, "replica-b", milliseconds(60000), "mint"));  // another lease

    release(io, *b, "replica-b");  // not the owner: nothing happens
    CHECK_FALSE(acquire(io, *b, "replica-b", milliseconds(60000)));
    release(io, *a, "replica-a");
    CHECK(acquire(io, *b, "replica-b", milliseconds(200)));

    // The holder died: the lease expires after its ttl.
    CHECK_FALSE(acquire(io, *a, "replica-a", milliseconds(60000)));
    CHECK(eventually([&] { return acquire(io, *a, "replica-a", milliseconds(60000)); }));

    SECTION("renewing extends the expiry") {
        CHECK(acquire(io, *b, "replica-b", milliseconds(1), "short"));
        CHECK(acquire(io, *b, "replica-b", milliseconds(60000), "short"));
        std::this_thread::sleep_for(milliseconds(20));  // past the first ttl: it must not end the lease
        CHECK_FALSE(acquire(io, *a, "replica-a", milliseconds(60000), "short"));
    }
}

TEST_CASE("RedisTokenStore: the shared access token is stored, loaded, and expires with the token", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto store = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));

    const auto token = access_token("access-1", std::chrono::hours(1));
    REQUIRE_FALSE(await_done(io, [&](auto h) { store->async_store_access_token("user:42", token, std::move(h)); }));
    auto loaded = load_access_token(io, *store);
    REQUIRE(loaded);
    CHECK(loaded->value.reveal() == "access-1");
    CHECK(loaded->user_id == 42);
    CHECK(loaded->status == TokenStatus::active);
    CHECK(loaded->scope == "catalog:read");
    CHECK(loaded->created_at == token.created_at);
    CHECK(loaded->expires_at == token.expires_at);

    // An expired token is not stored, and the stored one stays.
    const auto sent = store->commands_sent();
    REQUIRE_FALSE(await_done(io, [&](auto h) {
        store->async_store_access_token("user:42", access_token("expired", -milliseconds(1)), std::move(h));
    }));
    CHECK(store->commands_sent() == sent);
    CHECK(load_access_token(io, *store)->value.reveal() == "access-1");

    // Replaced by a short-lived one, which Redis drops at its expiry.
    REQUIRE_FALSE(await_done(io, [&](auto h) {
        store->async_store_access_token("user:42", access_token("access-2", milliseconds(300)), std::move(h));
    }));
    CHECK(load_access_token(io, *store)->value.reveal() == "access-2");
    CHECK(eventually([&] { return !load_access_token(io, *store).has_value(); }));
}

TEST_CASE("RedisTokenStore: key_prefix and identity isolate entries", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto options = store_options(redis.port());
    auto a = RedisTokenStore::create(io.get_executor(), options);
    options.key_prefix = "other-service:";
    auto b = RedisTokenStore::create(io.get_executor(), options);

    REQUIRE(compare_and_swap(io, *a, "user:42", "", refresh_token("a-42")));
    REQUIRE(compare_and_swap(io, *a, "oauth:client", "", refresh_token("a-client")));
    CHECK_FALSE(load(io, *b, "user:42").has_value());
    CHECK(load(io, *a, "oauth:client")->value.reveal() == "a-client");
    CHECK(load(io, *a, "user:42")->value.reveal() == "a-42");
    CHECK(acquire(io, *a, "replica-a", milliseconds(60000)));
    CHECK(acquire(io, *b, "replica-b", milliseconds(60000)));

    auto raw = RedisConnection::create(io.get_executor(), connection_options(redis.port()));
    CHECK(command(io, *raw, {"HGET", "alation-auth:user:42:refresh_token", "value"}).reply.text == "a-42");
    CHECK(command(io, *raw, {"GET", "other-service:user:42:lease:regenerate"}).reply.text == "replica-b");
}

TEST_CASE("RedisTokenStore: AUTH with a password or an ACL user; a wrong password is token_store_error", "[redis]") {
    RedisServer redis({.password = "default-pass", .acl_user = "fleet", .acl_password = "fleet-pass"});
    asio::io_context io;
    auto options = store_options(redis.port());
    options.database = 2;

    SECTION("the default user") {
        options.password = Secret("default-pass");
        auto store = RedisTokenStore::create(io.get_executor(), options);
        CHECK(compare_and_swap(io, *store, "user:42", "", refresh_token("v")));
    }
    SECTION("an ACL user") {
        options.username = "fleet";
        options.password = Secret("fleet-pass");
        auto store = RedisTokenStore::create(io.get_executor(), options);
        CHECK(compare_and_swap(io, *store, "user:42", "", refresh_token("v")));
    }
    SECTION("a wrong password") {
        options.username = "fleet";
        options.password = Secret("the-wrong-password");
        auto store = RedisTokenStore::create(io.get_executor(), options);
        error_code ec;
        load(io, *store, "user:42", &ec);
        CHECK(ec == Error::token_store_error);
        CHECK(ec.message().find("the-wrong-password") == std::string::npos);
        CHECK(redis.log().find("the-wrong-password") == std::string::npos);
    }
}

TEST_CASE("RedisTokenStore: down, paused, restarted, closed", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto options = store_options(redis.port());
    options.command_timeout = milliseconds(300);
    auto store = RedisTokenStore::create(io.get_executor(), options);
    REQUIRE(compare_and_swap(io, *store, "user:42", "", refresh_token("v")));

    SECTION("paused: timeout within command_timeout, then the next operation succeeds") {
        redis.pause();
        error_code ec;
        const auto start = std::chrono::steady_clock::now();
        load(io, *store, "user:42", &ec);
        CHECK(ec == Error::timeout);
        CHECK(std::chrono::steady_clock::now() - start < options.command_timeout + milliseconds(700));
        redis.resume();
        CHECK(load(io, *store, "user:42")->value.reveal() == "v");
    }
    SECTION("restarted: the next operation reconnects (to an empty server)") {
        redis.restart();
        error_code ec;
        load(io, *store, "user:42", &ec);
        if (ec) CHECK(ec == Error::token_store_unavailable);
        CHECK_FALSE(load(io, *store, "user:42").has_value());
    }
    SECTION("down: token_store_unavailable at once") {
        redis.stop();
        error_code ec;
        load(io, *store, "user:42", &ec);  // may be the one that finds the connection closed
        const auto start = std::chrono::steady_clock::now();
        load(io, *store, "user:42", &ec);
        CHECK(ec == Error::token_store_unavailable);
        CHECK(std::chrono::steady_clock::now() - start < options.connect_timeout);
        // Back (empty): the failed connects left nothing behind.
        redis.restart();
        CHECK_FALSE(load(io, *store, "user:42").has_value());
    }
    SECTION("close() aborts pending operations") {
        redis.pause();
        std::optional<error_code> result;
        store->async_load("user:42", [&](error_code ec, const std::optional<RefreshToken>&) { result = ec; });
        store->close();
        run_until(io, [&] { return result.has_value(); });
        CHECK(*result == asio::error::operation_aborted);
        redis.resume();
    }
}

TEST_CASE("RedisTokenStore: handlers complete on their associated executor, never inside the call", "[redis]") {
    RedisServer redis;
    asio::io_context io;
    auto store = RedisTokenStore::create(io.get_executor(), store_options(redis.port()));
    check_completes_on_other_executor(io, [&](auto handler) { store->async_load("user:42", handler); });
}

TEST_CASE("RedisTokenStore: operations from many threads, on a multi-threaded executor", "[redis][concurrency]") {
    RedisServer redis;
    asio::thread_pool pool(4);
    auto store = RedisTokenStore::create(pool.get_executor(), store_options(redis.port()));
    constexpr int threads = 4;
    constexpr int per_thread = 100;
    std::mutex mutex;
    std::condition_variable all_done;
    int completed = 0;
    int acquired = 0;
    int errors = 0;
    std::vector<std::thread> callers;
    callers.reserve(threads);
    for (int t = 0; t < threads; ++t)
        callers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i)
                store->async_acquire_lease("user:42", "regenerate", "replica-" + std::to_string(t), milliseconds(60000),
                                           [&](error_code ec, bool got) {
                                               std::lock_guard lock(mutex);
                                               errors += ec ? 1 : 0;
                                               acquired += got ? 1 : 0;
                                               if (++completed == threads * per_thread) all_done.notify_one();
                                           });
        });
    for (auto& c : callers) c.join();
    std::unique_lock lock(mutex);
    // The bound is a safety net: every operation is bounded by command_timeout.
    REQUIRE(all_done.wait_for(lock, std::chrono::seconds(30), [&] { return completed == threads * per_thread; }));
    CHECK(errors == 0);
    // One replica holds the lease, re-entrantly: exactly its requests got it.
    CHECK(acquired == per_thread);
    lock.unlock();
    store.reset();
    pool.join();
}

// TLS

#if ALATION_AUTH_HAS_HIREDIS_SSL

namespace {

namespace certs = alation::auth::testing;

// A client certificate (extendedKeyUsage clientAuth, which a server checks) signed by `pki`'s CA.
certs::CertificateAndKey client_certificate(const certs::TestCertificates& pki) {
    using namespace certs::cert_detail;
    const Bio ca_pem(
        BIO_new_mem_buf(pki.ca().certificate_pem.data(), static_cast<int>(pki.ca().certificate_pem.size())));
    const Bio key_pem(
        BIO_new_mem_buf(pki.ca().private_key_pem.data(), static_cast<int>(pki.ca().private_key_pem.size())));
    REQUIRE(ca_pem);
    REQUIRE(key_pem);
    const Cert ca(PEM_read_bio_X509(ca_pem.get(), nullptr, nullptr, nullptr));
    const Pkey ca_key(PEM_read_bio_PrivateKey(key_pem.get(), nullptr, nullptr, nullptr));
    REQUIRE(ca);
    REQUIRE(ca_key);
    const Pkey key = make_key();
    const Cert cert = make_certificate(key.get(), "alation-auth test client",
                                       {.not_before_seconds = -hour, .not_after_seconds = day}, "critical,CA:FALSE",
                                       "critical,digitalSignature", "clientAuth", nullptr, ca.get(), ca_key.get());
    return {.certificate_pem = to_pem(cert.get()), .private_key_pem = to_pem(key.get())};
}

// The test PKI as PEM files in a private temporary directory, generated for the run (no key is
// checked in): the CA, the server's certificate for 127.0.0.1 and localhost, one for
// other.invalid only, a client certificate, and a CA that signed none of them.
class TlsFiles {
public:
    TlsFiles() {
        const auto& pki = certs::TestCertificates::shared();
        write_file(path("ca.pem"), pki.ca_certificate_pem());
        write_pair("server", pki.server(certs::CertificateKind::valid));
        write_pair("wrong-host", pki.server(certs::CertificateKind::wrong_host));
        write_pair("client", client_certificate(pki));
        write_file(path("other-ca.pem"), certs::TestCertificates().ca_certificate_pem());
    }

    [[nodiscard]] std::filesystem::path path(std::string_view name) const { return dir_.path() / name; }

    // A server presenting `name`'s certificate.
    [[nodiscard]] RedisServerOptions server(std::string_view name, bool require_client_certificate = false) const {
        RedisServerOptions o;
        o.tls = RedisServerTls{.certificate = path(std::string(name) + ".pem"),
                               .private_key = path(std::string(name) + "-key.pem"),
                               .ca = path("ca.pem"),
                               .require_client_certificate = require_client_certificate};
        return o;
    }

    // A store trusting the test CA only.
    [[nodiscard]] RedisTokenStoreOptions store(std::uint16_t port) const {
        auto o = store_options(port);
        o.tls.emplace();
        o.tls->ca_file = path("ca.pem").string();
        return o;
    }

    void with_client_certificate(RedisTokenStoreOptions& o) const {
        o.tls->certificate_file = path("client.pem").string();
        o.tls->private_key_file = path("client-key.pem").string();
    }

private:
    void write_pair(std::string_view name, const certs::CertificateAndKey& pair) const {
        write_file(path(std::string(name) + ".pem"), pair.certificate_pem);
        write_file(path(std::string(name) + "-key.pem"), pair.private_key_pem);
    }

    TempDir dir_;
};

// A refresh token and a shared access token stored and read back.
void round_trip(asio::io_context& io, RedisTokenStore& store) {
    REQUIRE(compare_and_swap(io, store, "user:42", "", refresh_token("over-tls")));
    auto loaded = load(io, store, "user:42");
    REQUIRE(loaded);
    CHECK(loaded->value.reveal() == "over-tls");
    REQUIRE_FALSE(await_done(io, [&](auto h) {
        store.async_store_access_token("user:42", access_token("access-over-tls", std::chrono::hours(1)), std::move(h));
    }));
    auto access = load_access_token(io, store);
    REQUIRE(access);
    CHECK(access->value.reveal() == "access-over-tls");
}

// What a load fails with, twice: a connection that failed is not reused.
error_code load_error(asio::io_context& io, RedisTokenStore& store) {
    error_code first;
    error_code second;
    load(io, store, "user:42", &first);
    load(io, store, "user:42", &second);
    CHECK(first == second);
    return first;
}

}  // namespace

TEST_CASE("RedisTokenStore over TLS: round trips; the CA, the name and the handshake's time are checked",
          "[redis][tls]") {
    TlsFiles files;
    RedisServer redis(files.server("server"));
    asio::io_context io;
    auto options = files.store(redis.port());

    SECTION("an IP address, matched against the certificate's IP addresses") {
        auto store = RedisTokenStore::create(io.get_executor(), options);
        round_trip(io, *store);
    }
    SECTION("server_name localhost, matched against the certificate's DNS names and sent as SNI") {
        options.tls->server_name = "localhost";
        auto store = RedisTokenStore::create(io.get_executor(), options);
        round_trip(io, *store);
    }
    SECTION("a CA that did not sign the server's certificate: token_store_unavailable, without secrets") {
        options.tls->ca_file = files.path("other-ca.pem").string();
        options.password = Secret("tls-redis-password");
        auto store = RedisTokenStore::create(io.get_executor(), options);
        const error_code ec = load_error(io, *store);
        CHECK(ec == Error::token_store_unavailable);
        CHECK(ec.message() == "the token store is unreachable");
        CHECK(redis.log().find("tls-redis-password") == std::string::npos);
    }
    SECTION("a name the certificate does not hold: token_store_unavailable") {
        options.tls->server_name = "other.invalid";
        auto store = RedisTokenStore::create(io.get_executor(), options);
        CHECK(load_error(io, *store) == Error::token_store_unavailable);
    }
    SECTION("a server that does not answer the handshake: timeout within connect_timeout") {
        options.connect_timeout = milliseconds(200);
        options.command_timeout = milliseconds(5000);
        auto store = RedisTokenStore::create(io.get_executor(), options);
        redis.pause();
        error_code ec;
        const auto start = std::chrono::steady_clock::now();
        load(io, *store, "user:42", &ec);
        CHECK(ec == Error::timeout);
        CHECK(std::chrono::steady_clock::now() - start < milliseconds(2000));
        redis.resume();
        round_trip(io, *store);
    }
}

TEST_CASE("RedisTokenStore over TLS: AUTH and SELECT after the handshake", "[redis][tls]") {
    TlsFiles files;
    auto server = files.server("server");
    server.password = "tls-redis-password";
    RedisServer redis(server);
    asio::io_context io;
    auto options = files.store(redis.port());
    options.database = 1;
    {
        auto store = RedisTokenStore::create(io.get_executor(), options);
        CHECK(load_error(io, *store) == Error::token_store_error);  // NOAUTH, over TLS
    }
    options.password = Secret("tls-redis-password");
    auto store = RedisTokenStore::create(io.get_executor(), options);
    round_trip(io, *store);
    CHECK(store->commands_sent() == 6);  // AUTH, SELECT and the four of round_trip
}

TEST_CASE("RedisTokenStore over TLS: a certificate for another name fails, unless server_name is that name",
          "[redis][tls]") {
    TlsFiles files;
    RedisServer redis(files.server("wrong-host"));
    asio::io_context io;
    auto options = files.store(redis.port());
    {
        auto store = RedisTokenStore::create(io.get_executor(), options);
        CHECK(load_error(io, *store) == Error::token_store_unavailable);
    }
    options.tls->server_name = "other.invalid";
    auto store = RedisTokenStore::create(io.get_executor(), options);
    round_trip(io, *store);
}

TEST_CASE("RedisTokenStore over TLS: a client certificate the server requires", "[redis][tls]") {
    TlsFiles files;
    RedisServer redis(files.server("server", true));
    asio::io_context io;
    auto options = files.store(redis.port());

    SECTION("given: accepted") {
        files.with_client_certificate(options);
        auto store = RedisTokenStore::create(io.get_executor(), options);
        round_trip(io, *store);
    }
    SECTION("absent: token_store_unavailable") {
        auto store = RedisTokenStore::create(io.get_executor(), options);
        CHECK(load_error(io, *store) == Error::token_store_unavailable);
    }
}

TEST_CASE("RedisTokenStore over TLS: unusable files and options are errors at create", "[redis][tls]") {
    TlsFiles files;
    asio::io_context io;
    auto options = files.store(6379);

    SECTION("a CA file that is not there: ErrorWithDiagnostics naming it") {
        options.tls->ca_file = files.path("absent.pem").string();
        try {
            RedisTokenStore::create(io.get_executor(), options);
            FAIL("create did not throw");
        } catch (const ErrorWithDiagnostics& e) {
            CHECK(e.code().category() == asio::error::get_ssl_category());
            CHECK(e.diagnostics().message() == "cannot load RedisTlsOptions::ca_file " + options.tls->ca_file);
        }
    }
    SECTION("a private key that is not the certificate's") {
        files.with_client_certificate(options);
        options.tls->private_key_file = files.path("server-key.pem").string();
        try {
            RedisTokenStore::create(io.get_executor(), options);
            FAIL("create did not throw");
        } catch (const ErrorWithDiagnostics& e) {
            CHECK(e.diagnostics().message() == "cannot use RedisTlsOptions::private_key_file " +
                                                   options.tls->private_key_file + " as the key of certificate_file");
        }
    }
    SECTION("a certificate without its key") {
        options.tls->certificate_file = files.path("client.pem").string();
        CHECK_THROWS_AS(RedisTokenStore::create(io.get_executor(), options), std::invalid_argument);
    }
}

#else

TEST_CASE("RedisTokenStore: TLS options on a hiredis without TLS are refused at create, saying why", "[redis][tls]") {
    asio::io_context io;
    auto options = store_options(6379);
    options.tls.emplace();
    try {
        RedisTokenStore::create(io.get_executor(), options);
        FAIL("create did not throw");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        CHECK(what.find("RedisTokenStoreOptions::tls") != std::string::npos);
        CHECK(what.find("has no TLS") != std::string::npos);
        CHECK(what.find("hiredis 1.0 or later with hiredis_ssl") != std::string::npos);
    }
    options.tls.reset();
    CHECK(RedisTokenStore::create(io.get_executor(), options) != nullptr);
}

#endif
