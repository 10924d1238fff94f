// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_URL_HPP
#define ALATION_AUTH_DETAIL_URL_HPP

#include <alation/auth/detail/config.hpp>
#include <alation/auth/error.hpp>

#include <string>
#include <string_view>

namespace alation::auth::detail {

/// Where a Client sends its requests, taken from its base URL.
struct BaseUrl {
    bool tls = false;
    /// The host to resolve and to verify the certificate against: a name, or an IP address
    /// without the brackets of an IPv6 literal.
    std::string host;
    bool host_is_ip = false;
    std::string port;
    /// The Host header: the host and port as the URL spelt them.
    std::string host_header;
    /// Prepended to each endpoint's path: "" or "/prefix" (no trailing slash).
    std::string path_prefix;
};

/// Parses a Client's base URL. On failure returns Error::invalid_url or Error::insecure_url and
/// says why in diag.message(). Plain http is accepted only to loopback hosts (127.0.0.0/8, ::1,
/// localhost) unless `allow_insecure_http`.
ALATION_AUTH_DECL error_code parse_base_url(std::string_view url, bool allow_insecure_http, BaseUrl& out,
                                            Diagnostics& diag);

/// Whether `port` is a URL's port number: digits only, from 1 to 65535.
ALATION_AUTH_DECL bool is_valid_port(std::string_view port) noexcept;

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/url.ipp>
#endif

#endif
