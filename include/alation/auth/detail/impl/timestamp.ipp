// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_TIMESTAMP_IPP
#define ALATION_AUTH_DETAIL_IMPL_TIMESTAMP_IPP

#include <alation/auth/detail/timestamp.hpp>

#include <cstdint>
#include <cstdio>

namespace alation::auth::detail {
namespace timestamp_parsing {

// Reads a date-time left to right; every step fails without moving on a mismatch.
class Cursor {
public:
    explicit Cursor(std::string_view text) noexcept : text_(text) {}

    [[nodiscard]] bool at_end() const noexcept { return pos_ == text_.size(); }
    [[nodiscard]] char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }
    [[nodiscard]] static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

    // Exactly `n` decimal digits.
    bool digits(int n, int& out) noexcept {
        if (text_.size() - pos_ < static_cast<std::size_t>(n)) return false;
        int value = 0;
        for (int i = 0; i < n; ++i) {
            const char c = text_[pos_ + static_cast<std::size_t>(i)];
            if (!is_digit(c)) return false;
            value = value * 10 + (c - '0');
        }
        pos_ += static_cast<std::size_t>(n);
        out = value;
        return true;
    }

    bool literal(std::string_view s) noexcept {
        if (text_.substr(pos_, s.size()) != s) return false;
        pos_ += s.size();
        return true;
    }

    bool either(char a, char b) noexcept {
        if (at_end() || (text_[pos_] != a && text_[pos_] != b)) return false;
        ++pos_;
        return true;
    }

    // The index of the first word in `words` found here, or -1.
    template <std::size_t N>
    int one_of(const std::string_view (&words)[N]) noexcept {
        int index = 0;
        for (const auto word : words) {
            if (literal(word)) return index;
            ++index;
        }
        return -1;
    }

    void advance() noexcept { ++pos_; }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

inline constexpr std::string_view short_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
inline constexpr std::string_view long_days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                 "Friday", "Saturday", "Sunday"};
inline constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// The instant of a validated calendar date and time of day, or nullopt when a field is out of range.
inline std::optional<std::chrono::sys_seconds> make_time(int y, int mo, int d, int h, int mi, int s) noexcept {
    using namespace std::chrono;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

// A month's abbreviation, as its number (1-12).
inline bool month(Cursor& c, int& mo) noexcept {
    const int index = c.one_of(months);
    if (index < 0) return false;
    mo = index + 1;
    return true;
}

inline bool time_of_day(Cursor& c, int& h, int& mi, int& s) noexcept {
    return c.digits(2, h) && c.literal(":") && c.digits(2, mi) && c.literal(":") && c.digits(2, s);
}

}  // namespace timestamp_parsing

ALATION_AUTH_DECL std::optional<UtcTime> parse_timestamp(std::string_view text) noexcept {
    using namespace std::chrono;
    timestamp_parsing::Cursor c(text);
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!(c.digits(4, y) && c.literal("-") && c.digits(2, mo) && c.literal("-") && c.digits(2, d) &&
          c.either('T', 't') && timestamp_parsing::time_of_day(c, h, mi, s))) {
        return std::nullopt;
    }
    std::int64_t micros = 0;
    if (c.literal(".")) {
        int n = 0;
        for (; timestamp_parsing::Cursor::is_digit(c.peek()); ++n, c.advance()) {
            if (n < 6) micros = micros * 10 + (c.peek() - '0');
        }
        if (n == 0 || n > 9) return std::nullopt;
        for (; n < 6; ++n) micros *= 10;
    }
    minutes offset{0};
    if (!c.either('Z', 'z')) {
        const char sign = c.peek();
        int oh = 0, om = 0;
        if (!(c.either('+', '-') && c.digits(2, oh) && c.literal(":") && c.digits(2, om)) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset = minutes{(sign == '-' ? -1 : 1) * (oh * 60 + om)};
    }
    if (!c.at_end()) return std::nullopt;
    const auto whole = timestamp_parsing::make_time(y, mo, d, h, mi, s);
    if (!whole) return std::nullopt;
    // The local time is `offset` ahead of UTC.
    return UtcTime{*whole + microseconds{micros} - offset};
}

ALATION_AUTH_DECL std::string format_timestamp(UtcTime t) {
    using namespace std::chrono;
    const auto day_start = floor<days>(t);
    const year_month_day ymd{day_start};
    const hh_mm_ss<microseconds> tod{t - day_start};
    char buf[40];
    const int n =
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                      static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                      static_cast<int>(tod.seconds().count()), static_cast<long long>(tod.subseconds().count()));
    return {buf, static_cast<std::size_t>(n)};
}

ALATION_AUTH_DECL std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text) noexcept {
    using namespace timestamp_parsing;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    {  // IMF-fixdate
        Cursor c(text);
        if (c.one_of(short_days) >= 0 && c.literal(", ") && c.digits(2, d) && c.literal(" ") && month(c, mo) &&
            c.literal(" ") && c.digits(4, y) && c.literal(" ") && time_of_day(c, h, mi, s) && c.literal(" GMT") &&
            c.at_end()) {
            return make_time(y, mo, d, h, mi, s);
        }
    }
    {  // RFC 850
        Cursor c(text);
        if (c.one_of(long_days) >= 0 && c.literal(", ") && c.digits(2, d) && c.literal("-") && month(c, mo) &&
            c.literal("-") && c.digits(2, y) && c.literal(" ") && time_of_day(c, h, mi, s) && c.literal(" GMT") &&
            c.at_end()) {
            return make_time(y < 70 ? 2000 + y : 1900 + y, mo, d, h, mi, s);
        }
    }
    {  // asctime: the day is padded with a space, not a zero
        Cursor c(text);
        if (c.one_of(short_days) >= 0 && c.literal(" ") && month(c, mo) && c.literal(" ") &&
            (c.digits(2, d) || (c.literal(" ") && c.digits(1, d))) && c.literal(" ") && time_of_day(c, h, mi, s) &&
            c.literal(" ") && c.digits(4, y) && c.at_end()) {
            return make_time(y, mo, d, h, mi, s);
        }
    }
    return std::nullopt;
}

}  // namespace alation::auth::detail

#endif
