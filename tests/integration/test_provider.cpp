// TokenProvider against the fake Alation over loopback: real sockets, short token lifetimes,
// and a manual clock where a test needs to stand at an exact instant.
#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "catch.hpp"
#include "client_test_support.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace alation::auth;
using namespace std::chrono_literals;
using test::run;
using test::run_until;
using testing::FakeAlation;
using testing::FakeAlationOptions;
using testing::Fault;

namespace {

constexpr std::string_view mint_path = "/integration/v1/createAPIAccessToken/";
constexpr std::string_view protected_path = "/integration/v2/table/";

/// A clock the test moves by hand; the provider reads it through ProviderOptions::clock.
struct ManualClock {
    std::shared_ptr<std::atomic<SteadyClock::time_point>> now =
        std::make_shared<std::atomic<SteadyClock::time_point>>(SteadyClock::time_point{} + 1000h);
    void advance(SteadyClock::duration d) const { now->store(now->load() + d); }
    std::function<SteadyClock::time_point()> function() const {
        return [now = now] { return now->load(); };
    }
};

/// The token sources every provider test that matters runs over.
enum class Source { refresh_token, oauth };

/// The fake Alation with a user and a refresh token, and an OAuth client whose tokens live as
/// long as the access tokens (rounded up to whole seconds), a client for it that never retries
/// (the provider's own backoff is under test), and providers over either source.
struct Alation : test::Fixture {
    explicit Alation(FakeAlationOptions options = {})
        : Fixture(options),
          client(io.get_executor(), fake.base_url(), without_retries()),
          refresh_token(Fixture::refresh_token()) {
        fake.add_oauth_client(oauth_client.client_id, std::string(oauth_client.client_secret.reveal()),
                              std::chrono::ceil<std::chrono::seconds>(options.access_token_lifetime));
    }
    static ClientOptions without_retries() {
        ClientOptions o;
        o.retry = RetryPolicy::none();
        return o;
    }

    std::unique_ptr<TokenProvider> provider(Source source, ProviderOptions options = test::provider_options()) {
        if (source == Source::oauth) return std::make_unique<TokenProvider>(client, oauth_client, std::move(options));
        return std::make_unique<TokenProvider>(client, refresh_token, std::move(options));
    }
    static std::string mint_path(Source source) {
        return source == Source::oauth ? "/oauth/v2/token/" : "/integration/v1/createAPIAccessToken/";
    }
    [[nodiscard]] std::size_t minted(Source source) const {
        return source == Source::oauth ? fake.oauth_tokens_minted() : fake.access_tokens_minted();
    }
    /// From now on the server refuses the source's credential (call before provider()).
    void reject_credential(Source source) {
        if (source == Source::oauth)
            oauth_client.client_secret = Secret("not-the-secret");
        else
            fake.revoke_refresh_token(refresh_token.value);
    }
    /// From now on the protected endpoint refuses `provider`'s token with 401.
    void refuse_token_of(Source source, TokenProvider& provider) {
        std::optional<AccessToken> token;
        run(io, [&]() -> asio::awaitable<void> { token = co_await provider.token(); }());
        if (source == Source::oauth)
            fake.expire_oauth_token(token->value);
        else
            fake.revoke_access_token(token->value);
    }

    Client client;
    RefreshToken refresh_token;
    OAuthClientCredentials oauth_client{"service-account", Secret("service-account-secret")};
};

asio::awaitable<void> sleep_for(SteadyClock::duration d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

/// Runs `tasks` concurrently on this (single-threaded) executor and returns when all have
/// finished, rethrowing the first failure.
asio::awaitable<void> all_of(std::vector<asio::awaitable<void>> tasks) {
    auto ex = co_await asio::this_coro::executor;
    auto remaining = std::make_shared<std::size_t>(tasks.size());
    auto failure = std::make_shared<std::exception_ptr>();
    for (auto& task : tasks)
        asio::co_spawn(ex, std::move(task), [remaining, failure](std::exception_ptr e) {
            if (e && !*failure) *failure = e;
            --*remaining;
        });
    while (*remaining != 0) co_await sleep_for(1ms);
    if (*failure) std::rethrow_exception(*failure);
}

http::request<http::empty_body> protected_request() {
    http::request<http::empty_body> req{http::verb::get, std::string(protected_path), 11};
    req.set(http::field::host, "127.0.0.1");
    return req;
}

/// Sends authorized GETs to the protected endpoint on one keep-alive connection.
struct ProtectedConnection {
    explicit ProtectedConnection(const asio::any_io_executor& executor) : stream(executor) {}

    beast::tcp_stream stream;
    beast::flat_buffer buffer;

    // Named variables, no temporaries around a co_await: GCC 12 destroys such a temporary twice.
    static asio::awaitable<std::unique_ptr<ProtectedConnection>> open(unsigned short port) {
        const auto executor = co_await asio::this_coro::executor;
        auto conn = std::make_unique<ProtectedConnection>(executor);
        const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
        co_await conn->stream.async_connect(endpoint, asio::use_awaitable);
        co_return conn;
    }

    asio::awaitable<http::status> get(TokenProvider& provider) {
        auto req = protected_request();
        http::response<http::string_body> res;
        co_await provider.send(stream, req, buffer, res);
        co_return res.result();
    }
};

/// Options that regenerate the refresh token (whose fake lifetime is 3 s) 2 s before it
/// expires and keep it in `store`; the events go to `events` when given.
ProviderOptions regenerating_into(std::shared_ptr<TokenStore> store, std::vector<ProviderEvent>* events = nullptr) {
    ProviderOptions options = test::provider_options();
    options.token_store = std::move(store);
    options.refresh.regenerate_refresh_token = true;
    options.refresh.regenerate_window = 2s;
    if (events) options.on_event = [events](const ProviderEvent& e) { events->push_back(e); };
    return options;
}

std::string everything_printed(const std::vector<ProviderEvent>& events) {
    std::ostringstream os;
    for (const auto& e : events) os << e << '\n';
    return os.str();
}

}  // namespace

TEST_CASE("provider: mints once and serves the cached token") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation;
    auto& io = alation.io;
    auto owned = alation.provider(source);
    auto& provider = *owned;
    run(io, [&]() -> asio::awaitable<void> {
        const AccessToken first = co_await provider.token();
        const AccessToken second = co_await provider.token();
        CHECK(first.value == second.value);
        if (source == Source::refresh_token) {
            CHECK(first.user_id == alation.user_id);
            CHECK(first.status == TokenStatus::active);
        }

        auto req = protected_request();
        CHECK(provider.try_authorize(req));
        CHECK(req["TOKEN"] == first.value.reveal());

        auto req2 = protected_request();
        co_await provider.authorize(req2);
        CHECK(req2["TOKEN"] == first.value.reveal());

        // The protected endpoint takes it.
        auto conn = co_await ProtectedConnection::open(alation.fake.port());
        const auto status = co_await conn->get(provider);
        CHECK(status == http::status::ok);
    }());
    CHECK(alation.minted(source) == 1);
}

TEST_CASE("provider: completion tokens other than the default") {
    Alation alation;
    auto& io = alation.io;
    TokenProvider provider(alation.client, alation.refresh_token, test::provider_options());

    error_code callback_ec = Error::timeout;
    std::string callback_value;
    provider.token([&](error_code ec, AccessToken t) {
        callback_ec = ec;
        callback_value = std::string(t.value.reveal());
    });
    run_until(io, [&] { return !callback_value.empty(); });
    CHECK_FALSE(callback_ec);
    CHECK_FALSE(callback_value.empty());

    run(io, [&]() -> asio::awaitable<void> {
        auto [ec, token] = co_await provider.token(asio::as_tuple(asio::use_awaitable));
        CHECK_FALSE(ec);
        CHECK(token.value.reveal() == callback_value);
        auto req = protected_request();
        auto [aec] = co_await provider.authorize(req, asio::as_tuple(asio::deferred));
        CHECK_FALSE(aec);
        CHECK(req["TOKEN"] == callback_value);
    }());

    std::thread runner([&] {
        auto work = asio::make_work_guard(io);
        io.run_for(5s);
    });
    auto future = provider.token(asio::use_future);
    CHECK(future.get().value.reveal() == callback_value);
    io.stop();
    runner.join();
}

TEST_CASE("provider: a service loop over many token lifetimes never sends an expired token or waits", "[concurrency]") {
    FakeAlationOptions options;
    options.access_token_lifetime = 2s;
    options.server_clock_offset = -3h;  // the server's clock is behind ours: expiry must not care
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation(options);
    auto& io = alation.io;
    std::vector<ProviderEvent> events;
    ProviderOptions provider_options = test::provider_options();
    provider_options.on_event = [&](const ProviderEvent& e) { events.push_back(e); };
    auto owned = alation.provider(source, provider_options);
    auto& provider = *owned;

    int requests = 0;
    int waited = 0;
    run(io, [&]() -> asio::awaitable<void> {
        co_await provider.token();                      // the first token is the only one anybody waits for
        const auto deadline = SteadyClock::now() + 7s;  // three and a half lifetimes
        auto worker = [&]() -> asio::awaitable<void> {
            auto conn = co_await ProtectedConnection::open(alation.fake.port());
            while (SteadyClock::now() < deadline) {
                auto probe = protected_request();
                if (!provider.try_authorize(probe)) ++waited;
                // Never co_await inside a Catch macro: GCC evaluates the operand more than once.
                const auto status = co_await conn->get(provider);
                CHECK(status == http::status::ok);
                ++requests;
                co_await sleep_for(5ms);
            }
        };
        std::vector<asio::awaitable<void>> workers;
        for (int i = 0; i < 4; ++i) workers.push_back(worker());
        co_await all_of(std::move(workers));
    }());

    CHECK(requests > 400);
    CHECK(waited == 0);
    CHECK(alation.fake.protected_rejected() == 0);
    CHECK(alation.fake.protected_accepted() == static_cast<std::size_t>(requests));
    // One mint per half lifetime or so (margin capped at half of 2 s, less jitter), never a burst.
    CHECK(alation.fake.protected_rejected_expired() == 0);
    CHECK(alation.minted(source) >= 6);
    CHECK(alation.minted(source) <= 10);
    CHECK(std::count_if(events.begin(), events.end(), [](const ProviderEvent& e) {
              return e.kind == ProviderEvent::Kind::refresh_succeeded;
          }) == static_cast<long>(alation.minted(source)));
}

TEST_CASE("provider: 10,000 concurrent callers at expiry cause exactly one mint", "[concurrency]") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation;
    auto& io = alation.io;
    ManualClock clock;
    ProviderOptions options = test::provider_options();
    options.clock = clock.function();
    auto owned = alation.provider(source, options);
    auto& provider = *owned;

    std::string first;
    run(io, [&]() -> asio::awaitable<void> { first = (co_await provider.token()).value.reveal(); }());
    REQUIRE(alation.minted(source) == 1);

    clock.advance(24h);  // the token has expired on the local clock
    auto probe = protected_request();
    CHECK_FALSE(provider.try_authorize(probe));

    constexpr int callers = 10'000;
    std::vector<std::string> values(callers);
    int completed = 0;
    for (int i = 0; i < callers; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                values[i] = (co_await provider.token()).value.reveal();
                ++completed;
            },
            asio::detached);
    }
    run_until(io, [&] { return completed == callers; });
    CHECK(alation.minted(source) == 2);
    CHECK(alation.fake.request_count(Alation::mint_path(source)) == 2);
    CHECK(values.front() != first);
    CHECK(std::all_of(values.begin(), values.end(), [&](const std::string& v) { return v == values.front(); }));
}

TEST_CASE("provider: a failed background refresh leaves callers unaffected and is retried") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation;
    auto& io = alation.io;
    ManualClock clock;
    std::vector<ProviderEvent> events;
    ProviderOptions options = test::provider_options();
    options.clock = clock.function();
    options.on_event = [&](const ProviderEvent& e) { events.push_back(e); };
    options.refresh.initial_backoff = 10s;
    options.refresh.max_backoff = 10s;
    auto owned = alation.provider(source, options);
    auto& provider = *owned;
    const auto mint_path = Alation::mint_path(source);

    std::string current;
    run(io, [&]() -> asio::awaitable<void> { current = (co_await provider.token()).value.reveal(); }());

    Fault unavailable;
    unavailable.status = 503;
    unavailable.retry_after = "7";
    alation.fake.inject(mint_path, unavailable, 3);
    clock.advance(22h);  // past the refresh margin (2.4 h of 24 h), well before expiry
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 50; ++i) {
            auto req = protected_request();
            co_await provider.authorize(req);
            CHECK(req["TOKEN"] == current);
        }
    }());
    // The callers did not wait for the background refresh; now let it fail.
    const auto find_failure = [&] {
        return std::find_if(events.begin(), events.end(),
                            [](const ProviderEvent& e) { return e.kind == ProviderEvent::Kind::refresh_failed; });
    };
    run_until(io, [&] { return find_failure() != events.end(); });
    CHECK(alation.fake.request_count(mint_path) == 2);  // the first mint, one failed refresh
    const auto failed = find_failure();
    REQUIRE(failed != events.end());
    CHECK(failed->error == Error::server_error);
    CHECK(failed->diagnostics.http_status() == 503);
    CHECK(failed->retry_in >= 7s);  // Retry-After, or the longer backoff

    // Within the backoff nothing is retried; after it, the next request triggers the retry.
    auto probe = protected_request();
    CHECK(provider.try_authorize(probe));
    io.poll();
    CHECK(alation.fake.request_count(mint_path) == 2);
    alation.fake.clear_faults();
    clock.advance(11s);
    CHECK(provider.try_authorize(probe));
    run(io, [&]() -> asio::awaitable<void> {
        while (alation.minted(source) < 2) co_await sleep_for(5ms);
        auto req = protected_request();
        co_await provider.authorize(req);
        CHECK(req["TOKEN"] != current);
    }());
}

TEST_CASE("provider: with no valid token left, a failure reaches the waiters with diagnostics") {
    // Through the default token, whose diagnostics are made only when an operation waits.
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    const auto operation = GENERATE(as<std::string>{}, "token", "authorize", "send");
    INFO(operation);
    Alation alation;
    auto& io = alation.io;
    Fault html;
    html.status = 502;
    html.html = true;
    alation.fake.inject(Alation::mint_path(source), html);
    auto owned = alation.provider(source);
    auto& provider = *owned;
    run(io, [&]() -> asio::awaitable<void> {
        http::request<http::empty_body> request(http::verb::get, "/integration/v2/table/", 11);
        try {
            if (operation == "token") {
                co_await provider.token();
            } else if (operation == "authorize") {
                co_await provider.authorize(request);
            } else {
                // Never connected: the send fails at the token, before any I/O.
                beast::tcp_stream stream(io);
                beast::flat_buffer buffer;
                http::response<http::string_body> response;
                co_await provider.send(stream, request, buffer, response);
            }
            FAIL("expected an error");
        } catch (const ErrorWithDiagnostics& e) {
            CHECK(e.code() == Error::server_error);
            CHECK(e.diagnostics().http_status() == 502);
        }
    }());
}

TEST_CASE("provider: a send() whose retry after a 401 finds no token fails with the mint's diagnostics") {
    // Its wait comes after a write and a read: the diagnostics the default token throws are made
    // only then, and handed over as send() completes.
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    const auto completion = GENERATE(as<std::string>{}, "default token", "caller's diagnostics");
    INFO(completion);
    Alation alation;
    auto& io = alation.io;
    auto owned = alation.provider(source);
    auto& provider = *owned;
    alation.refuse_token_of(source, provider);
    Fault html;
    html.status = 502;
    html.html = true;
    alation.fake.inject(Alation::mint_path(source), html);

    run(io, [&]() -> asio::awaitable<void> {
        auto conn = co_await ProtectedConnection::open(alation.fake.port());
        auto request = protected_request();
        http::response<http::string_body> response;
        if (completion == "default token") {
            try {
                co_await provider.send(conn->stream, request, conn->buffer, response);
                FAIL("expected an error");
            } catch (const ErrorWithDiagnostics& e) {
                CHECK(e.code() == Error::server_error);
                CHECK(e.diagnostics().http_status() == 502);
            }
        } else {
            Diagnostics diag;
            const auto [ec] = co_await provider.send(conn->stream, request, conn->buffer, response, diag,
                                                     asio::as_tuple(asio::use_awaitable));
            CHECK(ec == Error::server_error);
            CHECK(diag.http_status() == 502);
        }
    }());
    CHECK(alation.fake.protected_rejected() == 1);
}

TEST_CASE("provider: a burst of 401s from requests in flight mints one new token", "[concurrency]") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation;
    auto& io = alation.io;
    auto owned = alation.provider(source);
    auto& provider = *owned;
    alation.refuse_token_of(source, provider);

    constexpr int requests = 50;
    int ok = 0;
    run(io, [&]() -> asio::awaitable<void> {
        // Open every connection first, so that all requests carry the revoked token.
        std::vector<std::unique_ptr<ProtectedConnection>> conns;
        for (int i = 0; i < requests; ++i) conns.push_back(co_await ProtectedConnection::open(alation.fake.port()));
        std::vector<asio::awaitable<void>> sends;
        for (auto& c : conns)
            // No captures: a lambda coroutine's captures die with the lambda; parameters live in the frame.
            sends.push_back([](ProtectedConnection& conn, TokenProvider& p, int& accepted) -> asio::awaitable<void> {
                const auto status = co_await conn.get(p);
                accepted += status == http::status::ok;
            }(*c, provider, ok));
        co_await all_of(std::move(sends));
    }());
    CHECK(ok == requests);
    // Every request that went out with the revoked token was rejected once, retried with the
    // new one and accepted; the whole burst cost one mint.
    CHECK(alation.fake.protected_rejected() >= 1);
    CHECK(alation.fake.protected_accepted() == requests);
    CHECK(alation.minted(source) == 2);
}

TEST_CASE("provider: invalidate ignores a report about a token that is no longer current") {
    Alation alation;
    auto& io = alation.io;
    TokenProvider provider(alation.client, alation.refresh_token, test::provider_options());
    run(io, [&]() -> asio::awaitable<void> {
        const auto a = co_await provider.token();
        provider.invalidate(a.value);
        const auto b = co_await provider.token();
        CHECK_FALSE(a.value == b.value);
        provider.invalidate(a.value);  // stale
        provider.invalidate(Secret("never-issued"));
        const auto c = co_await provider.token();
        CHECK(c.value == b.value);
    }());
    CHECK(alation.fake.access_tokens_minted() == 2);
}

TEST_CASE("provider: a rejected credential is a clear error, not a retry loop") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation;
    auto& io = alation.io;
    alation.reject_credential(source);
    ProviderOptions options = test::provider_options();
    options.refresh.initial_backoff = 1ms;
    auto owned = alation.provider(source, options);
    auto& provider = *owned;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            Diagnostics diag;
            auto [ec, token] = co_await provider.token(diag, asio::as_tuple(asio::use_awaitable));
            CHECK(diag.http_status() == 401);
            if (source == Source::oauth) {
                CHECK(ec == Error::invalid_client_credentials);
                CHECK(diag.server_code() == "invalid_client");
            } else {
                CHECK(ec == Error::refresh_token_expired_or_revoked);
                CHECK(diag.server_detail() == "Refresh token provided is expired or revoked.");
            }
            co_await sleep_for(20ms);
        }
    }());
    CHECK(alation.fake.request_count(Alation::mint_path(source)) == 1);
}

TEST_CASE("provider: a store that cannot be read on a rejection is reported, and the rejection stands") {
    Alation alation;
    auto& io = alation.io;
    const auto path = alation.dir / "token.json";
    {
        std::ofstream file(path);
        file << "not a token file";
    }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    alation.fake.revoke_refresh_token(alation.refresh_token.value);
    std::vector<ProviderEvent> events;
    ProviderOptions options = test::provider_options();
    options.token_store = std::make_shared<FileTokenStore>(path);
    options.on_event = [&](const ProviderEvent& e) { events.push_back(e); };
    TokenProvider provider(alation.client, alation.refresh_token, options);
    run(io, [&]() -> asio::awaitable<void> {
        // Each call of a rejected provider reads the store again; the failure is reported once.
        for (int i = 0; i < 3; ++i) {
            auto [ec, token] = co_await provider.token(asio::as_tuple(asio::use_awaitable));
            CHECK(ec == Error::refresh_token_expired_or_revoked);
        }
    }());
    std::vector<ProviderEvent::Kind> kinds;
    for (const auto& e : events) kinds.push_back(e.kind);
    // Once before the mint (which goes on with the token given), once on the rejection.
    CHECK(kinds == std::vector{ProviderEvent::Kind::refresh_started, ProviderEvent::Kind::token_store_failed,
                               ProviderEvent::Kind::refresh_failed, ProviderEvent::Kind::token_store_failed});
    REQUIRE(events.size() == 4);
    CHECK(events[1].error == Error::malformed_token_file);
    CHECK(events[3].error == Error::malformed_token_file);
    std::ostringstream line;
    line << events[1];
    CHECK(line.str().find("token_store_failed") != std::string::npos);
    CHECK(alation.fake.request_count(mint_path) == 1);
}

TEST_CASE("provider: an unusable refresh token is the caller's error, reported at once") {
    Alation alation;
    auto& io = alation.io;
    TokenProvider provider(alation.client, Secret(), alation.user_id, test::provider_options());
    run(io, [&]() -> asio::awaitable<void> {
        Diagnostics diag;
        auto [ec, token] = co_await provider.token(diag, asio::as_tuple(asio::use_awaitable));
        CHECK(ec == Error::invalid_argument);
        CHECK(diag.message() == "the token is empty");
    }());
    CHECK(alation.fake.request_count(mint_path) == 0);
}

TEST_CASE("provider: cancelling one waiter leaves the shared refresh to the others", "[concurrency]") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation;
    auto& io = alation.io;
    Fault slow;  // the normal answer, 300 ms late
    slow.kind = Fault::Kind::close_after_response;
    slow.delay = 300ms;
    alation.fake.inject(Alation::mint_path(source), slow);
    auto owned = alation.provider(source);
    auto& provider = *owned;

    asio::cancellation_signal cancel;
    error_code cancelled_ec, other_ec = Error::timeout;
    provider.token(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, AccessToken) { cancelled_ec = ec; }));
    provider.token([&](error_code ec, AccessToken) { other_ec = ec; });
    asio::steady_timer t(io, 50ms);
    t.async_wait([&](error_code) { cancel.emit(asio::cancellation_type::terminal); });
    run_until(io, [&] { return cancelled_ec && other_ec != Error::timeout; });
    CHECK(cancelled_ec == asio::error::operation_aborted);
    CHECK_FALSE(other_ec);
    CHECK(alation.minted(source) == 1);
}

TEST_CASE("provider: stop() and destruction complete every waiter and leave nothing running", "[concurrency]") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    Alation alation;
    auto& io = alation.io;
    Fault silent;
    silent.kind = Fault::Kind::never_answer;
    alation.fake.inject(Alation::mint_path(source), silent);
    int stopped = 0;
    {
        auto owned = alation.provider(source);
        auto& provider = *owned;
        for (int i = 0; i < 3; ++i)
            provider.token([&](error_code ec, AccessToken) { stopped += ec == Error::provider_stopped; });
        asio::steady_timer t(io, 50ms);
        t.async_wait([&](error_code) { provider.stop(); });
        run_until(io, [&] { return stopped == 3; });
        error_code after;
        provider.token([&](error_code ec, AccessToken) { after = ec; });
        run_until(io, [&] { return bool(after); });
        CHECK(after == Error::provider_stopped);
    }
    {
        alation.fake.inject(Alation::mint_path(source), silent);
        auto provider = alation.provider(source);
        provider->token([&](error_code ec, AccessToken) { stopped += ec == Error::provider_stopped; });
        io.poll();
        provider.reset();
    }
    alation.fake.stop();
    io.run_for(5s);
    CHECK(stopped == 4);
    CHECK(io.stopped());  // nothing left running: run() returned for lack of work
}

TEST_CASE("provider: regenerates the refresh token before it expires and stores it", "[concurrency]") {
    FakeAlationOptions fake_options;
    fake_options.refresh_token_lifetime = 3s;
    Alation alation(fake_options);
    auto& io = alation.io;
    auto store = std::make_shared<FileTokenStore>(alation.dir / "token.json");

    std::vector<ProviderEvent> events;
    const ProviderOptions options = regenerating_into(store, &events);
    const auto original = alation.refresh_token;
    TokenProvider provider(alation.client, original, options);
    run(io, [&]() -> asio::awaitable<void> {
        co_await provider.token();
        // Wait for the provider to have taken and stored the new token, not just for the server
        // to mint it.
        const auto regenerated = [&] {
            return std::any_of(events.begin(), events.end(), [](const ProviderEvent& e) {
                return e.kind == ProviderEvent::Kind::refresh_token_regenerated;
            });
        };
        for (int i = 0; i < 500 && !regenerated(); ++i) co_await sleep_for(10ms);
        provider.stop();
    }());
    REQUIRE(alation.fake.refresh_tokens_created() == 1);
    const auto regenerated = provider.refresh_token();
    CHECK_FALSE(regenerated.value == original.value);

    error_code ec;
    const auto stored = store->load(ec);
    REQUIRE_FALSE(ec);
    REQUIRE(stored);
    CHECK(stored->value == regenerated.value);

    // The old refresh token stopped working; the new one mints.
    run(io, [&]() -> asio::awaitable<void> {
        auto [old_ec, t1] = co_await alation.client.create_access_token(original, asio::as_tuple(asio::use_awaitable));
        CHECK(old_ec == Error::refresh_token_expired_or_revoked);
        auto [new_ec, t2] =
            co_await alation.client.create_access_token(regenerated, asio::as_tuple(asio::use_awaitable));
        CHECK_FALSE(new_ec);
    }());
    CHECK(std::any_of(events.begin(), events.end(), [](const ProviderEvent& e) {
        return e.kind == ProviderEvent::Kind::refresh_token_regenerated && !e.error;
    }));

    // A restart picks up the stored token.
    ProviderOptions restart_options = test::provider_options();
    restart_options.token_store = store;
    TokenProvider restarted(alation.client, original, restart_options);
    run(io, [&]() -> asio::awaitable<void> { co_await restarted.token(); }());
    CHECK(restarted.refresh_token().value == regenerated.value);

    // No event, and nothing it printed, carries a secret.
    const auto printed = everything_printed(events);
    CHECK(printed.find(original.value.reveal()) == std::string::npos);
    CHECK(printed.find(regenerated.value.reveal()) == std::string::npos);
}

TEST_CASE("provider: one provider shared by four threads", "[concurrency]") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    FakeAlationOptions fake_options;
    fake_options.access_token_lifetime = 2s;
    Alation alation(fake_options);
    auto& io = alation.io;
    auto owned = alation.provider(source);
    auto& provider = *owned;

    constexpr int workers = 16;
    std::atomic<int> authorized{0}, failures{0}, remaining{workers};
    const auto deadline = SteadyClock::now() + 4s;
    auto worker = [&](int n) -> asio::awaitable<void> {
        auto conn = co_await ProtectedConnection::open(alation.fake.port());
        while (SteadyClock::now() < deadline) {
            auto req = protected_request();
            if (n % 2 == 0 && provider.try_authorize(req)) ++authorized;
            auto [ec] = co_await provider.authorize(req, asio::as_tuple(asio::use_awaitable));
            if (ec) ++failures;
            const auto status = co_await conn->get(provider);
            if (status != http::status::ok) ++failures;
            if (n == 0) provider.invalidate(Secret("a-stale-report"));
            const auto t = co_await provider.token();
            if (t.value.empty()) ++failures;
        }
    };
    for (int i = 0; i < workers; ++i)
        asio::co_spawn(io, worker(i), [&](std::exception_ptr e) {
            if (e) ++failures;
            if (--remaining == 0) io.stop();
        });
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([&] { io.run(); });
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    CHECK(authorized > 0);
    CHECK(alation.fake.protected_rejected() == 0);
    // One mint a second or so (the margin is half of 2 s, less jitter), never a burst.
    CHECK(alation.minted(source) >= 3);
    CHECK(alation.minted(source) <= 7);
}

TEST_CASE("provider: a replica whose refresh token was regenerated elsewhere reloads it from the shared store") {
    FakeAlationOptions fake_options;
    fake_options.refresh_token_lifetime = 3s;
    Alation alation(fake_options);
    auto& io = alation.io;
    auto store = std::make_shared<FileTokenStore>(alation.dir / "token.json");

    // Replica A regenerates the refresh token and saves it; replica B only mints.
    const ProviderOptions regenerating = regenerating_into(store);
    TokenProvider a(alation.client, alation.refresh_token, regenerating);

    std::vector<ProviderEvent> b_events;
    ProviderOptions minting = test::provider_options();
    minting.token_store = store;
    minting.on_event = [&](const ProviderEvent& e) { b_events.push_back(e); };
    TokenProvider b(alation.client, alation.refresh_token, minting);

    run(io, [&]() -> asio::awaitable<void> {
        const auto before = co_await b.token();
        // A saves the new token before it starts using it.
        for (int i = 0; i < 500 && a.refresh_token().value == alation.refresh_token.value; ++i)
            co_await sleep_for(10ms);
        REQUIRE(alation.fake.refresh_tokens_created() == 1);

        // B's next mint uses the revoked refresh token, is rejected, and B adopts the stored one.
        b.invalidate(before.value);
        const auto after = co_await b.token();
        CHECK_FALSE(after.value == before.value);
    }());
    CHECK(b.refresh_token().value == a.refresh_token().value);
    CHECK_FALSE(b.refresh_token().value == alation.refresh_token.value);
    CHECK(std::any_of(b_events.begin(), b_events.end(),
                      [](const ProviderEvent& e) { return e.kind == ProviderEvent::Kind::refresh_token_reloaded; }));
}

namespace {

/// A third token source, written against the public seam alone: it mints "static-1",
/// "static-2", ... each living `lifetime`, or fails with the errors queued in `failures`.
/// It completes inside the call, which the seam allows.
class StaticTokenSource final : public TokenSource {
public:
    explicit StaticTokenSource(std::chrono::seconds lifetime) : lifetime_(lifetime) {}

    void async_mint(Diagnostics& diag, MintHandler handler) override {
        ++calls;
        if (!failures.empty()) {
            const auto ec = failures.front();
            failures.erase(failures.begin());
            diag.set_server_detail("static source failure");
            return std::move(handler)(ec, AccessToken{});
        }
        AccessToken token;
        token.value = Secret("static-" + std::to_string(++minted));
        token.created_at = Timestamp{std::chrono::hours(500000)};
        token.expires_at = token.created_at + lifetime_;
        std::move(handler)(error_code{}, std::move(token));
    }

    std::vector<error_code> failures;
    int calls = 0;
    int minted = 0;

private:
    std::chrono::seconds lifetime_;
};

}  // namespace

TEST_CASE("provider: a source of one's own gets the same policy without touching it") {
    asio::io_context io;
    ManualClock clock;
    auto source = std::make_shared<StaticTokenSource>(1h);
    std::vector<ProviderEvent> events;
    ProviderOptions options = test::provider_options();
    options.clock = clock.function();
    options.refresh.initial_backoff = 10s;
    options.refresh.max_backoff = 10s;
    options.on_event = [&](const ProviderEvent& e) { events.push_back(e); };
    TokenProvider provider(io.get_executor(), source, options);

    run(io, [&]() -> asio::awaitable<void> {
        // Single flight and caching.
        const auto first = co_await provider.token();
        CHECK(first.value.reveal() == "static-1");
        CHECK((co_await provider.token()).value.reveal() == "static-1");
        CHECK(source->calls == 1);

        // Past the margin: the current token is served while the refresh runs.
        clock.advance(55min);
        auto req = protected_request();
        CHECK(provider.try_authorize(req));
        CHECK(req["TOKEN"] == "static-1");
        while (source->calls < 2) co_await sleep_for(1ms);
        CHECK((co_await provider.token()).value.reveal() == "static-2");

        // invalidate mints a replacement; a stale report changes nothing.
        provider.invalidate(Secret("static-2"));
        CHECK((co_await provider.token()).value.reveal() == "static-3");
        provider.invalidate(Secret("static-2"));
        CHECK((co_await provider.token()).value.reveal() == "static-3");

        // A transient failure with no usable token reaches the waiters, then backs off.
        source->failures = {make_error_code(Error::server_error)};
        clock.advance(2h);
        Diagnostics diag;
        auto [ec, none] = co_await provider.token(diag, asio::as_tuple(asio::use_awaitable));
        CHECK(ec == Error::server_error);
        CHECK(diag.server_detail() == "static source failure");
        const int calls_after_failure = source->calls;
        auto [again, none2] = co_await provider.token(asio::as_tuple(asio::use_awaitable));
        CHECK(again == Error::server_error);  // fails at once during the backoff
        CHECK(source->calls == calls_after_failure);
        clock.advance(11s);
        CHECK((co_await provider.token()).value.reveal() == "static-4");

        // A rejected credential is final: no retry loop.
        source->failures = {make_error_code(Error::invalid_client_credentials)};
        provider.invalidate(Secret("static-4"));
        for (int i = 0; i < 3; ++i) {
            auto [rejected, t] = co_await provider.token(asio::as_tuple(asio::use_awaitable));
            CHECK(rejected == Error::invalid_client_credentials);
            clock.advance(1h);
        }
        CHECK(source->calls == calls_after_failure + 2);
    }());
    CHECK(provider.refresh_token().value.empty());  // not a refresh-token provider
    CHECK(std::count_if(events.begin(), events.end(),
                        [](const ProviderEvent& e) { return e.kind == ProviderEvent::Kind::refresh_failed; }) == 2);
}

TEST_CASE("provider: Authorization: Bearer per provider or per request, TOKEN by default") {
    asio::io_context io;
    auto source = std::make_shared<StaticTokenSource>(1h);
    ProviderOptions options = test::provider_options();
    options.header = TokenHeader::bearer;
    TokenProvider bearer(io.get_executor(), source, options);
    TokenProvider plain(io.get_executor(), std::make_shared<StaticTokenSource>(1h));
    run(io, [&]() -> asio::awaitable<void> {
        auto req = protected_request();
        co_await bearer.authorize(req);
        CHECK(req[http::field::authorization] == "Bearer static-1");
        CHECK(req.find("TOKEN") == req.end());

        auto per_request = protected_request();
        CHECK(bearer.try_authorize(per_request, TokenHeader::token));
        CHECK(per_request["TOKEN"] == "static-1");

        auto req2 = protected_request();
        co_await plain.authorize(req2);
        CHECK(req2["TOKEN"] == "static-1");
        CHECK(req2.find(http::field::authorization) == req2.end());
        auto req3 = protected_request();
        CHECK(plain.try_authorize(req3, TokenHeader::bearer));
        CHECK(req3[http::field::authorization] == "Bearer static-1");

        auto req4 = protected_request();
        co_await plain.authorize(req4, TokenHeader::bearer);
        CHECK(req4[http::field::authorization] == "Bearer static-1");
        auto req5 = protected_request();
        Diagnostics diag;
        co_await bearer.authorize(req5, TokenHeader::token, diag);
        CHECK(req5["TOKEN"] == "static-1");
        auto req6 = protected_request();
        auto [ec] = co_await bearer.authorize(req6, asio::as_tuple(asio::use_awaitable));  // a token, not a header
        CHECK_FALSE(ec);
        CHECK(req6[http::field::authorization] == "Bearer static-1");
    }());
}

TEST_CASE("provider: send() on a forbidden endpoint costs one extra mint per token, not one per request") {
    Alation alation;
    auto& io = alation.io;
    Fault forbidden;
    forbidden.status = 403;
    alation.fake.inject(std::string(protected_path), forbidden, 100);
    TokenProvider provider(alation.client, alation.refresh_token, test::provider_options());
    int forbidden_answers = 0;
    run(io, [&]() -> asio::awaitable<void> {
        auto conn = co_await ProtectedConnection::open(alation.fake.port());
        for (int i = 0; i < 20; ++i) {
            const auto status = co_await conn->get(provider);
            forbidden_answers += status == http::status::forbidden;
        }
    }());
    CHECK(forbidden_answers == 20);
    // The first 403 could have been a bad token: one new token and one retry; that one was
    // refused too, so the 403s are about permissions and cost nothing more.
    CHECK(alation.fake.access_tokens_minted() == 2);
    CHECK(alation.fake.request_count(protected_path) == 21);
}

// --- Fleets: replicas of one identity coordinating through a shared TokenStore -------------

namespace {

/// A store that is down: every call fails with `error`, or, with no error, never answers
/// (each handler is kept and destroyed uncalled with the store).
class BrokenStore final : public TokenStore {
public:
    explicit BrokenStore(error_code error = {}) : error_(error) {}
    void async_load(std::string_view, LoadHandler h) override { fail(std::move(h), std::nullopt); }
    void async_compare_and_swap(std::string_view, const Secret&, const RefreshToken&, ExchangeHandler h) override {
        fail(std::move(h), false);
    }
    void async_acquire_lease(std::string_view, std::string_view, std::string_view, std::chrono::milliseconds,
                             ExchangeHandler h) override {
        fail(std::move(h), false);
    }
    [[nodiscard]] bool shares_access_tokens() const noexcept override { return true; }
    void async_load_access_token(std::string_view, AccessTokenHandler h) override { fail(std::move(h), std::nullopt); }

private:
    template <class Handler, class Value>
    void fail(Handler handler, Value value) {
        if (error_) return std::move(handler)(error_, std::move(value));
        std::lock_guard lock(mutex_);
        unanswered_.push_back(std::make_shared<Handler>(std::move(handler)));
    }
    error_code error_;
    std::mutex mutex_;
    std::vector<std::shared_ptr<void>> unanswered_;
};

/// An InMemoryTokenStore whose first compare-and-swap of a token other than `seed` (the first
/// mint's re-seeding of the empty store) fails as a store that is down.
class FailingFirstSave final : public TokenStore {
public:
    explicit FailingFirstSave(Secret seed) : seed_(std::move(seed)) {}
    void async_load(std::string_view identity, LoadHandler h) override { inner.async_load(identity, std::move(h)); }
    void async_compare_and_swap(std::string_view identity, const Secret& expected, const RefreshToken& desired,
                                ExchangeHandler h) override {
        if (!(desired.value == seed_) && !failed_.exchange(true))
            return std::move(h)(make_error_code(Error::token_store_unavailable), false);
        inner.async_compare_and_swap(identity, expected, desired, std::move(h));
    }
    InMemoryTokenStore inner;

private:
    Secret seed_;
    std::atomic<bool> failed_{false};
};

bool has_event(const std::vector<ProviderEvent>& events, ProviderEvent::Kind kind, error_code error = {}) {
    return std::any_of(events.begin(), events.end(),
                       [&](const ProviderEvent& e) { return e.kind == kind && (!error || e.error == error); });
}

}  // namespace

TEST_CASE("fleet: replicas that all regenerate, on one store, regenerate once per window and all adopt the result") {
    FakeAlationOptions fake_options;
    fake_options.refresh_token_lifetime = 4s;
    Alation alation(fake_options);
    auto& io = alation.io;
    auto store = std::make_shared<InMemoryTokenStore>();

    // Identical replicas: the same token, the same options, regeneration on in each.
    ProviderOptions options = test::provider_options();
    options.token_store = store;
    options.refresh.regenerate_refresh_token = true;
    options.refresh.regenerate_window = 3s;
    options.refresh.initial_backoff = 50ms;
    std::vector<std::unique_ptr<TokenProvider>> fleet;
    for (int i = 0; i < 5; ++i)
        fleet.push_back(std::make_unique<TokenProvider>(alation.client, alation.refresh_token, options));

    const auto all_renewed = [&] {
        const auto first = fleet.front()->refresh_token().value;
        return !(first == alation.refresh_token.value) && std::all_of(fleet.begin(), fleet.end(), [&](const auto& p) {
            return p->refresh_token().value == first;
        });
    };
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 400 && !all_renewed(); ++i) {
            // Each replica keeps minting meanwhile.
            for (auto& p : fleet) {
                const AccessToken token = co_await p->token();
                p->invalidate(token.value);
            }
            co_await sleep_for(10ms);
        }
        // Another window's worth would start a second regeneration: stop well before it.
        for (auto& p : fleet) p->stop();
    }());
    CHECK(all_renewed());
    CHECK(alation.fake.refresh_tokens_created() == 1);
    CHECK(store->stored("user:" + std::to_string(alation.user_id))->value == fleet.front()->refresh_token().value);
}

TEST_CASE("fleet: with shared access tokens a fleet mints about one per lifetime, and no replica's is revoked",
          "[concurrency]") {
    const auto source = GENERATE(Source::refresh_token, Source::oauth);
    FakeAlationOptions fake_options;
    fake_options.access_token_lifetime = 1s;
    // The server keeps two live tokens per identity: the current one and its successor.
    fake_options.max_live_access_tokens = 2;
    Alation alation(fake_options);
    auto& io = alation.io;

    ProviderOptions options = test::provider_options();
    options.token_store = std::make_shared<InMemoryTokenStore>();
    options.share_access_tokens = true;
    constexpr int replicas = 6;
    std::vector<std::unique_ptr<TokenProvider>> fleet;
    for (int i = 0; i < replicas; ++i) fleet.push_back(alation.provider(source, options));

    int requests = 0;
    const auto start = SteadyClock::now();
    run(io, [&]() -> asio::awaitable<void> {
        std::vector<std::unique_ptr<ProtectedConnection>> connections;
        for (int i = 0; i < replicas; ++i)
            connections.push_back(co_await ProtectedConnection::open(alation.fake.port()));
        while (SteadyClock::now() - start < 3s) {
            for (int i = 0; i < replicas; ++i) {
                CHECK(co_await connections[i]->get(*fleet[i]) == http::status::ok);
                ++requests;
            }
            co_await sleep_for(20ms);
        }
    }());
    // A 1 s token is refreshed at half its life (RefreshPolicy caps the margin there): about 6
    // refreshes in 3 s plus the first mint for the fleet, against one per replica per refresh
    // (~40) without sharing.
    CHECK(alation.minted(source) <= 9);
    CHECK(requests > 100);
    CHECK(alation.fake.protected_rejected() == 0);
}

TEST_CASE("fleet: a store that is down or never answers stops nothing: the provider mints, serves, and reports it",
          "[concurrency]") {
    const auto broken = GENERATE(make_error_code(Error::token_store_unavailable), error_code{});
    FakeAlationOptions fake_options;
    fake_options.refresh_token_lifetime = 3s;
    Alation alation(fake_options);
    auto& io = alation.io;
    std::vector<ProviderEvent> events;
    ProviderOptions options = test::provider_options();
    options.token_store = std::make_shared<BrokenStore>(broken);
    options.store_timeout = 100ms;
    options.share_access_tokens = true;
    options.refresh.regenerate_refresh_token = true;
    options.refresh.regenerate_window = 2s;
    options.refresh.initial_backoff = 100ms;
    options.refresh.max_backoff = 200ms;
    options.on_event = [&](const ProviderEvent& e) { events.push_back(e); };
    TokenProvider provider(alation.client, alation.refresh_token, options);
    run(io, [&]() -> asio::awaitable<void> {
        auto [ec, token] = co_await provider.token(asio::as_tuple(asio::use_awaitable));
        CHECK_FALSE(ec);
        // Regeneration is due at once; it is refused while the store is unreachable, since a
        // token siblings cannot find would lock them out.
        for (int i = 0; i < 100 && !has_event(events, ProviderEvent::Kind::refresh_token_regeneration_failed); ++i)
            co_await sleep_for(10ms);
        provider.stop();
    }());
    const error_code expected = broken ? broken : make_error_code(Error::timeout);
    CHECK(has_event(events, ProviderEvent::Kind::token_store_failed, expected));
    CHECK(has_event(events, ProviderEvent::Kind::refresh_token_regeneration_failed, expected));
    CHECK(alation.fake.refresh_tokens_created() == 0);
    CHECK(provider.refresh_token().value == alation.refresh_token.value);
    CHECK(alation.fake.access_tokens_minted() >= 1);
}

TEST_CASE("fleet: a regenerated token the store could not take is kept, reported, and saved at the next step") {
    FakeAlationOptions fake_options;
    fake_options.refresh_token_lifetime = 3s;
    fake_options.access_token_lifetime = 1s;
    Alation alation(fake_options);
    auto& io = alation.io;
    auto store = std::make_shared<FailingFirstSave>(alation.refresh_token.value);
    std::vector<ProviderEvent> events;
    const ProviderOptions options = regenerating_into(store, &events);
    TokenProvider provider(alation.client, alation.refresh_token, options);
    const auto identity = "user:" + std::to_string(alation.user_id);
    run(io, [&]() -> asio::awaitable<void> {
        co_await provider.token();
        // The first mint seeds the empty store with the token it proved; then comes the
        // regeneration, whose save fails once.
        const auto saved_regenerated = [&] {
            const auto stored = store->inner.stored(identity);
            return stored && !(stored->value == alation.refresh_token.value);
        };
        for (int i = 0; i < 300 && !saved_regenerated(); ++i) {
            const AccessToken token = co_await provider.token();
            provider.invalidate(token.value);  // a step, which saves what is pending
            co_await sleep_for(10ms);
        }
        provider.stop();
    }());
    REQUIRE(alation.fake.refresh_tokens_created() == 1);
    CHECK(std::any_of(events.begin(), events.end(), [](const ProviderEvent& e) {
        return e.kind == ProviderEvent::Kind::refresh_token_regenerated && e.error == Error::token_store_unavailable;
    }));
    REQUIRE(store->inner.stored(identity));
    CHECK(store->inner.stored(identity)->value == provider.refresh_token().value);
    CHECK_FALSE(provider.refresh_token().value == alation.refresh_token.value);
}

TEST_CASE("fleet: sharing access tokens needs a store that shares them") {
    Alation alation;
    ProviderOptions options = test::provider_options();
    options.share_access_tokens = true;
    CHECK_THROWS_AS(TokenProvider(alation.client, alation.refresh_token, options), std::invalid_argument);
    options.token_store = std::make_shared<FileTokenStore>(alation.dir / "token.json");
    CHECK_THROWS_AS(TokenProvider(alation.client, alation.oauth_client, options), std::invalid_argument);
}

TEST_CASE(
    "provider: a usable token resumes an awaiting coroutine at once; a callback is never called inside the call") {
    Alation alation;
    auto& io = alation.io;
    auto owned = alation.provider(Source::refresh_token);
    auto& provider = *owned;
    run(io, [&]() -> asio::awaitable<void> {
        co_await provider.token();  // a usable token from here on
        // Resumed without a round through the scheduler: a handler posted just before has not run.
        bool posted_ran = false;
        asio::post(io, [&] { posted_ran = true; });
        auto req = protected_request();
        co_await provider.authorize(req);
        CHECK_FALSE(posted_ran);
        CHECK(req["TOKEN"].size() > 0);
        const AccessToken token = co_await provider.token();
        CHECK_FALSE(posted_ran);
        CHECK_FALSE(token.value.empty());

        // A loop of awaits does not nest without end: every few resumptions one goes through the
        // scheduler and unwinds the stack (100,000 nested resumptions would overflow it).
        for (int i = 0; i < 100'000; ++i) co_await provider.authorize(req);
        CHECK(posted_ran);

        // Other completion tokens still complete through the scheduler, never inside the call.
        bool called = false;
        provider.authorize(req, [&](error_code ec) {
            CHECK_FALSE(ec);
            called = true;
        });
        CHECK_FALSE(called);
        auto [ec] = co_await provider.authorize(req, asio::as_tuple(asio::use_awaitable));
        CHECK_FALSE(ec);
        while (!called) co_await sleep_for(1ms);
    }());
    // Coroutines that end right after an authorize resumed inside its initiation: the frame is
    // gone when the initiation returns (ASan watches this one).
    int finished = 0;
    for (int i = 0; i < 1000; ++i)
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                auto req = protected_request();
                co_await provider.authorize(req);
                ++finished;
            },
            asio::detached);
    run_until(io, [&] { return finished == 1000; });
    CHECK(finished == 1000);
}

TEST_CASE("fleet: providers stopped and destroyed while their store steps are in flight, on two threads",
          "[concurrency]") {
    Alation alation;
    Fault slow;
    slow.delay = 100ms;
    alation.fake.inject(Alation::mint_path(Source::refresh_token), slow, 1000);
    auto store = std::make_shared<InMemoryTokenStore>();
    ProviderOptions options = test::provider_options();
    options.token_store = store;
    options.share_access_tokens = true;
    auto work = asio::make_work_guard(alation.io);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&] { alation.io.run(); });
    for (int round = 0; round < 10; ++round) {
        std::vector<std::unique_ptr<TokenProvider>> fleet;
        for (int i = 0; i < 8; ++i) fleet.push_back(alation.provider(Source::refresh_token, options));
        std::this_thread::sleep_for(std::chrono::milliseconds(10 * (round % 4)));
        // Stopped mid-mint (the fake answers after 100 ms), from this thread, then destroyed.
        for (auto& p : fleet) p->stop();
        fleet.clear();
    }
    work.reset();
    alation.io.stop();
    for (auto& t : threads) t.join();
    SUCCEED("no crash, no race (this runs under ASan and TSan)");
}
