// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_URL_IPP
#define ALATION_AUTH_DETAIL_IMPL_URL_IPP

#include <alation/auth/detail/url.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace alation::auth::detail {

namespace url_detail {

inline bool is_loopback(const boost::urls::url_view& u) {
    switch (u.host_type()) {
    case boost::urls::host_type::ipv4: return u.host_ipv4_address().to_bytes()[0] == 127;
    case boost::urls::host_type::ipv6: return u.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: {
        std::string name = u.host_name();
        std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        // A trailing dot is the same name, fully qualified.
        return name == "localhost" || name == "localhost.";
    }
    default: return false;
    }
}

inline error_code fail(Error e, Diagnostics& diag, std::string why) {
    diag.set_message(std::move(why));
    return e;
}

}  // namespace url_detail

ALATION_AUTH_DECL bool is_valid_port(std::string_view port) noexcept {
    // Boost.URL's port_number() wraps values above 65535, so check the digits ourselves.
    unsigned long number = 0;
    const auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), number);
    return !port.empty() && err == std::errc{} && end == port.data() + port.size() && number != 0 && number <= 65535;
}

ALATION_AUTH_DECL error_code parse_base_url(std::string_view url, bool allow_insecure_http, BaseUrl& out,
                                            Diagnostics& diag) {
    using url_detail::fail;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return fail(Error::invalid_url, diag, "not an absolute URL");
    const boost::urls::url_view& u = *parsed;

    const auto scheme = u.scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
        return fail(Error::invalid_url, diag, "the scheme must be http or https");
    if (!u.has_authority() || u.encoded_host().empty()) return fail(Error::invalid_url, diag, "the URL has no host");
    if (u.has_userinfo()) return fail(Error::invalid_url, diag, "credentials in the URL are not supported");
    if (u.has_query()) return fail(Error::invalid_url, diag, "the URL must not have a query");
    if (u.has_fragment()) return fail(Error::invalid_url, diag, "the URL must not have a fragment");
    if (u.host_type() == boost::urls::host_type::ipvfuture)
        return fail(Error::invalid_url, diag, "IPvFuture hosts are not supported");
    if (u.has_port() && !is_valid_port(u.port()))
        return fail(Error::invalid_url, diag, "the port must be a number from 1 to 65535");

    BaseUrl result;
    result.tls = scheme == boost::urls::scheme::https;
    if (!result.tls && !allow_insecure_http && !url_detail::is_loopback(u))
        return fail(Error::insecure_url, diag,
                    "plain http is allowed only to loopback hosts; use https or set allow_insecure_http");

    result.host = u.host_address();
    result.host_is_ip = u.host_type() == boost::urls::host_type::ipv4 || u.host_type() == boost::urls::host_type::ipv6;
    result.port = u.has_port() ? std::string(u.port()) : std::string(result.tls ? "443" : "80");
    result.host_header = u.encoded_host_and_port();
    std::string_view path = u.encoded_path();
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    result.path_prefix = path;
    out = std::move(result);
    return {};
}

}  // namespace alation::auth::detail

#endif
