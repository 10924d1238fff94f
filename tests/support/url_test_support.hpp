// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Parsed targets and proxies for the tests of the proxy rules and of the transport.
#ifndef ALATION_AUTH_TESTS_URL_TEST_SUPPORT_HPP
#define ALATION_AUTH_TESTS_URL_TEST_SUPPORT_HPP

#include <alation/auth/detail/proxy.hpp>
#include <alation/auth/detail/url.hpp>

#include "catch.hpp"

#include <string_view>

namespace alation::auth::test {

/// A base URL the test knows to be valid (plain http allowed).
inline detail::BaseUrl target(std::string_view url) {
    detail::BaseUrl out;
    Diagnostics diag;
    REQUIRE_FALSE(detail::parse_base_url(url, true, out, diag));
    return out;
}

/// A proxy URL the test knows to be valid.
inline detail::ProxyEndpoint proxy(std::string_view url) {
    detail::ProxyEndpoint out;
    Diagnostics diag;
    REQUIRE_FALSE(detail::parse_proxy_url(url, out, diag));
    return out;
}

}  // namespace alation::auth::test

#endif
