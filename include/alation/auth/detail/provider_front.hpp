// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_PROVIDER_FRONT_HPP
#define ALATION_AUTH_DETAIL_PROVIDER_FRONT_HPP

// What TokenProvider's templates (compiled in the user's translation units) need of the provider:
// the published token, the clock, and the few entry points into the rest, which ProviderImpl
// (provider_impl.hpp, compiled once) implements. Kept lean on purpose, as Boost.MySQL keeps
// any_connection apart from its engine: a file that only puts tokens on requests parses this,
// not the Client, the token sources, the timers or the decision machine.

#include <alation/auth/detail/adapted_handler.hpp>
#include <alation/auth/detail/boost_compat.hpp>
#include <alation/auth/detail/cached_token.hpp>
#include <alation/auth/detail/coarse_clock.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/token.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

namespace alation::auth::detail {

/// The library's default token wraps the awaiting coroutine's handler in AdaptedHandlers.
template <class Handler, class Adapter>
struct ResumesAwaitingCoroutine<AdaptedHandler<Handler, Adapter>> : ResumesAwaitingCoroutine<Handler> {};

/// How many coroutine resumptions complete_usable nests on one thread's stack before it posts.
/// Each post costs a loop of awaits one round through the scheduler (0.3–0.9 µs), each level
/// 1.3–1.4 KB of stack (g++ 12, -O2): 32 levels keep the stack under 48 KB and the post's
/// share of an await at 10–25 ns (16 levels left 20–50 ns; BENCHMARKS.md section 1).
inline constexpr int max_inline_resumptions = 32;
inline thread_local int inline_resumptions = 0;

/// What TokenProvider::refresh_token() reads, implemented by the refresh-token source: an
/// interface, so that the provider's header need not parse the source (nor the Client).
class RefreshTokenHolder {
public:
    /// A copy; callable from any thread.
    [[nodiscard]] virtual RefreshToken refresh_token() const = 0;

protected:
    RefreshTokenHolder() = default;
    RefreshTokenHolder(const RefreshTokenHolder&) = default;
    RefreshTokenHolder& operator=(const RefreshTokenHolder&) = default;
    ~RefreshTokenHolder() = default;
};

/// The part of a TokenProvider's shared state that its templates use: the published token
/// snapshot, read lock-free from any thread, and the entry points into ProviderImpl.
class ProviderFront {
public:
    using TokenPtr = std::shared_ptr<const CachedToken>;
    using WaitHandler = boost::asio::any_completion_handler<void(error_code, TokenPtr)>;

    ProviderFront(const ProviderFront&) = delete;
    ProviderFront& operator=(const ProviderFront&) = delete;
    virtual ~ProviderFront() = default;

    [[nodiscard]] boost::asio::strand<boost::asio::any_io_executor> get_executor() const { return strand_; }

    [[nodiscard]] const ProviderOptions& options() const noexcept { return options_; }

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
    virtual void async_wait(WaitHandler handler, Diagnostics* diag) = 0;

    /// The server rejected `value`: drop it at once from the published snapshot, then let the
    /// strand drop it from the machine and mint a replacement.
    virtual void invalidate(const Secret& value) = 0;

    virtual void stop() = 0;

    /// Completes an operation that found a usable token. A coroutine awaiting it (`co_await
    /// op(...)` with the default token) is resumed at once: it suspended before the initiation
    /// ran, on the thread of its executor, so resuming it here is what the scheduler would do,
    /// without the round through it. Each such resumption runs on this stack, so a loop of
    /// awaits would nest without end: past max_inline_resumptions one posts and unwinds. Any
    /// other handler completes as Asio completes an operation that finished in its initiation
    /// (complete_immediately): by default posted, never run inside the initiating call.
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
        complete_immediately(std::move(handler), executor_, std::move(args)...);
    }

protected:
    ProviderFront(const boost::asio::any_io_executor& executor, ProviderOptions options)
        : executor_(executor), strand_(boost::asio::make_strand(executor)), options_(std::move(options)) {}

    /// Starts the work the machine has due, from the hot path; once until the strand takes it.
    virtual void nudge() = 0;

    // Every publication of every provider gets its own number, so a number names one snapshot.
    static std::uint64_t next_publication() noexcept {
        static std::atomic<std::uint64_t> counter{0};
        return counter.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    boost::asio::any_io_executor executor_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    ProviderOptions options_;

    std::mutex snapshot_mutex_;
    TokenPtr snapshot_;
    std::atomic<std::uint64_t> snapshot_version_{0};
    // When the machine next has work to start (TimePoint ticks), for the hot path's nudge.
    static constexpr TimePoint::rep never = std::numeric_limits<TimePoint::rep>::max();
    std::atomic<TimePoint::rep> work_due_at_{never};

private:
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
};

}  // namespace alation::auth::detail

#endif
