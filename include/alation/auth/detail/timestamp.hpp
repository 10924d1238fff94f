// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_TIMESTAMP_HPP
#define ALATION_AUTH_DETAIL_TIMESTAMP_HPP

#include <alation/auth/detail/config.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace alation::auth::detail {

// token.hpp's Timestamp, spelled out: token.hpp prints timestamps with format_timestamp, so this
// header cannot include it.
using UtcTime = std::chrono::sys_time<std::chrono::microseconds>;

/// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]`, with `T`/`t`
/// and `Z`/`z`, a fraction of 1 to 9 digits (truncated to microseconds). Rejects out-of-range
/// fields (month 13, hour 24, February 30), leap seconds (`:60`, which no Alation server writes
/// and sys_time cannot hold) and trailing characters.
ALATION_AUTH_DECL std::optional<UtcTime> parse_timestamp(std::string_view text) noexcept;

/// RFC 3339 in UTC with microseconds, `2022-11-15T21:52:48.116496Z`: what parse_timestamp reads
/// back to the same value, for years 0000 to 9999.
ALATION_AUTH_DECL std::string format_timestamp(UtcTime t);

/// Parses an HTTP-date (RFC 9110, 5.6.7): the IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT` and the
/// obsolete forms recipients must still accept, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` (years
/// 70-99 are 19xx, 00-69 are 20xx) and asctime `Sun Nov  6 08:49:37 1994`.
ALATION_AUTH_DECL std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text) noexcept;

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/timestamp.ipp>
#endif

#endif
