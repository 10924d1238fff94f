// The TokenProvider's decisions, driven by a manual clock: no sockets, no sleeps.
#include <alation/auth/detail/coarse_clock.hpp>
#include <alation/auth/detail/fleet_rules.hpp>
#include <alation/auth/detail/provider_machine.hpp>

#include "catch.hpp"

#include <chrono>
#include <string>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::chrono_literals;

namespace {

// A token as the server grants it. Its server timestamps are deliberately far from the local
// clock: the cache must only use the lifetime they span.
AccessToken granted(std::chrono::milliseconds lifetime, std::string value = "access-token-1") {
    AccessToken t;
    t.value = Secret(value);
    t.user_id = 1;
    t.status = TokenStatus::active;
    t.created_at = Timestamp{std::chrono::hours(400000)};  // the server's clock, ~2015
    t.expires_at = t.created_at + lifetime;
    return t;
}

const TimePoint t0 = TimePoint{} + 1000h;  // the local steady clock

// A refresh token's lifetime as the server states it, on its own (distant) clock.
TokenTimes credential_lasting(std::chrono::hours lifetime) {
    TokenTimes t;
    t.created_at = Timestamp{std::chrono::hours(400000)};
    t.expires_at = t.created_at + lifetime;
    return t;
}

Diagnostics with_retry_after(std::chrono::seconds s) {
    Diagnostics d;
    d.set_http_status(429);
    d.set_retry_after(s);
    return d;
}

}  // namespace

TEST_CASE("Thresholds of a day-long token: margin is 10% of the lifetime, validity 30 s") {
    const RefreshPolicy policy;
    const auto c = make_cached_token(granted(24h), t0, policy, 0.0);
    CHECK(c.expires_at == t0 + 24h);
    CHECK(c.refresh_at == t0 + 24h - std::chrono::duration_cast<TimePoint::duration>(24h * 0.1));
    CHECK(c.usable_until == t0 + 24h - 30s);
}

TEST_CASE("Thresholds of a half-hour token: the 5-minute minimum margin applies") {
    const auto c = make_cached_token(granted(30min), t0, RefreshPolicy{}, 0.0);
    CHECK(c.refresh_at == t0 + 25min);
    CHECK(c.usable_until == t0 + 30min - 30s);
}

TEST_CASE("Jitter moves the refresh earlier by at most jitter_fraction of the margin") {
    const RefreshPolicy policy;  // 10% of a 5 min margin: up to 30 s
    CHECK(make_cached_token(granted(30min), t0, policy, 0.5).refresh_at == t0 + 25min - 15s);
    const auto latest_jitter = make_cached_token(granted(30min), t0, policy, 0.999999).refresh_at;
    CHECK(latest_jitter > t0 + 25min - 30s);
    CHECK(latest_jitter <= t0 + 25min - 29s);
}

TEST_CASE("A very short token still gets half its life before a refresh: no refresh loop") {
    const auto c = make_cached_token(granted(2s), t0, RefreshPolicy{}, 0.0);
    CHECK(c.refresh_at == t0 + 1s);        // margin capped at half the lifetime
    CHECK(c.usable_until == t0 + 1500ms);  // validity capped at a quarter
    CHECK(c.expires_at == t0 + 2s);
}

TEST_CASE("Expiry counts from when the request was sent, whatever the server's clock says") {
    // The server's timestamps are years away from the local clock; only their span matters.
    auto token = granted(10min);
    token.created_at += std::chrono::hours(24 * 365 * 3);
    token.expires_at += std::chrono::hours(24 * 365 * 3);
    const auto c = make_cached_token(std::move(token), t0, RefreshPolicy{}, 0.0);
    CHECK(c.expires_at == t0 + 10min);
}

TEST_CASE("The coarse clock is steady_clock at a coarser resolution") {
    const auto before = SteadyClock::now();
    const auto coarse = coarse_steady_now();
    const auto after = SteadyClock::now();
    CHECK(coarse > before - 50ms);  // behind by at most a kernel tick
    CHECK(coarse <= after);
}

TEST_CASE("A new cache mints at once, one request at a time") {
    ProviderMachine cache(RefreshPolicy{});
    CHECK_FALSE(cache.usable(t0));
    CHECK_FALSE(cache.must_fail(t0));  // callers wait for the first token
    CHECK(cache.next_wakeup() == TimePoint{});
    CHECK(cache.poll(t0) == Work::mint);
    CHECK(cache.in_flight() == Work::mint);
    CHECK(cache.poll(t0) == Work::none);  // single flight
    CHECK_FALSE(cache.next_wakeup());
    CHECK_FALSE(cache.must_fail(t0));
}

TEST_CASE("Fresh: served without work; past the margin: served while refreshing in the background") {
    ProviderMachine cache(RefreshPolicy{});
    REQUIRE(cache.poll(t0) == Work::mint);
    cache.mint_succeeded(granted(1h), t0, 0.0);  // margin: 10% of an hour, 6 min
    CHECK(cache.usable(t0));
    CHECK(cache.poll(t0 + 53min) == Work::none);
    CHECK(cache.next_wakeup() == t0 + 54min);

    CHECK(cache.poll(t0 + 54min) == Work::mint);
    CHECK(cache.usable(t0 + 54min));  // callers keep the current token
    CHECK(cache.usable(t0 + 1h - 31s));
    CHECK_FALSE(cache.usable(t0 + 1h - 30s));     // below the minimum validity callers wait
    CHECK_FALSE(cache.must_fail(t0 + 1h - 30s));  // ... for the mint in flight

    cache.mint_succeeded(granted(1h, "access-token-2"), t0 + 54min, 0.0);
    CHECK(cache.current()->token.value.reveal() == "access-token-2");
    CHECK(cache.usable(t0 + 1h));
    CHECK(cache.next_wakeup() == t0 + 54min + 54min);
}

TEST_CASE("A failed background refresh keeps serving and backs off exponentially") {
    RefreshPolicy policy;
    policy.initial_backoff = 1s;
    policy.max_backoff = 8s;
    ProviderMachine cache(policy);
    cache.poll(t0);
    cache.mint_succeeded(granted(1h), t0, 0.0);

    auto now = t0 + 55min;
    const error_code unavailable = Error::server_error;
    const double nearly_one = 0.999999;
    std::chrono::milliseconds expected_caps[] = {1s, 2s, 4s, 8s, 8s};
    for (auto cap : expected_caps) {
        REQUIRE(cache.poll(now) == Work::mint);
        const auto wait = cache.mint_failed(unavailable, Diagnostics{}, now, nearly_one).retry_in;
        CHECK(wait <= cap);
        CHECK(wait >= cap - 1ms);
        CHECK(cache.usable(now));  // still serving the current token
        CHECK(cache.poll(now + wait - 1ms) == Work::none);
        CHECK(cache.next_wakeup() == now + wait);
        now += wait;
    }
    // A success forgets the failures.
    REQUIRE(cache.poll(now) == Work::mint);
    cache.mint_succeeded(granted(1h, "access-token-2"), now, 0.0);
    CHECK_FALSE(cache.last_error());
    REQUIRE(cache.poll(now + 55min) == Work::mint);
    CHECK(cache.mint_failed(unavailable, Diagnostics{}, now + 55min, nearly_one).retry_in <= 1s);
}

TEST_CASE("Full jitter: a zero draw retries at once") {
    ProviderMachine cache(RefreshPolicy{});
    cache.poll(t0);
    CHECK(cache.mint_failed(Error::server_error, Diagnostics{}, t0, 0.0).retry_in == 0ms);
    CHECK(cache.poll(t0) == Work::mint);
}

TEST_CASE("Retry-After is honoured, within the longest backoff") {
    RefreshPolicy policy;
    policy.max_backoff = 60s;
    ProviderMachine cache(policy);
    cache.poll(t0);
    CHECK(cache.mint_failed(Error::rate_limited, with_retry_after(10s), t0, 0.0).retry_in == 10s);
    CHECK(cache.poll(t0 + 9s) == Work::none);
    CHECK(cache.poll(t0 + 10s) == Work::mint);
    CHECK(cache.mint_failed(Error::rate_limited, with_retry_after(3600s), t0 + 10s, 0.0).retry_in == 60s);
}

TEST_CASE("With no usable token left, a failure fails the callers instead of hanging them") {
    ProviderMachine cache(RefreshPolicy{});
    cache.poll(t0);
    Diagnostics diag;
    diag.set_http_status(503);
    diag.set_server_detail("maintenance");
    const auto wait = cache.mint_failed(Error::server_error, diag, t0, 0.5).retry_in;
    REQUIRE(wait > 0ms);
    CHECK_FALSE(cache.usable(t0));
    CHECK(cache.must_fail(t0));  // fail fast during the backoff ...
    CHECK(cache.last_error() == Error::server_error);
    CHECK(cache.last_diagnostics().server_detail() == "maintenance");
    CHECK_FALSE(cache.must_fail(t0 + wait));  // ... then wait for the retry
    CHECK(cache.poll(t0 + wait) == Work::mint);
}

TEST_CASE("A rejected refresh token is final: no retry loop, current token still served") {
    for (const error_code rejection :
         {make_error_code(Error::invalid_refresh_token), make_error_code(Error::refresh_token_expired_or_revoked),
          make_error_code(Error::invalid_argument)}) {
        ProviderMachine cache(RefreshPolicy{});
        cache.poll(t0);
        cache.mint_succeeded(granted(1h), t0, 0.0);
        REQUIRE(cache.poll(t0 + 55min) == Work::mint);
        cache.mint_failed(rejection, Diagnostics{}, t0 + 55min, 0.0);
        CHECK(cache.credential_rejected());
        CHECK(cache.usable(t0 + 56min));
        CHECK(cache.poll(t0 + 58min) == Work::none);
        CHECK_FALSE(cache.next_wakeup());
        CHECK(cache.must_fail(t0 + 1h));
        CHECK(cache.last_error() == rejection);

        // A new refresh token brings it back.
        cache.credential_replaced(std::nullopt);
        CHECK(cache.poll(t0 + 1h) == Work::mint);
    }
}

TEST_CASE("invalidate drops only the token that was rejected") {
    ProviderMachine cache(RefreshPolicy{});
    cache.poll(t0);
    cache.mint_succeeded(granted(1h, "token-A"), t0, 0.0);

    CHECK_FALSE(cache.invalidate(Secret("token-older")));  // a stale report changes nothing
    CHECK(cache.usable(t0 + 1min));

    CHECK(cache.invalidate(Secret("token-A")));
    CHECK_FALSE(cache.usable(t0 + 1min));
    CHECK(cache.poll(t0 + 1min) == Work::mint);
    CHECK_FALSE(cache.invalidate(Secret("token-A")));  // the rest of the burst: no more mints
    CHECK(cache.poll(t0 + 1min) == Work::none);

    cache.mint_succeeded(granted(1h, "token-B"), t0 + 1min, 0.0);
    CHECK_FALSE(cache.invalidate(Secret("token-A")));  // late 401s for A leave B alone
    CHECK(cache.current()->token.value.reveal() == "token-B");
}

TEST_CASE("The refresh token is regenerated within the window before its expiry") {
    RefreshPolicy policy;
    policy.regenerate_refresh_token = true;
    policy.regenerate_window = 24h * 7;
    const auto rt_expiry = t0 + 24h * 60;
    ProviderMachine cache(policy, true, rt_expiry);
    cache.poll(t0);
    cache.mint_succeeded(granted(24h), t0, 0.0);

    CHECK(cache.poll(t0 + 1h) == Work::none);
    // Mints go on as usual until the window opens.
    const auto window_opens = rt_expiry - 24h * 7;
    for (auto now = *cache.next_wakeup(); now < window_opens; now = *cache.next_wakeup()) {
        const auto work = cache.poll(now);
        if (work == Work::mint) cache.mint_succeeded(granted(24h), now, 0.0);
        CHECK(work != Work::regenerate);
    }
    CHECK(cache.poll(window_opens) == Work::regenerate);
    CHECK(cache.poll(window_opens) == Work::none);  // one operation at a time

    SECTION("success pushes the next regeneration to the new token's window") {
        cache.regeneration_succeeded(credential_lasting(24h * 60), window_opens, 0.0);
        CHECK(cache.credential_expiry() == window_opens + 24h * 60);
        CHECK(cache.poll(window_opens + 1h) != Work::regenerate);
    }
    SECTION("a transient failure retries after a backoff, the old token still minting") {
        const auto wait = cache.regeneration_failed(Error::server_error, Diagnostics{}, window_opens, 0.999).retry_in;
        CHECK_FALSE(cache.credential_rejected());
        CHECK(cache.poll(window_opens + wait - 1ms) != Work::regenerate);
    }
    SECTION("a rejection is final") {
        cache.regeneration_failed(Error::refresh_token_expired_or_revoked, Diagnostics{}, window_opens, 0.0);
        CHECK(cache.credential_rejected());
        CHECK_FALSE(cache.next_wakeup());
    }
}

TEST_CASE("Regeneration is jittered too, so replicas do not regenerate in the same second") {
    RefreshPolicy policy;
    policy.regenerate_refresh_token = true;
    policy.regenerate_window = 100h;  // jitter_fraction 10%: up to 10 h earlier
    const auto expiry = t0 + 1000h;
    ProviderMachine cache(policy, true);
    cache.credential_replaced(expiry, 0.5);
    cache.poll(t0);
    cache.mint_succeeded(granted(10000h), t0, 0.0);  // no mint due for a long time
    CHECK(cache.next_wakeup() == expiry - 100h - 5h);
    CHECK(cache.poll(expiry - 105h - 1s) == Work::none);
    CHECK(cache.poll(expiry - 105h) == Work::regenerate);
    cache.regeneration_succeeded(credential_lasting(1000h + 105h), expiry - 105h, 0.2);
    CHECK(cache.next_wakeup() == expiry + 1000h - 100h - 2h);
}

TEST_CASE("Months of service: a token is always usable and refreshes are spaced out") {
    // Every second for 30 days of 1-hour tokens, minting instantly whenever the cache asks.
    RefreshPolicy policy;
    ProviderMachine cache(policy);
    auto now = t0;
    REQUIRE(cache.poll(now) == Work::mint);
    cache.mint_succeeded(granted(1h), now, 0.7);
    int mints = 1;
    for (int second = 1; second <= 30 * 24 * 3600; ++second) {
        now = t0 + std::chrono::seconds(second);
        if (cache.poll(now) == Work::mint) {
            ++mints;
            cache.mint_succeeded(granted(1h), now, (mints % 10) / 10.0);
        }
        REQUIRE(cache.usable(now));
    }
    // One mint per 54 minutes (the 6-minute margin), less up to 10% of the margin of jitter.
    CHECK(mints >= 30 * 24 * 60 / 54);
    CHECK(mints <= static_cast<int>(30 * 24 * 60 / 53.4) + 1);
}

TEST_CASE("A renewable credential of unknown expiry is validated before the first mint") {
    RefreshPolicy policy;
    policy.regenerate_refresh_token = true;
    policy.regenerate_window = 24h * 7;
    ProviderMachine machine(policy, true);
    CHECK(machine.admit(t0) == Admission::wait);
    REQUIRE(machine.poll(t0) == Work::validate);
    CHECK(machine.poll(t0) == Work::none);  // one operation at a time

    SECTION("success: its expiry, estimated with the wall clock, schedules the regeneration") {
        const auto wall_now = std::chrono::system_clock::time_point{} + std::chrono::hours(500000);
        const auto server_expiry = Timestamp{std::chrono::hours(500000) + 24h * 60};
        machine.validation_succeeded(server_expiry, t0, wall_now, 0.0);
        CHECK(machine.credential_expiry() == t0 + 24h * 60);
        CHECK(machine.poll(t0) == Work::mint);
        machine.mint_succeeded(granted(24h), t0, 0.0);
        CHECK(machine.next_wakeup() == t0 + std::chrono::duration_cast<TimePoint::duration>(24h * 0.9));
    }
    SECTION("a transient failure lets the mint go first and validates again after a backoff") {
        const auto after = machine.validation_failed(Error::server_error, Diagnostics{}, t0, 0.999);
        CHECK_FALSE(after.reload_credential);
        CHECK_FALSE(after.fail_waiters);
        CHECK(after.retry_in > 0ms);
        CHECK(machine.poll(t0) == Work::mint);  // callers are not held up by the validation
        machine.mint_succeeded(granted(1h), t0, 0.0);
        CHECK(machine.poll(t0 + after.retry_in - 1ms) == Work::none);
        CHECK(machine.next_wakeup() == t0 + after.retry_in);
        CHECK(machine.poll(t0 + after.retry_in) == Work::validate);
    }
    SECTION("a rejection is final: waiters fail, the source is asked for a newer credential") {
        const auto after = machine.validation_failed(Error::invalid_refresh_token, Diagnostics{}, t0, 0.0);
        CHECK(after.reload_credential);
        CHECK(after.fail_waiters);
        CHECK(machine.poll(t0 + 1h) == Work::none);
        CHECK(machine.admit(t0) == Admission::reload_credential);
        CHECK(machine.last_error() == Error::invalid_refresh_token);
    }
}

TEST_CASE("A source without a renewable credential is never validated nor regenerated") {
    RefreshPolicy policy;
    policy.regenerate_refresh_token = true;  // asked for, but the source (OAuth, static) cannot
    ProviderMachine machine(policy, false, t0 + 24h);
    REQUIRE(machine.poll(t0) == Work::mint);
    machine.mint_succeeded(granted(1h), t0, 0.0);
    for (auto now = t0; now < t0 + 48h; now += 1min) {
        const auto work = machine.poll(now);
        CHECK(work != Work::validate);
        CHECK(work != Work::regenerate);
        if (work == Work::mint) machine.mint_succeeded(granted(1h), now, 0.0);
    }
}

TEST_CASE("A rejected credential: reload it, and fail the waiters only when no token is usable") {
    for (const error_code rejection :
         {make_error_code(Error::invalid_refresh_token), make_error_code(Error::invalid_client_credentials)}) {
        ProviderMachine machine(RefreshPolicy{});
        machine.poll(t0);
        machine.mint_succeeded(granted(1h), t0, 0.0);

        REQUIRE(machine.poll(t0 + 55min) == Work::mint);
        auto after = machine.mint_failed(rejection, Diagnostics{}, t0 + 55min, 0.0);
        CHECK(after.reload_credential);
        CHECK_FALSE(after.fail_waiters);  // the current token is still served
        CHECK(machine.admit(t0 + 56min) == Admission::serve);
        CHECK(machine.admit(t0 + 1h) == Admission::reload_credential);

        // The source found a newer credential: minting resumes at once, failures forgotten.
        machine.credential_replaced(std::nullopt);
        CHECK(machine.admit(t0 + 1h) == Admission::wait);
        REQUIRE(machine.poll(t0 + 1h) == Work::mint);

        after = machine.mint_failed(rejection, Diagnostics{}, t0 + 1h, 0.0);
        CHECK(after.reload_credential);
        CHECK(after.fail_waiters);  // nothing usable is left
    }
}

TEST_CASE("A transient failure with a usable token keeps the waiters; without one, fails them") {
    ProviderMachine machine(RefreshPolicy{});
    machine.poll(t0);
    auto after = machine.mint_failed(Error::timeout, Diagnostics{}, t0, 0.5);
    CHECK_FALSE(after.reload_credential);
    CHECK(after.fail_waiters);
    CHECK(machine.admit(t0) == Admission::fail);  // during the backoff: at once
    CHECK(machine.admit(t0 + after.retry_in) == Admission::wait);

    REQUIRE(machine.poll(t0 + after.retry_in) == Work::mint);
    machine.mint_succeeded(granted(1h), t0 + after.retry_in, 0.0);
    REQUIRE(machine.poll(t0 + 55min) == Work::mint);
    after = machine.mint_failed(Error::timeout, Diagnostics{}, t0 + 55min, 0.5);
    CHECK_FALSE(after.fail_waiters);
    CHECK(machine.admit(t0 + 55min) == Admission::serve);
}

TEST_CASE("A failure to read the shared storage is reported once per distinct error") {
    ProviderMachine machine(RefreshPolicy{});
    const error_code insecure = Error::insecure_token_file;
    const error_code malformed = Error::malformed_token_file;
    CHECK_FALSE(machine.reload_result({}));
    CHECK(machine.reload_result(insecure));
    CHECK_FALSE(machine.reload_result(insecure));
    CHECK(machine.reload_result(malformed));
    CHECK_FALSE(machine.reload_result({}));
    CHECK(machine.reload_result(malformed));  // it came back after a success
}

TEST_CASE("After stop nothing starts and callers are turned away") {
    ProviderMachine machine(RefreshPolicy{});
    machine.poll(t0);
    machine.mint_succeeded(granted(1h, "token-A"), t0, 0.0);
    machine.stop();
    CHECK(machine.stopped());
    CHECK(machine.admit(t0) == Admission::stopped);
    CHECK(machine.poll(t0 + 59min) == Work::none);
    CHECK_FALSE(machine.next_wakeup());
    CHECK_FALSE(machine.invalidate(Secret("token-A")));
}

TEST_CASE("At start-up a stored refresh token replaces the given one when it is the better choice") {
    RefreshToken given;
    given.value = Secret("given");
    given.user_id = 7;
    given.expires_at = Timestamp{std::chrono::hours(500000)};
    RefreshToken stored = given;
    stored.value = Secret("stored");

    stored.expires_at = given.expires_at + 24h;
    CHECK(prefer_stored_refresh_token(given, true, stored));
    stored.expires_at = given.expires_at - 24h;
    CHECK_FALSE(prefer_stored_refresh_token(given, true, stored));  // an older regeneration
    CHECK(prefer_stored_refresh_token(given, false, stored));       // the given one's expiry is unknown
    stored.user_id = 8;
    CHECK_FALSE(prefer_stored_refresh_token(given, false, stored));  // someone else's
}

TEST_CASE("After a rejection only a different token of the same user is adopted from the store") {
    RefreshToken current;
    current.value = Secret("current");
    current.user_id = 7;
    RefreshToken stored = current;
    CHECK_FALSE(is_replacement_refresh_token(current, stored));  // the very token rejected
    stored.value = Secret("regenerated-elsewhere");
    CHECK(is_replacement_refresh_token(current, stored));
    stored.user_id = 8;
    CHECK_FALSE(is_replacement_refresh_token(current, stored));
}

TEST_CASE("send(): 401 retries once; 403 retries only while the token is not known good") {
    SECTION("2xx vouches for the token and delivers") {
        for (const unsigned status : {200U, 201U, 204U}) {
            const auto after = after_response(status, false, false);
            CHECK_FALSE(after.retry);
            CHECK(after.vouch);
        }
    }
    SECTION("401 retries whether or not the token was known good, and only once") {
        CHECK(after_response(401, false, false).retry);
        CHECK(after_response(401, false, true).retry);
        CHECK_FALSE(after_response(401, true, false).retry);
    }
    SECTION("403 with an unproven token retries; a 403 to the retry proves the 403 is about permissions") {
        CHECK(after_response(403, false, false).retry);
        const auto second = after_response(403, true, false);
        CHECK_FALSE(second.retry);
        CHECK(second.vouch);
        CHECK_FALSE(after_response(403, false, true).retry);  // never again with that token
    }
    SECTION("other statuses are delivered as they are") {
        for (const unsigned status : {400U, 404U, 429U, 500U, 503U}) {
            CHECK_FALSE(after_response(status, false, false).retry);
            CHECK_FALSE(after_response(status, false, false).vouch);
        }
        CHECK_FALSE(after_response(401, true, false).vouch);
    }
    SECTION("a forbidden endpoint costs one mint per token, not one per request") {
        // Requests to an endpoint that always answers 403, each with the provider's current token.
        ProviderMachine machine(RefreshPolicy{});
        machine.poll(t0);
        machine.mint_succeeded(granted(1h, "token-0"), t0, 0.0);
        int mints = 1;
        for (int request = 0; request < 100; ++request) {
            auto used = machine.current();
            auto after = after_response(403, false, used->known_good.is_set());
            if (after.vouch) used->known_good.set();
            if (!after.retry) continue;
            REQUIRE(machine.invalidate(used->token.value));
            REQUIRE(machine.poll(t0) == Work::mint);
            machine.mint_succeeded(granted(1h, "token-" + std::to_string(mints++)), t0, 0.0);
            used = machine.current();
            after = after_response(403, true, used->known_good.is_set());
            if (after.vouch) used->known_good.set();
        }
        CHECK(mints == 2);
    }
}

TEST_CASE("Start-up jitter: nothing starts before the hold ends, and the wake-up says when") {
    ProviderMachine m(RefreshPolicy{});
    m.hold_until(t0 + 1500ms);
    CHECK(m.admit(t0) == Admission::wait);  // a caller waits; it is not failed
    CHECK(m.poll(t0) == Work::none);
    CHECK(m.poll(t0 + 1499ms) == Work::none);
    CHECK(m.next_wakeup() == t0 + 1500ms);
    CHECK(m.poll(t0 + 1500ms) == Work::mint);
}

TEST_CASE("Start-up jitter holds the first validation too") {
    RefreshPolicy policy;
    policy.regenerate_refresh_token = true;
    ProviderMachine m(policy, /*renewable=*/true);
    m.hold_until(t0 + 1s);
    CHECK(m.poll(t0) == Work::none);
    CHECK(m.next_wakeup() == t0 + 1s);
    CHECK(m.poll(t0 + 1s) == Work::validate);
}

// What a replica takes from what its siblings left in a shared store (detail/fleet_rules.hpp).

TEST_CASE("Fleet: a stored refresh token is taken when it is the same user's, different, and newer") {
    RefreshToken current;
    current.value = Secret("rt-current");
    current.user_id = 7;
    current.expires_at = Timestamp{std::chrono::hours(400000)};
    RefreshToken stored = current;
    stored.value = Secret("rt-sibling");
    stored.expires_at = current.expires_at + 24h;

    CHECK(is_newer_refresh_token(current, true, stored));
    // Older, or the same token: kept.
    RefreshToken older = stored;
    older.expires_at = current.expires_at - 1h;
    CHECK_FALSE(is_newer_refresh_token(current, true, older));
    CHECK_FALSE(is_newer_refresh_token(current, true, current));
    // Another user's: never.
    RefreshToken foreign = stored;
    foreign.user_id = 8;
    CHECK_FALSE(is_newer_refresh_token(current, true, foreign));
    // Our expiry unknown (given by value only): any different token of the user is newer.
    CHECK(is_newer_refresh_token(current, false, older));
}

TEST_CASE("Fleet: an adopted refresh token lives what is left of it, counted from now") {
    const auto now = std::chrono::system_clock::now();
    TokenTimes stored;
    stored.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(now - 48h);
    stored.expires_at = std::chrono::time_point_cast<std::chrono::microseconds>(now + 24h);
    const auto times = remaining_life(stored, now);
    CHECK(times.expires_at == stored.expires_at);
    CHECK(times.lifetime() <= 24h);
    CHECK(times.lifetime() > 24h - 1ms);
}

TEST_CASE("Fleet: a shared access token carries the minter's clock, and is taken while half its life is left") {
    const auto sent_at = std::chrono::system_clock::now();
    // The server's clock is far off; only the lifetime it granted travels.
    const auto shared = shareable(granted(60min, "at-sibling"), sent_at);
    CHECK(shared.created_at == std::chrono::time_point_cast<std::chrono::microseconds>(sent_at));
    CHECK(shared.lifetime() == 60min);

    const Secret mine("at-mine");
    const std::chrono::system_clock::time_point minted = shared.created_at;
    CHECK(adopt_shared_access_token(shared, mine, minted + 1min));
    CHECK(adopt_shared_access_token(shared, mine, minted + 30min));
    CHECK_FALSE(adopt_shared_access_token(shared, mine, minted + 30min + 1us));
    // Never the token being replaced (it is due, or it was refused), nor an empty one.
    CHECK_FALSE(adopt_shared_access_token(shared, Secret("at-sibling"), sent_at + 1min));
    AccessToken empty = shared;
    empty.value = Secret();
    CHECK_FALSE(adopt_shared_access_token(empty, mine, sent_at + 1min));

    // Taken 10 minutes in, it lives the 50 left.
    const auto taken = adopted(shared, sent_at + 10min);
    CHECK(taken.expires_at == shared.expires_at);
    CHECK(taken.lifetime() <= 50min);
    CHECK(taken.lifetime() > 50min - 1ms);
}
