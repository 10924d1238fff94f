// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_ADAPTED_HANDLER_HPP
#define ALATION_AUTH_DETAIL_ADAPTED_HANDLER_HPP

#include <boost/asio/associator.hpp>

#include <utility>

namespace alation::auth::detail {

/// A completion handler that transforms its arguments with `adapt(handler, args...)` before
/// they reach `handler`, and keeps the handler's associated executor, allocator and
/// cancellation slot, so the adaptation is invisible to Asio.
template <class Handler, class Adapter>
struct AdaptedHandler {
    Handler handler;
    Adapter adapt;

    template <class... Args>
    void operator()(Args&&... args) {
        std::move(adapt)(std::move(handler), std::forward<Args>(args)...);
    }
};

template <class Handler, class Adapter>
AdaptedHandler<std::decay_t<Handler>, std::decay_t<Adapter>> adapt_handler(Handler&& handler, Adapter&& adapter) {
    return {std::forward<Handler>(handler), std::forward<Adapter>(adapter)};
}

}  // namespace alation::auth::detail

template <template <class, class> class Associator, class Handler, class Adapter, class DefaultCandidate>
struct boost::asio::associator<Associator, alation::auth::detail::AdaptedHandler<Handler, Adapter>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type get(
        const alation::auth::detail::AdaptedHandler<Handler, Adapter>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const alation::auth::detail::AdaptedHandler<Handler, Adapter>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};

#endif
