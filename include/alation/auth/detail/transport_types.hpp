// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_TRANSPORT_TYPES_HPP
#define ALATION_AUTH_DETAIL_TRANSPORT_TYPES_HPP

// The transport's plain types, without Boost.Asio or Beast, so that client_impl.hpp stays light.

#include <alation/auth/detail/proxy.hpp>
#include <alation/auth/detail/url.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>

#include <optional>
#include <string>
#include <utility>

namespace alation::auth::detail {

/// The body of a 2xx response, and when the request that produced it was sent.
struct RawResponse {
    Secret body;
    SteadyClock::time_point requested_at{};
};

/// Where a Client's requests go: the target, and the proxy in between (if any). Fixed when the
/// Client is made.
struct Route {
    BaseUrl target;
    std::optional<ProxyEndpoint> proxy;
    /// Identifies the route among kept-alive connections: a connection made for one route is
    /// never reused for another.
    std::string key;

    /// https through a proxy: a CONNECT tunnel, then TLS with the target inside it.
    [[nodiscard]] bool tunnelled() const noexcept { return proxy && target.tls; }
    /// http through a proxy: absolute-form requests to the proxy, with its Proxy-Authorization.
    [[nodiscard]] const ProxyEndpoint* http_proxy() const noexcept { return proxy && !target.tls ? &*proxy : nullptr; }

    static Route make(BaseUrl target, std::optional<ProxyEndpoint> proxy) {
        Route route{std::move(target), std::move(proxy), {}};
        route.key = (route.target.tls ? "https://" : "http://") + route.target.host_header;
        if (route.proxy) route.key += " via " + route.proxy->display;
        return route;
    }
};

}  // namespace alation::auth::detail

#endif
