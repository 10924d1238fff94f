// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#include <alation/auth/detail/backoff.hpp>

#include "catch.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <limits>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::chrono;
using namespace std::literals;

TEST_CASE("jittered_exponential: full jitter under a doubling ceiling") {
    const milliseconds base = 200ms, cap = 10s;
    SECTION("a zero draw waits nothing, whatever the attempt") {
        for (const int attempt : {0, 1, 5, 100, INT_MAX}) CHECK(jittered_exponential(base, cap, attempt, 0.0) == 0ms);
    }
    SECTION("a middle draw waits half the ceiling") {
        CHECK(jittered_exponential(base, cap, 0, 0.5) == 100ms);
        CHECK(jittered_exponential(base, cap, 1, 0.5) == 200ms);
        CHECK(jittered_exponential(base, cap, 2, 0.5) == 400ms);
        CHECK(jittered_exponential(base, cap, 5, 0.5) == 3200ms);
        CHECK(jittered_exponential(base, cap, 6, 0.5) == 5000ms);
    }
    SECTION("a draw near 1 reaches the ceiling") {
        CHECK(jittered_exponential(base, cap, 0, 0.999) == 200ms);
        CHECK(jittered_exponential(base, cap, 5, 0.999) == 6394ms);
        CHECK(jittered_exponential(base, cap, 6, 0.999) == 9990ms);
        CHECK(jittered_exponential(base, cap, 6, std::nextafter(1.0, 0.0)) == 10s);
    }
    SECTION("the cap holds for any attempt, without overflow") {
        for (const int attempt : {6, 7, 30, 62, 63, 64, 1000, INT_MAX}) {
            INFO(attempt);
            CHECK(jittered_exponential(base, cap, attempt, 0.999) == 9990ms);
        }
        const auto huge = milliseconds::max();
        const auto doubled_half = jittered_exponential(huge / 3, huge, 1, 0.5);  // about huge / 3
        CHECK(doubled_half > huge / 4);
        CHECK(doubled_half < huge / 2);
        CHECK(jittered_exponential(huge / 3, huge, INT_MAX, 0.999999) <= huge);
        CHECK(jittered_exponential(huge / 3, huge, INT_MAX, 1.0) == huge);
        CHECK(jittered_exponential(1ms, huge, INT_MAX, 0.0) == 0ms);
    }
    SECTION("odd inputs are clamped") {
        CHECK(jittered_exponential(base, cap, -3, 0.5) == 100ms);
        CHECK(jittered_exponential(base, cap, 0, 1.0) == 200ms);
        CHECK(jittered_exponential(base, cap, 0, 7.0) == 200ms);
        CHECK(jittered_exponential(base, cap, 3, -0.5) == 0ms);
        CHECK(jittered_exponential(base, cap, 3, std::nan("")) == 0ms);
        CHECK(jittered_exponential(0ms, cap, 3, 0.5) == 0ms);
        CHECK(jittered_exponential(-5ms, cap, 3, 0.5) == 0ms);
        CHECK(jittered_exponential(base, 0ms, 3, 0.5) == 0ms);
        CHECK(jittered_exponential(5s, 1s, 0, 0.999) == 999ms);  // a base above the cap starts at the cap
    }
    SECTION("every draw stays within [0, ceiling]") {
        for (int attempt = 0; attempt < 70; ++attempt) {
            const long long ceiling = attempt < 6 ? 200LL << attempt : 10'000;
            for (double draw = 0.0; draw < 1.0; draw += 0.0625) {
                const auto wait = jittered_exponential(base, cap, attempt, draw);
                CHECK(wait >= 0ms);
                CHECK(wait.count() <= ceiling);
                CHECK(wait.count() == static_cast<long long>(std::floor((ceiling + 1) * draw)));
            }
        }
    }
}

TEST_CASE("backoff_delay: the policy's jitter, or the server's Retry-After when longer") {
    const RetryPolicy policy;  // 200 ms doubling to 10 s, Retry-After up to 30 s
    CHECK(backoff_delay(policy, 0, 0.0, std::nullopt) == 0ms);
    CHECK(backoff_delay(policy, 0, 0.5, std::nullopt) == 100ms);
    CHECK(backoff_delay(policy, 3, 0.999, std::nullopt) == 1599ms);
    CHECK(backoff_delay(policy, 40, 0.999, std::nullopt) == 9990ms);
    CHECK(backoff_delay(policy, INT_MAX, 0.5, std::nullopt) == 5000ms);

    CHECK(backoff_delay(policy, 0, 0.5, 5s) == 5000ms);
    CHECK(backoff_delay(policy, 10, 0.999, 5s) == 9990ms);  // the jitter is longer
    CHECK(backoff_delay(policy, 0, 0.5, 0s) == 100ms);
    CHECK(backoff_delay(policy, 0, 0.5, -5s) == 100ms);
    CHECK(backoff_delay(policy, 0, 0.0, 30s) == 30s);  // exactly max_retry_after is honoured
    CHECK(backoff_delay(policy, 0, 0.0, 31s) == std::nullopt);
    CHECK(backoff_delay(policy, 0, 0.0, seconds::max()) == std::nullopt);

    RetryPolicy odd = policy;
    odd.max_retry_after = 1500ms;
    CHECK(backoff_delay(odd, 0, 0.0, 1s) == 1s);
    CHECK(backoff_delay(odd, 0, 0.0, 2s) == std::nullopt);
    odd.max_retry_after = 0ms;
    CHECK(backoff_delay(odd, 0, 0.5, 0s) == 100ms);
    CHECK(backoff_delay(odd, 0, 0.5, 1s) == std::nullopt);
}

namespace {

constexpr Endpoint retried_endpoints[] = {Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token,
                                          Endpoint::create_access_token,    Endpoint::validate_access_token,
                                          Endpoint::revoke_access_tokens,   Endpoint::oauth_token,
                                          Endpoint::oauth_introspect};

const error_code network_errors[] = {
    make_error_code(Error::timeout),
    boost::beast::error::timeout,
    boost::asio::error::timed_out,
    boost::asio::error::connection_refused,
    boost::asio::error::connection_reset,
    boost::asio::error::connection_aborted,
    boost::asio::error::network_unreachable,
    boost::asio::error::host_unreachable,
    boost::asio::error::broken_pipe,
    boost::asio::error::eof,
    boost::asio::error::host_not_found_try_again,
    boost::asio::ssl::error::stream_truncated,
    boost::beast::http::error::end_of_stream,
    boost::beast::http::error::partial_message,
};

const error_code verify_failed{static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED)),
                               boost::asio::error::get_ssl_category()};

}  // namespace

TEST_CASE("is_retryable: transient failures yes, refusals never") {
    for (const Endpoint e : retried_endpoints) {
        INFO(name(e));
        for (const auto& ec : network_errors) {
            INFO(ec.message());
            CHECK(is_retryable(e, ec, 0, true));
            CHECK(is_retryable(e, ec, 0, false));
        }
        CHECK(is_retryable(e, Error::rate_limited, 429, true));
        for (const unsigned status : {502u, 503u, 504u}) CHECK(is_retryable(e, Error::server_error, status, true));
        CHECK_FALSE(is_retryable(e, Error::server_error, 500, true));
        CHECK_FALSE(is_retryable(e, Error::server_error, 0, true));
        CHECK_FALSE(is_retryable(e, Error::bad_request, 400, true));
        CHECK_FALSE(is_retryable(e, Error::invalid_refresh_token, 401, true));
        CHECK_FALSE(is_retryable(e, Error::refresh_token_expired_or_revoked, 401, true));
        CHECK_FALSE(is_retryable(e, Error::invalid_access_token, 401, true));
        CHECK_FALSE(is_retryable(e, Error::unauthorized, 403, true));
        CHECK_FALSE(is_retryable(e, Error::invalid_client_credentials, 401, true));
        CHECK_FALSE(is_retryable(e, Error::unexpected_status, 404, true));
        CHECK_FALSE(is_retryable(e, Error::unexpected_status, 503, true));  // the error decides, not the status
        CHECK_FALSE(is_retryable(e, Error::malformed_response, 200, true));
        CHECK_FALSE(is_retryable(e, Error::response_too_large, 200, true));
        CHECK_FALSE(is_retryable(e, boost::asio::error::operation_aborted, 0, false));
        CHECK_FALSE(is_retryable(e, boost::asio::error::host_not_found, 0, false));
        CHECK_FALSE(is_retryable(e, verify_failed, 0, false));
        CHECK_FALSE(is_retryable(e, error_code{}, 0, false));
    }
}

TEST_CASE("is_retryable: createRefreshToken only when the request never reached the server") {
    const Endpoint e = Endpoint::create_refresh_token;
    for (const auto& ec : network_errors) {
        INFO(ec.message());
        CHECK(is_retryable(e, ec, 0, false));
        CHECK_FALSE(is_retryable(e, ec, 0, true));
    }
    CHECK_FALSE(is_retryable(e, Error::rate_limited, 429, true));
    CHECK_FALSE(is_retryable(e, Error::server_error, 503, true));
    CHECK_FALSE(is_retryable(e, Error::invalid_credentials, 401, true));
    CHECK_FALSE(is_retryable(e, verify_failed, 0, false));
}
