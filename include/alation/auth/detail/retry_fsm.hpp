// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_RETRY_FSM_HPP
#define ALATION_AUTH_DETAIL_RETRY_FSM_HPP

// The request/retry decisions of one Client call, without I/O: the transport reports what each
// attempt and each wait did and executes the action it gets back. Modelled on Boost.Redis's
// run_fsm and Boost.MySQL's sans-io algorithms, so every rule is unit-tested with a manual
// clock and no sockets.

#include <alation/auth/client_options.hpp>
#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/token.hpp>

#include <chrono>
#include <optional>

namespace alation::auth::detail {

/// What one attempt (a request on a pooled or new connection) came to.
struct AttemptOutcome {
    error_code ec;
    /// The HTTP status of the answer, the server's or (for a failed CONNECT) the proxy's; 0 when none.
    unsigned http_status = 0;
    /// A connection (through the proxy's tunnel, if any) was made, so the request may have
    /// reached the server.
    bool reached_server = false;
    /// The attempt ran on a kept-alive connection from the pool, which broke before any byte of
    /// a response: the server had most likely closed it while it was idle.
    bool stale_reused_connection = false;
    /// The server's Retry-After, if it sent one.
    std::optional<std::chrono::seconds> retry_after;
    /// The caller cancelled the operation.
    bool cancelled = false;
};

/// The next thing the transport must do.
struct RetryAction {
    enum class Kind {
        /// Send the request on a pooled connection, or a new one when the pool has none.
        attempt,
        /// Send the request again on a new connection, the pooled one having gone stale. Not a new
        /// attempt: it does not count against max_attempts.
        attempt_on_new_connection,
        /// Wait `delay`, then report on_wait_done.
        wait,
        /// Complete the call with `ec` (success when empty).
        complete,
    };
    Kind kind = Kind::attempt;
    std::chrono::milliseconds delay{0};
    error_code ec;
};

/// The retry rules of RetryPolicy (see its doc comment) and is_retryable as a state machine.
/// Usage: start(), then on_attempt() after each attempt, on_wait_done() after each wait, until
/// an action of kind complete.
class RetryFsm {
public:
    RetryFsm(Endpoint endpoint, const RetryPolicy& policy) noexcept : endpoint_(endpoint), policy_(policy) {}

    /// The first action (always an attempt); `now` starts the policy's total_budget.
    ALATION_AUTH_DECL RetryAction start(SteadyClock::time_point now) noexcept;

    /// After an attempt. `draw` in [0, 1) picks the backoff's jitter.
    ALATION_AUTH_DECL RetryAction on_attempt(const AttemptOutcome& outcome, SteadyClock::time_point now,
                                             double draw) noexcept;

    /// After a wait; `ec` is the timer's error (cancellation ends the call with it).
    ALATION_AUTH_DECL RetryAction on_wait_done(error_code ec) noexcept;

    /// Attempts started so far (a retry on a new connection after a stale one not counted).
    [[nodiscard]] int attempts() const noexcept { return attempts_; }

private:
    Endpoint endpoint_;
    RetryPolicy policy_;
    SteadyClock::time_point start_{};
    int attempts_ = 0;
    // The current attempt has already replaced a stale pooled connection once.
    bool replaced_stale_ = false;
};

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/retry_fsm.ipp>
#endif

#endif
