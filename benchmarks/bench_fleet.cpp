// bench_fleet: the fleet simulation of issue 12 (tests/support/fleet_simulation.hpp) with 200
// replicas on one identity, its figures printed next to their must-be targets, for three set-ups:
// a RedisTokenStore per replica with access-token sharing, the same without sharing, and no store
// at all. Every replica regenerates the refresh token when it is due (no replica is configured
// differently); 10 % of the token-endpoint calls fail; Redis is restarted halfway; the fake
// revokes the oldest access tokens beyond 50 live ones.
//
// Without the Redis component (hiredis not found at configure time) the two store set-ups use one
// InMemoryTokenStore shared by the replicas instead, and say so. One run per set-up: each lasts
// about 30 access-token lifetimes (30 s) and three regenerations.
#include "bench_common.hpp"
#include "fleet_simulation.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#ifdef ALATION_AUTH_BENCH_REDIS
#include <alation/auth/redis_token_store.hpp>

#include "redis_server.hpp"
#endif

using namespace alation::auth;
using namespace std::chrono_literals;
namespace fleet = alation::auth::test::fleet;

namespace {

std::string met(bool ok) { return ok ? "met" : "MISSED"; }

void print(const std::string& title, const fleet::FleetFigures& f, bool shared) {
    bench::Table table(title);
    table.row("run", f.seconds, "s", "", std::to_string(f.replicas) + " replicas");
    table.row("access-token lifetimes in the run", f.access_lifetimes, "lifetimes", "about 30");
    table.row("regenerations", static_cast<double>(f.regenerations), "calls");
    table.row("regeneration windows in the run", static_cast<double>(f.windows), "windows", "about 3");
    table.row("regenerations per window", f.regenerations_per_window(), "per window", "exactly 1 in each",
              met(f.one_regeneration_per_window()) + " (" + std::to_string(f.regenerations_outside_window) +
                  " before their window)");
    table.row("requests sent with a dead token", static_cast<double>(f.requests_rejected), "requests",
              shared ? "0" : "0 with sharing", shared ? met(f.requests_rejected == 0) : "");
    table.row("requests accepted", static_cast<double>(f.requests_accepted), "requests");
    table.row("requests not sent: no token to be had", static_cast<double>(f.requests_without_token), "requests");
    table.row("replicas left with a rejected refresh token",
              static_cast<double>(f.replicas_with_rejected_refresh_token), "replicas", "0",
              met(f.replicas_with_rejected_refresh_token == 0));
    if (f.store_calls != 0)
        table.row("store holds the live refresh token at the end", f.store_holds_live_refresh_token ? 1.0 : 0.0,
                  "yes = 1", "1", met(f.store_holds_live_refresh_token));
    table.row("access-token mints per lifetime", f.mints_per_lifetime(), "mints",
              "about 1 with sharing, 1 per replica without");
    table.row("store calls per replica per lifetime", f.store_calls_per_replica_per_lifetime(), "calls");
    table.row("token-endpoint calls that failed", 100.0 * f.token_endpoint_failure_fraction(), "%", "about 10",
              std::to_string(f.token_endpoint_failures) + " of " + std::to_string(f.token_endpoint_calls) + ", " +
                  std::to_string(f.faults_injected) + " faults injected");
    table.row("token_store_failed events", static_cast<double>(f.token_store_failed_events), "events");
    table.row("regeneration_in_progress events", static_cast<double>(f.regeneration_in_progress_events), "events");
    table.row("refresh_token_reloaded events", static_cast<double>(f.refresh_token_reloaded_events), "events");
    table.print();
}

}  // namespace

int main(int argc, char** argv) {
    const auto mode = bench::Mode::parse(argc, argv);
    fleet::FleetConfig config;
    config.replicas = 200;
    config.run_time = 30s;
    if (mode.smoke) {
        config.replicas = 20;
        config.run_time = 3s;
        config.refresh_lifetime = 5s;
        config.regenerate_window = 2s;
    }

#ifdef ALATION_AUTH_BENCH_REDIS
    std::optional<test::RedisServer> redis;
    config.make_store = [&redis](const boost::asio::any_io_executor& executor) -> std::shared_ptr<TokenStore> {
        RedisTokenStoreOptions options;
        options.port = redis->port();
        options.connect_timeout = 200ms;
        options.command_timeout = 200ms;
        return RedisTokenStore::create(executor, options);
    };
    config.midrun = [&redis] { redis->restart(); };
    const std::string store = "a RedisTokenStore per replica, Redis restarted halfway";
#else
    std::shared_ptr<InMemoryTokenStore> shared;
    config.make_store = [&shared](const boost::asio::any_io_executor&) -> std::shared_ptr<TokenStore> {
        return shared;
    };
    const std::string store = "one InMemoryTokenStore (built without the Redis component)";
#endif

    std::cout << "\n# bench_fleet: " << config.replicas << " replicas, one identity, access tokens living "
              << config.access_lifetime.count() << " ms, refresh tokens " << config.refresh_lifetime.count()
              << " ms (regenerated in their last " << config.regenerate_window.count() << " ms), "
              << 100 * config.fault_share << " % of token calls failing, K = " << config.replicas / 4
              << " live access tokens\n";

    const auto run = [&](bool share) {
#ifdef ALATION_AUTH_BENCH_REDIS
        redis.emplace();  // empty for each set-up
#else
        shared = std::make_shared<InMemoryTokenStore>();
#endif
        config.share_access_tokens = share;
        return fleet::run_fleet(config);
    };
    print("fleet: " + store + ", access tokens shared", run(true), true);
    print("fleet: " + store + ", access tokens not shared", run(false), false);

    config.make_store = nullptr;
    config.midrun = nullptr;
    print("fleet: no store (each replica on its own)", fleet::run_fleet(config), false);
    return 0;
}
