// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// The Client against the fake Alation: every call, every completion style, HTTP and TLS, the
// connection pool, concurrency and per-operation cancellation.
#include "client_test_support.hpp"

#include <catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution/any_executor.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <optional>
#include <thread>
#include <vector>

using namespace alation::auth;
using namespace alation::auth::test;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// Every call of the Client, awaited with the default completion token; checks what comes back.
awaitable<void> exercise_every_call(Client& client, Fixture& f) {
    const auto before = SteadyClock::now();
    // Named arguments throughout: GCC 12 destroys a temporary in a co_await expression twice.
    const Credentials credentials = f.credentials();
    RefreshToken refresh = co_await client.create_refresh_token(credentials);
    CHECK(refresh.user_id == f.user_id);
    CHECK(refresh.name == "etl");
    CHECK(refresh.status == TokenStatus::active);
    CHECK(refresh.value.size() == 80);
    CHECK(refresh.lifetime() == std::chrono::hours(24 * 60));
    CHECK(refresh.requested_at >= before);
    CHECK(refresh.requested_at <= SteadyClock::now());
    CHECK(f.fake.refresh_tokens_created() == 1);

    AccessToken access = co_await client.create_access_token(refresh);
    CHECK(access.user_id == f.user_id);
    CHECK(access.status == TokenStatus::active);
    CHECK(access.value.size() == 48);
    CHECK(access.lifetime() == std::chrono::hours(24));
    CHECK(access.requested_at >= refresh.requested_at);
    CHECK(f.fake.access_tokens_minted() == 1);

    RefreshToken validated = co_await client.validate_refresh_token(refresh);
    CHECK(validated.value == refresh.value);
    CHECK(validated.last_used_at.has_value());  // createAPIAccessToken used it

    AccessToken access_validated = co_await client.validate_access_token(access);
    CHECK(access_validated.value == access.value);
    CHECK(access_validated.expires_at == access.expires_at);

    RevokeResult revoked = co_await client.revoke_access_tokens(refresh);
    CHECK(revoked.detail.find("Revoked active access tokens for refresh token: 'etl'") == 0);

    RefreshToken regenerated = co_await client.regenerate_refresh_token(refresh);
    CHECK(regenerated.value != refresh.value);
    CHECK(regenerated.user_id == f.user_id);

    // The old refresh token stopped working; the new one mints.
    Diagnostics diag;
    auto [ec, none] = co_await client.create_access_token(refresh, diag, asio::as_tuple(use_awaitable));
    CHECK(ec == Error::refresh_token_expired_or_revoked);
    CHECK(none.value.empty());
    CHECK(diag.http_status() == 401);
    AccessToken fresh = co_await client.create_access_token(regenerated.value, regenerated.user_id);
    CHECK(fresh.value.size() == 48);
}

}  // namespace

TEST_CASE("every call over HTTP, awaited with the default token") {
    Fixture f;
    Client client = f.client();
    run(f.io, [&]() -> awaitable<void> { co_await exercise_every_call(client, f); });
    CHECK(f.fake.connections_accepted() == 1);
}

TEST_CASE("every call over TLS, trusting the fake's CA through ca_file") {
    Fixture f(FakeAlationOptions{.tls = true});
    REQUIRE(f.fake.base_url().rfind("https://localhost:", 0) == 0);
    Client client = f.client(f.tls_options());
    run(f.io, [&]() -> awaitable<void> { co_await exercise_every_call(client, f); });
    CHECK(f.fake.connections_accepted() == 1);
}

TEST_CASE("every call over TLS, with the caller's ssl_context") {
    Fixture f(FakeAlationOptions{.tls = true});
    ClientOptions options = fast_options();
    options.ssl_context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    options.ssl_context->add_certificate_authority(asio::buffer(f.fake.ca_certificate_pem()));
    Client client = f.client(options);
    run(f.io, [&]() -> awaitable<void> { co_await exercise_every_call(client, f); });
}

TEST_CASE("TLS to an IP address verifies the certificate's IP SAN") {
    Fixture f(FakeAlationOptions{.tls = true});
    Client client(f.io.get_executor(), "https://127.0.0.1:" + std::to_string(f.fake.port()), f.tls_options());
    run(f.io, [&]() -> awaitable<void> {
        AccessToken t = co_await client.create_access_token(f.refresh_token());
        CHECK(t.user_id == f.user_id);
    });
}

TEST_CASE("the default token throws ErrorWithDiagnostics: wrong password") {
    Fixture f;
    Client client = f.client();
    run(f.io, [&]() -> awaitable<void> {
        try {
            co_await client.create_refresh_token(f.credentials("wrong-password"));
            FAIL("no exception");
        } catch (const ErrorWithDiagnostics& e) {
            CHECK(e.code() == Error::invalid_credentials);
            CHECK(e.diagnostics().http_status() == 401);
            CHECK(e.diagnostics().server_detail() == "Invalid username or password.");
            CHECK(e.diagnostics().server_code() == "401000");
        }
    });
    // 401 is never retried.
    CHECK(f.fake.request_count(create_refresh_path()) == 1);
}

TEST_CASE("callbacks: completion on the io_context, never inside the initiating call") {
    Fixture f;
    Client client = f.client();
    RefreshToken refresh = f.refresh_token();
    std::optional<AccessToken> got;
    error_code got_ec = Error::timeout;
    client.create_access_token(refresh, [&](error_code ec, AccessToken t) {
        got_ec = ec;
        got = std::move(t);
    });
    CHECK(!got);  // not inline
    Diagnostics diag;
    std::optional<error_code> bad_ec;
    client.create_access_token(Secret("not-a-token"), f.user_id, diag,
                               [&](error_code ec, AccessToken) { bad_ec = ec; });
    run_until(f.io, [&] { return got && bad_ec; });
    CHECK(got_ec == error_code{});
    REQUIRE(got);
    CHECK(got->user_id == f.user_id);
    CHECK(bad_ec == Error::invalid_refresh_token);
    CHECK(diag.http_status() == 401);
    CHECK(diag.server_detail() == "Refresh token provided is invalid.");
}

TEST_CASE("completion on the handler's associated executor, whether or not it is an any_io_executor") {
    Fixture f;
    Client client = f.client();
    RefreshToken refresh = f.refresh_token();
    auto strand = asio::make_strand(f.io);
    // A strand converts to any_io_executor; an executor with fewer properties does not, and takes
    // the path where the call's executor dispatches the handler to the handler's own.
    using NeverBlocking = asio::execution::any_executor<asio::execution::blocking_t::never_t>;
    std::optional<bool> on_strand, on_never_blocking;
    client.create_access_token(refresh, asio::bind_executor(strand, [&](error_code ec, AccessToken) {
                                   CHECK_FALSE(ec);
                                   on_strand = strand.running_in_this_thread();
                               }));
    client.create_access_token(refresh, asio::bind_executor(NeverBlocking(strand), [&](error_code ec, AccessToken t) {
                                   CHECK_FALSE(ec);
                                   CHECK(t.user_id == f.user_id);
                                   on_never_blocking = strand.running_in_this_thread();
                               }));
    CHECK_FALSE(on_strand);  // not inline
    CHECK_FALSE(on_never_blocking);
    run_until(f.io, [&] { return on_strand && on_never_blocking; });
    CHECK(*on_strand);
    CHECK(*on_never_blocking);
}

TEST_CASE("a failure completes without running the handler inline, even before any I/O") {
    asio::io_context io;
    // Nothing listens on port 1; the failure still comes from the io_context.
    ClientOptions options = fast_options();
    options.retry = RetryPolicy::none();
    Client client(io.get_executor(), "http://127.0.0.1:1", options);
    bool called = false;
    client.validate_access_token(Secret("x"), 1, [&](error_code ec, AccessToken) {
        called = true;
        CHECK(ec == asio::error::connection_refused);
    });
    CHECK(!called);
    io.run();
    CHECK(called);
}

TEST_CASE("a caller's mistake fails with invalid_argument, without a request, never inline") {
    Fixture f;
    Client client = f.client();
    const RefreshToken valid = f.refresh_token();
    struct Case {
        std::function<void(Diagnostics&, std::function<void(error_code)>)> call;
        std::string message;
    };
    const auto done = [](std::function<void(error_code)> h) {
        return [h = std::move(h)](error_code ec, auto&&) { h(ec); };
    };
    const Secret empty;
    const Credentials no_user{"", Secret(password), "etl"};
    const Credentials no_password{"alice", Secret(), "etl"};
    const std::vector<Case> cases = {
        {[&](Diagnostics& d, auto h) { client.create_access_token(empty, f.user_id, d, done(h)); },
         "the token is empty"},
        {[&](Diagnostics& d, auto h) { client.create_access_token(valid.value, 0, d, done(h)); },
         "user_id must be positive"},
        {[&](Diagnostics& d, auto h) { client.validate_access_token(valid.value, -7, d, done(h)); },
         "user_id must be positive"},
        {[&](Diagnostics& d, auto h) { client.revoke_access_tokens(empty, f.user_id, d, done(h)); },
         "the token is empty"},
        {[&](Diagnostics& d, auto h) { client.create_refresh_token(no_user, d, done(h)); }, "the username is empty"},
        {[&](Diagnostics& d, auto h) { client.create_refresh_token(no_password, d, done(h)); },
         "the password is empty"},
    };
    for (const auto& c : cases) {
        Diagnostics diag;
        std::optional<error_code> result;
        c.call(diag, [&](error_code ec) { result = ec; });
        CHECK_FALSE(result);  // not inside the initiating call
        run_until(f.io, [&] { return result.has_value(); });
        CHECK(*result == Error::invalid_argument);
        CHECK(diag.message() == c.message);
        CHECK(diag.http_status() == 0);
    }
    CHECK(f.fake.request_count(access_path()) == 0);
    CHECK(f.fake.request_count(create_refresh_path()) == 0);
}

TEST_CASE("as_tuple(use_awaitable) and use_future") {
    Fixture f;
    Client client = f.client();
    RefreshToken refresh = f.refresh_token();
    run(f.io, [&]() -> awaitable<void> {
        auto [ec, token] = co_await client.create_access_token(refresh, asio::as_tuple(use_awaitable));
        CHECK(!ec);
        CHECK(token.user_id == f.user_id);
        // A named Secret: GCC 12 destroys a temporary in a co_await expression twice.
        const Secret unknown("nope");
        auto [ec2, token2] = co_await client.validate_refresh_token(unknown, f.user_id, asio::as_tuple(use_awaitable));
        CHECK(ec2 == Error::invalid_refresh_token);
    });

    std::future<AccessToken> future = client.create_access_token(refresh, asio::use_future);
    std::future<AccessToken> failing = client.validate_access_token(Secret("nope"), f.user_id, asio::use_future);
    std::thread runner([&] { f.io.run(); });
    AccessToken t = future.get();
    CHECK(t.user_id == f.user_id);
    try {
        failing.get();
        FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        CHECK(e.code() == Error::invalid_access_token);
    }
    f.io.stop();
    runner.join();
}

TEST_CASE("base URL parsing") {
    using detail::BaseUrl;
    auto parse = [](std::string_view url, bool insecure = false) {
        BaseUrl out;
        Diagnostics diag;
        error_code ec = detail::parse_base_url(url, insecure, out, diag);
        return std::tuple(ec, out, diag.message());
    };
    {
        auto [ec, u, why] = parse("https://catalog.example.com");
        CHECK(!ec);
        CHECK(u.tls);
        CHECK(u.host == "catalog.example.com");
        CHECK(u.port == "443");
        CHECK(u.host_header == "catalog.example.com");
        CHECK(u.path_prefix.empty());
        CHECK(!u.host_is_ip);
    }
    {
        auto [ec, u, why] = parse("HTTPS://Host.Example:8443/prefix/");
        CHECK(!ec);
        CHECK(u.port == "8443");
        CHECK(u.host_header == "Host.Example:8443");
        CHECK(u.path_prefix == "/prefix");
    }
    {
        auto [ec, u, why] = parse("http://[::1]:8080/a/b");
        CHECK(!ec);
        CHECK(!u.tls);
        CHECK(u.host == "::1");
        CHECK(u.host_is_ip);
        CHECK(u.host_header == "[::1]:8080");
        CHECK(u.path_prefix == "/a/b");
    }
    CHECK(std::get<0>(parse("http://127.0.0.2")) == error_code{});
    CHECK(std::get<0>(parse("http://LOCALHOST:1/")) == error_code{});
    CHECK(std::get<1>(parse("http://localhost")).port == "80");
    CHECK(std::get<0>(parse("http://catalog.example.com")) == Error::insecure_url);
    CHECK(std::get<0>(parse("http://128.0.0.1")) == Error::insecure_url);
    CHECK(std::get<0>(parse("http://catalog.example.com", true)) == error_code{});
    for (std::string_view bad : {"", "catalog.example.com", "ftp://host", "https://", "https:///path",
                                 "https://user:pw@host", "https://host/?q=1", "https://host/#f", "https://host:0",
                                 "https://host:99999", "https://host:", "https://ho st"}) {
        INFO(bad);
        auto [ec, u, why] = parse(bad);
        CHECK(ec == Error::invalid_url);
        CHECK(!why.empty());
    }
    CHECK(std::get<2>(parse("https://user:pw@host")) == "credentials in the URL are not supported");

    asio::io_context io;
    try {
        Client client(io.get_executor(), "http://catalog.example.com");
        FAIL("no exception");
    } catch (const ErrorWithDiagnostics& e) {
        CHECK(e.code() == Error::insecure_url);
        CHECK(e.diagnostics().message() ==
              "plain http is allowed only to loopback hosts; use https or set allow_insecure_http");
    }
    try {
        Client client(io.get_executor(), "ftp://catalog.example.com");
        FAIL("no exception");
    } catch (const ErrorWithDiagnostics& e) {
        CHECK(e.code() == Error::invalid_url);
        CHECK(e.diagnostics().message() == "the scheme must be http or https");
    }
    ClientOptions bad_ca;
    bad_ca.ca_file = "/nonexistent/ca.pem";
    CHECK_THROWS_AS(Client(io.get_executor(), "https://catalog.example.com", bad_ca), ErrorWithDiagnostics);
}

TEST_CASE("a proxy URL that cannot be used makes the constructor throw, never a direct connection", "[proxy]") {
    asio::io_context io;
    for (std::string_view bad : {"https://proxy.corp:3128", "socks5://proxy.corp:1080", "http://proxy.corp:99999",
                                 "http://alice:s3cr%zzt@proxy.corp:3128", "http://"}) {
        INFO(bad);
        ClientOptions options;
        options.proxy = Secret(std::string(bad));
        try {
            Client client(io.get_executor(), "https://catalog.example.com", options);
            FAIL("no exception");
        } catch (const ErrorWithDiagnostics& e) {
            CHECK(e.code() == Error::invalid_url);
            CHECK(e.diagnostics().message().find("ClientOptions::proxy") != std::string::npos);
            CHECK(e.diagnostics().to_string().find("s3cr") == std::string::npos);
        }
    }
}

TEST_CASE("through a proxy that cannot be reached: its error, and the server never contacted", "[proxy]") {
    Fixture f;
    std::string port;
    {
        // A loopback port nothing listens on.
        asio::ip::tcp::acceptor acceptor(f.io, {asio::ip::make_address("127.0.0.1"), 0});
        port = std::to_string(acceptor.local_endpoint().port());
    }
    ClientOptions options = fast_options();
    options.retry = RetryPolicy::none();
    options.proxy = Secret("http://bob:pw@127.0.0.1:" + port);
    Client client = f.client(options);
    Diagnostics diag;
    error_code ec;
    run(f.io, [&]() -> asio::awaitable<void> {
        auto [e, token] =
            co_await client.create_access_token(f.refresh_token(), diag, asio::as_tuple(asio::use_awaitable));
        ec = e;
    });
    CHECK(ec == asio::error::connection_refused);
    CHECK(diag.message() == "cannot connect to the proxy http://127.0.0.1:" + port);
    CHECK(f.fake.request_count(access_path()) == 0);
}

TEST_CASE("a path prefix goes in front of every endpoint path") {
    Fixture f;
    Client client(f.io.get_executor(), f.fake.base_url() + "/prefix/", fast_options());
    run(f.io, [&]() -> awaitable<void> {
        Diagnostics diag;
        auto [ec, t] = co_await client.create_access_token(f.refresh_token(), diag, asio::as_tuple(use_awaitable));
        // The fake serves no prefix: it saw the prefixed path and answered 404.
        CHECK(ec == Error::unexpected_status);
        CHECK(diag.http_status() == 404);
    });
    CHECK(f.fake.request_count("/prefix" + access_path()) == 1);
    CHECK(f.fake.request_count(access_path()) == 0);
}

TEST_CASE("keep-alive: one connection for many sequential calls") {
    Fixture f(FakeAlationOptions{.tls = true});
    Client client = f.client(f.tls_options());
    RefreshToken refresh = f.refresh_token();
    run(f.io, [&]() -> awaitable<void> {
        for (int i = 0; i < 5; ++i) co_await client.create_access_token(refresh);
        // Error statuses keep the connection too.
        const Secret unknown("nope");
        auto [ec, t] = co_await client.validate_access_token(unknown, f.user_id, asio::as_tuple(use_awaitable));
        CHECK(ec == Error::invalid_access_token);
        co_await client.create_access_token(refresh);
    });
    CHECK(f.fake.access_tokens_minted() == 6);
    CHECK(f.fake.connections_accepted() == 1);

    client.close_idle_connections();
    run(f.io, [&]() -> awaitable<void> { co_await client.create_access_token(refresh); });
    CHECK(f.fake.connections_accepted() == 2);
}

TEST_CASE("a server closing idle connections is survived transparently") {
    for (bool tls : {false, true}) {
        INFO("tls " << tls);
        Fixture f(FakeAlationOptions{.tls = tls});
        ClientOptions options = tls ? f.tls_options() : fast_options();
        options.retry = RetryPolicy::none();  // the fresh connection must not count as a retry
        Client client = f.client(options);
        RefreshToken refresh = f.refresh_token();
        f.fake.inject(access_path(), Fault{.kind = Fault::Kind::close_after_response}, 3);
        run(f.io, [&]() -> awaitable<void> {
            for (int i = 0; i < 4; ++i) {
                AccessToken t = co_await client.create_access_token(refresh);
                CHECK(t.user_id == f.user_id);
            }
        });
        CHECK(f.fake.access_tokens_minted() == 4);
        CHECK(f.fake.request_count(access_path()) == 4);
        CHECK(f.fake.connections_accepted() == 4);
    }
}

TEST_CASE("an idle connection the server closed is detected before it is reused") {
    Fixture f;
    ClientOptions options = fast_options();
    options.retry = RetryPolicy::none();
    Client client = f.client(options);
    f.fake.inject(access_path(), Fault{.kind = Fault::Kind::close_after_response});
    run(f.io, [&]() -> awaitable<void> {
        co_await client.create_access_token(f.refresh_token());
        // Let the server's close arrive; then createRefreshToken, which is never sent twice, must
        // go out on a fresh connection rather than fail on the dead one.
        asio::steady_timer pause(co_await asio::this_coro::executor, 100ms);
        co_await pause.async_wait(use_awaitable);
        const Credentials credentials = f.credentials();
        RefreshToken t = co_await client.create_refresh_token(credentials);
        CHECK(t.user_id == f.user_id);
    });
    CHECK(f.fake.request_count(create_refresh_path()) == 1);
    CHECK(f.fake.connections_accepted() == 2);
}

TEST_CASE("the server closing a reused connection mid-call: one fresh connection, not a retry") {
    Fixture f;
    ClientOptions options = fast_options();
    options.retry = RetryPolicy::none();
    Client client = f.client(options);
    RefreshToken refresh = f.refresh_token();
    run(f.io, [&]() -> awaitable<void> {
        co_await client.create_access_token(refresh);
        // The pooled connection is still open, so it is reused; the server resets it unanswered.
        f.fake.inject(access_path(), Fault{.kind = Fault::Kind::reset_before_response});
        AccessToken t = co_await client.create_access_token(refresh);
        CHECK(t.user_id == f.user_id);
    });
    CHECK(f.fake.request_count(access_path()) == 3);
    CHECK(f.fake.connections_accepted() == 2);
}

TEST_CASE("20+ concurrent calls from several coroutines", "[concurrency]") {
    Fixture f(FakeAlationOptions{.tls = true});
    Client client = f.client(f.tls_options());
    RefreshToken refresh = f.refresh_token();
    constexpr int coroutines = 6, calls_each = 4;
    int done = 0;
    std::vector<std::string> values;
    for (int c = 0; c < coroutines; ++c) {
        asio::co_spawn(
            f.io,
            [&]() -> awaitable<void> {
                // All calls of one coroutine in flight at once, too.
                using namespace asio::experimental::awaitable_operators;
                auto [a, b] = co_await (client.create_access_token(refresh, use_awaitable) &&
                                        client.create_access_token(refresh, use_awaitable));
                values.push_back(std::string(a.value.reveal()));
                values.push_back(std::string(b.value.reveal()));
                for (int i = 2; i < calls_each; ++i) {
                    AccessToken t = co_await client.create_access_token(refresh);
                    values.push_back(std::string(t.value.reveal()));
                }
                ++done;
            },
            [](std::exception_ptr e) {
                if (e) std::rethrow_exception(e);
            });
    }
    run_until(f.io, [&] { return done == coroutines; });
    CHECK(f.fake.access_tokens_minted() == coroutines * calls_each);
    std::sort(values.begin(), values.end());
    CHECK(std::unique(values.begin(), values.end()) == values.end());
    CHECK(f.fake.connections_accepted() <= 2 * coroutines);
}

TEST_CASE("calls from a 4-thread io_context", "[concurrency]") {
    asio::io_context server_io;
    FakeAlation fake(server_io.get_executor(), FakeAlationOptions{.tls = true});
    auto user = fake.add_user("bob", password);
    RefreshToken refresh = fake.issue_refresh_token(user, "etl");
    auto work = asio::make_work_guard(server_io);
    std::thread server([&] { server_io.run(); });

    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("alation-mt-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    ClientOptions options = fast_options();
    options.ca_file = fake.write_ca_file(dir);
    options.request_timeout = 5s;

    asio::io_context io(4);
    Client client(io.get_executor(), fake.base_url(), options);
    std::atomic<int> ok{0}, failed{0};
    for (int c = 0; c < 8; ++c) {
        asio::co_spawn(
            io,
            [&]() -> awaitable<void> {
                for (int i = 0; i < 5; ++i) {
                    auto [ec, t] = co_await client.create_access_token(refresh, asio::as_tuple(use_awaitable));
                    (ec || t.user_id != user ? failed : ok)++;
                }
            },
            asio::detached);
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
    for (auto& t : threads) t.join();
    work.reset();
    fake.stop();
    server.join();
    std::filesystem::remove_all(dir);
    CHECK(ok == 40);
    CHECK(failed == 0);
    CHECK(fake.access_tokens_minted() == 40);
}

TEST_CASE("per-operation cancellation, every type, ends the call and drops its connection") {
    for (auto type :
         {asio::cancellation_type::terminal, asio::cancellation_type::partial, asio::cancellation_type::total}) {
        INFO("type " << static_cast<int>(type));
        Fixture f;
        ClientOptions options = fast_options();
        options.request_timeout = 10s;
        Client client = f.client(options);
        RefreshToken refresh = f.refresh_token();
        f.fake.inject(access_path(), Fault{.kind = Fault::Kind::never_answer});

        asio::cancellation_signal signal;
        std::optional<error_code> result;
        client.create_access_token(
            refresh, asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, AccessToken) { result = ec; }));
        asio::steady_timer timer(f.io, 50ms);
        timer.async_wait([&](error_code) { signal.emit(type); });
        const auto start = SteadyClock::now();
        const auto completed = [&] { return result.has_value(); };
        run_until(f.io, completed, 3s);
        CHECK(*result == asio::error::operation_aborted);
        CHECK(SteadyClock::now() - start < 2s);

        // The aborted connection was closed, not pooled: the next call opens a new one.
        run(f.io, [&]() -> awaitable<void> { co_await client.create_access_token(refresh); });
        CHECK(f.fake.connections_accepted() == 2);
    }
}

TEST_CASE("cancellation through awaitable operators, and during a backoff wait") {
    using namespace asio::experimental::awaitable_operators;
    Fixture f;
    ClientOptions options = fast_options();
    options.request_timeout = 10s;
    options.retry.initial_backoff = 10s;
    options.retry.max_backoff = 10s;
    Client client = f.client(options);
    RefreshToken refresh = f.refresh_token();
    run(f.io, [&]() -> awaitable<void> {
        f.fake.inject(access_path(), Fault{.kind = Fault::Kind::never_answer});
        asio::steady_timer timer(co_await asio::this_coro::executor, 50ms);
        auto first = co_await (client.create_access_token(refresh, use_awaitable) || timer.async_wait(use_awaitable));
        CHECK(first.index() == 1);

        // A 503 starts a backoff of up to 10 s (the draw may make it short: retry then sees a
        // second 503 and waits again); the timer cancels the wait.
        f.fake.inject(access_path(), Fault{.status = 503}, 3);
        const auto start = SteadyClock::now();
        timer.expires_after(100ms);
        auto second = co_await (client.create_access_token(refresh, use_awaitable) || timer.async_wait(use_awaitable));
        CHECK(second.index() == 1);
        CHECK(SteadyClock::now() - start < 2s);

        f.fake.clear_faults();
        AccessToken t = co_await client.create_access_token(refresh);
        CHECK(t.user_id == f.user_id);
    });
}

// --- OAuth 2.0 client credentials ------------------------------------------------------------

namespace {

const std::string oauth_secret = "oauth-Client-S3cret/+=";

std::string oauth_token_path() { return std::string(detail::path(detail::Endpoint::oauth_token)); }

struct OAuthFixture : Fixture {
    explicit OAuthFixture(FakeAlationOptions options = {}) : Fixture(options) {
        fake.add_oauth_client("svc:etl", oauth_secret, std::chrono::hours(2));
    }
    OAuthClientCredentials oauth(std::string secret = oauth_secret) const { return {"svc:etl", Secret(secret)}; }
    Client oauth_client(OAuthClientAuthentication how) {
        ClientOptions o = fast_options();
        o.oauth_client_authentication = how;
        return client(o);
    }
};

constexpr OAuthClientAuthentication both_ways[] = {OAuthClientAuthentication::client_secret_basic,
                                                   OAuthClientAuthentication::client_secret_post};

}  // namespace

TEST_CASE("OAuth: a JWT through Basic and through the form body, then introspected", "[oauth]") {
    for (const OAuthClientAuthentication how : both_ways) {
        INFO(static_cast<int>(how));
        OAuthFixture f;
        Client client = f.oauth_client(how);
        run(f.io, [&]() -> awaitable<void> {
            const auto before = SteadyClock::now();
            const OAuthClientCredentials credentials = f.oauth();
            AccessToken jwt = co_await client.create_oauth_token(credentials);
            CHECK(std::count(jwt.value.reveal().begin(), jwt.value.reveal().end(), '.') == 2);
            CHECK(jwt.lifetime() == std::chrono::hours(2));
            CHECK(jwt.user_id == 0);
            CHECK(jwt.scope == "api");
            CHECK(jwt.status == TokenStatus::active);
            CHECK(jwt.requested_at >= before);
            CHECK(jwt.local_expiry() <= SteadyClock::now() + std::chrono::hours(2));
            CHECK(f.fake.oauth_tokens_minted() == 1);

            OAuthTokenInfo info = co_await client.introspect_oauth_token(credentials, jwt.value);
            CHECK(info.active);
            CHECK(info.client_id == "svc:etl");
            REQUIRE(info.expires_at.has_value());
            REQUIRE(info.issued_at.has_value());
            CHECK(*info.expires_at - *info.issued_at == std::chrono::hours(2));

            f.fake.expire_oauth_token(jwt.value);
            info = co_await client.introspect_oauth_token(credentials, jwt.value);
            CHECK_FALSE(info.active);
            CHECK(info.client_id.empty());
        });
    }
}

TEST_CASE("OAuth: without expires_in the lifetime is the JWT's exp - iat", "[oauth]") {
    OAuthFixture f(FakeAlationOptions{.oauth_scope = "", .oauth_created_at = true, .oauth_expires_in = false});
    Client client = f.client();
    run(f.io, [&]() -> awaitable<void> {
        const OAuthClientCredentials credentials = f.oauth();
        AccessToken jwt = co_await client.create_oauth_token(credentials);
        CHECK(jwt.lifetime() == std::chrono::hours(2));
        CHECK(jwt.scope.empty());
    });
}

TEST_CASE("OAuth: invalid_client is final and never retried, and the secret stays out", "[oauth]") {
    for (const OAuthClientAuthentication how : both_ways) {
        INFO(static_cast<int>(how));
        OAuthFixture f(FakeAlationOptions{.oauth_invalid_client_code = true});
        Client client = f.oauth_client(how);
        run(f.io, [&]() -> awaitable<void> {
            Diagnostics diag;
            const OAuthClientCredentials wrong = f.oauth("wrong-Secret-99");
            auto [ec, jwt] = co_await client.create_oauth_token(wrong, diag, asio::as_tuple(use_awaitable));
            CHECK(ec == Error::invalid_client_credentials);
            CHECK(jwt.value.empty());
            CHECK(diag.http_status() == 401);
            CHECK(diag.server_code() == "invalid_client");
            CHECK_FALSE(diag.server_detail().empty());
            CHECK(diag.to_string().find("wrong-Secret-99") == std::string::npos);
            CHECK(f.fake.request_count(oauth_token_path()) == 1);

            const OAuthClientCredentials credentials = f.oauth();
            const Secret jwt_value = f.fake.issue_oauth_token("svc:etl");
            auto [ec2, info] =
                co_await client.introspect_oauth_token(wrong, jwt_value, diag, asio::as_tuple(use_awaitable));
            CHECK(ec2 == Error::invalid_client_credentials);
            CHECK_FALSE(info.active);
            OAuthTokenInfo good = co_await client.introspect_oauth_token(credentials, jwt_value);
            CHECK(good.active);
        });
    }
}

TEST_CASE("OAuth: 400s fail at once, 503 is retried, malformed 200s are named", "[oauth]") {
    OAuthFixture f;
    Client client = f.client();
    const std::string path = oauth_token_path();
    run(f.io, [&]() -> awaitable<void> {
        const OAuthClientCredentials credentials = f.oauth();
        Diagnostics diag;
        for (const std::string_view error : {"unsupported_grant_type", "invalid_request"}) {
            const auto before = f.fake.request_count(path);
            f.fake.inject(path, Fault{.status = 400, .body = R"({"error":")" + std::string(error) + "\"}"});
            auto [ec, jwt] = co_await client.create_oauth_token(credentials, diag, asio::as_tuple(use_awaitable));
            CHECK(ec == Error::bad_request);
            CHECK(diag.server_code() == error);
            CHECK(f.fake.request_count(path) == before + 1);
        }

        auto before = f.fake.request_count(path);
        f.fake.inject(path, Fault{.status = 503}, 2);
        AccessToken jwt = co_await client.create_oauth_token(credentials);
        CHECK(jwt.lifetime() == std::chrono::hours(2));
        CHECK(f.fake.request_count(path) == before + 3);

        const std::pair<std::string, std::string_view> malformed[] = {
            {R"({"access_token":"opaque"})", "expires_in"},
            {R"({"access_token":"opaque","expires_in":"soon"})", "expires_in"},
            {R"({"access_token":"opaque","expires_in":0})", "expires_in"},
            {R"({"token_type":"Bearer","expires_in":60})", "access_token"},
            {R"({"status":"failed"})", "access_token"},
        };
        for (const auto& [body, field] : malformed) {
            INFO(body);
            before = f.fake.request_count(path);
            f.fake.inject(path, Fault{.status = 200, .body = body});
            auto [ec, none] = co_await client.create_oauth_token(credentials, diag, asio::as_tuple(use_awaitable));
            CHECK(ec == Error::malformed_response);
            CHECK(diag.field() == field);
            CHECK(none.value.empty());
            CHECK(f.fake.request_count(path) == before + 1);
        }
    });
}

TEST_CASE("OAuth: an empty client id, secret or token fails with invalid_argument, without a request", "[oauth]") {
    OAuthFixture f;
    Client client = f.client();
    run(f.io, [&]() -> awaitable<void> {
        Diagnostics diag;
        const OAuthClientCredentials no_id{"", Secret(oauth_secret)};
        auto [ec, jwt] = co_await client.create_oauth_token(no_id, diag, asio::as_tuple(use_awaitable));
        CHECK(ec == Error::invalid_argument);
        CHECK(diag.message() == "the OAuth client id is empty");
        const OAuthClientCredentials no_secret{"svc:etl", Secret()};
        auto [ec2, jwt2] = co_await client.create_oauth_token(no_secret, diag, asio::as_tuple(use_awaitable));
        CHECK(ec2 == Error::invalid_argument);
        const OAuthClientCredentials credentials = f.oauth();
        const Secret empty;
        auto [ec3, info] =
            co_await client.introspect_oauth_token(credentials, empty, diag, asio::as_tuple(use_awaitable));
        CHECK(ec3 == Error::invalid_argument);
        CHECK(diag.message() == "the token is empty");
    });
    CHECK(f.fake.request_count(oauth_token_path()) == 0);
    CHECK(f.fake.connections_accepted() == 0);
}
