// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_PROVIDER_IMPL_HPP
#define ALATION_AUTH_DETAIL_PROVIDER_IMPL_HPP

#include <alation/auth/detail/adapted_handler.hpp>
#include <alation/auth/detail/coarse_clock.hpp>
#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/provider_machine.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/token_source.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace alation::auth::detail {

/// Whether calling `Handler` resumes a coroutine suspended in `co_await op(asio::deferred)` (or
/// the library's default token, which wraps it in AdaptedHandlers).
template <class Handler>
struct ResumesAwaitingCoroutine : std::false_type {};
template <class Signature, class Executor>
struct ResumesAwaitingCoroutine<boost::asio::detail::awaitable_async_op_handler<Signature, Executor>> : std::true_type {
};
template <class Handler, class Adapter>
struct ResumesAwaitingCoroutine<AdaptedHandler<Handler, Adapter>> : ResumesAwaitingCoroutine<Handler> {};

/// How many coroutine resumptions complete_usable nests on one thread's stack before it posts.
inline constexpr int max_inline_resumptions = 16;
inline thread_local int inline_resumptions = 0;

/// The shared state behind a TokenProvider: it executes what the ProviderMachine decides, with
/// the TokenSource doing the requests. Everything but the published snapshot lives on the
/// strand; no lock is held while user code runs.
class ProviderImpl : public std::enable_shared_from_this<ProviderImpl> {
public:
    using TokenPtr = std::shared_ptr<const CachedToken>;
    using WaitHandler = boost::asio::any_completion_handler<void(error_code, TokenPtr)>;

    ALATION_AUTH_DECL ProviderImpl(const boost::asio::any_io_executor& executor, std::shared_ptr<TokenSource> source,
                                   ProviderOptions options);

    /// Starts the first operation (a mint, or the credential's validation), after the start-up
    /// jitter unless access tokens are shared (siblings then find each other's token instead).
    ALATION_AUTH_DECL void start();

    [[nodiscard]] boost::asio::strand<boost::asio::any_io_executor> get_executor() const { return strand_; }

    /// The provider's clock: the injected one, else the coarse monotonic clock. Every decision
    /// has seconds of slack, so the coarse clock's millisecond ticks cost nothing, and reading it
    /// is three times cheaper than steady_clock on the hot path.
    [[nodiscard]] TimePoint now() const { return options_.clock ? options_.clock() : coarse_steady_now(); }

    /// The hot path, from any thread: the published token if it may be used at `now`, else
    /// null. Once the machine has work due (a refresh past the margin, a retry after a backoff)
    /// it asks the strand, once, to start it: the timer does the same, but a late timer or an
    /// injected clock must not hold a refresh back.
    ///
    /// The pointer is borrowed from the calling thread's cache of the snapshot: it stays valid
    /// until this thread's next call into any provider. Copy the result to keep it longer.
    const CachedToken* usable_token(TimePoint now) {
        if (now.time_since_epoch().count() >= work_due_at_.load(std::memory_order_relaxed)) nudge();
        const TokenPtr& token = published();
        if (!token || now >= token->usable_until) return nullptr;
        return token.get();
    }

    /// As usable_token, but owning: for an operation that keeps the token across suspensions.
    TokenPtr usable_token_owned(TimePoint now) { return usable_token(now) ? published() : nullptr; }

    /// Queues a waiter for the next token (or completes it at once if one is usable by the time
    /// the strand looks). `diag`, when not null, receives the failure's diagnostics.
    ALATION_AUTH_DECL void async_wait(WaitHandler handler, Diagnostics* diag);

    /// The server rejected `value`: drop it at once from the published snapshot, then let the
    /// strand drop it from the machine and mint a replacement.
    ALATION_AUTH_DECL void invalidate(const Secret& value);

    ALATION_AUTH_DECL void stop();

    [[nodiscard]] const ProviderOptions& options() const noexcept { return options_; }

    /// Completes `handler` with `args` on its associated executor, never inside the caller.
    template <class Handler, class... Args>
    void post_completion(Handler handler, Args... args) {
        auto executor = boost::asio::get_associated_executor(handler, executor_);
        boost::asio::post(std::move(executor), [handler = std::move(handler), args...]() mutable {
            std::move(handler)(std::move(args)...);
        });
    }

    /// Completes an operation that found a usable token. A coroutine awaiting it (`co_await
    /// op(...)` with the default token) is resumed at once: it suspended before the initiation
    /// ran, on the thread of its executor, so resuming it here is what the scheduler would do,
    /// without the round through it. Each such resumption runs on this stack, so a loop of
    /// awaits would nest without end: past max_inline_resumptions one posts and unwinds. Any
    /// other handler is posted, never run inside the initiating call.
    template <class Handler, class... Args>
    void complete_usable(Handler handler, Args... args) {
        if constexpr (ResumesAwaitingCoroutine<Handler>::value) {
            if (inline_resumptions < max_inline_resumptions) {
                ++inline_resumptions;
                struct Unwind {
                    ~Unwind() { --inline_resumptions; }
                } unwind;
                return std::move(handler)(std::move(args)...);
            }
        }
        post_completion(std::move(handler), std::move(args)...);
    }

private:
    struct Waiter {
        WaitHandler handler;
        Diagnostics* diagnostics;
        // Keeps the handler's execution context running while the waiter waits.
        boost::asio::any_completion_executor work;
    };

    // Installed in a waiter's cancellation slot: any cancellation type ends that waiter alone;
    // the shared refresh goes on for the others.
    struct CancelWaiter {
        CancelWaiter(std::weak_ptr<ProviderImpl> impl, std::uint64_t id) : impl(std::move(impl)), id(id) {}
        std::weak_ptr<ProviderImpl> impl;
        std::uint64_t id;
        void operator()(boost::asio::cancellation_type type) const {
            if (type == boost::asio::cancellation_type::none) return;
            if (auto self = impl.lock()) boost::asio::post(self->strand_, [self, id = id] { self->cancel_waiter(id); });
        }
    };

    ALATION_AUTH_DECL void nudge();

    ALATION_AUTH_DECL void add_waiter(std::uint64_t id, Waiter waiter);

    ALATION_AUTH_DECL void cancel_waiter(std::uint64_t id);

    ALATION_AUTH_DECL void finish(Waiter waiter, error_code ec, TokenPtr token);

    ALATION_AUTH_DECL void finish_all(error_code ec, const TokenPtr& token);

    ALATION_AUTH_DECL void publish(TokenPtr token);

    // Every publication of every provider gets its own number, so a number names one snapshot.
    static std::uint64_t next_publication() noexcept {
        static std::atomic<std::uint64_t> counter{0};
        return counter.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    // The current snapshot as this thread last saw it: while no new one was published, reading
    // it costs one atomic load of a line nobody writes, instead of a lock and two reference
    // count updates that every thread would fight over. A thread keeps its copy (and the token
    // in it) until it next calls in.
    const TokenPtr& published() {
        struct ThreadCopy {
            std::uint64_t version = 0;
            TokenPtr token;
        };
        thread_local ThreadCopy copy;
        if (copy.version != snapshot_version_.load(std::memory_order_acquire)) {
            std::lock_guard lock(snapshot_mutex_);
            copy.token = snapshot_;
            copy.version = snapshot_version_.load(std::memory_order_relaxed);
        }
        return copy.token;
    }

    double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

    // Starts whatever the machine says is due, then sets the timer for the next decision.
    ALATION_AUTH_DECL void poll();

    ALATION_AUTH_DECL void schedule();

    // Starts `operation` on the source with a handler that stop() cancels, that takes the result
    // to the strand from wherever the source completes it, and that drops it once stopped.
    template <class Result, class Operation, class Done>
    void call_source(Operation operation, Done done) {
        auto diag = std::make_shared<Diagnostics>();
        const auto sent_at = now();
        ((*source_).*operation)(
            *diag, boost::asio::bind_cancellation_slot(cancel_.slot(), [self = shared_from_this(), diag, sent_at, done](
                                                                           error_code ec, Result result) {
                boost::asio::post(self->strand_, [self, diag, sent_at, done, ec, result = std::move(result)]() mutable {
                    if (self->machine_.stopped()) return;
                    (self.get()->*done)(ec, std::move(result), sent_at, *diag);
                });
            }));
    }

    ALATION_AUTH_DECL void start_mint();

    ALATION_AUTH_DECL void on_minted(error_code ec, AccessToken token, TimePoint sent_at, const Diagnostics& diag);

    ALATION_AUTH_DECL void start_validation();

    // Validation reports no event of its own: a rejection shows in the failures of the callers.
    ALATION_AUTH_DECL void on_validated(error_code ec, RenewedCredential validated, TimePoint /*sent_at*/,
                                        const Diagnostics& diag);

    ALATION_AUTH_DECL void start_regeneration();

    ALATION_AUTH_DECL void on_regenerated(error_code ec, RenewedCredential fresh, TimePoint sent_at,
                                          const Diagnostics& diag);

    // Carries out the machine's answer to a failure.
    ALATION_AUTH_DECL void act_on(const AfterFailure& after, error_code ec);

    // The server rejected the credential: another replica sharing the source's storage may have
    // renewed it, which revokes ours. The waiters wait for the answer: the adopted credential's
    // first token, else the rejection. One look at a time; callers arriving meanwhile share it.
    ALATION_AUTH_DECL void reload_credential();

    ALATION_AUTH_DECL void on_reloaded(const ReloadedCredential& reloaded);

    ALATION_AUTH_DECL void credential_replaced(Timestamp expires_at);

    // What the source reports from its own work: a store failure to pass on, or a credential it
    // adopted from its storage before a step, which changes when the next regeneration is due.
    ALATION_AUTH_DECL void on_source_report(const ProviderEvent& event);

    [[nodiscard]] ALATION_AUTH_DECL std::optional<TimePoint> credential_local_expiry(
        std::optional<Timestamp> expires_at) const;

    ALATION_AUTH_DECL void do_stop();

    // Called last in each strand handler, with the state settled and no lock held.
    ALATION_AUTH_DECL void emit(const ProviderEvent& event) const;

    boost::asio::any_io_executor executor_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    boost::asio::steady_timer timer_;
    std::uint64_t timer_generation_ = 0;
    boost::asio::cancellation_signal cancel_;
    ProviderOptions options_;
    std::shared_ptr<TokenSource> source_;
    std::mt19937_64 random_;
    ProviderMachine machine_;
    std::unordered_map<std::uint64_t, Waiter> waiters_;
    bool reloading_ = false;

    std::mutex snapshot_mutex_;
    TokenPtr snapshot_;
    std::atomic<std::uint64_t> snapshot_version_{0};
    // When the machine next has work to start (TimePoint ticks), for the hot path's nudge.
    static constexpr TimePoint::rep never = std::numeric_limits<TimePoint::rep>::max();
    std::atomic<TimePoint::rep> work_due_at_{never};
    std::atomic<bool> nudged_{false};
    std::atomic<std::uint64_t> next_waiter_id_{0};
};

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/provider_impl.ipp>
#endif

#endif
