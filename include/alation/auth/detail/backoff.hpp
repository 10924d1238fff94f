// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_BACKOFF_HPP
#define ALATION_AUTH_DETAIL_BACKOFF_HPP

// When to retry and how long to wait, as pure functions: the caller supplies the random draw,
// so tests pin every value and no test sleeps.

#include <alation/auth/client_options.hpp>
#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/jittered_exponential.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/error.hpp>

#include <chrono>
#include <optional>

namespace alation::auth::detail {

/// The wait before retry number `retry_index` (0-based): jittered_exponential over the policy's
/// initial_backoff and max_backoff; when the server sent Retry-After, the longer of the two, or
/// nullopt (do not retry) when Retry-After exceeds max_retry_after.
ALATION_AUTH_DECL std::optional<std::chrono::milliseconds> backoff_delay(
    const RetryPolicy& policy, int retry_index, double draw, std::optional<std::chrono::seconds> retry_after) noexcept;

/// Whether a failed attempt may be retried: network errors (refused, reset, unreachable, closed
/// early), timeouts, 429 and 502/503/504 (server_error with that `http_status`, or proxy_error: the
/// proxy's answer to CONNECT). Never 500, 4xx other than 429, a proxy's 407
/// (proxy_authentication_required) or other proxy_error, TLS verification failures, cancellation
/// or malformed responses.
/// createRefreshToken is retried only when the request never reached the server
/// (`reached_server` false): a retried create could leave an orphan refresh token.
ALATION_AUTH_DECL bool is_retryable(Endpoint e, error_code ec, unsigned http_status, bool reached_server) noexcept;

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/backoff.ipp>
#endif

#endif
