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
#include <optional>
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

/// Why OAuth client credentials (and a token to introspect) cannot make a request, or empty
/// when they can: the library answers these with Error::invalid_argument.
inline std::string_view argument_problem(const OAuthClientCredentials& credentials) noexcept {
    if (credentials.client_id.empty()) return "the OAuth client id is empty";
    if (credentials.client_secret.empty()) return "the OAuth client secret is empty";
    return {};
}
inline std::string_view argument_problem(const OAuthClientCredentials& credentials, const Secret& token) noexcept {
    if (token.empty()) return "the token is empty";
    return argument_problem(credentials);
}

/// The token request, `grant_type=client_credentials`, form-urlencoded: the client's id and
/// secret go in an Authorization: Basic header or in the body, as `how` says. Its `secret` is the
/// client secret, which the client redacts from anything the server echoes.
ALATION_AUTH_DECL RequestBody oauth_token_request_body(const OAuthClientCredentials& credentials,
                                                       OAuthClientAuthentication how);

/// The introspection request: `token=...&token_type_hint=access_token` plus the client's
/// credentials as for the token request. Its `secret` is the client secret: RequestBody redacts
/// one secret, and the long-lived one is worth more than a token that dies within 72 hours.
ALATION_AUTH_DECL RequestBody oauth_introspect_request_body(const OAuthClientCredentials& credentials,
                                                            const Secret& token, OAuthClientAuthentication how);

/// The times a JWT's payload claims, read without checking the signature (the server does).
struct JwtTimes {
    std::optional<std::chrono::sys_seconds> issued_at;   // iat
    std::optional<std::chrono::sys_seconds> expires_at;  // exp
};

/// Reads `iat` and `exp` from a JWS compact serialization, `header.payload.signature`: the
/// payload must be base64url (RFC 7515: unpadded; `=` padding tolerated) of a JSON object. A
/// NumericDate may be fractional (truncated) but must lie in years 1970 to 9999; either claim may
/// be absent. Anything else is Error::malformed_response with diag.field() "access_token" and
/// the reason in diag.message(), which never quotes the token.
ALATION_AUTH_DECL error_code decode_jwt_times(std::string_view jwt, JwtTimes& out, Diagnostics& diag);

/// Parses the token endpoint's 200 body into `out` (see parse_result in protocol.hpp, which calls
/// this for Endpoint::oauth_token with the wall clock as `now`):
/// - `access_token`: a non-empty string, the value of the TOKEN header;
/// - `expires_in`: the lifetime in whole seconds, a positive JSON number (3600, 3600.0) or a
///   string of digits ("3600", which some servers send); fractional, zero, negative or other
///   values are malformed, never rounded. Absent, the JWT's own `exp - iat` is the lifetime;
///   when neither says it, malformed_response naming expires_in: no lifetime is ever guessed.
///   Lifetimes beyond max_token_lifetime are brought back to it;
/// - `token_type` and `scope`: strings when present (`token_type` is not otherwise checked:
///   Alation sends the JWT in the TOKEN header whatever the type says);
/// - `created_at`, sent by some deployments: RFC 3339 or seconds since the epoch.
/// `out.created_at` is the server's created_at, else the JWT's iat, else `now` (the local wall
/// clock, an estimate of the server's); `out.expires_at` is created_at + the lifetime, so
/// lifetime() is exactly the granted lifetime and local_expiry() is skew-proof.
/// `out.user_id` is 0: an OAuth token belongs to a client, not to a user, and validateAPIAccessToken
/// does not take it. `out.status` is active. `requested_at` is not touched.
ALATION_AUTH_DECL error_code parse_oauth_token_response(std::string_view body,
                                                        std::chrono::system_clock::time_point now, AccessToken& out,
                                                        Diagnostics& diag);

/// Parses the introspection endpoint's 200 body: `active` is a required boolean; for an active
/// token `client_id`, `sub`, `scope`, `token_type` (strings) and `exp`, `iat` (NumericDates) are
/// read when present, and a present one of the wrong type is malformed, naming it. An inactive
/// token's other members are ignored.
ALATION_AUTH_DECL error_code parse_result(Endpoint e, std::string_view body, OAuthTokenInfo& out, Diagnostics& diag);

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/oauth.ipp>
#endif

#endif
