// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_WITH_DIAGNOSTICS_HPP
#define ALATION_AUTH_WITH_DIAGNOSTICS_HPP

#include <alation/auth/detail/adapted_handler.hpp>
#include <alation/auth/detail/boost_compat.hpp>
#include <alation/auth/error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace alation::auth {

/// A completion token adapter, after Boost.MySQL's: an operation whose handler signature is
/// `void(error_code, T...)` completes instead with `void(std::exception_ptr, T...)`, the
/// exception being an ErrorWithDiagnostics that carries the server's Diagnostics. So
/// `co_await op(with_diagnostics(asio::deferred))` throws an exception whose diagnostics()
/// says what the server said.
template <class CompletionToken>
struct WithDiagnostics {
    CompletionToken token;
};

/// Wraps `token` (e.g. `asio::use_awaitable`, `asio::deferred`, `asio::use_future`) so that a
/// failure arrives as an ErrorWithDiagnostics exception_ptr instead of an error_code.
template <class CompletionToken>
WithDiagnostics<std::decay_t<CompletionToken>> with_diagnostics(CompletionToken&& token) {
    return {std::forward<CompletionToken>(token)};
}

/// The completion token every asynchronous function of this library defaults to: Asio's
/// `deferred`, throwing ErrorWithDiagnostics when awaited.
using DefaultCompletionToken = WithDiagnostics<boost::asio::deferred_t>;

namespace detail {

// Turns `(error_code, T...)` into `(exception_ptr, T...)`, the exception built from the error
// code and the diagnostics the operation filled in: the caller's, or, where the caller passed
// none, ones this adapter owns, made only when the operation asks for them (diagnostics_for), so
// that an operation that completes at once (authorize with a usable token) allocates nothing.
struct Throwing {
    std::unique_ptr<Diagnostics> owned;
    Diagnostics* target = nullptr;

    // Stable while the operation runs: the adapter moves with its handler, `owned` does not.
    Diagnostics& diagnostics() {
        if (!target) {
            owned = std::make_unique<Diagnostics>();
            target = owned.get();
        }
        return *target;
    }

    // Diagnostics an operation made itself, after its initiation (adopt_diagnostics).
    void adopt(std::unique_ptr<Diagnostics> made) {
        target = made.get();
        owned = std::move(made);
    }

    template <class Handler, class... T>
    void operator()(Handler&& handler, error_code ec, T&&... values) {
        std::exception_ptr ex;
        if (ec) ex = std::make_exception_ptr(ErrorWithDiagnostics(ec, target ? *target : Diagnostics()));
        std::forward<Handler>(handler)(std::move(ex), std::forward<T>(values)...);
    }
};

// Every initiation of this library is called as init(handler, Diagnostics* out, args...), `out`
// the caller's or null. Before an operation fills diagnostics it takes them from here: `out`, or
// those the handler's Throwing adapter owns, or null when nobody will read them.
template <class Handler>
Diagnostics* diagnostics_for(Handler& /*handler*/, Diagnostics* out) {
    return out;
}
template <class Handler>
Diagnostics* diagnostics_for(AdaptedHandler<Handler, Throwing>& handler, Diagnostics* out) {
    return out ? out : &handler.adapt.diagnostics();
}

// For an operation that can only tell after its initiation whether it needs diagnostics (send(),
// whose wait for a token comes after a write and read): whether the handler's Throwing adapter
// would read diagnostics the caller did not pass, and how the operation hands over those it made.
template <class Handler>
constexpr bool throws_diagnostics(const Handler& /*handler*/) {
    return false;
}
template <class Handler>
constexpr bool throws_diagnostics(const AdaptedHandler<Handler, Throwing>& /*handler*/) {
    return true;
}
template <class Handler>
void adopt_diagnostics(Handler& /*handler*/, std::unique_ptr<Diagnostics> /*made*/) {}
template <class Handler>
void adopt_diagnostics(AdaptedHandler<Handler, Throwing>& handler, std::unique_ptr<Diagnostics> made) {
    if (made) handler.adapt.adopt(std::move(made));
}

template <class Initiation>
struct ThrowingInitiation {
    Initiation initiation;

    template <class Handler, class... Args>
    void operator()(Handler&& handler, Diagnostics* out, Args&&... args) && {
        std::move(initiation)(adapt_handler(std::forward<Handler>(handler), Throwing{nullptr, out}), out,
                              std::forward<Args>(args)...);
    }
};

}  // namespace detail
}  // namespace alation::auth

namespace boost::asio {

template <class CompletionToken, class... T>
struct async_result<alation::auth::WithDiagnostics<CompletionToken>, void(alation::auth::error_code, T...)> {
    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& initiation, RawToken&& token, Args&&... args) {
        return async_initiate<CompletionToken, void(std::exception_ptr, T...)>(
            alation::auth::detail::ThrowingInitiation<std::decay_t<Initiation>>{std::forward<Initiation>(initiation)},
            token.token, std::forward<Args>(args)...);
    }
};

}  // namespace boost::asio

#endif
