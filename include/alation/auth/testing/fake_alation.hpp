// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_FAKE_ALATION_HPP
#define ALATION_AUTH_TESTING_FAKE_ALATION_HPP

#include <alation/auth/detail/config.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/testing/certificates.hpp>
#include <alation/auth/token.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace alation::auth::testing {

/// How the fake writes created_at, token_expires_at and last_used_at. Every style is RFC 3339.
enum class TimestampStyle {
    milliseconds,     ///< 2021-12-31T01:04:47.035Z
    microseconds,     ///< 2022-11-15T21:52:48.116496Z (the default, as the SDK's fixtures)
    nanoseconds,      ///< 2022-11-15T21:52:48.116496123Z
    no_fraction,      ///< 2022-11-15T21:52:48Z
    offset_utc,       ///< 2022-11-15T21:52:48.116496+00:00
    offset_negative,  ///< 2022-11-15T16:52:48.116496-05:00, the same instant in another zone
};

/// The letter case of token_status.
enum class StatusCase { upper /*ACTIVE*/, lower /*active*/, capitalized /*Active*/ };

struct FakeAlationOptions {
    bool tls = false;
    CertificateKind certificate = CertificateKind::valid;
    /// Lifetimes of tokens minted over HTTP (issue_* may override them).
    std::chrono::milliseconds access_token_lifetime = std::chrono::hours(24);
    std::chrono::milliseconds refresh_token_lifetime = std::chrono::hours(24 * 60);
    /// The server's clock minus ours (skew): timestamps and expiry use system_clock + this.
    std::chrono::milliseconds server_clock_offset{0};
    TimestampStyle timestamps = TimestampStyle::microseconds;
    StatusCase status_case = StatusCase::upper;
    /// The contract's other variant: validateRefreshToken answers an expired (or revoked) refresh
    /// token with 200 and that token_status instead of 401.
    bool expired_refresh_validates_as_200 = false;
    /// The status a protected endpoint answers for an invalid, expired or revoked TOKEN: 401 or 403.
    unsigned protected_rejection_status = 401;
    /// Accept `"user_id": "7"` as well as `7` in requests (Alation does); else it is a 400.
    bool accept_user_id_as_string = true;
    /// The status createRefreshToken answers for an SSO user: 401 or 403.
    unsigned sso_rejection_status = 401;
    /// The port to listen on (127.0.0.1); 0 picks a free one.
    unsigned short port = 0;
    /// A connection that sends nothing for this long (no request, or half a request) is closed.
    std::chrono::milliseconds idle_timeout{30'000};
    /// Requests with a larger body get 413 and the connection is closed.
    std::size_t max_request_body = std::size_t{64} * 1024;
    /// When not 0: minting an access token revokes the oldest live access tokens of the same
    /// refresh token (or JWTs of the same OAuth client) beyond this many, as some token services
    /// do (Alation documents no such rule). For testing fleets that share one identity.
    std::size_t max_live_access_tokens = 0;

    // OAuth 2.0 client credentials: the variants of the contract's token endpoint answers.
    /// The `scope` of a 200 (and of an active introspection); empty: no `scope` member.
    std::string oauth_scope = "api";
    /// A 200 carries `created_at` (formatted as `timestamps` says).
    bool oauth_created_at = false;
    /// A 200 carries `expires_in`; without it a client must read the JWT's `exp` and `iat`.
    bool oauth_expires_in = true;
    /// invalid_client answers carry `"code": "401000"` besides `error` and `error_description`.
    bool oauth_invalid_client_code = false;
};

/// What to do instead of the normal answer to one request.
///
/// `respond`, `reset_before_response` and `never_answer` replace the request: the server does not
/// act on it (no token is minted). The others deliver the endpoint's normal answer, which the
/// server did act on, badly: a client then sees the failure a lost response causes in real life.
struct Fault {
    enum class Kind {
        /// `status` with `body`, after `delay`; the connection stays usable.
        respond,
        /// Close the connection with a TCP reset (SO_LINGER 0) instead of answering.
        reset_before_response,
        /// Send the header and half the body of the normal answer, then reset.
        reset_during_response,
        /// Send the header (its Content-Length is the full body's) and half the body, then close.
        truncated_body,
        /// The normal answer padded with JSON whitespace to `size` bytes of body.
        oversized_body,
        /// Read the request, then keep the connection open and silent until stop() or the client
        /// closes it.
        never_answer,
        /// The normal answer, one byte per `delay` (which here is not an initial wait).
        drip,
        /// The normal answer without `Connection: close`, then close the keep-alive connection, as
        /// a server does to an idle connection: the client's next request on it fails.
        close_after_response,
    };
    Kind kind = Kind::respond;
    unsigned status = 503;
    /// Empty: `{"detail","code"}` fitting the status (or an HTML page when `html`).
    // Every member has an initializer, so that `Fault{.kind = ...}` leaves none out under
    // -Wmissing-field-initializers (g++ 14 and clang 19 warn about designated initializers too).
    std::string body{};
    /// An HTML error page, text/html, as a proxy sends.
    bool html = false;
    /// Overrides the Content-Type.
    std::string content_type{};
    std::optional<std::string> retry_after{};
    /// Before answering (any kind but drip, where it is the pace).
    std::chrono::milliseconds delay{0};
    /// The body size for oversized_body.
    std::size_t size = 1 << 20;
};

namespace detail {
class FakeAlationImpl;
}

/// A fake Alation Data Catalog for tests: the token endpoints of the API contract
/// (createRefreshToken, validateRefreshToken, regenRefreshToken, createAPIAccessToken,
/// validateAPIAccessToken, revokeAPIAccessTokens), OAuth 2.0 client credentials (the token endpoint
/// /oauth/v2/token/, also without its trailing slash, and /oauth/v2/introspect/) and one protected
/// endpoint, over HTTP/1.1 with keep-alive, plain or TLS, playing each variant the contract allows
/// and each injected Fault.
///
/// Thread-safe: it may serve on a multi-threaded executor (each connection has its own strand),
/// and every member function may be called from any thread while it serves. State is behind a
/// mutex that is never held across I/O.
///
/// Where the contract is silent, the fake chooses: regenRefreshToken revokes the old refresh token
/// (so it then gets "expired or revoked") but not the access tokens it minted; revoking or expiring
/// a refresh token leaves its access tokens valid; last_used_at is set when the refresh token
/// mints an access token; 400 codes are 400000 (Content-Type), 400001 (JSON), 400002 (missing
/// field), 400003 (wrong type), 400004 (blank string).
///
/// OAuth: the token endpoint takes form-urlencoded `grant_type=client_credentials` with the
/// client's id and secret in the body or in HTTP Basic (each part form-urlencoded, RFC 6749
/// §2.3.1), and answers 200 with a JWT signed HS256 by a key made at start: header.payload.signature
/// in base64url, claims `iat`, `exp` (whole seconds), `sub` and `client_id` (the client id), `jti`.
/// The server keeps each JWT until created_at + lifetime to the sub-second, which is never before its
/// `exp`. Errors are OAuth's `{"error","error_description"}`: 400 invalid_request for a Content-Type
/// other than application/x-www-form-urlencoded, a bad %-escape, a missing or repeated parameter,
/// or two ways of authenticating at once; 400 unsupported_grant_type; 401 invalid_client (with
/// WWW-Authenticate when Basic was tried) for missing, malformed or wrong client credentials.
/// Introspection authenticates the client the same way, needs `token`, and answers
/// `{"active": true, claims..., "scope", "token_type"}` for a live JWT of that client, else
/// `{"active": false}`.
class FakeAlation {
public:
    /// Listens on 127.0.0.1 (options.port, 0 for any free one) at once and serves on `executor`.
    /// With options.tls, presents the options.certificate from TestCertificates::shared().
    ALATION_AUTH_DECL explicit FakeAlation(boost::asio::any_io_executor executor, FakeAlationOptions options = {});
    /// Stops (see stop()). Pending operations keep the internals alive until they complete.
    ALATION_AUTH_DECL ~FakeAlation();
    FakeAlation(const FakeAlation&) = delete;
    FakeAlation& operator=(const FakeAlation&) = delete;

    /// Closes the acceptor and every connection, including those in never_answer. Idempotent.
    /// The closing runs on the executor (each connection on its strand), so it takes effect when
    /// the executor next runs; an io_context with nothing else to do then returns from run().
    ALATION_AUTH_DECL void stop();

    /// "http://127.0.0.1:PORT", or "https://localhost:PORT" with TLS (the certificate names localhost).
    [[nodiscard]] ALATION_AUTH_DECL std::string base_url() const;
    [[nodiscard]] ALATION_AUTH_DECL unsigned short port() const;
    /// The CA that signed the server certificate (except for self_signed_untrusted).
    [[nodiscard]] ALATION_AUTH_DECL const std::string& ca_certificate_pem() const;
    /// Writes the CA to a PEM file in `dir`, for ClientOptions::ca_file; returns its path.
    ALATION_AUTH_DECL std::string write_ca_file(const std::filesystem::path& dir) const;

    /// Adds a user; returns its user_id. Throws std::invalid_argument for a username already taken.
    ALATION_AUTH_DECL std::int64_t add_user(std::string username, std::string password, bool sso = false);

    // Tokens issued directly, without HTTP, for tests that start from a given state. They do not
    // count in access_tokens_minted() or refresh_tokens_created(). Each throws
    // std::invalid_argument for an unknown user or token.
    ALATION_AUTH_DECL RefreshToken issue_refresh_token(std::int64_t user_id, std::string name,
                                                       std::optional<std::chrono::milliseconds> lifetime = {});
    ALATION_AUTH_DECL AccessToken issue_access_token(const Secret& refresh_token,
                                                     std::optional<std::chrono::milliseconds> lifetime = {});
    ALATION_AUTH_DECL void revoke_refresh_token(const Secret& refresh_token);
    /// Makes the token expire now (on the server's clock).
    ALATION_AUTH_DECL void expire_refresh_token(const Secret& refresh_token);
    ALATION_AUTH_DECL void revoke_access_token(const Secret& access_token);
    /// Makes the token expire now (on the server's clock).
    ALATION_AUTH_DECL void expire_access_token(const Secret& access_token);
    /// For access tokens minted from now on; those already minted keep their expiry.
    ALATION_AUTH_DECL void set_access_token_lifetime(std::chrono::milliseconds lifetime);

    /// Registers an OAuth client (a service account) whose tokens live `lifetime` (Alation allows 5
    /// minutes to 72 hours; the fake takes any positive lifetime). Throws std::invalid_argument for
    /// an empty id or secret, a lifetime that is not positive, or an id already registered.
    ALATION_AUTH_DECL void add_oauth_client(std::string client_id, std::string client_secret,
                                            std::chrono::seconds lifetime = std::chrono::hours(1));
    /// A JWT for the client, issued without HTTP (not counted in oauth_tokens_minted()); `lifetime`
    /// overrides the client's. Throws std::invalid_argument for an unknown client.
    ALATION_AUTH_DECL Secret issue_oauth_token(std::string_view client_id,
                                               std::optional<std::chrono::seconds> lifetime = {});
    /// Makes the JWT expire now (on the server's clock): the protected endpoint and introspection
    /// then refuse it, although its `exp` claim still names the later instant. Throws
    /// std::invalid_argument for a token the fake did not issue.
    ALATION_AUTH_DECL void expire_oauth_token(const Secret& jwt);

    /// The next `times` requests to `path` (e.g. "/integration/v1/createAPIAccessToken/") get
    /// `fault` instead of the normal answer, in FIFO order with the other faults for that path.
    ALATION_AUTH_DECL void inject(std::string path, Fault fault, int times = 1);
    ALATION_AUTH_DECL void clear_faults();

    /// Requests received for `path` (the target without its query), whatever their outcome.
    [[nodiscard]] ALATION_AUTH_DECL std::size_t request_count(std::string_view path) const;
    /// Successful createAPIAccessToken calls.
    [[nodiscard]] ALATION_AUTH_DECL std::size_t access_tokens_minted() const;
    /// Successful createRefreshToken and regenRefreshToken calls.
    [[nodiscard]] ALATION_AUTH_DECL std::size_t refresh_tokens_created() const;
    [[nodiscard]] ALATION_AUTH_DECL std::size_t connections_accepted() const;
    /// Successful OAuth token requests (JWTs minted over HTTP).
    [[nodiscard]] ALATION_AUTH_DECL std::size_t oauth_tokens_minted() const;

    /// The protected endpoint GET /integration/v2/table/ answers 200 `[]` to a valid, unexpired,
    /// unrevoked TOKEN header, an API access token or an OAuth JWT; 403 {"detail":"Authentication
    /// credentials were not provided.", "code":"403000"} without one; options.protected_rejection_status
    /// for an invalid, expired or revoked access token; 401 {"detail": "Authentication failed:
    /// invalid bearer token."} for an unknown or expired JWT (a TOKEN with a dot in it).
    [[nodiscard]] ALATION_AUTH_DECL std::size_t protected_accepted() const;
    /// Every rejection, with or without a TOKEN.
    [[nodiscard]] ALATION_AUTH_DECL std::size_t protected_rejected() const;
    /// Of the rejections, those of tokens that had expired (not revoked, not unknown).
    [[nodiscard]] ALATION_AUTH_DECL std::size_t protected_rejected_expired() const;

private:
    std::shared_ptr<detail::FakeAlationImpl> impl_;
};

}  // namespace alation::auth::testing

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/testing/impl/fake_alation.ipp>
#endif

#endif
