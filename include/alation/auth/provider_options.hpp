// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_PROVIDER_OPTIONS_HPP
#define ALATION_AUTH_PROVIDER_OPTIONS_HPP

#include <alation/auth/detail/timestamp.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/refresh_policy.hpp>
#include <alation/auth/token.hpp>
#include <alation/auth/token_store.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string_view>

namespace alation::auth {

/// Something a TokenProvider did, for logs and metrics. Holds no secret.
struct ProviderEvent {
    enum class Kind {
        /// A mint was started (createAPIAccessToken, the OAuth token request, or the source's own).
        refresh_started,
        /// A new access token is in use; expires_at is set.
        refresh_succeeded,
        /// A mint failed; error, diagnostics and retry_in are set. With invalid_refresh_token,
        /// refresh_token_expired_or_revoked or invalid_client_credentials there is no retry,
        /// unless the TokenStore holds a different refresh token (refresh_token_reloaded comes
        /// first then).
        refresh_failed,
        /// invalidate() dropped the current token; a new one is being minted.
        token_invalidated,
        /// regenRefreshToken succeeded; expires_at is set, and error is set if saving failed.
        refresh_token_regenerated,
        /// regenRefreshToken failed; error, diagnostics and retry_in are set. With a rejection
        /// of the refresh token (e.g. another replica regenerated it first) it is final, unless
        /// the TokenStore holds a newer one (refresh_token_reloaded).
        refresh_token_regeneration_failed,
        /// The server rejected the refresh token and the TokenStore held a different one for the
        /// same user (another replica regenerated it): that one is now in use; expires_at is set.
        refresh_token_reloaded,
        /// The server rejected the refresh token and reading the TokenStore for a newer one
        /// failed (e.g. insecure_token_file, malformed_token_file); error is set. The rejection
        /// stands, as if the store held nothing newer. Reported once per distinct error, though
        /// every later call reads the store again.
        token_store_load_failed,
    };
    Kind kind;
    /// For the failures; for refresh_token_regenerated, a failure to save it in the TokenStore.
    error_code error{};
    Diagnostics diagnostics{};
    /// For successes: when the new token expires, on the server's clock.
    Timestamp expires_at{};
    /// For failures: how long until the provider tries again.
    std::chrono::milliseconds retry_in{0};
};

/// The enumerator's name, e.g. "refresh_failed".
inline std::string_view to_string(ProviderEvent::Kind kind) noexcept {
    using Kind = ProviderEvent::Kind;
    switch (kind) {
    case Kind::refresh_started: return "refresh_started";
    case Kind::refresh_succeeded: return "refresh_succeeded";
    case Kind::refresh_failed: return "refresh_failed";
    case Kind::token_invalidated: return "token_invalidated";
    case Kind::refresh_token_regenerated: return "refresh_token_regenerated";
    case Kind::refresh_token_regeneration_failed: return "refresh_token_regeneration_failed";
    case Kind::refresh_token_reloaded: return "refresh_token_reloaded";
    case Kind::token_store_load_failed: return "token_store_load_failed";
    }
    return "unknown";
}

/// One line for logs: the kind, error, diagnostics, expiry and retry delay that are set.
inline std::ostream& operator<<(std::ostream& os, const ProviderEvent& e) {
    os << to_string(e.kind);
    if (e.error) os << ": " << e.error.message();
    if (const auto diag = e.diagnostics.to_string(); !diag.empty()) os << " (" << diag << ")";
    if (e.expires_at != Timestamp{}) os << ", expires at " << detail::format_timestamp(e.expires_at);
    if (e.retry_in.count() != 0) os << ", retry in " << e.retry_in.count() << " ms";
    return os;
}

/// The header a TokenProvider puts an access token in.
enum class TokenHeader {
    /// `TOKEN: <token>`, which every Alation API accepts, for both token sources.
    token,
    /// `Authorization: Bearer <token>`, for the endpoints (and proxies) that want the standard form.
    bearer,
};

/// How a TokenProvider behaves. The defaults suit a service.
struct ProviderOptions {
    RefreshPolicy refresh;
    /// Where try_authorize(), authorize() and send() put the token (try_authorize and authorize
    /// can also be told per request).
    TokenHeader header = TokenHeader::token;
    /// Where a regenerated refresh token is saved (see RefreshPolicy::regenerate_refresh_token).
    /// Also read when the provider starts: a stored token for the same user that expires later
    /// than the one given to the constructor is used instead; and when the server rejects the
    /// refresh token: a different stored token for the same user is adopted. Called on the
    /// provider's strand (load also in the constructor): keep it quick. Load errors are ignored.
    std::shared_ptr<TokenStore> token_store;
    /// Called on the provider's strand after each event; must not block for long or throw.
    std::function<void(const ProviderEvent&)> on_event;
    /// The local clock (empty: SteadyClock::now); injectable so that tests drive hours of token
    /// lifetime without sleeping. Real timers still wait the same distance of real time.
    std::function<SteadyClock::time_point()> clock;
};

}  // namespace alation::auth

#endif
