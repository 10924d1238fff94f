// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_REFRESH_POLICY_HPP
#define ALATION_AUTH_REFRESH_POLICY_HPP

#include <chrono>

namespace alation::auth {

/// When a TokenProvider refreshes, how long it keeps serving a token, and how it backs off.
struct RefreshPolicy {
    /// The refresh margin is the larger of this and refresh_margin_fraction of the token's
    /// lifetime (capped at half the lifetime). Once a token's remaining life is below the
    /// margin, a new one is minted in the background while callers keep getting the current one.
    std::chrono::milliseconds minimum_refresh_margin{std::chrono::minutes(5)};
    double refresh_margin_fraction = 0.1;
    /// Once a token's remaining life is below this (capped at a quarter of the lifetime),
    /// callers wait for the new token instead of getting the old one.
    std::chrono::milliseconds minimum_validity{std::chrono::seconds(30)};
    /// The background refresh starts earlier by a random part of this fraction of the margin,
    /// and the refresh token's regeneration by a random part of this fraction of its window,
    /// so that a fleet of replicas does not refresh (or regenerate) in the same second.
    double jitter_fraction = 0.1;
    /// The first mint (or validation) after start-up waits a random part of this, so that a
    /// fleet started in one instant does not mint in one instant; callers that arrive meanwhile
    /// wait for it. Not applied when the replicas share access tokens
    /// (ProviderOptions::share_access_tokens): they find each other's token instead. Zero turns
    /// it off, e.g. for a single process whose first request must not wait.
    std::chrono::milliseconds first_mint_jitter{std::chrono::seconds(2)};
    /// After a failed refresh (or regeneration): exponential backoff with full jitter between
    /// these bounds, or the server's Retry-After when that is longer (capped at max_backoff).
    /// This comes on top of the Client's own RetryPolicy for each request.
    std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
    std::chrono::milliseconds max_backoff{std::chrono::minutes(2)};
    /// Regenerate the refresh token (regenRefreshToken) within regenerate_window of its expiry,
    /// and hand the new one to ProviderOptions::token_store.
    bool regenerate_refresh_token = false;
    std::chrono::milliseconds regenerate_window{std::chrono::hours(24 * 7)};
};

}  // namespace alation::auth

#endif
