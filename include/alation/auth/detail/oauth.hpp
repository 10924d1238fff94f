// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_OAUTH_HPP
#define ALATION_AUTH_DETAIL_OAUTH_HPP

// The OAuth 2.0 client credentials grant (RFC 6749 §4.4) and token introspection (RFC 7662) as
// Alation Cloud Service speaks them, without I/O: form bodies, the Basic client header, the 200
// bodies and the JWT's own lifetime. Paths are Endpoint::oauth_token and Endpoint::oauth_introspect
// (protocol.hpp); error responses go through classify_error_response like every endpoint's.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace alation::auth::detail {

/// The media type of every OAuth request body.
inline constexpr std::string_view form_media_type = "application/x-www-form-urlencoded";

/// Appends `s` encoded as application/x-www-form-urlencoded (RFC 6749 appendix B): ASCII letters,
/// digits and `-._~` stay, a space becomes `+`, every other byte (UTF-8 included) becomes `%XX`
/// in upper-case hex. Appends exactly form_urlencoded_size(s) bytes, so a caller holding a secret
/// can reserve room first and no reallocation leaves an unwiped copy behind.
ALATION_AUTH_DECL void form_urlencode(std::string& out, std::string_view s);
ALATION_AUTH_DECL std::size_t form_urlencoded_size(std::string_view s) noexcept;

/// The Authorization header value for HTTP Basic client authentication (RFC 6749 §2.3.1):
/// `Basic ` + base64(form_urlencode(client_id) + ":" + form_urlencode(client_secret)).
ALATION_AUTH_DECL Secret basic_client_authorization(std::string_view client_id, const Secret& client_secret);

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/oauth.ipp>
#endif

#endif
