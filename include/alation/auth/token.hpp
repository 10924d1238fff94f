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
        // The name comes from the server: control characters in it must not forge log lines.
        std::string name = t.name;
        for (char& c : name)
            if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f' || c == '"') c = '?';
        return os << "RefreshToken(name=\"" << name << "\", user_id=" << t.user_id << ", status=" << t.status
                  << ", expires_at=" << detail::format_timestamp(t.expires_at) << ", " << t.value << ")";
    }
};

/// A short-lived token for the `TOKEN` header. `value` is secret.
struct AccessToken : TokenTimes {
    /// The value of the TOKEN header.
    Secret value;
    std::int64_t user_id = 0;
    /// As the server last reported it; the library does not update it as time passes.
    TokenStatus status = TokenStatus::unknown;

    /// Redacted: the user and expiry, never the value.
    friend std::ostream& operator<<(std::ostream& os, const AccessToken& t) {
        return os << "AccessToken(user_id=" << t.user_id << ", status=" << t.status
                  << ", expires_at=" << detail::format_timestamp(t.expires_at) << ", " << t.value << ")";
    }
};

/// The answer of revokeAPIAccessTokens: the server's sentence, e.g.
/// "Revoked active access tokens for refresh token: 'etl' with id: 7".
struct RevokeResult {
    std::string detail;
};

}  // namespace alation::auth

#endif
