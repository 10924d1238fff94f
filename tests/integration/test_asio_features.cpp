// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// What each supported Boost release offers, taken up by the library's operations: the in-place
// resumption of an awaiting coroutine (every release; it rests on Asio's internals, see
// detail/boost_compat.hpp, so this file fails when a release breaks it), immediate executors
// (1.82), and asio::cancel_after / cancel_at (1.86).
#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/version.hpp>

#if BOOST_VERSION >= 108200
#include <boost/asio/bind_immediate_executor.hpp>
#include <boost/asio/system_executor.hpp>
#endif
#if BOOST_VERSION >= 108600
#include <boost/asio/cancel_after.hpp>
#include <boost/asio/cancel_at.hpp>
#endif

#include "catch.hpp"
#include "client_test_support.hpp"

#include <chrono>
#include <optional>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace alation::auth;
using namespace std::chrono_literals;
using test::run;
using test::run_until;
using testing::Fault;

namespace {

/// The fake Alation, a client that never retries, and a provider over a refresh token that has
/// minted its first token.
struct Minted : test::Fixture {
    Client client{io.get_executor(), fake.base_url(), without_retries()};
    TokenProvider provider{client, refresh_token(), test::provider_options()};

    Minted() {
        run(io, [this]() -> asio::awaitable<void> { co_await provider.token(); });
    }
    static ClientOptions without_retries() {
        ClientOptions o = test::fast_options();
        o.retry = RetryPolicy::none();
        o.request_timeout = 10s;
        return o;
    }
};

}  // namespace

TEST_CASE("co_await authorize and token with a usable token resume the coroutine in place") {
    Minted m;
    http::request<http::empty_body> request{http::verb::get, "/integration/v2/table/", 11};
    run(m.io, [&]() -> asio::awaitable<void> {
        // A handler queued before the call runs first if the call's completion goes through the
        // scheduler; resumed in place, the coroutine is back before it.
        bool queued_ran = false;
        asio::post(m.io, [&] { queued_ran = true; });
        co_await m.provider.authorize(request);
        CHECK_FALSE(queued_ran);
        co_await m.provider.authorize(request, asio::deferred);
        CHECK_FALSE(queued_ran);
        const AccessToken token = co_await m.provider.token();
        CHECK_FALSE(queued_ran);
        CHECK(request["TOKEN"] == token.value.reveal());
    });
}

TEST_CASE("co_await authorize in a loop nests a bounded number of resumptions, then posts") {
    Minted m;
    http::request<http::empty_body> request{http::verb::get, "/integration/v2/table/", 11};
    run(m.io, [&]() -> asio::awaitable<void> {
        bool queued_ran = false;
        asio::post(m.io, [&] { queued_ran = true; });
        int awaits = 0;
        while (!queued_ran && awaits < 10 * detail::max_inline_resumptions) {
            co_await m.provider.authorize(request);
            ++awaits;
        }
        // The stack unwinds (one post) once max_inline_resumptions have nested, not before.
        CHECK(queued_ran);
        CHECK(awaits == detail::max_inline_resumptions + 1);
    });
}

TEST_CASE("a callback with a usable token is never completed inside the call") {
    Minted m;
    http::request<http::empty_body> request{http::verb::get, "/integration/v2/table/", 11};
    std::optional<error_code> result;
    m.provider.authorize(request, [&](error_code ec) { result = ec; });
    CHECK_FALSE(result);
    run_until(m.io, [&] { return result.has_value(); });
    CHECK(*result == error_code{});
}

#if BOOST_VERSION >= 108200
TEST_CASE("a callback bound to an immediate executor completes through it (Boost 1.82+)") {
    Minted m;
    http::request<http::empty_body> request{http::verb::get, "/integration/v2/table/", 11};
    std::optional<error_code> authorized;
    m.provider.authorize(
        request, asio::bind_immediate_executor(asio::system_executor(), [&](error_code ec) { authorized = ec; }));
    REQUIRE(authorized);  // system_executor runs it at once, as the caller asked
    CHECK(*authorized == error_code{});
    std::optional<AccessToken> token;
    m.provider.token(asio::bind_immediate_executor(asio::system_executor(), [&](error_code ec, AccessToken t) {
        CHECK_FALSE(ec);
        token = std::move(t);
    }));
    REQUIRE(token);
    CHECK(request["TOKEN"] == token->value.reveal());
}
#endif

#if BOOST_VERSION >= 108600
TEST_CASE("asio::cancel_after ends a Client call that the server never answers (Boost 1.86+)") {
    const auto type = GENERATE(asio::cancellation_type::terminal, asio::cancellation_type::partial);
    INFO("cancellation type " << static_cast<int>(type));
    Minted m;
    m.fake.inject(test::access_path(), Fault{.kind = Fault::Kind::never_answer});
    const RefreshToken refresh = m.refresh_token();
    run(m.io, [&]() -> asio::awaitable<void> {
        const auto start = SteadyClock::now();
        auto [ec, token] = co_await m.client.create_access_token(
            refresh, asio::cancel_after(100ms, type, asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == asio::error::operation_aborted);
        CHECK(token.value.empty());
        CHECK(SteadyClock::now() - start < 5s);  // well before the 10 s request timeout
        // The call dropped its connection: the next one works.
        auto [next_ec, next] = co_await m.client.create_access_token(refresh, asio::as_tuple(asio::use_awaitable));
        CHECK_FALSE(next_ec);
        CHECK_FALSE(next.value.empty());
    });
}

TEST_CASE("asio::cancel_at ends a provider's wait for a token; the provider goes on (Boost 1.86+)") {
    Minted m;
    // Stop the provider's current token being usable, and its next mint being answered.
    m.fake.inject(test::access_path(), Fault{.kind = Fault::Kind::never_answer});
    run(m.io, [&]() -> asio::awaitable<void> {
        const AccessToken current = co_await m.provider.token();
        m.fake.revoke_access_token(current.value);
        m.provider.invalidate(current.value);
        auto [ec, token] =
            co_await m.provider.token(asio::cancel_at(SteadyClock::now() + 100ms, asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == asio::error::operation_aborted);
        CHECK(token.value.empty());
    });
}
#endif
