// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// RFC 3339 timestamps, HTTP-dates and Retry-After values: no crash, no overflow, and what is
// accepted round-trips through format_timestamp.
#include <alation/auth/detail/protocol.hpp>

#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::chrono;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (const auto t = parse_timestamp(text)) {
        // An offset can move year 0000 or 9999 just outside what format_timestamp writes.
        const auto y = static_cast<int>(year_month_day{floor<days>(*t)}.year());
        if (y >= 0 && y <= 9999) {
            const auto formatted = format_timestamp(*t);
            FUZZ_CHECK(parse_timestamp(formatted) == t);
        }
    }

    const auto now = system_clock::time_point{sys_days{2026y / November / 28}};
    if (const auto date = parse_http_date(text)) {
        FUZZ_CHECK(parse_retry_after(text, now).has_value());
    }
    if (const auto delay = parse_retry_after(text, now)) {
        FUZZ_CHECK(delay->count() >= 0 && delay->count() <= 1'000'000'000);
    }

    const TokenStatus status = parse_token_status(text);
    FUZZ_CHECK(status == TokenStatus::unknown || text.size() == to_string(status).size());
    return 0;
}
