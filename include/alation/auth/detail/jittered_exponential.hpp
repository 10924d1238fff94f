// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_JITTERED_EXPONENTIAL_HPP
#define ALATION_AUTH_DETAIL_JITTERED_EXPONENTIAL_HPP

// Apart from backoff.hpp so that the provider's pure state machine can use it without the
// Client's options.

#include <algorithm>
#include <chrono>

namespace alation::auth::detail {

/// Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^attempt)], picked by
/// `draw` in [0, 1) (0 gives 0, draws near 1 give the ceiling; values outside are clamped).
/// Saturates instead of overflowing for any `attempt`; a negative attempt counts as 0.
inline std::chrono::milliseconds jittered_exponential(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                                      int attempt, double draw) noexcept {
    using std::chrono::milliseconds;
    if (base.count() <= 0 || cap.count() <= 0) return milliseconds{0};
    // Doubling stops at the cap, so at most 63 steps and never an overflow.
    milliseconds ceiling = std::min(base, cap);
    for (int i = 0; i < attempt && ceiling < cap; ++i) ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
    if (!(draw > 0.0)) return milliseconds{0};  // also NaN
    // (ceiling + 1) * draw spreads [0, 1) evenly over the whole milliseconds 0..ceiling.
    const double wait = (static_cast<double>(ceiling.count()) + 1.0) * draw;
    if (wait >= static_cast<double>(ceiling.count())) return ceiling;
    return milliseconds{static_cast<milliseconds::rep>(wait)};
}

}  // namespace alation::auth::detail

#endif
