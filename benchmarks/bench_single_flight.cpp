// bench_single_flight: N coroutines ask a TokenProvider for a token at the instant its token has
// expired (a manual clock is moved past expiry): how many mints that makes (must be 1), how long
// until the last waiter resumes, and what each waiter costs in memory.
//
// Allocations are counted by replacing the global operator new/delete and aligned_alloc in this
// program; heap held is read from malloc. The same N
// coroutines waiting on one steady_timer are measured alongside, as the cost of a coroutine
// waiting on anything in Asio: the difference is what the provider adds per waiter.
#include "bench_common.hpp"

#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <stdexcept>
#include <thread>

// ---- allocation counting --------------------------------------------------------------------
// Counts calls to the global operator new and to aligned_alloc (where Asio's recycling allocator
// takes coroutine frames and handlers from). Bytes held are read from malloc itself (mallinfo2),
// which sees every allocation, whatever the way it was made.
namespace {

std::atomic<std::uint64_t> allocation_count{0};
std::atomic<std::uint64_t> allocation_bytes{0};

void count_allocation(std::size_t size) {
    allocation_count.fetch_add(1, std::memory_order_relaxed);
    allocation_bytes.fetch_add(size, std::memory_order_relaxed);
}

void* counted_new(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (!p) throw std::bad_alloc();
    count_allocation(size);
    return p;
}

std::int64_t heap_in_use() {
    const auto info = mallinfo2();
    return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

}  // namespace

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
    void* p = nullptr;
    if (posix_memalign(&p, std::max(alignment, sizeof(void*)), size) != 0) return nullptr;
    count_allocation(size);
    return p;
}

void* operator new(std::size_t size) { return counted_new(size); }
void* operator new[](std::size_t size) { return counted_new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size == 0 ? 1 : size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return std::malloc(size == 0 ? 1 : size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

// ---- the benchmark --------------------------------------------------------------------------
namespace asio = boost::asio;
using namespace alation::auth;
using namespace std::chrono_literals;
using bench::Clock;

namespace {

struct ManualClock {
    std::shared_ptr<std::atomic<SteadyClock::time_point>> now =
        std::make_shared<std::atomic<SteadyClock::time_point>>(SteadyClock::time_point{} + 1000h);
    void advance(SteadyClock::duration d) const { now->store(now->load() + d); }
};

/// What one round of N waiters cost.
struct Round {
    double seconds_to_last_resume = 0;
    double allocations_per_waiter = 0;
    double bytes_per_waiter = 0;  // requested, in all, during the round
    double held_per_waiter = 0;   // heap held when the first waiter resumes (all are waiting), above before
    std::size_t mints = 0;
};

// Counts from its construction; `sample_held` is called when every waiter is waiting.
struct Window {
    std::uint64_t count = allocation_count.load();
    std::uint64_t bytes = allocation_bytes.load();
    std::int64_t heap_before = heap_in_use();
    std::int64_t heap_waiting = 0;

    void sample_held() {
        if (heap_waiting == 0) heap_waiting = heap_in_use();
    }
    void finish(Round& r, int n) const {
        r.allocations_per_waiter = static_cast<double>(allocation_count.load() - count) / n;
        r.bytes_per_waiter = static_cast<double>(allocation_bytes.load() - bytes) / n;
        r.held_per_waiter = static_cast<double>(heap_waiting - heap_before) / n;
    }
};

// N coroutines ask for a token after the clock has passed its expiry. All of them are queued on
// the provider's strand in one pass of the scheduler, before the mint's response can be read, so
// each one really waits (the first resume happens after the mint).
// `minted()` counts the source's mints on the server.
template <class Minted>
Round provider_round(asio::io_context& io, TokenProvider& provider, const ManualClock& clock, const Minted& minted,
                     int n) {
    clock.advance(24h);  // the cached token has expired on the provider's clock
    const std::size_t minted_before = minted();
    int completed = 0;
    std::size_t checksum = 0;
    Clock::time_point last_resume{};
    Round r;
    Window window;
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i)
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                const AccessToken token = co_await provider.token();
                window.sample_held();
                checksum += token.value.size();
                last_resume = Clock::now();
                ++completed;
            },
            asio::detached);
    while (completed < n) io.run_one();
    r.seconds_to_last_resume = std::chrono::duration<double>(last_resume - start).count();
    window.finish(r, n);
    r.mints = minted() - minted_before;
    if (checksum == 0) throw std::logic_error("no token");
    return r;
}

// The same N coroutines waiting on one timer, released by cancelling it.
Round timer_round(asio::io_context& io, int n) {
    asio::steady_timer timer(io, 24h);
    int waiting = 0;
    int completed = 0;
    Clock::time_point last_resume{};
    Round r;
    Window window;
    const auto start = Clock::now();
    for (int i = 0; i < n; ++i)
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                ++waiting;
                co_await timer.async_wait(asio::as_tuple(asio::deferred));
                window.sample_held();
                last_resume = Clock::now();
                ++completed;
            },
            asio::detached);
    while (waiting < n) io.run_one();
    timer.cancel();
    while (completed < n) io.run_one();
    r.seconds_to_last_resume = std::chrono::duration<double>(last_resume - start).count();
    window.finish(r, n);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const auto mode = bench::Mode::parse(argc, argv);

    bench::ServerThread server;
    auto& fake = server.fake;
    const auto& refresh_token = server.refresh_token;

    asio::io_context io;
    Client client(io.get_executor(), fake.base_url());
    ManualClock clock;
    ProviderOptions options;
    options.refresh.first_mint_jitter = {};  // one provider: its first mint starts at once
    options.clock = [now = clock.now] { return now->load(); };
    // The same policy over both token sources: a refresh token, and OAuth client credentials.
    fake.add_oauth_client("bench-client", "bench-client-secret");
    TokenProvider refresh_provider(client, refresh_token, options);
    TokenProvider oauth_provider(client, OAuthClientCredentials{"bench-client", Secret("bench-client-secret")},
                                 options);
    int ready = 0;
    for (auto* p : {&refresh_provider, &oauth_provider})
        asio::co_spawn(
            io,
            [&, p]() -> asio::awaitable<void> {
                co_await p->token();
                ++ready;
            },
            asio::detached);
    while (ready < 2) io.run_one();

    struct Source {
        std::string prefix;
        TokenProvider& provider;
        std::function<std::size_t()> minted;
    };
    const Source sources[] = {
        {"", refresh_provider, [&] { return fake.access_tokens_minted(); }},
        {"OAuth, ", oauth_provider, [&] { return fake.oauth_tokens_minted(); }},
    };

    bench::Table table("bench_single_flight: N coroutines ask for a token the instant it has expired");
    for (const auto& [prefix, provider, minted] : sources)
        for (const int n : {1'000, 10'000, 100'000}) {
            const int reps = mode.smoke ? 1 : (n >= 100'000 ? 3 : mode.repetitions);
            timer_round(io, n);  // warm-up: grows the allocator's and the scheduler's pools
            provider_round(io, provider, clock, minted, n);
            std::vector<double> p_time, p_alloc, p_bytes, p_peak, t_time, t_alloc, t_bytes, t_peak;
            std::size_t max_mints = 0, min_mints = SIZE_MAX;
            for (int rep = 0; rep < reps; ++rep) {
                const Round t = timer_round(io, n);
                const Round p = provider_round(io, provider, clock, minted, n);
                max_mints = std::max(max_mints, p.mints);
                min_mints = std::min(min_mints, p.mints);
                p_time.push_back(p.seconds_to_last_resume * 1e3);
                p_alloc.push_back(p.allocations_per_waiter);
                p_bytes.push_back(p.bytes_per_waiter);
                p_peak.push_back(p.held_per_waiter);
                t_time.push_back(t.seconds_to_last_resume * 1e3);
                t_alloc.push_back(t.allocations_per_waiter);
                t_bytes.push_back(t.bytes_per_waiter);
                t_peak.push_back(t.held_per_waiter);
            }
            const std::string name = prefix + "N=" + std::to_string(n) + ": ";
            const bool one_mint = min_mints == 1 && max_mints == 1;
            table.row(
                name + "mints per round", static_cast<double>(max_mints), "mints", "== 1",
                one_mint ? "met" : "MISSED (" + std::to_string(min_mints) + ".." + std::to_string(max_mints) + ")");
            table.row(name + "provider: spawn until last waiter resumed", bench::summarize(p_time), "ms");
            table.row(name + "timer wait (baseline): spawn until last resumed", bench::summarize(t_time), "ms");
            table.row(name + "provider: allocations per waiter", bench::summarize(p_alloc), "allocs");
            table.row(name + "timer wait (baseline): allocations per waiter", bench::summarize(t_alloc), "allocs");
            table.row(name + "provider: bytes allocated per waiter", bench::summarize(p_bytes), "bytes");
            table.row(name + "timer wait (baseline): bytes allocated per waiter", bench::summarize(t_bytes), "bytes");
            table.row(name + "provider: heap held per waiter, all waiting", bench::summarize(p_peak), "bytes");
            table.row(name + "timer wait (baseline): heap held per waiter, all waiting", bench::summarize(t_peak),
                      "bytes");
            if (!one_mint) {
                table.print();
                return 1;
            }
        }
    table.print();

    refresh_provider.stop();
    oauth_provider.stop();
}
