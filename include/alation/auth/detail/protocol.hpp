// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_PROTOCOL_HPP
#define ALATION_AUTH_DETAIL_PROTOCOL_HPP

// The token API's wire format without I/O: request bodies, 200 bodies, error responses and
// Retry-After. The client's Beast code only moves bytes; every decision about them is here.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/timestamp.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace alation::auth::detail {

static_assert(std::is_same_v<UtcTime, Timestamp>, "timestamp.hpp spells out token.hpp's Timestamp");

enum class Endpoint {
    create_refresh_token,
    validate_refresh_token,
    regenerate_refresh_token,
    create_access_token,
    validate_access_token,
    revoke_access_tokens,
    /// OAuth 2.0 client credentials grant (form-urlencoded, see detail/oauth.hpp).
    oauth_token,
    /// OAuth 2.0 token introspection, RFC 7662.
    oauth_introspect,
};

/// The endpoint's path below the base URL, with the trailing slash the server requires.
inline std::string_view path(Endpoint e) noexcept {
    switch (e) {
    case Endpoint::create_refresh_token: return "/integration/v1/createRefreshToken/";
    case Endpoint::validate_refresh_token: return "/integration/v1/validateRefreshToken/";
    case Endpoint::regenerate_refresh_token: return "/integration/v1/regenRefreshToken/";
    case Endpoint::create_access_token: return "/integration/v1/createAPIAccessToken/";
    case Endpoint::validate_access_token: return "/integration/v1/validateAPIAccessToken/";
    case Endpoint::revoke_access_tokens: return "/integration/v1/revokeAPIAccessTokens/";
    case Endpoint::oauth_token: return "/oauth/v2/token/";
    case Endpoint::oauth_introspect: return "/oauth/v2/introspect/";
    }
    return {};
}

/// The endpoint's name as Alation's documentation spells it, for messages: "createAPIAccessToken"
/// for the integration endpoints, the path without its outer slashes ("oauth/v2/token") for OAuth.
inline std::string_view name(Endpoint e) noexcept {
    constexpr std::string_view integration = "/integration/v1/";
    std::string_view p = path(e);
    p.remove_prefix(p.starts_with(integration) ? integration.size() : 1);
    p.remove_suffix(1);
    return p;
}

/// Bounds on the server's text kept in Diagnostics: a JSON `detail`, the start of a non-JSON
/// body (an HTML error page), a `code`.
inline constexpr std::size_t max_server_detail = 512;
inline constexpr std::size_t max_server_page_text = 200;
inline constexpr std::size_t max_server_code = 32;

/// The longest token lifetime parse_result passes on. A server may mark a token that never
/// expires with a far date (9999-12-31); such a token_expires_at is brought back to created_at
/// plus this, so that steady_clock arithmetic on the lifetime (nanoseconds, about ±292 years)
/// cannot overflow anywhere in the library.
inline constexpr std::chrono::years max_token_lifetime{100};

/// A serialized request body, its media type, an optional Authorization header value, and the
/// one secret inside them (password, token or client secret), kept so the client can scrub the
/// secret out of anything the server echoes back. The secrets are wiped on destruction.
struct RequestBody {
    Secret json;
    Secret secret;
    /// The Content-Type of `json`: form-urlencoded for the OAuth endpoints.
    std::string_view content_type = "application/json";
    /// When not empty, the Authorization header (HTTP Basic client credentials for OAuth).
    Secret authorization{};
};

/// Why a caller's arguments cannot make a valid request, or empty when they can: the library
/// answers these with Error::invalid_argument instead of asking the server.
inline std::string_view argument_problem(const Credentials& credentials) noexcept {
    if (credentials.username.empty()) return "the username is empty";
    if (credentials.password.empty()) return "the password is empty";
    return {};
}
inline std::string_view argument_problem(const Secret& token, std::int64_t user_id) noexcept {
    if (token.empty()) return "the token is empty";
    if (user_id <= 0) return "user_id must be positive";
    return {};
}

/// `{"username","password","name"}` for createRefreshToken.
ALATION_AUTH_DECL RequestBody refresh_token_request_body(const Credentials& credentials);

/// `{"refresh_token": token, "user_id": id}`, or for validate_access_token
/// `{"api_access_token": token, "user_id": id}`.
ALATION_AUTH_DECL RequestBody token_request_body(Endpoint e, const Secret& token, std::int64_t user_id);

/// Appends `s` as a JSON string literal, escaping `"`, `\` and control characters. Appends
/// exactly json_string_size(s) bytes, so a caller holding a secret can reserve room beforehand
/// and the buffer is never reallocated and left behind unwiped.
ALATION_AUTH_DECL void append_json_string(std::string& out, std::string_view s);
ALATION_AUTH_DECL std::size_t json_string_size(std::string_view s) noexcept;

/// Parses a 200 body into `out` and returns {}, or returns Error::malformed_response with
/// diag.field() naming the field at fault ("token_expires_at"; empty when the body is not a
/// JSON object at all) and diag.message() saying what is wrong ("missing", "expected a string,
/// got null", "not an RFC 3339 timestamp", "expires before it was created", ...). A well-formed
/// token whose token_status is expired or revoked is filled in and gives
/// Error::refresh_token_expired_or_revoked (RefreshToken) or Error::access_token_expired_or_revoked
/// (AccessToken), with diag.field() "token_status" and the status in diag.message(). Unknown
/// statuses are TokenStatus::unknown, not errors; unknown fields are ignored. `requested_at` is
/// not touched. After a malformed_response, `out` may be partly filled.
ALATION_AUTH_DECL error_code parse_result(Endpoint e, std::string_view body, RefreshToken& out, Diagnostics& diag);
/// For Endpoint::oauth_token, the body is OAuth's: see parse_oauth_token_response in oauth.hpp.
ALATION_AUTH_DECL error_code parse_result(Endpoint e, std::string_view body, AccessToken& out, Diagnostics& diag);
/// revokeAPIAccessTokens: `{"detail": "<sentence>"}`; the sentence is bounded and cleaned like
/// the server's text in Diagnostics.
ALATION_AUTH_DECL error_code parse_result(Endpoint e, std::string_view body, RevokeResult& out, Diagnostics& diag);

/// ACTIVE, EXPIRED, REVOKED in any letter case; anything else is TokenStatus::unknown.
ALATION_AUTH_DECL TokenStatus parse_token_status(std::string_view text) noexcept;

/// What an error body says, cleaned for Diagnostics.
struct ServerError {
    /// OAuth's `error_description`, else the JSON `detail` sentence; for other JSON (DRF field errors such as
    /// `{"user_id": ["This field is required."]}`) the JSON text; for a body that is not JSON,
    /// its first printable characters without tags, scripts, styles or control characters.
    std::string detail;
    /// OAuth's `error` (`invalid_client`, ...), else the JSON `code`, a string or an integer, as
    /// text; empty when absent. On OAuth answers carrying both, `error` wins: Alation's `code`
    /// there is a generic 401000 that says less.
    std::string code;
};

/// Extracts the server's words from an error body. Every occurrence of `secret` (raw or
/// JSON-escaped) is replaced by "[redacted]" before the text is bounded, so no part of it
/// survives truncation; control characters become spaces; the length is bounded by
/// max_server_detail, max_server_page_text and max_server_code (on a UTF-8 character boundary,
/// "..." marking a cut).
ALATION_AUTH_DECL ServerError parse_error_body(std::string_view body, std::string_view secret = {});

/// A Retry-After value: delta-seconds or an HTTP-date, made relative to `now` (a date in the
/// past is zero seconds). Absent or unusable values are nullopt; huge ones saturate.
ALATION_AUTH_DECL std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept;

/// A non-2xx response as the library's Error, filling diag: http_status, server_detail and
/// server_code (parse_error_body, redacting `secret`), retry_after (parse_retry_after).
/// 401 on createRefreshToken, and 403 there (SSO users): invalid_credentials. 401 on the endpoints
/// taking a refresh token: refresh_token_expired_or_revoked when the detail says "expired or
/// revoked" (any case), else invalid_refresh_token. 401 on validateAPIAccessToken:
/// invalid_access_token. On the OAuth endpoints: 401, and `error` invalid_client with 400, 401 or
/// 403 (RFC 6749 5.2 allows 400 when the credentials were in the body), invalid_client_credentials.
/// Other 401 and 403: unauthorized. 400: bad_request. 429: rate_limited.
/// 500, 502, 503, 504: server_error. Anything else: unexpected_status.
ALATION_AUTH_DECL error_code classify_error_response(Endpoint e, unsigned status, std::string_view body,
                                                     std::string_view retry_after_header,
                                                     std::chrono::system_clock::time_point now, Diagnostics& diag,
                                                     std::string_view secret = {});

/// Declared here for parse_result(AccessToken); documented in oauth.hpp.
ALATION_AUTH_DECL error_code parse_oauth_token_response(std::string_view body,
                                                        std::chrono::system_clock::time_point now, AccessToken& out,
                                                        Diagnostics& diag);

/// Whether a Content-Type header value names `media_type` (lower case): letter case, blanks around
/// it and parameters such as `; charset=utf-8` do not matter. Shared by the client and the fakes.
ALATION_AUTH_DECL bool is_media_type(std::string_view content_type, std::string_view media_type) noexcept;

/// Whether a Content-Type is JSON: application/json or a structured `+json` type such as
/// application/problem+json.
ALATION_AUTH_DECL bool is_json_content_type(std::string_view content_type) noexcept;

/// Replaces every occurrence of `secret` (when non-empty) in `text` with "[redacted]".
ALATION_AUTH_DECL void redact(std::string& text, std::string_view secret);

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/protocol.ipp>
#endif

#endif
