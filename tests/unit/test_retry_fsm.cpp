// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#include <alation/auth/detail/retry_fsm.hpp>

#include "catch.hpp"

#include <boost/asio/error.hpp>

#include <chrono>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::chrono;
using namespace std::literals;
using Kind = RetryAction::Kind;

namespace {

// A manual clock: tests move it by hand, nothing sleeps.
const SteadyClock::time_point t0 = SteadyClock::time_point{} + 1h;

AttemptOutcome failed(error_code ec, unsigned status = 0, bool reached_server = true) {
    AttemptOutcome outcome;
    outcome.ec = ec;
    outcome.http_status = status;
    outcome.reached_server = reached_server;
    return outcome;
}

RetryPolicy fast_policy() {
    RetryPolicy policy;
    policy.max_attempts = 4;
    policy.initial_backoff = 100ms;
    policy.max_backoff = 1s;
    return policy;
}

// Runs the machine over `outcomes` (one per attempt), the clock moving by each wait, and returns
// the final action; `attempts` gets how many attempts it asked for.
RetryAction run(RetryFsm& fsm, std::initializer_list<AttemptOutcome> outcomes, int& attempts, double draw = 0.5) {
    auto now = t0;
    RetryAction action = fsm.start(now);
    attempts = 0;
    for (const auto& outcome : outcomes) {
        REQUIRE(action.kind != Kind::complete);
        REQUIRE(action.kind != Kind::wait);
        ++attempts;
        action = fsm.on_attempt(outcome, now, draw);
        if (action.kind == Kind::wait) {
            now += action.delay;
            action = fsm.on_wait_done({});
        }
    }
    return action;
}

}  // namespace

TEST_CASE("RetryFsm: success on the first attempt completes at once", "[retry]") {
    RetryFsm fsm(Endpoint::create_access_token, fast_policy());
    CHECK(fsm.start(t0).kind == Kind::attempt);
    const auto done = fsm.on_attempt(AttemptOutcome{}, t0, 0.5);
    CHECK(done.kind == Kind::complete);
    CHECK(!done.ec);
    CHECK(fsm.attempts() == 1);
}

TEST_CASE("RetryFsm: transient failures are retried with the jittered backoff, up to max_attempts", "[retry]") {
    RetryFsm fsm(Endpoint::create_access_token, fast_policy());
    fsm.start(t0);
    auto action = fsm.on_attempt(failed(boost::asio::error::connection_reset), t0, 0.5);
    REQUIRE(action.kind == Kind::wait);
    CHECK(action.delay == 50ms);  // half of the first ceiling (100 ms)
    CHECK(fsm.on_wait_done({}).kind == Kind::attempt);
    action = fsm.on_attempt(failed(Error::timeout), t0 + 50ms, 0.5);
    REQUIRE(action.kind == Kind::wait);
    CHECK(action.delay == 100ms);  // the ceiling doubled
    fsm.on_wait_done({});
    action = fsm.on_attempt(failed(Error::server_error, 503), t0 + 150ms, 0.5);
    REQUIRE(action.kind == Kind::wait);
    CHECK(action.delay == 200ms);
    fsm.on_wait_done({});
    CHECK(fsm.attempts() == 4);
    action = fsm.on_attempt(failed(Error::rate_limited, 429), t0 + 350ms, 0.5);
    CHECK(action.kind == Kind::complete);
    CHECK(action.ec == Error::rate_limited);
}

TEST_CASE("RetryFsm: never retried", "[retry]") {
    int attempts = 0;
    for (const auto& [ec, status] : {std::pair{error_code(Error::invalid_credentials), 401U},
                                     {Error::unauthorized, 403U},
                                     {Error::bad_request, 400U},
                                     {Error::server_error, 500U},
                                     {Error::malformed_response, 200U},
                                     {Error::response_too_large, 200U},
                                     {Error::proxy_authentication_required, 407U},
                                     {Error::proxy_error, 403U},
                                     {Error::proxy_error, 0U}}) {
        INFO(ec.message() << " " << status);
        RetryFsm fsm(Endpoint::create_access_token, fast_policy());
        const auto done = run(fsm, {failed(ec, status)}, attempts);
        CHECK(done.kind == Kind::complete);
        CHECK(done.ec == ec);
        CHECK(attempts == 1);
    }
}

TEST_CASE("RetryFsm: a proxy's 502/503/504 to CONNECT is retried, then succeeds", "[retry][proxy]") {
    for (const unsigned status : {502U, 503U, 504U}) {
        INFO(status);
        int attempts = 0;
        RetryFsm fsm(Endpoint::create_refresh_token, fast_policy());
        // The tunnel was never opened: even createRefreshToken may be retried.
        const auto done = run(fsm, {failed(Error::proxy_error, status, false), AttemptOutcome{}}, attempts);
        CHECK(done.kind == Kind::complete);
        CHECK(!done.ec);
        CHECK(attempts == 2);
    }
}

TEST_CASE("RetryFsm: createRefreshToken is retried only when the request never reached the server", "[retry]") {
    int attempts = 0;
    RetryFsm reached(Endpoint::create_refresh_token, fast_policy());
    auto done = run(reached, {failed(boost::asio::error::connection_reset, 0, true)}, attempts);
    CHECK(done.ec == boost::asio::error::connection_reset);
    CHECK(attempts == 1);

    RetryFsm refused(Endpoint::create_refresh_token, fast_policy());
    done = run(refused,
               {failed(boost::asio::error::connection_refused, 0, false),
                failed(boost::asio::error::connection_refused, 0, false), AttemptOutcome{}},
               attempts);
    CHECK(!done.ec);
    CHECK(attempts == 3);
}

TEST_CASE("RetryFsm: a stale pooled connection is replaced once, without counting as an attempt", "[retry]") {
    AttemptOutcome stale = failed(boost::asio::error::eof);
    stale.stale_reused_connection = true;
    SECTION("then success") {
        RetryFsm fsm(Endpoint::validate_access_token, RetryPolicy::none());
        fsm.start(t0);
        CHECK(fsm.on_attempt(stale, t0, 0.5).kind == Kind::attempt_on_new_connection);
        const auto done = fsm.on_attempt(AttemptOutcome{}, t0, 0.5);
        CHECK(done.kind == Kind::complete);
        CHECK(!done.ec);
        CHECK(fsm.attempts() == 1);
    }
    SECTION("only once per attempt: a second stale failure goes to the retry rules") {
        RetryFsm fsm(Endpoint::validate_access_token, RetryPolicy::none());
        fsm.start(t0);
        CHECK(fsm.on_attempt(stale, t0, 0.5).kind == Kind::attempt_on_new_connection);
        const auto done = fsm.on_attempt(stale, t0, 0.5);
        CHECK(done.kind == Kind::complete);
        CHECK(done.ec == boost::asio::error::eof);
    }
    SECTION("each attempt may replace one again") {
        RetryFsm fsm(Endpoint::validate_access_token, fast_policy());
        fsm.start(t0);
        CHECK(fsm.on_attempt(stale, t0, 0.5).kind == Kind::attempt_on_new_connection);
        CHECK(fsm.on_attempt(stale, t0, 0.5).kind == Kind::wait);
        CHECK(fsm.on_wait_done({}).kind == Kind::attempt);
        CHECK(fsm.on_attempt(stale, t0, 0.5).kind == Kind::attempt_on_new_connection);
        CHECK(fsm.attempts() == 2);
    }
    SECTION("never for createRefreshToken") {
        RetryFsm fsm(Endpoint::create_refresh_token, fast_policy());
        fsm.start(t0);
        const auto done = fsm.on_attempt(stale, t0, 0.5);
        CHECK(done.kind == Kind::complete);
        CHECK(done.ec == boost::asio::error::eof);
    }
}

TEST_CASE("RetryFsm: Retry-After is honoured up to max_retry_after", "[retry]") {
    AttemptOutcome limited = failed(Error::rate_limited, 429);
    limited.retry_after = 3s;
    RetryFsm fsm(Endpoint::create_access_token, fast_policy());
    fsm.start(t0);
    auto action = fsm.on_attempt(limited, t0, 0.5);
    REQUIRE(action.kind == Kind::wait);
    CHECK(action.delay == 3s);

    limited.retry_after = 31s;  // above the default max_retry_after of 30 s
    RetryFsm too_long(Endpoint::create_access_token, fast_policy());
    too_long.start(t0);
    action = too_long.on_attempt(limited, t0, 0.5);
    CHECK(action.kind == Kind::complete);
    CHECK(action.ec == Error::rate_limited);
}

TEST_CASE("RetryFsm: no retry starts past the total budget", "[retry]") {
    RetryPolicy policy = fast_policy();
    policy.total_budget = 10s;
    RetryFsm fsm(Endpoint::create_access_token, policy);
    fsm.start(t0);
    CHECK(fsm.on_attempt(failed(Error::timeout), t0 + 9s, 0.5).kind == Kind::wait);  // 9 s + 50 ms < 10 s
    fsm.on_wait_done({});
    const auto done = fsm.on_attempt(failed(Error::timeout), t0 + 9s + 950ms, 0.5);  // + 100 ms >= 10 s
    CHECK(done.kind == Kind::complete);
    CHECK(done.ec == Error::timeout);
}

TEST_CASE("RetryFsm: cancellation ends a failed attempt or a wait with operation_aborted", "[retry]") {
    RetryFsm fsm(Endpoint::create_access_token, fast_policy());
    fsm.start(t0);
    AttemptOutcome cancelled = failed(boost::asio::error::connection_reset);
    cancelled.cancelled = true;
    auto done = fsm.on_attempt(cancelled, t0, 0.5);
    CHECK(done.kind == Kind::complete);
    CHECK(done.ec == boost::asio::error::operation_aborted);

    AttemptOutcome succeeded;
    succeeded.cancelled = true;
    RetryFsm answered(Endpoint::create_access_token, fast_policy());
    answered.start(t0);
    done = answered.on_attempt(succeeded, t0, 0.5);
    CHECK(done.kind == Kind::complete);
    CHECK_FALSE(done.ec);  // the response arrived: it stands

    RetryFsm waiting(Endpoint::create_access_token, fast_policy());
    waiting.start(t0);
    REQUIRE(waiting.on_attempt(failed(Error::timeout), t0, 0.5).kind == Kind::wait);
    done = waiting.on_wait_done(boost::asio::error::operation_aborted);
    CHECK(done.kind == Kind::complete);
    CHECK(done.ec == boost::asio::error::operation_aborted);
}
