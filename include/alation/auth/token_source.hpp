// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TOKEN_SOURCE_HPP
#define ALATION_AUTH_TOKEN_SOURCE_HPP

#include <alation/auth/error.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/token.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/error.hpp>

#include <functional>
#include <optional>
#include <utility>

namespace alation::auth {
namespace detail {
class ProviderImpl;
}  // namespace detail

/// A long-lived credential renewed by a TokenSource: its lifetime as the server stated it.
struct RenewedCredential {
    /// created_at and expires_at on the server's clock (requested_at is not used).
    TokenTimes times;
    /// Keeping it failed (e.g. TokenStore::save); it is in use all the same.
    error_code save_error;
};

/// What TokenSource::async_reload_credential found.
struct ReloadedCredential {
    /// Reading the shared storage failed; the rejection stands.
    error_code error;
    /// A different credential is now in use.
    bool replaced = false;
    /// When `replaced`: when it expires, on the server's clock.
    Timestamp expires_at{};
};

/// Where a TokenProvider gets its access tokens: the provider decides when (thresholds, jitter,
/// single flight, backoff, invalidation, stop), a source only knows how. The library has one for
/// a refresh token and one for OAuth client credentials; a program may write its own (a static
/// token for tests, a token from its own service) and give it to TokenProvider.
///
/// The provider calls a source from its strand, one operation at a time; a source need not be
/// thread-safe for those calls. Handlers: complete each exactly once, from any thread, even
/// inside the call (the provider takes the result to its strand itself); honour the handler's
/// cancellation slot where the operation can be cancelled (the provider cancels on stop()).
/// `diag` outlives the operation.
class TokenSource {
public:
    using MintHandler = boost::asio::any_completion_handler<void(error_code, AccessToken)>;
    using RenewHandler = boost::asio::any_completion_handler<void(error_code, RenewedCredential)>;
    using ReloadHandler = boost::asio::any_completion_handler<void(ReloadedCredential)>;

    TokenSource() = default;
    TokenSource(const TokenSource&) = delete;
    TokenSource& operator=(const TokenSource&) = delete;
    virtual ~TokenSource() = default;

    /// Requests a new access token. Its lifetime, `expires_at - created_at`, counts from when
    /// this was called: the local clock is never compared with the server's. An error that says
    /// the credential itself is unusable (Error::invalid_refresh_token,
    /// refresh_token_expired_or_revoked, invalid_argument, invalid_client_credentials) is final:
    /// the provider does not retry it; any other error is retried after a backoff.
    virtual void async_mint(Diagnostics& diag, MintHandler handler) = 0;

    /// Whether the source holds a long-lived credential that async_validate and
    /// async_regenerate renew (used when RefreshPolicy::regenerate_refresh_token is on).
    [[nodiscard]] virtual bool renewable() const noexcept { return false; }
    /// That credential's expiry when known; when unknown the provider validates it first.
    [[nodiscard]] virtual std::optional<Timestamp> credential_expires_at() const { return std::nullopt; }
    /// Checks the credential and reports its lifetime. Only called when renewable().
    virtual void async_validate(Diagnostics& /*diag*/, RenewHandler handler) { not_supported(std::move(handler)); }
    /// Replaces the credential with a new one and keeps it. Only called when renewable().
    virtual void async_regenerate(Diagnostics& /*diag*/, RenewHandler handler) { not_supported(std::move(handler)); }
    /// The server rejected the credential: adopt a different one from shared storage if there
    /// is one (another replica may have renewed it, which revokes ours).
    virtual void async_reload_credential(ReloadHandler handler) { std::move(handler)(ReloadedCredential{}); }

    /// Reports what the provider cannot see for itself: its store failing (token_store_failed),
    /// a credential adopted from shared storage (refresh_token_reloaded, which the provider also
    /// acts on). Callable from any thread; the provider takes it to its strand.
    void report(ProviderEvent event) const {
        if (reporter_) reporter_(std::move(event));
    }

private:
    friend class detail::ProviderImpl;
    std::function<void(ProviderEvent)> reporter_;

    static void not_supported(RenewHandler handler) {
        std::move(handler)(make_error_code(boost::asio::error::operation_not_supported), RenewedCredential{});
    }
};

}  // namespace alation::auth

// Header-only, TokenProvider's constructor from a TokenSource is defined once both are known.
#if !defined(ALATION_AUTH_SEPARATE_COMPILATION) && defined(ALATION_AUTH_TOKEN_PROVIDER_HPP)
#include <alation/auth/impl/token_provider.ipp>
#endif

#endif
