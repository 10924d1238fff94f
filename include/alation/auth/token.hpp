// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TOKEN_HPP
#define ALATION_AUTH_TOKEN_HPP

#include <alation/auth/detail/timestamp.hpp>
#include <alation/auth/secret.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace alation::auth {
namespace detail {
// Text from the server or the environment, fit for a quoted log field: control characters and
// quotes in it must not forge log lines.
inline std::string log_safe(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f' || c == '"') c = '?';
    return out;
}
}  // namespace detail

/// An instant on the server's clock, as the server wrote it (RFC 3339, UTC).
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// The local clock used for expiry: monotonic, never compared with the server's.
using SteadyClock = std::chrono::steady_clock;

/// A token's `token_status`, in any letter case. Values this library does not know are `unknown`.
enum class TokenStatus { active, expired, revoked, unknown };

/// "active", "expired", "revoked" or "unknown".
inline std::string_view to_string(TokenStatus s) noexcept {
    switch (s) {
    case TokenStatus::active: return "active";
    case TokenStatus::expired: return "expired";
    case TokenStatus::revoked: return "revoked";
    case TokenStatus::unknown: break;
    }
    return "unknown";
}

inline std::ostream& operator<<(std::ostream& os, TokenStatus s) { return os << to_string(s); }

/// What createRefreshToken needs. SSO users cannot create refresh tokens this way.
struct Credentials {
    std::string username;
    Secret password;
    /// The refresh token's name, shown in Alation's UI; one per integration is the custom.
    std::string name;
};

/// How an OAuth client proves its identity to the token endpoint (RFC 6749 §2.3.1).
enum class OAuthClientAuthentication {
    /// `Authorization: Basic base64(id:secret)`, each form-urlencoded first. Every OAuth server
    /// must accept it, so it is the default.
    client_secret_basic,
    /// `client_id` and `client_secret` as fields of the form body.
    client_secret_post,
};

/// An OAuth 2.0 client (a service account) for the client credentials grant: what buys a JWT
/// access token from `/oauth/v2/token/` without a password or a refresh token.
struct OAuthClientCredentials {
    std::string client_id;
    Secret client_secret;

    /// Redacted: the client id, never the secret.
    friend std::ostream& operator<<(std::ostream& os, const OAuthClientCredentials& c) {
        return os << "OAuthClientCredentials(client_id=\"" << detail::log_safe(c.client_id) << "\", " << c.client_secret
                  << ")";
    }
};

/// Lifetime bookkeeping shared by both token kinds.
struct TokenTimes {
    /// When the server created the token, on the server's clock.
    Timestamp created_at{};
    /// When the server will stop accepting it, on the server's clock.
    Timestamp expires_at{};
    /// The local instant the request that produced this token was sent.
    SteadyClock::time_point requested_at{};

    /// The token's lifetime as the server granted it: `expires_at - created_at`.
    [[nodiscard]] std::chrono::microseconds lifetime() const noexcept { return expires_at - created_at; }

    /// A skew-proof local expiry: when the request was sent plus the lifetime. It can only be
    /// earlier than the server's, since the server created the token after we asked.
    [[nodiscard]] SteadyClock::time_point local_expiry() const noexcept {
        return requested_at + std::chrono::duration_cast<SteadyClock::duration>(lifetime());
    }
};

/// A long-lived token that mints access tokens. `value` is secret.
struct RefreshToken : TokenTimes {
    Secret value;
    /// The owner; every call that takes the token takes this with it.
    std::int64_t user_id = 0;
    /// The name given at creation (Credentials::name).
    std::string name;
    /// As the server last reported it; the library does not update it as time passes.
    TokenStatus status = TokenStatus::unknown;
    /// Set by validateRefreshToken; null when the token was never used.
    std::optional<Timestamp> last_used_at;

    /// Redacted: the name, user and expiry, never the value.
    friend std::ostream& operator<<(std::ostream& os, const RefreshToken& t) {
        return os << "RefreshToken(name=\"" << detail::log_safe(t.name) << "\", user_id=" << t.user_id
                  << ", status=" << t.status << ", expires_at=" << detail::format_timestamp(t.expires_at) << ", "
                  << t.value << ")";
    }
};

/// A short-lived token for the `TOKEN` header. `value` is secret.
struct AccessToken : TokenTimes {
    /// The value of the TOKEN header.
    Secret value;
    std::int64_t user_id = 0;
    /// As the server last reported it; the library does not update it as time passes.
    TokenStatus status = TokenStatus::unknown;
    /// OAuth only: the scope the server granted, empty when it named none.
    std::string scope;

    /// Redacted: the user and expiry, never the value.
    friend std::ostream& operator<<(std::ostream& os, const AccessToken& t) {
        return os << "AccessToken(user_id=" << t.user_id << ", status=" << t.status
                  << ", expires_at=" << detail::format_timestamp(t.expires_at) << ", " << t.value << ")";
    }
};

/// What `/oauth/v2/introspect/` says about a token (RFC 7662). An inactive token (expired,
/// revoked or unknown) carries nothing but `active == false`; the claims are informative and
/// optional, and none of them is secret.
struct OAuthTokenInfo {
    bool active = false;
    /// The OAuth client the token was issued to (`client_id`).
    std::string client_id;
    /// The token's subject (`sub`): the service account.
    std::string subject;
    std::string scope;
    /// `token_type`, e.g. "Bearer".
    std::string token_type;
    /// `exp` and `iat`, on the server's clock.
    std::optional<Timestamp> expires_at;
    std::optional<Timestamp> issued_at;

    friend std::ostream& operator<<(std::ostream& os, const OAuthTokenInfo& t) {
        os << "OAuthTokenInfo(active=" << (t.active ? "true" : "false");
        if (!t.client_id.empty()) os << ", client_id=\"" << detail::log_safe(t.client_id) << '"';
        if (!t.subject.empty()) os << ", subject=\"" << detail::log_safe(t.subject) << '"';
        if (t.expires_at) os << ", expires_at=" << detail::format_timestamp(*t.expires_at);
        return os << ")";
    }
};

/// The answer of revokeAPIAccessTokens: the server's sentence, e.g.
/// "Revoked active access tokens for refresh token: 'etl' with id: 7".
struct RevokeResult {
    std::string detail;
};

}  // namespace alation::auth

#endif
