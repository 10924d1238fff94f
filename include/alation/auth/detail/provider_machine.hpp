// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_PROVIDER_MACHINE_HPP
#define ALATION_AUTH_DETAIL_PROVIDER_MACHINE_HPP

// Every decision of the TokenProvider, without I/O, clocks, randomness or threads: the I/O side
// (provider_impl.hpp) feeds it events (the time, the results of its requests, the random draws)
// and does what it answers, as Boost.MySQL's sans-io algorithms and Boost.Redis's FSMs do.
// It knows nothing of where tokens come from: a token source mints them and, when it has a
// long-lived credential (a refresh token), validates and regenerates that.

#include <alation/auth/detail/cached_token.hpp>
#include <alation/auth/detail/jittered_exponential.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/refresh_policy.hpp>
#include <alation/auth/token.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

namespace alation::auth::detail {

using std::chrono::milliseconds;

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
    return CachedToken{std::move(token), expires_at - margin - jitter, expires_at - validity, expires_at, {}};
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
enum class Work { none, mint, validate, regenerate };

/// What to do for a caller that wants a token now.
enum class Admission {
    /// Hand out current().
    serve,
    /// Queue it for the next mint.
    wait,
    /// Complete it at once with last_error(): the provider is backing off after a failure, and
    /// waiting would mean waiting out the backoff.
    fail,
    /// The credential was rejected: queue it if the source finds a newer credential (then
    /// report credential_replaced), else fail it with last_error().
    reload_credential,
    /// Complete it with Error::provider_stopped.
    stopped,
};

/// What to do after a failed operation.
struct AfterFailure {
    /// How long until it is tried again (for the event; the machine already knows).
    milliseconds retry_in{0};
    /// The credential was rejected: ask the source for a newer one (another replica may have
    /// renewed it). When it has one, report credential_replaced and ignore fail_waiters.
    bool reload_credential = false;
    /// No token is usable and none will come before a retry or a new credential: complete the
    /// waiters with last_error() and publish nothing.
    bool fail_waiters = false;
};

/// The provider's state and decisions. One operation is in flight at a time, so a regeneration
/// never races a mint that still uses the old refresh token.
class ProviderMachine {
public:
    /// `renewable`: the token source has a long-lived credential it can validate and regenerate
    /// (it is then renewed when RefreshPolicy::regenerate_refresh_token is on);
    /// `credential_expiry`: that credential's local expiry, when known (else, if renewable, it
    /// is validated first to learn it).
    explicit ProviderMachine(RefreshPolicy policy, bool renewable = false,
                             std::optional<TimePoint> credential_expiry = std::nullopt, double jitter_draw = 0.0)
        : policy_(policy), renewable_(renewable && policy.regenerate_refresh_token) {
        set_credential_expiry(credential_expiry, jitter_draw);
    }

    [[nodiscard]] const RefreshPolicy& policy() const noexcept { return policy_; }
    [[nodiscard]] const std::shared_ptr<const CachedToken>& current() const noexcept { return current_; }

    /// Whether the current token may be handed out at `now`.
    [[nodiscard]] bool usable(TimePoint now) const noexcept { return current_ && now < current_->usable_until; }

    /// Whether a caller that found no usable token must fail at once with last_error(): the
    /// credential was rejected, or the provider is backing off after a failed mint.
    [[nodiscard]] bool must_fail(TimePoint now) const noexcept {
        return credential_rejected_ || (in_flight_ != Work::mint && now < retry_at_);
    }

    /// For a caller that wants a token at `now`.
    [[nodiscard]] Admission admit(TimePoint now) const noexcept {
        if (stopped_) return Admission::stopped;
        if (usable(now)) return Admission::serve;
        if (credential_rejected_) return Admission::reload_credential;
        return must_fail(now) ? Admission::fail : Admission::wait;
    }

    /// What to start at `now`, if anything; it is then in flight until its result is reported.
    /// Validation comes before the first mint, so that a rejected credential is known at once;
    /// a retried validation waits for callers' mints.
    Work poll(TimePoint now) noexcept {
        if (in_flight_ != Work::none || credential_rejected_ || stopped_ || now < held_until_) return Work::none;
        const bool needs_mint = !current_ || now >= current_->refresh_at;
        if (validation_due(now) && credential_failures_ == 0) return in_flight_ = Work::validate;
        if (needs_mint && now >= retry_at_) return in_flight_ = Work::mint;
        if (validation_due(now)) return in_flight_ = Work::validate;
        if (regeneration_due(now)) return in_flight_ = Work::regenerate;
        return Work::none;
    }

    /// When poll() will next have something to start, if nothing else happens first.
    [[nodiscard]] std::optional<TimePoint> next_wakeup() const noexcept {
        if (in_flight_ != Work::none || credential_rejected_ || stopped_) return std::nullopt;
        TimePoint wake = current_ ? std::max(current_->refresh_at, retry_at_) : retry_at_;
        if (auto credential = credential_work_at()) wake = std::min(wake, *credential);
        return std::max(wake, held_until_);
    }

    [[nodiscard]] Work in_flight() const noexcept { return in_flight_; }

    /// Starts nothing before `until`: the start-up jitter (RefreshPolicy::first_mint_jitter).
    /// Callers that arrive meanwhile wait.
    void hold_until(TimePoint until) noexcept { held_until_ = until; }

    void mint_succeeded(AccessToken token, TimePoint sent_at, double jitter_draw) {
        in_flight_ = Work::none;
        mint_failures_ = 0;
        retry_at_ = {};
        last_error_ = {};
        last_diagnostics_.clear();
        current_ =
            std::make_shared<const CachedToken>(make_cached_token(std::move(token), sent_at, policy_, jitter_draw));
    }

    /// A failed mint backs off; a rejected credential is final: nothing is retried until the
    /// source finds a new one.
    AfterFailure mint_failed(error_code ec, const Diagnostics& diag, TimePoint now, double backoff_draw) {
        in_flight_ = Work::none;
        last_error_ = ec;
        last_diagnostics_ = diag;
        const auto wait = backoff(mint_failures_++, backoff_draw, diag.retry_after());
        retry_at_ = now + wait;
        if (is_credential_rejection(ec)) credential_rejected_ = true;
        return {wait, credential_rejected_, !usable(now)};
    }

    /// The credential is valid and expires at `expires_at` on the server's clock.
    void validation_succeeded(Timestamp expires_at, TimePoint now, std::chrono::system_clock::time_point wall_now,
                              double jitter_draw) noexcept {
        credential_succeeded(estimate_local_expiry(expires_at, now, wall_now), jitter_draw);
    }

    /// A rejection is final, like a mint's; another failure is retried after a backoff while
    /// mints go on with the credential (it may well be valid; only its expiry is unknown).
    AfterFailure validation_failed(error_code ec, const Diagnostics& diag, TimePoint now, double backoff_draw) {
        return credential_failed(ec, diag, now, backoff_draw);
    }

    /// The credential was regenerated: `granted` is the new one's lifetime, requested at `sent_at`.
    /// `jitter_draw` in [0, 1) moves its regeneration earlier by up to jitter_fraction of the
    /// window, as for access tokens.
    void regeneration_succeeded(const TokenTimes& granted, TimePoint sent_at, double jitter_draw) noexcept {
        TokenTimes times = granted;
        times.requested_at = sent_at;
        credential_succeeded(times.local_expiry(), jitter_draw);
    }

    /// A rejection is final (e.g. another replica regenerated it first), unless the source
    /// finds the newer one; another failure is retried after a backoff, the current credential
    /// minting until it expires.
    AfterFailure regeneration_failed(error_code ec, const Diagnostics& diag, TimePoint now, double backoff_draw) {
        return credential_failed(ec, diag, now, backoff_draw);
    }

    /// The source took a new credential (after a rejection, from shared storage): failures are
    /// forgotten and minting resumes at once. `expiry`: its local expiry, when known.
    void credential_replaced(std::optional<TimePoint> expiry, double jitter_draw = 0.0) noexcept {
        credential_rejected_ = false;
        set_credential_expiry(expiry, jitter_draw);
        mint_failures_ = credential_failures_ = 0;
        retry_at_ = credential_retry_at_ = {};
    }

    /// The server rejected `value`: drop it if it is still the current token. A report about an
    /// older token changes nothing, so a burst of rejections costs one mint. Returns whether the
    /// current token was dropped.
    bool invalidate(const Secret& value) noexcept {
        if (stopped_ || !current_ || !(current_->token.value == value)) return false;
        current_.reset();
        return true;
    }

    /// Reading the source's shared storage failed with `ec` (or succeeded: `ec` clear). Returns
    /// whether to report it: every caller of a rejected provider looks again, and one report per
    /// distinct error is enough.
    bool reload_result(error_code ec) noexcept {
        const bool new_failure = ec && ec != reported_reload_error_;
        reported_reload_error_ = ec;
        return new_failure;
    }

    /// Nothing more is started; callers are turned away with Error::provider_stopped.
    void stop() noexcept {
        stopped_ = true;
        current_.reset();
    }

    [[nodiscard]] bool stopped() const noexcept { return stopped_; }
    [[nodiscard]] bool credential_rejected() const noexcept { return credential_rejected_; }
    [[nodiscard]] const error_code& last_error() const noexcept { return last_error_; }
    [[nodiscard]] const Diagnostics& last_diagnostics() const noexcept { return last_diagnostics_; }
    [[nodiscard]] std::optional<TimePoint> credential_expiry() const noexcept { return credential_expiry_; }

    /// Whether `ec` says the credential itself is unusable, so that retrying with it is pointless.
    static bool is_credential_rejection(error_code ec) noexcept {
        return ec == Error::invalid_refresh_token || ec == Error::refresh_token_expired_or_revoked ||
               ec == Error::invalid_argument || ec == Error::invalid_client_credentials;
    }

private:
    void credential_succeeded(TimePoint expiry, double jitter_draw) noexcept {
        in_flight_ = Work::none;
        credential_failures_ = 0;
        credential_retry_at_ = {};
        set_credential_expiry(expiry, jitter_draw);
    }

    AfterFailure credential_failed(error_code ec, const Diagnostics& diag, TimePoint now, double backoff_draw) {
        in_flight_ = Work::none;
        const auto wait = backoff(credential_failures_++, backoff_draw, diag.retry_after());
        credential_retry_at_ = now + wait;
        if (!is_credential_rejection(ec)) return {wait, false, false};
        credential_rejected_ = true;
        last_error_ = ec;
        last_diagnostics_ = diag;
        // No mint can come: whoever waits for one is told now.
        return {wait, true, !usable(now)};
    }

    void set_credential_expiry(std::optional<TimePoint> expiry, double jitter_draw) noexcept {
        credential_expiry_ = expiry;
        regeneration_jitter_ = std::chrono::duration_cast<TimePoint::duration>(policy_.regenerate_window *
                                                                               (policy_.jitter_fraction * jitter_draw));
    }

    [[nodiscard]] bool validation_due(TimePoint now) const noexcept {
        return renewable_ && !credential_expiry_ && now >= credential_retry_at_;
    }

    [[nodiscard]] bool regeneration_due(TimePoint now) const noexcept {
        const auto at = regeneration_due_at();
        return at && now >= *at;
    }

    [[nodiscard]] std::optional<TimePoint> regeneration_due_at() const noexcept {
        if (!renewable_ || !credential_expiry_) return std::nullopt;
        return std::max(*credential_expiry_ - policy_.regenerate_window - regeneration_jitter_, credential_retry_at_);
    }

    // When the credential's validation or regeneration is next due.
    [[nodiscard]] std::optional<TimePoint> credential_work_at() const noexcept {
        if (renewable_ && !credential_expiry_) return credential_retry_at_;
        return regeneration_due_at();
    }

    [[nodiscard]] milliseconds backoff(int failures, double draw,
                                       std::optional<std::chrono::seconds> retry_after) const {
        auto wait = jittered_exponential(policy_.initial_backoff, policy_.max_backoff, failures, draw);
        // Honour the server's Retry-After, within the provider's longest backoff.
        if (retry_after) wait = std::max(wait, std::min<milliseconds>(*retry_after, policy_.max_backoff));
        return wait;
    }

    RefreshPolicy policy_;
    bool renewable_;
    std::shared_ptr<const CachedToken> current_;
    Work in_flight_ = Work::none;
    int mint_failures_ = 0;
    TimePoint retry_at_{};
    int credential_failures_ = 0;
    TimePoint credential_retry_at_{};
    TimePoint::duration regeneration_jitter_{};
    TimePoint held_until_{};
    std::optional<TimePoint> credential_expiry_;
    bool credential_rejected_ = false;
    bool stopped_ = false;
    error_code last_error_;
    Diagnostics last_diagnostics_;
    error_code reported_reload_error_;
};

}  // namespace alation::auth::detail

#endif
