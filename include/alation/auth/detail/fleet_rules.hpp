// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_FLEET_RULES_HPP
#define ALATION_AUTH_DETAIL_FLEET_RULES_HPP

// The decisions a replica makes about what its siblings left in a shared TokenStore, without
// I/O or clocks: the token sources (refresh_token_source.hpp, oauth_token_source.hpp) read the
// store and the wall clock, and do what these answer.

#include <alation/auth/token.hpp>

#include <chrono>
#include <optional>

namespace alation::auth::detail {

using WallClock = std::chrono::system_clock;

/// Whether to take the refresh token a sibling (or a previous run) stored instead of `current`:
/// the same user's, a different token, and newer, as far as is known (an unknown expiry loses).
inline bool is_newer_refresh_token(const RefreshToken& current, bool current_expiry_known,
                                   const RefreshToken& stored) noexcept {
    return stored.user_id == current.user_id && !(stored.value == current.value) &&
           (!current_expiry_known || stored.expires_at > current.expires_at);
}

/// A refresh token adopted from the store, as a renewal to report: its lifetime counted from
/// `now`, so that the provider's local expiry (the request instant plus the lifetime) is right
/// for a token that was created elsewhere, earlier.
inline TokenTimes remaining_life(const TokenTimes& stored, WallClock::time_point now) noexcept {
    TokenTimes times;
    times.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(now);
    times.expires_at = stored.expires_at;
    return times;
}

/// A freshly minted access token as siblings are to read it from the store: its times on this
/// replica's wall clock (created when the request was sent, `sent_at`, and living the lifetime
/// the server granted), so that no replica ever compares its clock with the server's.
inline AccessToken shareable(AccessToken minted, WallClock::time_point sent_at) {
    const auto lifetime = minted.lifetime();
    minted.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(sent_at);
    minted.expires_at = minted.created_at + lifetime;
    return minted;
}

/// Whether to take the access token a sibling shared instead of minting: not the one this
/// replica is replacing (`replacing`: it is due, or it was refused), and at least half its life
/// left, so that taking it does not start the next refresh at once.
inline bool adopt_shared_access_token(const AccessToken& shared, const Secret& replacing,
                                      WallClock::time_point now) noexcept {
    if (shared.value == replacing || shared.value.empty()) return false;
    return (shared.expires_at - now) * 2 >= shared.lifetime();
}

/// A shared access token as this replica uses it: the rest of its life, counted from `now`.
inline AccessToken adopted(AccessToken shared, WallClock::time_point now) {
    shared.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(now);
    return shared;
}

}  // namespace alation::auth::detail

#endif
