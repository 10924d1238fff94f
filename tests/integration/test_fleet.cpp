// The fleet simulation of issue 12 (tests/support/fleet_simulation.hpp), with its must-be
// figures asserted: replicas on one identity coordinating through a TokenStore while token
// calls fail, the store restarts and the fake revokes access tokens beyond K live ones.
#include "fleet_simulation.hpp"

#include "catch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#ifdef ALATION_AUTH_TEST_REDIS
#include <alation/auth/redis_token_store.hpp>

#include "redis_server.hpp"
#endif

using namespace alation::auth;
using namespace std::chrono_literals;
namespace fleet = alation::auth::test::fleet;

namespace {

// Under a sanitizer the process runs several times slower: store calls outlast the simulation's
// timeouts (300 ms), replicas fall back to minting their own tokens (sharing never stops a mint),
// and on a server that keeps K live tokens they revoke each other's. Those figures depend on the
// machine's speed and are asserted in the uninstrumented build; the coordination itself is
// asserted everywhere.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool instrumented = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool instrumented = true;
#else
constexpr bool instrumented = false;
#endif
#else
constexpr bool instrumented = false;
#endif

/// What every fleet with a shared store must show, whatever else went wrong in the run.
void check_must_be_figures(const fleet::FleetFigures& f) {
    INFO(f);
    CHECK(f.windows >= 2);
    CHECK(f.regenerations_outside_window == 0);
    // A replica regenerates on its own when the store does not answer in time (sharing never
    // stops a regeneration): under a sanitizer, on a slow machine, store calls that timed out can
    // cost a window a second regeneration. The uninstrumented build asserts one per window.
    if (instrumented && f.token_store_failed_events > 0)
        CHECK((f.regenerations >= f.windows && f.regenerations <= 2 * f.windows));
    else
        CHECK(f.one_regeneration_per_window());
    CHECK(f.replicas_with_rejected_refresh_token == 0);
    CHECK(f.store_holds_live_refresh_token);
    CHECK(f.requests_accepted > 0);
    // The faults did happen, near the share aimed at.
    CHECK(f.faults_injected > 0);
    CHECK(f.token_endpoint_failure_fraction() > 0.05);
    CHECK(f.token_endpoint_failure_fraction() < 0.3);
    if (instrumented) {
        WARN("under a sanitizer: " << f.requests_rejected << " requests sent with a dead token and "
                                   << f.mints_per_lifetime() << " mints per lifetime, not asserted");
        return;
    }
    CHECK(f.requests_rejected == 0);
    // Sharing: about one mint per lifetime for the whole fleet (two at most: a shared token is
    // taken while half its life is left), not one per replica.
    CHECK(f.mints_per_lifetime() < 4);
}

/// Lifetimes for a test that must finish in well under a minute: a regeneration every 5 s or so.
fleet::FleetConfig test_config() {
    fleet::FleetConfig config;
    // A replica whose store calls timed out under a sanitizer can still hold a regenerated-away
    // refresh token when the run stops; it must catch up from the store once the faults stop.
    if (instrumented) config.catch_up_time = 10s;
    config.access_lifetime = 1s;
    config.refresh_lifetime = 8s;
    config.regenerate_window = 3s;
    config.run_time = 14s;
    return config;
}

}  // namespace

TEST_CASE("fleet: replicas sharing one InMemoryTokenStore regenerate once per window and never send a dead token",
          "[fleet]") {
    auto config = test_config();
    config.replicas = 40;
    auto shared = std::make_shared<InMemoryTokenStore>();
    config.make_store = [shared](const boost::asio::any_io_executor&) -> std::shared_ptr<TokenStore> { return shared; };
    const auto f = fleet::run_fleet(config);
    std::cout << "fleet in memory: " << f << '\n';
    check_must_be_figures(f);
}

// Found by the simulation: a replica waited for a sibling's shared mint only as long as one store
// call may take, then minted its own; when the server was slow, a whole fleet did so at once and
// revoked its own tokens (K < N live ones). The wait is now bounded by the sibling's lease.
TEST_CASE("fleet: a replica waits for a sibling's slow shared mint instead of minting its own", "[fleet]") {
    boost::asio::io_context io;
    testing::FakeAlation fake(io.get_executor());
    const auto user_id = fake.add_user("fleet", "fleet-password-0123456789");
    const RefreshToken refresh_token = fake.issue_refresh_token(user_id, "fleet");
    const std::string identity = "user:" + std::to_string(user_id);
    auto store = std::make_shared<InMemoryTokenStore>();
    // The sibling holds the mint lease; its token comes after ten store timeouts.
    bool sibling_leased = false;
    store->async_acquire_lease(identity, "mint", "sibling", 30s,
                               [&](error_code, bool leased) { sibling_leased = leased; });
    REQUIRE(sibling_leased);
    const AccessToken sibling_token = fake.issue_access_token(refresh_token.value);
    boost::asio::steady_timer sibling_done(io, 500ms);
    sibling_done.async_wait(
        [&](error_code) { store->async_store_access_token(identity, sibling_token, [](error_code) {}); });

    ProviderOptions options;
    options.token_store = store;
    options.share_access_tokens = true;
    options.store_timeout = 50ms;
    Client client(io.get_executor(), fake.base_url());
    TokenProvider provider(client, refresh_token, options);
    error_code token_ec = Error::timeout;
    AccessToken token;
    provider.token([&](error_code ec, AccessToken t) {
        token_ec = ec;
        token = std::move(t);
    });
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (token_ec == Error::timeout && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
    CHECK_FALSE(token_ec);
    CHECK(token.value == sibling_token.value);
    CHECK(fake.access_tokens_minted() == 0);
}

#ifdef ALATION_AUTH_TEST_REDIS
TEST_CASE("fleet: 200 replicas, a RedisTokenStore each, Redis restarted mid-run", "[fleet][redis]") {
    test::RedisServer redis;
    auto config = test_config();
    config.replicas = 200;
    config.make_store = [&redis](const boost::asio::any_io_executor& executor) -> std::shared_ptr<TokenStore> {
        RedisTokenStoreOptions options;
        options.port = redis.port();
        options.connect_timeout = 200ms;
        options.command_timeout = 200ms;
        return RedisTokenStore::create(executor, options);
    };
    config.midrun = [&redis] { redis.restart(); };
    const auto f = fleet::run_fleet(config);
    std::cout << "fleet on Redis: " << f << '\n';
    // The restart emptied Redis: holding the live token at the end shows the fleet put it back.
    // (Its failures, token_store_failed, show only when a replica called during the restart.)
    check_must_be_figures(f);
}
#else
TEST_CASE("fleet: the Redis fleet needs the Redis component", "[fleet][redis]") {
    WARN("built without the Redis component (hiredis not found): the 200-replica Redis fleet is not compiled");
}
#endif
