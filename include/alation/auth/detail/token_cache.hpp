// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_TOKEN_CACHE_HPP
#define ALATION_AUTH_DETAIL_TOKEN_CACHE_HPP

#include <alation/auth/detail/backoff.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/refresh_policy.hpp>
#include <alation/auth/token.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>

namespace alation::auth::detail {

using TimePoint = SteadyClock::time_point;
using std::chrono::milliseconds;

/// An access token with the local instants that govern it.
struct CachedToken {
    AccessToken token;
    /// From here on the provider refreshes in the background and keeps serving this token.
    TimePoint refresh_at;
    /// From here on callers wait for a new token instead of getting this one.
    TimePoint usable_until;
    /// The skew-proof local expiry: the instant the request was sent plus the granted lifetime.
    TimePoint expires_at;
};

/// steady_clock's time, read from CLOCK_MONOTONIC_COARSE where there is one: the same clock
/// as steady_clock (so timers agree with it), at the resolution of the kernel's tick (1 to 4 ms),
/// for a few nanoseconds instead of a vDSO clock read.
inline TimePoint coarse_steady_now() noexcept {
#if defined(CLOCK_MONOTONIC_COARSE)
    timespec ts{};
    if (::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
        return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                         std::chrono::nanoseconds(ts.tv_nsec)));
#endif
    return SteadyClock::now();
}

/// The thresholds of a token granted for `lifetime`, requested at `sent_at`.
///
/// The refresh margin is the larger of the minimum and the fraction of the lifetime, but at most
/// half the lifetime, and the minimum validity at most a quarter of it, so that even a very
/// short-lived token is served for a while before the next refresh: no refresh loop.
/// `jitter_draw` in [0, 1) moves the refresh earlier by up to jitter_fraction of the margin.
inline CachedToken make_cached_token(AccessToken token, TimePoint sent_at, const RefreshPolicy& policy,
                                     double jitter_draw) {
    using Duration = TimePoint::duration;
    const auto lifetime = std::max(Duration::zero(), std::chrono::duration_cast<Duration>(token.lifetime()));
    const auto proportional = std::chrono::duration_cast<Duration>(lifetime * policy.refresh_margin_fraction);
    const auto margin =
        std::min<Duration>(std::max<Duration>(policy.minimum_refresh_margin, proportional), lifetime / 2);
    const auto validity = std::min<Duration>(policy.minimum_validity, lifetime / 4);
    const auto jitter = std::chrono::duration_cast<Duration>(margin * (policy.jitter_fraction * jitter_draw));
    const auto expires_at = sent_at + lifetime;
    return CachedToken{std::move(token), expires_at - margin - jitter, expires_at - validity, expires_at};
}

/// The local instant a refresh token obtained elsewhere (given to the provider, loaded from a
/// store, validated) expires. Its request instant is unknown here, so this one estimate trusts
/// the wall clock: a few seconds of skew do not matter to a token that lives for weeks and is
/// regenerated days before its end.
inline TimePoint estimate_local_expiry(Timestamp expires_at, TimePoint now,
                                       std::chrono::system_clock::time_point wall_now) {
    return now + std::chrono::duration_cast<TimePoint::duration>(expires_at - wall_now);
}

/// What the provider should start.
enum class Work { none, mint, regenerate };

/// The token cache's decisions, without I/O, clocks or threads: the provider feeds it the time
/// and the results of its requests, and does what it says. One operation is in flight at a time,
/// so a regeneration never races a mint that still uses the old refresh token.
class TokenCache {
public:
    /// `refresh_token_expiry`: the refresh token's local expiry, when known.
    explicit TokenCache(RefreshPolicy policy, std::optional<TimePoint> refresh_token_expiry = std::nullopt)
        : policy_(policy), refresh_token_expiry_(refresh_token_expiry) {}

    [[nodiscard]] const RefreshPolicy& policy() const noexcept { return policy_; }
    [[nodiscard]] const std::shared_ptr<const CachedToken>& current() const noexcept { return current_; }

    /// Whether the current token may be handed out at `now`.
    [[nodiscard]] bool usable(TimePoint now) const noexcept { return current_ && now < current_->usable_until; }

    /// For a caller that found no usable token: wait for the next mint, or fail at once with
    /// last_error() because the refresh token was rejected or the provider is backing off after
    /// a failure (waiting would mean waiting out the backoff).
    [[nodiscard]] bool must_fail(TimePoint now) const noexcept {
        return refresh_token_rejected_ || (in_flight_ != Work::mint && now < retry_at_);
    }

    /// What to start at `now`, if anything; it is then in flight until its result is reported.
    Work poll(TimePoint now) noexcept {
        if (in_flight_ != Work::none || refresh_token_rejected_) return Work::none;
        const bool needs_mint = !current_ || now >= current_->refresh_at;
        if (needs_mint && now >= retry_at_) return in_flight_ = Work::mint;
        if (regeneration_due_at() && now >= *regeneration_due_at()) return in_flight_ = Work::regenerate;
        return Work::none;
    }

    /// When poll() will next have something to start, if nothing else happens first.
    [[nodiscard]] std::optional<TimePoint> next_wakeup() const noexcept {
        if (in_flight_ != Work::none || refresh_token_rejected_) return std::nullopt;
        std::optional<TimePoint> wake = current_ ? std::max(current_->refresh_at, retry_at_) : retry_at_;
        if (auto regen = regeneration_due_at()) wake = std::min(*wake, *regen);
        return wake;
    }

    [[nodiscard]] Work in_flight() const noexcept { return in_flight_; }

    void mint_succeeded(AccessToken token, TimePoint sent_at, double jitter_draw) {
        in_flight_ = Work::none;
        mint_failures_ = 0;
        retry_at_ = {};
        last_error_ = {};
        last_diagnostics_.clear();
        current_ =
            std::make_shared<const CachedToken>(make_cached_token(std::move(token), sent_at, policy_, jitter_draw));
    }

    /// Records a failed mint; returns how long the provider backs off. A rejected refresh token
    /// is final: nothing is retried until the provider gets a new one.
    milliseconds mint_failed(error_code ec, const Diagnostics& diag, TimePoint now, double backoff_draw) {
        in_flight_ = Work::none;
        last_error_ = ec;
        last_diagnostics_ = diag;
        if (is_refresh_token_rejection(ec)) refresh_token_rejected_ = true;
        const auto wait = backoff(mint_failures_++, backoff_draw, diag.retry_after());
        retry_at_ = now + wait;
        return wait;
    }

    /// Records a new refresh token and its local expiry. `jitter_draw` in [0, 1) moves its
    /// regeneration earlier by up to jitter_fraction of the window, as for access tokens.
    void regeneration_succeeded(TimePoint new_expiry, double jitter_draw = 0.0) noexcept {
        in_flight_ = Work::none;
        regeneration_failures_ = 0;
        regeneration_retry_at_ = {};
        set_refresh_token_expiry(new_expiry, jitter_draw);
    }

    /// Records a failed regeneration; the current refresh token stays in use until it expires.
    milliseconds regeneration_failed(error_code ec, const Diagnostics& diag, TimePoint now, double backoff_draw) {
        in_flight_ = Work::none;
        if (is_refresh_token_rejection(ec)) {
            refresh_token_rejected_ = true;
            last_error_ = ec;
            last_diagnostics_ = diag;
        }
        const auto wait = backoff(regeneration_failures_++, backoff_draw, diag.retry_after());
        regeneration_retry_at_ = now + wait;
        return wait;
    }

    /// The server rejected `value`: drop it if it is still the current token. A report about an
    /// older token changes nothing, so a burst of rejections costs one mint. Returns whether the
    /// current token was dropped.
    bool invalidate(const Secret& value) noexcept {
        if (!current_ || !(current_->token.value == value)) return false;
        current_.reset();
        return true;
    }

    /// Takes a new refresh token after the old one was rejected: failures are forgotten.
    void replace_refresh_token(std::optional<TimePoint> expiry, double jitter_draw = 0.0) noexcept {
        refresh_token_rejected_ = false;
        set_refresh_token_expiry(expiry, jitter_draw);
        mint_failures_ = regeneration_failures_ = 0;
        retry_at_ = regeneration_retry_at_ = {};
    }

    [[nodiscard]] bool refresh_token_rejected() const noexcept { return refresh_token_rejected_; }
    [[nodiscard]] const error_code& last_error() const noexcept { return last_error_; }
    [[nodiscard]] const Diagnostics& last_diagnostics() const noexcept { return last_diagnostics_; }
    [[nodiscard]] std::optional<TimePoint> refresh_token_expiry() const noexcept { return refresh_token_expiry_; }

    /// Whether `ec` says the refresh token itself is unusable, so that retrying with it is pointless.
    static bool is_refresh_token_rejection(error_code ec) noexcept {
        return ec == Error::invalid_refresh_token || ec == Error::refresh_token_expired_or_revoked ||
               ec == Error::invalid_argument;
    }

private:
    void set_refresh_token_expiry(std::optional<TimePoint> expiry, double jitter_draw) noexcept {
        refresh_token_expiry_ = expiry;
        regeneration_jitter_ = std::chrono::duration_cast<TimePoint::duration>(policy_.regenerate_window *
                                                                               (policy_.jitter_fraction * jitter_draw));
    }

    [[nodiscard]] std::optional<TimePoint> regeneration_due_at() const noexcept {
        if (!policy_.regenerate_refresh_token || !refresh_token_expiry_) return std::nullopt;
        return std::max(*refresh_token_expiry_ - policy_.regenerate_window - regeneration_jitter_,
                        regeneration_retry_at_);
    }

    [[nodiscard]] milliseconds backoff(int failures, double draw,
                                       std::optional<std::chrono::seconds> retry_after) const {
        auto wait = jittered_exponential(policy_.initial_backoff, policy_.max_backoff, failures, draw);
        // Honour the server's Retry-After, within the provider's longest backoff.
        if (retry_after) wait = std::max(wait, std::min<milliseconds>(*retry_after, policy_.max_backoff));
        return wait;
    }

    RefreshPolicy policy_;
    std::shared_ptr<const CachedToken> current_;
    Work in_flight_ = Work::none;
    int mint_failures_ = 0;
    TimePoint retry_at_{};
    int regeneration_failures_ = 0;
    TimePoint regeneration_retry_at_{};
    TimePoint::duration regeneration_jitter_{};
    std::optional<TimePoint> refresh_token_expiry_;
    bool refresh_token_rejected_ = false;
    error_code last_error_;
    Diagnostics last_diagnostics_;
};

}  // namespace alation::auth::detail

#endif
