// What every benchmark program shares: the --smoke switch, repeated measurement with warm-up
// (median and min), and the table the programs print. Plain std::chrono, no framework.
#ifndef ALATION_AUTH_BENCH_COMMON_HPP
#define ALATION_AUTH_BENCH_COMMON_HPP

#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace bench {

using Clock = std::chrono::steady_clock;

/// The context switches of the threads `tids` of this process so far, from /proc: voluntary ones
/// (the thread slept, waiting) and, unless `voluntary_only`, involuntary ones (it was preempted).
inline double context_switches(const std::vector<pid_t>& tids, bool voluntary_only = false) {
    double total = 0;
    for (const pid_t tid : tids) {
        std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("voluntary_ctxt_switches:", 0) == 0 ||
                (!voluntary_only && line.rfind("nonvoluntary_ctxt_switches:", 0) == 0))
                total += std::stod(line.substr(line.find(':') + 1));
        }
    }
    return total;
}

/// The fake Alation serving on a thread and io_context of its own, so that the measured client
/// has its thread to itself, with a user and a refresh token to mint from. Stops the fake and
/// joins the thread when destroyed.
class ServerThread {
public:
    explicit ServerThread(alation::auth::testing::FakeAlationOptions options = {})
        : fake(io_.get_executor(), std::move(options)),
          refresh_token(fake.issue_refresh_token(fake.add_user("bench", "bench-password"), "bench")),
          thread_([this, started = std::move(started_)]() mutable {
              started.set_value(gettid());
              io_.run();
          }),
          tid_(tid_future_.get()) {}
    ~ServerThread() {
        fake.stop();
        work_.reset();
        thread_.join();
    }
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;

    /// The serving thread's id, for context_switches.
    [[nodiscard]] pid_t tid() const noexcept { return tid_; }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
    std::promise<pid_t> started_;
    std::future<pid_t> tid_future_ = started_.get_future();

public:
    alation::auth::testing::FakeAlation fake;
    const alation::auth::RefreshToken refresh_token;

private:
    std::thread thread_;
    pid_t tid_;
};

/// Full mode: several long repetitions. Smoke mode (`--smoke`): the same figures, ~0.2 s each,
/// so that CI runs every program in seconds; its numbers are only indicative.
struct Mode {
    bool smoke = false;
    int repetitions = 7;
    Clock::duration repetition_time = std::chrono::milliseconds(300);

    static Mode parse(int argc, char** argv) {
        Mode m;
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--smoke") {
                m.smoke = true;
                m.repetitions = 3;
                m.repetition_time = std::chrono::milliseconds(50);
            } else {
                std::cerr << argv[0] << ": unknown argument " << arg << "\nusage: " << argv[0] << " [--smoke]\n";
                std::exit(2);
            }
        }
        return m;
    }
};

/// Median and minimum of a set of samples.
struct Stats {
    double median = 0;
    double min = 0;
    double max = 0;
};

inline Stats summarize(std::vector<double> samples) {
    if (samples.empty()) return {};
    std::sort(samples.begin(), samples.end());
    const std::size_t n = samples.size();
    const double median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    return {median, samples.front(), samples.back()};
}

/// The value at quantile q (0..1) of sorted samples, nearest rank.
inline double quantile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(rank, sorted.size() - 1)];
}

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Calibrates how many operations fill one repetition: `batch(n)` runs n operations and returns
/// the seconds they took. Doubles n until a batch lasts a tenth of a repetition (which also warms up).
template <class Batch>
std::uint64_t calibrate(Batch& batch, const Mode& mode) {
    const double target = std::chrono::duration<double>(mode.repetition_time).count();
    std::uint64_t n = 1;
    for (;;) {
        const double took = batch(n);
        if (took >= target / 10 || n >= (std::uint64_t{1} << 40)) {
            const double per_op = took / static_cast<double>(n);
            return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(target / std::max(per_op, 1e-12)));
        }
        n *= 2;
    }
}

/// Nanoseconds per operation of several batches, run alternately (A, B, C, A, B, C, ...) so that
/// a noisy neighbour on a shared machine hits every figure alike; one warm-up batch each first.
template <class Batch>
std::vector<Stats> ns_per_op_side_by_side(std::vector<Batch>& batches, const Mode& mode) {
    std::vector<std::uint64_t> n;
    for (auto& b : batches) n.push_back(calibrate(b, mode));
    for (std::size_t i = 0; i < batches.size(); ++i) batches[i](n[i]);  // warm-up at full size
    std::vector<std::vector<double>> samples(batches.size());
    for (int r = 0; r < mode.repetitions; ++r)
        for (std::size_t i = 0; i < batches.size(); ++i)
            samples[i].push_back(batches[i](n[i]) * 1e9 / static_cast<double>(n[i]));
    std::vector<Stats> out;
    for (auto& s : samples) out.push_back(summarize(std::move(s)));
    return out;
}

/// A figures table: one row per figure, with its target and whether it was met.
class Table {
public:
    explicit Table(std::string title) : title_(std::move(title)) {}

    void row(std::string figure, const Stats& s, std::string unit, std::string target = "", std::string verdict = "") {
        rows_.push_back({std::move(figure), number(s.median), number(s.min), std::move(unit), std::move(target),
                         std::move(verdict)});
    }
    /// A figure measured once (no repetitions): the min column stays empty.
    void row(std::string figure, double value, std::string unit, std::string target = "", std::string verdict = "") {
        rows_.push_back({std::move(figure), number(value), "", std::move(unit), std::move(target), std::move(verdict)});
    }

    void print(std::ostream& os = std::cout) const {
        os << "\n## " << title_ << "\n\n";
        os << "| figure | median | min | unit | target | verdict |\n";
        os << "|---|---:|---:|---|---|---|\n";
        for (const auto& r : rows_)
            os << "| " << r.figure << " | " << r.median << " | " << r.min << " | " << r.unit << " | " << r.target
               << " | " << r.verdict << " |\n";
        os << std::flush;
    }

    static std::string number(double v) {
        char buf[64];
        if (v != 0 && (v >= 1e6 || v < 0.01))
            std::snprintf(buf, sizeof buf, "%.3g", v);
        else if (v >= 100)
            std::snprintf(buf, sizeof buf, "%.0f", v);
        else
            std::snprintf(buf, sizeof buf, "%.2f", v);
        return buf;
    }

    /// "met (0.62x of the limit)" / "MISSED (1.31x of the limit)": how far a value is from an
    /// upper bound (`lower_is_better`) or a lower bound.
    static std::string verdict(double value, double bound, bool lower_is_better) {
        const bool met = lower_is_better ? value <= bound : value >= bound;
        std::ostringstream os;
        os << (met ? "met" : "MISSED") << " (" << number(value / bound) << "x the bound)";
        return os.str();
    }

private:
    struct Row {
        std::string figure, median, min, unit, target, verdict;
    };
    std::string title_;
    std::vector<Row> rows_;
};

/// Keeps a value alive in the optimiser's eyes.
template <class T>
inline void do_not_optimize(const T& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

}  // namespace bench

#endif
