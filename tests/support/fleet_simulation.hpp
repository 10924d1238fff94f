// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// A fleet of replicas on one identity, in one process, against the fake Alation: the proof of
// issue 12, shared by tests/integration/test_fleet.cpp (which asserts its figures) and
// benchmarks/bench_fleet.cpp (which prints them). No test framework in here.
//
// Each replica has its own Client, TokenProvider and TokenStore (one RedisTokenStore each, as
// separate processes would have, or views of one InMemoryTokenStore), all over the one refresh
// token the fake issued, with the same options: regeneration on in every replica. Lifetimes are
// shortened so that a run of seconds covers tens of access-token lifetimes and a few
// regenerations. Each replica sends authorized GETs to the fake's protected endpoint all along.
// Meanwhile a share of the token-endpoint calls fail, the store may be restarted, and the fake
// revokes the oldest access tokens beyond max_live_access_tokens.
#pragma once

#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace alation::auth::test::fleet {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

/// A TokenStore that counts the calls made to the store it wraps (any store), for the figure
/// "store calls per replica per lifetime".
class CountingTokenStore final : public TokenStore {
public:
    explicit CountingTokenStore(std::shared_ptr<TokenStore> inner) : inner_(std::move(inner)) {}

    void async_load(std::string_view identity, LoadHandler handler) override {
        count();
        inner_->async_load(identity, std::move(handler));
    }
    void async_compare_and_swap(std::string_view identity, const Secret& expected, const RefreshToken& desired,
                                ExchangeHandler handler) override {
        count();
        inner_->async_compare_and_swap(identity, expected, desired, std::move(handler));
    }
    void async_acquire_lease(std::string_view identity, std::string_view name, std::string_view owner,
                             std::chrono::milliseconds ttl, ExchangeHandler handler) override {
        count();
        inner_->async_acquire_lease(identity, name, owner, ttl, std::move(handler));
    }
    void async_release_lease(std::string_view identity, std::string_view name, std::string_view owner,
                             DoneHandler handler) override {
        count();
        inner_->async_release_lease(identity, name, owner, std::move(handler));
    }
    [[nodiscard]] bool shares_access_tokens() const noexcept override { return inner_->shares_access_tokens(); }
    void async_load_access_token(std::string_view identity, AccessTokenHandler handler) override {
        count();
        inner_->async_load_access_token(identity, std::move(handler));
    }
    void async_store_access_token(std::string_view identity, const AccessToken& token, DoneHandler handler) override {
        count();
        inner_->async_store_access_token(identity, token, std::move(handler));
    }

    [[nodiscard]] std::size_t calls() const noexcept { return calls_.load(std::memory_order_relaxed); }

private:
    void count() noexcept { calls_.fetch_add(1, std::memory_order_relaxed); }

    std::shared_ptr<TokenStore> inner_;
    std::atomic<std::size_t> calls_{0};
};

/// Makes the store of one replica on `executor` (the harness wraps it in a CountingTokenStore).
using StoreFactory = std::function<std::shared_ptr<TokenStore>(const asio::any_io_executor& executor)>;

struct FleetConfig {
    std::size_t replicas = 200;
    /// Empty: no store at all (every replica on its own, for comparison).
    StoreFactory make_store;
    bool share_access_tokens = true;
    /// How long the replicas send requests; then the run settles (see run_fleet) and stops.
    std::chrono::milliseconds run_time = 30s;
    /// Called once, from the harness's own thread, halfway through the run (e.g. to restart Redis).
    std::function<void()> midrun;

    /// The fake's lifetimes, and the regeneration window of every replica: a refresh token is
    /// regenerated every refresh_lifetime - regenerate_window (less up to a tenth of the window
    /// of jitter).
    std::chrono::milliseconds access_lifetime = 1s;
    std::chrono::milliseconds refresh_lifetime = 14s;
    std::chrono::milliseconds regenerate_window = 4s;
    /// The fake revokes the oldest access tokens beyond this many (0: replicas / 4).
    std::size_t max_live_access_tokens = 0;

    /// The share of token-endpoint calls to make fail (see detail::inject_faults).
    double fault_share = 0.1;
    /// Each replica's pace of requests to the protected endpoint (the first at a random phase).
    std::chrono::milliseconds request_interval = 100ms;
    /// Threads running the io_context (the fake, the providers, the stores and the requests).
    int threads = 2;
    /// How long after the faults and the requests stop a replica still holding a rejected refresh
    /// token may take to catch up (its providers sync with the store before every mint) before it
    /// counts as left with one. 0: counted at once.
    std::chrono::milliseconds catch_up_time{0};
};

/// What a run measured. The "must" comments are the targets of issue 12.
struct FleetFigures {
    std::size_t replicas = 0;
    double seconds = 0;
    /// seconds / access-token lifetime.
    double access_lifetimes = 0;

    /// Successful regenRefreshToken calls (fake.refresh_tokens_created()).
    std::size_t regenerations = 0;
    /// The regeneration windows that opened during the run: the last regenerate_window of each
    /// refresh token (moved earlier by at most the jitter). The run ends with no window open
    /// and waiting for its regeneration, unless the fleet failed to regenerate.
    std::size_t windows = 0;
    /// Regenerations outside their token's window (each would cost the fleet a window).
    std::size_t regenerations_outside_window = 0;
    /// Must be exactly 1: each window had its regeneration, and none had two (the fake revokes
    /// a regenerated token, so a second regeneration of it fails; one before the window opened
    /// counts as outside).
    [[nodiscard]] double regenerations_per_window() const {
        return windows == 0 ? 0.0 : static_cast<double>(regenerations) / static_cast<double>(windows);
    }
    [[nodiscard]] bool one_regeneration_per_window() const {
        return regenerations_outside_window == 0 && regenerations == windows;
    }

    /// Requests the fake's protected endpoint refused (with sharing: must be 0), and accepted.
    std::size_t requests_rejected = 0;
    std::size_t requests_accepted = 0;
    /// send() calls that failed: no token could be had (provider errors), or the connection.
    std::size_t requests_without_token = 0;
    std::size_t requests_io_errors = 0;

    /// Replicas whose refresh token the fake rejects at the end (must be 0), and how long the last
    /// of those rejected when the run stopped took to catch up (within FleetConfig::catch_up_time).
    std::size_t replicas_with_rejected_refresh_token = 0;
    double seconds_to_catch_up = 0;
    /// Whether the store holds the live refresh token at the end (with a store: must be true,
    /// also after a restart of the store that emptied it).
    bool store_holds_live_refresh_token = false;

    /// Successful createAPIAccessToken calls, and per access-token lifetime.
    std::size_t access_tokens_minted = 0;
    [[nodiscard]] double mints_per_lifetime() const {
        return access_lifetimes == 0 ? 0.0 : static_cast<double>(access_tokens_minted) / access_lifetimes;
    }
    /// TokenStore calls of all replicas, and per replica per access-token lifetime.
    std::size_t store_calls = 0;
    [[nodiscard]] double store_calls_per_replica_per_lifetime() const {
        const double denominator = access_lifetimes * static_cast<double>(replicas);
        return denominator == 0 ? 0.0 : static_cast<double>(store_calls) / denominator;
    }

    /// Token-endpoint calls (createAPIAccessToken and regenRefreshToken) the fake received, the
    /// faults injected, and the share of the calls that failed (faults, and refresh tokens the
    /// fake had revoked); fault_share aims at this.
    std::size_t token_endpoint_calls = 0;
    std::size_t token_endpoint_failures = 0;
    std::size_t faults_injected = 0;
    [[nodiscard]] double token_endpoint_failure_fraction() const {
        return token_endpoint_calls == 0
                   ? 0.0
                   : static_cast<double>(token_endpoint_failures) / static_cast<double>(token_endpoint_calls);
    }

    /// Events of every replica.
    std::size_t token_store_failed_events = 0;
    std::size_t regeneration_in_progress_events = 0;
    std::size_t refresh_token_reloaded_events = 0;
};

inline std::ostream& operator<<(std::ostream& os, const FleetFigures& f) {
    return os << f.replicas << " replicas, " << f.seconds << " s (" << f.access_lifetimes
              << " lifetimes): " << f.regenerations << " regenerations for " << f.windows << " windows ("
              << f.regenerations_outside_window << " outside), " << f.requests_accepted << " requests accepted, "
              << f.requests_rejected << " rejected, " << f.requests_without_token << " without a token, "
              << f.requests_io_errors << " I/O errors, " << f.replicas_with_rejected_refresh_token
              << " replicas with a rejected refresh token (after " << f.seconds_to_catch_up << " s to catch up), store "
              << (f.store_holds_live_refresh_token ? "holds" : "does not hold") << " the live one, "
              << f.access_tokens_minted << " mints (" << f.mints_per_lifetime() << " per lifetime), " << f.store_calls
              << " store calls (" << f.store_calls_per_replica_per_lifetime() << " per replica per lifetime), "
              << f.token_endpoint_failures << " of " << f.token_endpoint_calls << " token-endpoint calls failed ("
              << f.faults_injected << " faults injected), " << f.token_store_failed_events << " token_store_failed, "
              << f.regeneration_in_progress_events << " regeneration_in_progress, " << f.refresh_token_reloaded_events
              << " refresh_token_reloaded";
}

namespace detail {

/// The fake's protected endpoint (see FakeAlation::protected_accepted).
inline constexpr std::string_view protected_path = "/integration/v2/table/";

inline asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

/// The fleet's events, gathered from every replica's strand.
struct EventLog {
    std::mutex mutex;
    std::size_t store_failed = 0;
    std::size_t in_progress = 0;
    std::size_t reloaded = 0;
    /// Each refresh token regenerated (its expiry on the server's clock) and when it was first
    /// reported.
    std::map<Timestamp, std::chrono::steady_clock::time_point> generations;

    void record(const ProviderEvent& e) {
        using Kind = ProviderEvent::Kind;
        std::lock_guard lock(mutex);
        if (e.kind == Kind::token_store_failed) ++store_failed;
        if (e.kind == Kind::refresh_token_reloaded) ++reloaded;
        if (e.kind == Kind::refresh_token_regeneration_failed && e.error == Error::regeneration_in_progress)
            ++in_progress;
        if (e.kind == Kind::refresh_token_regenerated)
            generations.emplace(e.expires_at, std::chrono::steady_clock::now());
    }
    std::chrono::steady_clock::time_point last_regeneration() {
        std::lock_guard lock(mutex);
        std::chrono::steady_clock::time_point last{};
        for (const auto& [expiry, seen] : generations) last = std::max(last, seen);
        return last;
    }
    /// The expiry of the newest refresh token: the last regenerated, else `initial`.
    Timestamp newest_expiry(Timestamp initial) {
        std::lock_guard lock(mutex);
        return generations.empty() ? initial : std::max(initial, generations.rbegin()->first);
    }
};

/// The regeneration windows of a chain of refresh tokens living `lifetime`, each opening
/// `lead` before its token's expiry: the window, its jitter, and slack for a replica's view of
/// a token it adopted, whose remaining life it counts from when its step (bounded by the store
/// timeouts) began. Every time is on the wall clock, which is the fake's.
struct Windows {
    std::chrono::milliseconds lifetime;
    std::chrono::milliseconds lead;

    [[nodiscard]] bool opened(Timestamp expiry, std::chrono::system_clock::time_point now) const {
        return expiry - lead <= now;
    }
    /// Whether the token expiring at `child` was regenerated within the window of the one
    /// expiring at `parent` (the fake creates it at its expiry less its lifetime).
    [[nodiscard]] bool within(Timestamp parent, Timestamp child) const {
        const auto created = child - lifetime;
        return created >= parent - lead && created <= parent;
    }
};

struct Replica {
    Replica(const asio::any_io_executor& executor, const std::string& base_url, const ClientOptions& client_options)
        : client(executor, base_url, client_options), strand(asio::make_strand(executor)) {}
    Client client;
    asio::strand<asio::any_io_executor> strand;
    std::shared_ptr<CountingTokenStore> store;
    std::unique_ptr<TokenProvider> provider;
};

struct Counters {
    std::atomic<std::size_t> without_token{0};
    std::atomic<std::size_t> io_errors{0};
    std::atomic<std::size_t> loops_running{0};
    std::atomic<bool> stop_requests{false};
    std::atomic<bool> stop_faults{false};
    std::atomic<std::size_t> faults_injected{0};
};

inline asio::awaitable<void> request_loop(Replica& replica, unsigned short port, std::chrono::milliseconds interval,
                                          std::chrono::milliseconds phase, Counters& counters) {
    const auto executor = co_await asio::this_coro::executor;
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    beast::tcp_stream stream(executor);
    beast::flat_buffer buffer;
    co_await sleep_for(phase);
    while (!counters.stop_requests.load()) {
        if (!stream.socket().is_open()) {
            auto [connect_ec] = co_await stream.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
            if (connect_ec) {
                ++counters.io_errors;
                stream.close();
                co_await sleep_for(interval);
                continue;
            }
        }
        http::request<http::empty_body> req{http::verb::get, std::string(protected_path), 11};
        req.set(http::field::host, "127.0.0.1");
        http::response<http::string_body> res;
        auto [ec] = co_await replica.provider->send(stream, req, buffer, res, asio::as_tuple(asio::use_awaitable));
        if (ec && ec.category() == error_category()) {
            ++counters.without_token;
        } else if (ec) {
            ++counters.io_errors;
            stream.close();
            buffer.clear();
        }
        co_await sleep_for(interval);
    }
    --counters.loops_running;
}

/// Makes `share` of the token-endpoint calls fail, deterministically: for each call the fake
/// received on an endpoint since the last look, the endpoint earns `share` of a fault, and each
/// whole fault earned is queued for the next call there (a 503 and a reset before the response,
/// alternately; the fake acts on neither). Regenerations are rare (a few per run), so the first
/// one is owed a fault from the start: every run retries a failed regeneration.
inline asio::awaitable<void> inject_faults(testing::FakeAlation& fake, double share, Counters& counters) {
    struct Endpoint {
        std::string path;
        double earned;
        std::size_t seen = 0;
    };
    Endpoint endpoints[] = {
        {std::string(auth::detail::path(auth::detail::Endpoint::create_access_token)), 0.0},
        {std::string(auth::detail::path(auth::detail::Endpoint::regenerate_refresh_token)), share > 0 ? 1.0 : 0.0},
    };
    bool reset_next = false;
    while (!counters.stop_faults.load()) {
        for (auto& endpoint : endpoints) {
            const auto calls = fake.request_count(endpoint.path);
            endpoint.earned += share * static_cast<double>(calls - endpoint.seen);
            endpoint.seen = calls;
            for (; endpoint.earned >= 1.0; endpoint.earned -= 1.0) {
                testing::Fault fault;
                fault.kind = reset_next ? testing::Fault::Kind::reset_before_response : testing::Fault::Kind::respond;
                fault.status = 503;
                reset_next = !reset_next;
                fake.inject(endpoint.path, fault);
                ++counters.faults_injected;
            }
        }
        co_await sleep_for(10ms);
    }
}

}  // namespace detail

/// Runs the fleet described by `config` against a fake Alation of its own and returns what it
/// measured. Blocks for about config.run_time plus a settling period (see below), then checks
/// each replica's refresh token against the fake.
inline FleetFigures run_fleet(const FleetConfig& config) {
    using Clock = std::chrono::steady_clock;
    asio::io_context io;
    auto work = asio::make_work_guard(io);

    testing::FakeAlationOptions fake_options;
    fake_options.access_token_lifetime = config.access_lifetime;
    fake_options.refresh_token_lifetime = config.refresh_lifetime;
    fake_options.max_live_access_tokens = config.max_live_access_tokens != 0
                                              ? config.max_live_access_tokens
                                              : std::max<std::size_t>(1, config.replicas / 4);
    testing::FakeAlation fake(io.get_executor(), fake_options);
    const auto user_id = fake.add_user("fleet", "fleet-password-0123456789");
    const RefreshToken initial = fake.issue_refresh_token(user_id, "fleet");

    // A short retry policy and timeouts in proportion to the shortened lifetimes.
    ClientOptions client_options;
    client_options.connect_timeout = 1s;
    client_options.request_timeout = 1s;
    client_options.retry.max_attempts = 2;
    client_options.retry.initial_backoff = 10ms;
    client_options.retry.max_backoff = 50ms;
    client_options.retry.total_budget = 2s;

    detail::EventLog events;
    ProviderOptions provider_options;
    provider_options.refresh.regenerate_refresh_token = true;
    provider_options.refresh.regenerate_window = config.regenerate_window;
    provider_options.refresh.initial_backoff = 100ms;
    provider_options.refresh.max_backoff = 1s;
    provider_options.store_timeout = 300ms;
    provider_options.lease_ttl = 3s;
    provider_options.share_access_tokens = config.share_access_tokens && config.make_store;
    provider_options.on_event = [&events](const ProviderEvent& e) { events.record(e); };

    std::vector<std::unique_ptr<detail::Replica>> replicas;
    for (std::size_t i = 0; i < config.replicas; ++i) {
        auto replica = std::make_unique<detail::Replica>(io.get_executor(), fake.base_url(), client_options);
        ProviderOptions options = provider_options;
        if (config.make_store) {
            replica->store = std::make_shared<CountingTokenStore>(config.make_store(io.get_executor()));
            options.token_store = replica->store;
        }
        replica->provider = std::make_unique<TokenProvider>(replica->client, initial, std::move(options));
        replicas.push_back(std::move(replica));
    }

    detail::Counters counters;
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> phase(0, static_cast<int>(config.request_interval.count()));
    for (auto& replica : replicas) {
        ++counters.loops_running;
        asio::co_spawn(replica->strand,
                       detail::request_loop(*replica, fake.port(), config.request_interval,
                                            std::chrono::milliseconds(phase(random)), counters),
                       asio::detached);
    }
    asio::co_spawn(asio::make_strand(io), detail::inject_faults(fake, config.fault_share, counters), asio::detached);

    const auto started = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < std::max(1, config.threads); ++i) threads.emplace_back([&io] { io.run(); });

    std::this_thread::sleep_until(started + config.run_time / 2);
    if (config.midrun) config.midrun();
    std::this_thread::sleep_until(started + config.run_time);

    // Settle: a window that has opened gets its regeneration, and every replica takes a step
    // (and so looks into the store) at least once per access-token lifetime, so two lifetimes
    // after the last regeneration every replica has the newest refresh token. Bounded, for a
    // fleet that fails to regenerate.
    const detail::Windows windows{
        config.refresh_lifetime,
        config.regenerate_window +
            std::chrono::duration_cast<std::chrono::milliseconds>(config.regenerate_window *
                                                                  provider_options.refresh.jitter_fraction) +
            500ms};  // a replica counts a sibling's token's remaining life from when its step began
    const auto quiet = 2 * config.access_lifetime;
    const auto settle_limit = Clock::now() + config.refresh_lifetime;
    while (Clock::now() < settle_limit &&
           (Clock::now() - events.last_regeneration() < quiet ||
            windows.opened(events.newest_expiry(initial.expires_at), std::chrono::system_clock::now())))
        std::this_thread::sleep_for(50ms);
    const auto stopped = Clock::now();
    const auto stopped_wall = std::chrono::system_clock::now();

    counters.stop_faults = true;
    fake.clear_faults();
    counters.stop_requests = true;
    while (counters.loops_running.load() != 0) std::this_thread::sleep_for(10ms);

    FleetFigures f;
    f.replicas = config.replicas;
    f.seconds = std::chrono::duration<double>(stopped - started).count();
    f.access_lifetimes = f.seconds / std::chrono::duration<double>(config.access_lifetime).count();
    f.regenerations = fake.refresh_tokens_created();
    f.requests_accepted = fake.protected_accepted();
    f.requests_rejected = fake.protected_rejected();
    f.requests_without_token = counters.without_token.load();
    f.requests_io_errors = counters.io_errors.load();
    f.access_tokens_minted = fake.access_tokens_minted();
    for (const auto& replica : replicas) f.store_calls += replica->store ? replica->store->calls() : 0;
    const auto mint_calls = fake.request_count(auth::detail::path(auth::detail::Endpoint::create_access_token));
    const auto regeneration_calls =
        fake.request_count(auth::detail::path(auth::detail::Endpoint::regenerate_refresh_token));
    f.token_endpoint_calls = mint_calls + regeneration_calls;
    f.token_endpoint_failures = (mint_calls - f.access_tokens_minted) + (regeneration_calls - f.regenerations);
    f.faults_injected = counters.faults_injected.load();
    {
        std::lock_guard lock(events.mutex);
        f.token_store_failed_events = events.store_failed;
        f.regeneration_in_progress_events = events.in_progress;
        f.refresh_token_reloaded_events = events.reloaded;

        // The chain of refresh tokens, by expiry: each must have been regenerated within its
        // predecessor's window.
        Timestamp parent = initial.expires_at;
        if (windows.opened(parent, stopped_wall)) ++f.windows;
        for (const auto& [expiry, seen] : events.generations) {
            if (!windows.within(parent, expiry)) ++f.regenerations_outside_window;
            if (windows.opened(expiry, stopped_wall)) ++f.windows;
            parent = expiry;
        }
    }

    // Every replica's refresh token, against the fake.
    Client checker(io.get_executor(), fake.base_url(), client_options);
    const auto count_rejected = [&] {
        return asio::co_spawn(
                   io,
                   [&]() -> asio::awaitable<std::size_t> {
                       std::size_t rejected = 0;
                       for (const auto& replica : replicas) {
                           const RefreshToken token = replica->provider->refresh_token();
                           auto [ec, validated] =
                               co_await checker.validate_refresh_token(token, asio::as_tuple(asio::use_awaitable));
                           if (ec || validated.status != TokenStatus::active) ++rejected;
                       }
                       co_return rejected;
                   },
                   asio::use_future)
            .get();
    };
    f.replicas_with_rejected_refresh_token = count_rejected();
    const auto first_count = Clock::now();
    while (f.replicas_with_rejected_refresh_token != 0 && Clock::now() - first_count < config.catch_up_time) {
        std::this_thread::sleep_for(250ms);
        f.replicas_with_rejected_refresh_token = count_rejected();
    }
    if (f.replicas_with_rejected_refresh_token == 0)
        f.seconds_to_catch_up = std::chrono::duration<double>(Clock::now() - first_count).count();

    if (config.make_store) {
        // What a replica starting now would find.
        std::promise<std::optional<RefreshToken>> loaded;
        replicas.front()->store->async_load("user:" + std::to_string(user_id),
                                            [&loaded](error_code ec, std::optional<RefreshToken> token) {
                                                loaded.set_value(ec ? std::nullopt : std::move(token));
                                            });
        const auto stored = loaded.get_future().get();
        f.store_holds_live_refresh_token = false;
        if (stored) {
            auto valid = asio::co_spawn(
                io,
                [&]() -> asio::awaitable<bool> {
                    auto [ec, validated] =
                        co_await checker.validate_refresh_token(*stored, asio::as_tuple(asio::use_awaitable));
                    co_return !ec && validated.status == TokenStatus::active;
                },
                asio::use_future);
            f.store_holds_live_refresh_token = valid.get();
        }
    }

    // Torn down with the io_context stopped, the providers still running (no window is open for
    // seconds): stopping a provider cancels its Client call in flight, and Asio 1.81's co_spawn
    // may run that cancellation after the call completed and freed it (a use after free seen in
    // this teardown, 200 providers on 2 threads). With nothing running, nothing is cancelled.
    io.stop();
    for (auto& thread : threads) thread.join();
    return f;
}

}  // namespace alation::auth::test::fleet
