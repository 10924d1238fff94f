// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_CACHED_TOKEN_HPP
#define ALATION_AUTH_DETAIL_CACHED_TOKEN_HPP

// The token record the provider publishes and its send() rule: all that the provider's public
// templates need of its decisions, without the decisions themselves (provider_machine.hpp).

#include <alation/auth/token.hpp>

#include <atomic>
#include <chrono>

namespace alation::auth::detail {

using TimePoint = SteadyClock::time_point;

/// A flag that starts false and is set once, from any thread, without a lock. Copies start
/// false: a copy of a token record has proven nothing.
class OnceFlag {
public:
    OnceFlag() = default;
    OnceFlag(const OnceFlag& /*other*/) noexcept {}
    OnceFlag& operator=(const OnceFlag& /*other*/) noexcept { return *this; }
    ~OnceFlag() = default;

    [[nodiscard]] bool is_set() const noexcept { return set_.load(std::memory_order_relaxed); }
    // Read first: once set, the line stays shared among the threads instead of bouncing.
    void set() const noexcept {
        if (!is_set()) set_.store(true, std::memory_order_relaxed);
    }

private:
    mutable std::atomic<bool> set_{false};
};

/// An access token with the local instants that govern it.
struct CachedToken {
    AccessToken token;
    /// From here on the provider refreshes in the background and keeps serving this token.
    TimePoint refresh_at;
    /// From here on callers wait for a new token instead of getting this one.
    TimePoint usable_until;
    /// The skew-proof local expiry: the instant the request was sent plus the granted lifetime.
    TimePoint expires_at;
    /// Set once a 403 with this token cannot be about the token: the server accepted it (a 2xx),
    /// or it was the fresh token that replaced one refused with 403, and was refused too.
    OnceFlag known_good;
};

/// What send() does with a response.
struct AfterResponse {
    /// Invalidate the token used and send the request again with a new one.
    bool retry = false;
    /// Mark the token used known_good, so that a 403 with it is never again taken for a bad token.
    bool vouch = false;
};

/// send()'s rule. 401 means the token is bad: retry once with a new one. 403 may mean a bad token
/// or "not allowed": it is retried only while the token used is not known good, and when the new
/// token is refused with 403 too, that token is known good, so a service that keeps calling a
/// forbidden endpoint pays at most one extra mint per token, not one per request.
inline AfterResponse after_response(unsigned status, bool retried, bool token_known_good) noexcept {
    if (status >= 200 && status < 300) return {false, true};
    if (retried) return {false, status == 403};
    if (status == 401) return {true, false};
    if (status == 403) return {!token_known_good, false};
    return {};
}

}  // namespace alation::auth::detail

#endif
