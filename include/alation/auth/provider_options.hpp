// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_PROVIDER_OPTIONS_HPP
#define ALATION_AUTH_PROVIDER_OPTIONS_HPP

#include <alation/auth/detail/timestamp.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/refresh_policy.hpp>
#include <alation/auth/token.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string_view>

namespace alation::auth {

class TokenStore;  // token_store.hpp

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
        /// A TokenStore operation failed or timed out (loading, saving, a lease, a shared access
        /// token); error is set. The provider goes on with the tokens it has and tries the store
        /// again at its next step; a regenerated refresh token it could not save is kept, and
        /// saved by a later step. Reported once per distinct error in a row.
        token_store_failed,
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
    case Kind::token_store_failed: return "token_store_failed";
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
    /// Where the refresh token lives beyond this process, and how the replicas of a fleet that
    /// share it coordinate (docs/fleets.md). With a store, before each mint, validation and
    /// regeneration the provider loads the stored token and adopts it when it is the same
    /// user's, different, and newer (a restart, or a sibling, regenerated it); after a
    /// rejection it adopts any different one. A regeneration takes the store's lease first, so
    /// one replica of a fleet regenerates and the others adopt its token; the new token is
    /// saved with a compare-and-swap. A failed store call never stops the provider: it goes on
    /// with the token it has (token_store_failed events).
    std::shared_ptr<TokenStore> token_store;
    /// How long the provider waits for each store operation before it goes on without it.
    std::chrono::milliseconds store_timeout{std::chrono::seconds(5)};
    /// How long a lease taken in the store lasts: longer than a regeneration or a mint takes,
    /// with the Client's retries; a replica that dies holding it delays the others this long.
    std::chrono::milliseconds lease_ttl{std::chrono::seconds(60)};
    /// Share access tokens through token_store (which must shares_access_tokens()): a replica
    /// that needs a new token first takes a sibling's from the store while at least half its
    /// life remains, and one replica mints for all under a lease, so a fleet mints about one
    /// token per lifetime instead of one per replica. For servers that limit live access tokens.
    bool share_access_tokens = false;
    /// Called on the provider's strand after each event; must not block for long or throw.
    std::function<void(const ProviderEvent&)> on_event;
    /// The local clock (empty: SteadyClock::now); injectable so that tests drive hours of token
    /// lifetime without sleeping. Real timers still wait the same distance of real time.
    std::function<SteadyClock::time_point()> clock;
};

}  // namespace alation::auth

#endif
