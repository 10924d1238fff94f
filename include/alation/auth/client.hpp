// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_CLIENT_HPP
#define ALATION_AUTH_CLIENT_HPP

#include <alation/auth/client_options.hpp>
#include <alation/auth/detail/client_impl.hpp>
#include <alation/auth/detail/oauth.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/token.hpp>
#include <alation/auth/with_diagnostics.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

namespace alation::auth {

/// A client for Alation's token endpoints (createRefreshToken, createAPIAccessToken and the rest
/// of the token lifecycle) and for OAuth 2.0 client credentials (create_oauth_token).
///
/// Every asynchronous function:
/// - takes any Asio completion token, with handler signature `void(error_code, T)`, and defaults
///   to `with_diagnostics(asio::deferred)`, so `co_await client.create_access_token(rt)` works and
///   throws ErrorWithDiagnostics on failure;
/// - has an overload taking `Diagnostics&`, filled in on failure with what the server said; it
///   must stay alive until the operation completes;
/// - copies its arguments before it returns: the caller's tokens and credentials may be
///   destroyed at once, even when the operation is deferred;
/// - completes on the handler's associated executor, or the Client's executor when it has none;
/// - supports per-operation cancellation (terminal, partial and total): the call ends with
///   `asio::error::operation_aborted`, and its connection is closed, not reused;
/// - is bounded by ClientOptions' connect and request timeouts (Error::timeout) and retried
///   according to ClientOptions::retry.
///
/// Errors every call may report, besides those named on each function: transport failures with
/// their Asio, Beast or OpenSSL codes (connection refused, reset, certificate verify failed);
/// Error::timeout; Error::rate_limited; Error::server_error; Error::bad_request;
/// Error::unexpected_status; Error::malformed_response; Error::response_too_large;
/// `operation_aborted` on cancellation. On failure the result is empty, never half-parsed.
///
/// Many operations may be in flight at once, from any threads: each takes an idle kept-alive
/// connection or opens a new one, and returns it to the pool when done. A connection the server
/// closed while idle is detected and the call goes through on a fresh one.
///
/// Operations in flight keep the Client's internals alive, so a Client may be destroyed while
/// they run; they still complete. A Client is a cheap handle: copies share the options, the TLS
/// context and the connection pool.
class Client {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Parses `base_url` (`https://catalog.example.com`, `https://host:8443/prefix`,
    /// `http://127.0.0.1:8080`). Throws ErrorWithDiagnostics with Error::invalid_url for a URL
    /// that is not http(s) with a host, and Error::insecure_url for plain http to a host that is
    /// not loopback unless options.allow_insecure_http is set, Error::invalid_url for a proxy URL
    /// (options.proxy or, with options.proxy_from_environment, the environment) that cannot be
    /// used, never connecting directly instead, and the TLS library's error when options.ca_file
    /// or options.ca_dir cannot be loaded. Chooses the proxy here, once; opens no connection yet.
    Client(executor_type executor, std::string_view base_url, ClientOptions options = {})
        : impl_(detail::ClientImpl::create(std::move(executor), base_url, std::move(options))) {}

    /// The executor given to the constructor: I/O runs there, and handlers without an
    /// associated executor complete there.
    [[nodiscard]] executor_type get_executor() const noexcept { return impl_->get_executor(); }
    /// The options given to the constructor.
    [[nodiscard]] const ClientOptions& options() const noexcept { return impl_->options(); }

    /// Closes the idle kept-alive connections. Operations in flight are not affected.
    void close_idle_connections() { impl_->close_idle_connections(); }

    /// Connects `socket` to the catalog for the service's own API calls, by the route the
    /// Client's token calls take: directly, or through the Client's forward proxy
    /// (ClientOptions::proxy or the environment) by a CONNECT tunnel to the catalog's host and
    /// port, for http catalogs too, so that all the caller sends on it afterwards, TLS included,
    /// crosses the proxy inside the tunnel. TLS for an https catalog is the caller's: SNI and
    /// host-name verification for the catalog's host, with ssl_context() for the Client's trust
    /// settings. Signature: `void(error_code)`. `socket` must be closed and stay alive until completion;
    /// on success it is open, on the executor it had. Bounded by connect_timeout
    /// (Error::timeout); a proxy's refusal is Error::proxy_authentication_required or
    /// Error::proxy_error, with Diagnostics. Not retried. Cancellation (any type): operation_aborted.
    template <class CompletionToken = DefaultCompletionToken>
    auto connect(boost::asio::ip::tcp::socket& socket, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(detail::ConnectInitiation{impl_}, token,
                                                                              nullptr, &socket);
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto connect(boost::asio::ip::tcp::socket& socket, Diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(detail::ConnectInitiation{impl_}, token,
                                                                              &diag, &socket);
    }

    /// The TLS context of the Client's https connections: the system's trust store with
    /// ClientOptions::ca_file and ca_dir, or ClientOptions::ssl_context. Null for an http catalog.
    [[nodiscard]] std::shared_ptr<boost::asio::ssl::context> ssl_context() const noexcept {
        return impl_->ssl_context();
    }

    /// createRefreshToken: a new refresh token for a user with a password (not an SSO user).
    /// Signature: `void(error_code, RefreshToken)`. Fails with invalid_credentials on a wrong
    /// username or password (401, or 403 for an SSO user). Retried only when the request never
    /// reached the server: an orphan refresh token is worse than a failed call.
    template <class CompletionToken = DefaultCompletionToken>
    auto create_refresh_token(const Credentials& credentials, CompletionToken&& token = {}) {
        return call<RefreshToken>(detail::Endpoint::create_refresh_token,
                                  detail::refresh_token_request_body(credentials),
                                  detail::argument_problem(credentials), nullptr, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto create_refresh_token(const Credentials& credentials, Diagnostics& diag, CompletionToken&& token = {}) {
        return call<RefreshToken>(detail::Endpoint::create_refresh_token,
                                  detail::refresh_token_request_body(credentials),
                                  detail::argument_problem(credentials), &diag, std::forward<CompletionToken>(token));
    }

    /// createAPIAccessToken: a new access token minted from a refresh token.
    /// Signature: `void(error_code, AccessToken)`. Fails with invalid_refresh_token or refresh_token_expired_or_revoked
    /// when the server rejects the refresh token.
    template <class CompletionToken = DefaultCompletionToken>
    auto create_access_token(const RefreshToken& refresh_token, CompletionToken&& token = {}) {
        return create_access_token(refresh_token.value, refresh_token.user_id, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto create_access_token(const RefreshToken& refresh_token, Diagnostics& diag, CompletionToken&& token = {}) {
        return create_access_token(refresh_token.value, refresh_token.user_id, diag,
                                   std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto create_access_token(const Secret& refresh_token, std::int64_t user_id, CompletionToken&& token = {}) {
        return call_with<AccessToken>(detail::Endpoint::create_access_token, refresh_token, user_id, nullptr,
                                      std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto create_access_token(const Secret& refresh_token, std::int64_t user_id, Diagnostics& diag,
                             CompletionToken&& token = {}) {
        return call_with<AccessToken>(detail::Endpoint::create_access_token, refresh_token, user_id, &diag,
                                      std::forward<CompletionToken>(token));
    }

    /// validateRefreshToken: the refresh token's current record, last_used_at included.
    /// Signature: `void(error_code, RefreshToken)`. An unknown token or user_id fails with
    /// invalid_refresh_token; an expired or revoked token fails with refresh_token_expired_or_revoked, whether the
    /// server answers 401 or 200 with that token_status.
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_refresh_token(const RefreshToken& refresh_token, CompletionToken&& token = {}) {
        return validate_refresh_token(refresh_token.value, refresh_token.user_id, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_refresh_token(const RefreshToken& refresh_token, Diagnostics& diag, CompletionToken&& token = {}) {
        return validate_refresh_token(refresh_token.value, refresh_token.user_id, diag,
                                      std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_refresh_token(const Secret& refresh_token, std::int64_t user_id, CompletionToken&& token = {}) {
        return call_with<RefreshToken>(detail::Endpoint::validate_refresh_token, refresh_token, user_id, nullptr,
                                       std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_refresh_token(const Secret& refresh_token, std::int64_t user_id, Diagnostics& diag,
                                CompletionToken&& token = {}) {
        return call_with<RefreshToken>(detail::Endpoint::validate_refresh_token, refresh_token, user_id, &diag,
                                       std::forward<CompletionToken>(token));
    }

    /// regenRefreshToken: a new refresh token replacing the given one, which stops working.
    /// Signature: `void(error_code, RefreshToken)`. Fails like create_access_token when the
    /// server rejects the given token (also when another process regenerated it first).
    template <class CompletionToken = DefaultCompletionToken>
    auto regenerate_refresh_token(const RefreshToken& refresh_token, CompletionToken&& token = {}) {
        return regenerate_refresh_token(refresh_token.value, refresh_token.user_id,
                                        std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto regenerate_refresh_token(const RefreshToken& refresh_token, Diagnostics& diag, CompletionToken&& token = {}) {
        return regenerate_refresh_token(refresh_token.value, refresh_token.user_id, diag,
                                        std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto regenerate_refresh_token(const Secret& refresh_token, std::int64_t user_id, CompletionToken&& token = {}) {
        return call_with<RefreshToken>(detail::Endpoint::regenerate_refresh_token, refresh_token, user_id, nullptr,
                                       std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto regenerate_refresh_token(const Secret& refresh_token, std::int64_t user_id, Diagnostics& diag,
                                  CompletionToken&& token = {}) {
        return call_with<RefreshToken>(detail::Endpoint::regenerate_refresh_token, refresh_token, user_id, &diag,
                                       std::forward<CompletionToken>(token));
    }

    /// validateAPIAccessToken: the access token's current record.
    /// Signature: `void(error_code, AccessToken)`. Fails with
    /// invalid_access_token (401) or access_token_expired_or_revoked (200 with that status).
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_access_token(const AccessToken& access_token, CompletionToken&& token = {}) {
        return validate_access_token(access_token.value, access_token.user_id, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_access_token(const AccessToken& access_token, Diagnostics& diag, CompletionToken&& token = {}) {
        return validate_access_token(access_token.value, access_token.user_id, diag,
                                     std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_access_token(const Secret& access_token, std::int64_t user_id, CompletionToken&& token = {}) {
        return call_with<AccessToken>(detail::Endpoint::validate_access_token, access_token, user_id, nullptr,
                                      std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto validate_access_token(const Secret& access_token, std::int64_t user_id, Diagnostics& diag,
                               CompletionToken&& token = {}) {
        return call_with<AccessToken>(detail::Endpoint::validate_access_token, access_token, user_id, &diag,
                                      std::forward<CompletionToken>(token));
    }

    /// revokeAPIAccessTokens: revokes every active access token minted from the refresh token;
    /// the refresh token itself stays valid. Signature: `void(error_code, RevokeResult)`. Fails
    /// like create_access_token when the server rejects the refresh token.
    template <class CompletionToken = DefaultCompletionToken>
    auto revoke_access_tokens(const RefreshToken& refresh_token, CompletionToken&& token = {}) {
        return revoke_access_tokens(refresh_token.value, refresh_token.user_id, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto revoke_access_tokens(const RefreshToken& refresh_token, Diagnostics& diag, CompletionToken&& token = {}) {
        return revoke_access_tokens(refresh_token.value, refresh_token.user_id, diag,
                                    std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto revoke_access_tokens(const Secret& refresh_token, std::int64_t user_id, CompletionToken&& token = {}) {
        return call_with<RevokeResult>(detail::Endpoint::revoke_access_tokens, refresh_token, user_id, nullptr,
                                       std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto revoke_access_tokens(const Secret& refresh_token, std::int64_t user_id, Diagnostics& diag,
                              CompletionToken&& token = {}) {
        return call_with<RevokeResult>(detail::Endpoint::revoke_access_tokens, refresh_token, user_id, &diag,
                                       std::forward<CompletionToken>(token));
    }

    /// OAuth 2.0 client credentials grant (`POST /oauth/v2/token/`): a JWT access token for an
    /// OAuth client (a service account), sent in the TOKEN header like any access token.
    /// Signature: `void(error_code, AccessToken)`. The id and secret go as HTTP Basic or in the
    /// form body, as ClientOptions::oauth_client_authentication says. The token's lifetime is the
    /// granted `expires_in` (or the JWT's own `exp - iat`) counted from when the request was sent,
    /// so local_expiry() is skew-proof; its user_id is 0 and its scope is the granted one.
    /// Fails with invalid_client_credentials when the server refuses the client (`invalid_client`;
    /// never retried), bad_request for its other 400s (`invalid_request`,
    /// `unsupported_grant_type`: Diagnostics has OAuth's `error` as server_code() and its
    /// `error_description` as server_detail()), malformed_response when the answer grants no
    /// lifetime the library can count, and invalid_argument for an empty id or secret. Retried
    /// like create_access_token: a second JWT is harmless.
    template <class CompletionToken = DefaultCompletionToken>
    auto create_oauth_token(const OAuthClientCredentials& credentials, CompletionToken&& token = {}) {
        return call_oauth_token(credentials, nullptr, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto create_oauth_token(const OAuthClientCredentials& credentials, Diagnostics& diag,
                            CompletionToken&& token = {}) {
        return call_oauth_token(credentials, &diag, std::forward<CompletionToken>(token));
    }

    /// OAuth 2.0 token introspection (`POST /oauth/v2/introspect/`, RFC 7662), authenticated with
    /// the OAuth client's credentials as create_oauth_token is. Signature:
    /// `void(error_code, OAuthTokenInfo)`: `active` false for a token that expired, was revoked or
    /// is unknown (that is an answer, not an error), else its claims. Fails like
    /// create_oauth_token, and with invalid_argument for an empty token.
    template <class CompletionToken = DefaultCompletionToken>
    auto introspect_oauth_token(const OAuthClientCredentials& credentials, const Secret& access_token,
                                CompletionToken&& token = {}) {
        return call_oauth_introspect(credentials, access_token, nullptr, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto introspect_oauth_token(const OAuthClientCredentials& credentials, const Secret& access_token,
                                Diagnostics& diag, CompletionToken&& token = {}) {
        return call_oauth_introspect(credentials, access_token, &diag, std::forward<CompletionToken>(token));
    }

private:
    template <class CompletionToken>
    auto call_oauth_token(const OAuthClientCredentials& credentials, Diagnostics* diag, CompletionToken&& token) {
        return call<AccessToken>(detail::Endpoint::oauth_token,
                                 detail::oauth_token_request_body(credentials, options().oauth_client_authentication),
                                 detail::argument_problem(credentials), diag, std::forward<CompletionToken>(token));
    }
    template <class CompletionToken>
    auto call_oauth_introspect(const OAuthClientCredentials& credentials, const Secret& access_token, Diagnostics* diag,
                               CompletionToken&& token) {
        return call<OAuthTokenInfo>(
            detail::Endpoint::oauth_introspect,
            detail::oauth_introspect_request_body(credentials, access_token, options().oauth_client_authentication),
            detail::argument_problem(credentials, access_token), diag, std::forward<CompletionToken>(token));
    }

    template <class Result, class CompletionToken>
    auto call_with(detail::Endpoint endpoint, const Secret& token_value, std::int64_t user_id, Diagnostics* diag,
                   CompletionToken&& token) {
        return call<Result>(endpoint, detail::token_request_body(endpoint, token_value, user_id),
                            detail::argument_problem(token_value, user_id), diag, std::forward<CompletionToken>(token));
    }

    // `problem`, when not empty, says why the arguments are unusable: the call then completes
    // with Error::invalid_argument without a request.
    template <class Result, class CompletionToken>
    auto call(detail::Endpoint endpoint, detail::RequestBody body, std::string_view problem, Diagnostics* diag,
              CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, Result)>(
            detail::CallInitiation<Result>{impl_}, token, diag, endpoint, std::move(body), problem);
    }

    std::shared_ptr<detail::ClientImpl> impl_;
};

}  // namespace alation::auth

ALATION_AUTH_DETAIL_FIX_AWAITABLE_EXCEPTION_PTR(::alation::auth::RefreshToken)
ALATION_AUTH_DETAIL_FIX_AWAITABLE_EXCEPTION_PTR(::alation::auth::AccessToken)
ALATION_AUTH_DETAIL_FIX_AWAITABLE_EXCEPTION_PTR(::alation::auth::RevokeResult)
ALATION_AUTH_DETAIL_FIX_AWAITABLE_EXCEPTION_PTR(::alation::auth::OAuthTokenInfo)

// Header-only, TokenProvider's constructors from a Client are defined once both are known.
#if !defined(ALATION_AUTH_SEPARATE_COMPILATION) && defined(ALATION_AUTH_TOKEN_PROVIDER_HPP)
#include <alation/auth/impl/token_provider_client.ipp>
#endif

#endif
