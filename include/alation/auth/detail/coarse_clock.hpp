// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_COARSE_CLOCK_HPP
#define ALATION_AUTH_DETAIL_COARSE_CLOCK_HPP

#include <alation/auth/token.hpp>

#include <chrono>
#include <ctime>

namespace alation::auth::detail {

/// steady_clock's time, read from CLOCK_MONOTONIC_COARSE where there is one: the same clock
/// as steady_clock (so timers agree with it), at the resolution of the kernel's tick (1 to 4 ms),
/// for a few nanoseconds instead of a vDSO clock read.
inline SteadyClock::time_point coarse_steady_now() noexcept {
#if defined(CLOCK_MONOTONIC_COARSE)
    timespec ts{};
    if (::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
        return SteadyClock::time_point(std::chrono::duration_cast<SteadyClock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
#endif
    return SteadyClock::now();
}

}  // namespace alation::auth::detail

#endif
