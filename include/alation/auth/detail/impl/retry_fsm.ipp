// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_RETRY_FSM_IPP
#define ALATION_AUTH_DETAIL_IMPL_RETRY_FSM_IPP

#include <alation/auth/detail/backoff.hpp>
#include <alation/auth/detail/retry_fsm.hpp>

#include <boost/asio/error.hpp>

namespace alation::auth::detail {

namespace retry_detail {
inline RetryAction complete_with(error_code ec) noexcept {
    return RetryAction{RetryAction::Kind::complete, std::chrono::milliseconds{0}, ec};
}
}  // namespace retry_detail

ALATION_AUTH_DECL RetryAction RetryFsm::start(SteadyClock::time_point now) noexcept {
    start_ = now;
    attempts_ = 1;
    replaced_stale_ = false;
    return RetryAction{RetryAction::Kind::attempt, std::chrono::milliseconds{0}, {}};
}

ALATION_AUTH_DECL RetryAction RetryFsm::on_attempt(const AttemptOutcome& outcome, SteadyClock::time_point now,
                                                   double draw) noexcept {
    // A response that arrived stands, even when cancellation came just after it.
    if (!outcome.ec) return retry_detail::complete_with({});
    if (outcome.cancelled) return retry_detail::complete_with(boost::asio::error::operation_aborted);
    // A pooled connection the server had closed is replaced once by a fresh one, without
    // counting as an attempt; never for createRefreshToken, whose request may have been acted on.
    if (outcome.stale_reused_connection && !replaced_stale_ && endpoint_ != Endpoint::create_refresh_token) {
        replaced_stale_ = true;
        return RetryAction{RetryAction::Kind::attempt_on_new_connection, std::chrono::milliseconds{0}, {}};
    }
    if (attempts_ >= policy_.max_attempts ||
        !is_retryable(endpoint_, outcome.ec, outcome.http_status, outcome.reached_server))
        return retry_detail::complete_with(outcome.ec);
    const auto delay = backoff_delay(policy_, attempts_ - 1, draw, outcome.retry_after);
    if (!delay || now - start_ + *delay >= policy_.total_budget) return retry_detail::complete_with(outcome.ec);
    return RetryAction{RetryAction::Kind::wait, *delay, {}};
}

ALATION_AUTH_DECL RetryAction RetryFsm::on_wait_done(error_code ec) noexcept {
    if (ec) return retry_detail::complete_with(ec);
    ++attempts_;
    replaced_stale_ = false;
    return RetryAction{RetryAction::Kind::attempt, std::chrono::milliseconds{0}, {}};
}

}  // namespace alation::auth::detail

#endif
