// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_STATE_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_STATE_IPP

// The fake's state model, without I/O: its clock, the records of users, tokens and OAuth
// clients, and how tokens are made and shown (timestamps, token_status, random values).
// Part of fake_alation.ipp.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/testing/fake_alation.hpp>
#include <alation/auth/token.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace alation::auth::testing::detail {

// The server's clock: system_clock shifted by options.server_clock_offset.
using ServerTime = std::chrono::system_clock::time_point;

inline constexpr std::size_t refresh_token_chars = 80;
inline constexpr std::size_t access_token_chars = 48;

struct UserRecord {
    std::int64_t id = 0;
    std::string username;
    std::string password;
    bool sso = false;
};

struct RefreshRecord {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string name;
    ServerTime created_at;
    ServerTime expires_at;
    bool revoked = false;
    std::optional<ServerTime> last_used_at;
};

struct AccessRecord {
    std::int64_t user_id = 0;
    std::string refresh_token;
    ServerTime created_at;
    ServerTime expires_at;
    bool revoked = false;
    // Mint order, for max_live_access_tokens (two mints may share a created_at).
    std::uint64_t serial = 0;
};

struct OAuthClientRecord {
    std::string secret;
    std::chrono::seconds lifetime{0};
};

// A JWT the fake issued. Its claims are made from this record, so introspection repeats them.
struct OAuthTokenRecord {
    std::string client_id;
    std::string jti;
    ServerTime created_at;
    std::chrono::seconds lifetime{0};
    // created_at + lifetime, or earlier after expire_oauth_token.
    ServerTime expires_at;
    // By max_live_access_tokens only: no revoke endpoint for OAuth tokens is documented.
    bool revoked = false;
    std::uint64_t serial = 0;
};

// Revokes the oldest live tokens that `owned` selects beyond `limit` of them (0: no limit).
template <class Tokens, class Owned>
void revoke_beyond(Tokens& tokens, std::size_t limit, ServerTime now, Owned owned) {
    if (limit == 0) return;
    std::vector<typename Tokens::mapped_type*> live;
    for (auto& entry : tokens) {
        auto& r = entry.second;
        if (owned(r) && !r.revoked && now < r.expires_at) live.push_back(&r);
    }
    if (live.size() <= limit) return;
    const auto oldest_end = live.begin() + static_cast<std::ptrdiff_t>(live.size() - limit);
    std::nth_element(live.begin(), oldest_end, live.end(),
                     [](const auto* a, const auto* b) { return a->serial < b->serial; });
    for (auto it = live.begin(); it != oldest_end; ++it) (*it)->revoked = true;
}

ALATION_AUTH_DECL std::string format_timestamp(ServerTime t, TimestampStyle style) {
    using namespace std::chrono;
    const minutes offset = style == TimestampStyle::offset_negative ? minutes(-5 * 60) : minutes(0);
    const auto local = time_point_cast<nanoseconds>(t) + offset;
    const auto day = floor<days>(local);
    const year_month_day ymd{day};
    const hh_mm_ss<nanoseconds> time{local - day};
    const long long ns = time.subseconds().count();
    char buffer[64];
    int n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                          static_cast<int>(time.seconds().count()));
    const auto rest = static_cast<std::size_t>(sizeof buffer - static_cast<std::size_t>(n));
    switch (style) {
    case TimestampStyle::milliseconds: n += std::snprintf(buffer + n, rest, ".%03lldZ", ns / 1'000'000); break;
    case TimestampStyle::microseconds: n += std::snprintf(buffer + n, rest, ".%06lldZ", ns / 1'000); break;
    case TimestampStyle::nanoseconds: n += std::snprintf(buffer + n, rest, ".%09lldZ", ns); break;
    case TimestampStyle::no_fraction: n += std::snprintf(buffer + n, rest, "Z"); break;
    case TimestampStyle::offset_utc: n += std::snprintf(buffer + n, rest, ".%06lld+00:00", ns / 1'000); break;
    case TimestampStyle::offset_negative: n += std::snprintf(buffer + n, rest, ".%06lld-05:00", ns / 1'000); break;
    }
    return {buffer, static_cast<std::size_t>(n)};
}

ALATION_AUTH_DECL std::string status_text(std::string_view upper, StatusCase letter_case) {
    std::string out(upper);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const bool lower = letter_case == StatusCase::lower || (letter_case == StatusCase::capitalized && i > 0);
        if (lower) out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
    return out;
}

// Opaque URL-safe token of `chars` characters: one random byte per character, whose low six
// bits pick from 64 symbols (256 is a multiple of 64, so every symbol is equally likely).
ALATION_AUTH_DECL std::string random_token(std::size_t chars) {
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out(chars, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(chars)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    for (char& c : out) c = alphabet[static_cast<unsigned char>(c) & 63u];
    return out;
}

inline Timestamp to_timestamp(ServerTime t) { return std::chrono::floor<std::chrono::microseconds>(t); }

inline TokenStatus token_status(bool revoked, bool expired) {
    return revoked ? TokenStatus::revoked : expired ? TokenStatus::expired : TokenStatus::active;
}

}  // namespace alation::auth::testing::detail

#endif
