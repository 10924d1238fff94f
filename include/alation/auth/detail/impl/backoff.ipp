// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_BACKOFF_IPP
#define ALATION_AUTH_DETAIL_IMPL_BACKOFF_IPP

#include <alation/auth/detail/backoff.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>

namespace alation::auth::detail {

ALATION_AUTH_DECL std::optional<std::chrono::milliseconds> backoff_delay(
    const RetryPolicy& policy, int retry_index, double draw, std::optional<std::chrono::seconds> retry_after) noexcept {
    using namespace std::chrono;
    const milliseconds jittered = jittered_exponential(policy.initial_backoff, policy.max_backoff, retry_index, draw);
    if (!retry_after) return jittered;
    // In whole seconds, so a huge Retry-After cannot overflow a conversion to milliseconds.
    const seconds asked = std::max(*retry_after, seconds{0});
    if (asked > floor<seconds>(policy.max_retry_after)) return std::nullopt;
    return std::max<milliseconds>(asked, jittered);
}

ALATION_AUTH_DECL bool is_retryable(Endpoint e, error_code ec, unsigned http_status, bool reached_server) noexcept {
    namespace asio_error = boost::asio::error;
    if (e == Endpoint::create_refresh_token && reached_server) return false;
    if (ec == Error::rate_limited) return true;
    // The proxy's 502/503/504 say its upstream (the catalog) failed, like the server's own;
    // a 407 (proxy_authentication_required) fails the same way again and is never retried.
    if (ec == Error::server_error || ec == Error::proxy_error)
        return http_status == 502 || http_status == 503 || http_status == 504;
    // Transient transport failures, the peer closing early included; TLS handshake and
    // verification errors are not among them: they will fail the same way again.
    return ec == Error::timeout || ec == boost::beast::error::timeout || ec == asio_error::timed_out ||
           ec == asio_error::connection_refused || ec == asio_error::connection_reset ||
           ec == asio_error::connection_aborted || ec == asio_error::network_down || ec == asio_error::network_reset ||
           ec == asio_error::network_unreachable || ec == asio_error::host_unreachable ||
           ec == asio_error::broken_pipe || ec == asio_error::try_again || ec == asio_error::host_not_found_try_again ||
           ec == asio_error::eof || ec == boost::asio::ssl::error::stream_truncated ||
           ec == boost::beast::http::error::end_of_stream || ec == boost::beast::http::error::partial_message;
}

}  // namespace alation::auth::detail

#endif
