// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_BOOST_COMPAT_HPP
#define ALATION_AUTH_DETAIL_BOOST_COMPAT_HPP

// Every place where the library works around one Boost release, or reaches into Asio's internals,
// with the releases it is for: what can go when the oldest supported Boost (1.81) moves up, and
// what to check when a new one comes out. The tests run on 1.81, 1.83 and the newest release
// (scripts/matrix.sh).

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/version.hpp>

#include <type_traits>
#include <utility>

#if BOOST_VERSION >= 108200
#include <boost/asio/associated_immediate_executor.hpp>
#include <boost/asio/dispatch.hpp>
#endif

namespace alation::auth::detail {

/// Whether calling `Handler` resumes a coroutine suspended in `co_await op(asio::deferred)`.
/// All releases: Asio gives that handler no public name and no immediate executor (1.92 still
/// does not), so the library matches Asio's own type. The template gained a defaulted third
/// parameter in 1.86, which this partial specialisation still matches. Should a release rename
/// it, the in-place resumption would silently become a post: test_asio_features.cpp's "co_await
/// authorize and token with a usable token resume the coroutine in place" fails then.
template <class Handler>
struct ResumesAwaitingCoroutine : std::false_type {};
template <class Signature, class Executor>
struct ResumesAwaitingCoroutine<boost::asio::detail::awaitable_async_op_handler<Signature, Executor>> : std::true_type {
};

/// Completes `handler` with `args` for an operation that completed within its initiation, never
/// inside the initiating call unless the handler asks for that: from 1.82, through the handler's
/// associated immediate executor (Asio's rule for immediate completion; by default its
/// associated executor, never blocking, so a post), so that a caller who binds one with
/// asio::bind_immediate_executor is completed as it asked. 1.81 has no immediate executors.
template <class Handler, class Executor, class... Args>
void complete_immediately(Handler handler, const Executor& fallback, Args... args) {
    auto executor = boost::asio::get_associated_executor(handler, fallback);
#if BOOST_VERSION >= 108200
    auto immediate = boost::asio::get_associated_immediate_executor(handler, executor);
#endif
    auto completion = [handler = std::move(handler), args...]() mutable { std::move(handler)(std::move(args)...); };
#if BOOST_VERSION >= 108200
    boost::asio::dispatch(std::move(immediate), std::move(completion));
#else
    boost::asio::post(std::move(executor), std::move(completion));
#endif
}

// Boost 1.81 and 1.82: co_spawn's cancellation handler dispatches to the coroutine's executor
// with a raw pointer into its signal (1.83 holds it by shared_ptr), so a cancellation emitted from
// another thread could reach a coroutine that had ended. ForwardCancellation (fleet.hpp) and
// SpawnCompletion (client_impl.ipp) therefore give each spawned coroutine a signal its handler
// owns, emitted on the coroutine's strand. They stay on every release: they also map the
// caller's cancellation type, and never emit once the operation has completed.

}  // namespace alation::auth::detail

/// Boost 1.81 only: its awaitable cannot resume from a deferred operation that completes with
/// void(std::exception_ptr, T) (fixed in 1.82: "Fixed awaitable<> handling for completion
/// signatures containing std::exception_ptr"), which is how WithDiagnostics completes. Declared
/// for each result type of the library (client.hpp), this restores 1.82's behaviour for it.
#if BOOST_VERSION < 108200
// A type cannot be parenthesised where the macro declares with it.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ALATION_AUTH_DETAIL_FIX_AWAITABLE_EXCEPTION_PTR(T)                                                     \
    namespace boost::asio::detail {                                                                            \
    template <typename R, typename Executor>                                                                   \
    class awaitable_async_op_handler<R(std::exception_ptr, T), Executor> : public awaitable_thread<Executor> { \
    public:                                                                                                    \
        struct result_type {                                                                                   \
            std::exception_ptr* ex_;                                                                           \
            T* value_;                                                                                         \
        };                                                                                                     \
        awaitable_async_op_handler(awaitable_thread<Executor>* h, result_type& result)                         \
            : awaitable_thread<Executor>(std::move(*h)), result_(result) {}                                    \
        void operator()(std::exception_ptr ex, T value) {                                                      \
            result_.ex_ = &ex;                                                                                 \
            result_.value_ = &value;                                                                           \
            this->entry_point()->top_of_stack_->attach_thread(this);                                           \
            this->entry_point()->top_of_stack_->clear_cancellation_slot();                                     \
            this->pump();                                                                                      \
        }                                                                                                      \
        static T resume(result_type& result) {                                                                 \
            if (*result.ex_) std::rethrow_exception(std::exchange(*result.ex_, nullptr));                      \
            return std::move(*result.value_);                                                                  \
        }                                                                                                      \
                                                                                                               \
    private:                                                                                                   \
        result_type& result_;                                                                                  \
    };                                                                                                         \
    }
// NOLINTEND(bugprone-macro-parentheses)
#else
#define ALATION_AUTH_DETAIL_FIX_AWAITABLE_EXCEPTION_PTR(T)
#endif

#endif
