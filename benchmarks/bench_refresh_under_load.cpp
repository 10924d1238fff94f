// bench_refresh_under_load: authorized GETs through TokenProvider::send to the fake's protected
// endpoint over many token lifetimes, next to the same loop setting a fixed, long-lived TOKEN by
// hand (no provider), and to that loop taking its header from try_authorize instead. Shows the
// provider's throughput overhead, that latency does not spike around refreshes, and that no
// request is ever rejected.
//
// The client io_context is run by 1, 2 and 4 threads, with many coroutines each holding a
// keep-alive connection; the fake serves on its own thread. The loops take turns in short
// segments (fixed, send, try_authorize, fixed, ...) on the same connections, so that all see the
// same machine; requests/s is the median (and min) over the segments.
//
// BENCH_ONLY=fixed (or send, or try) makes every segment run that loop alone, and BENCH_THREADS=N
// runs only that thread count, to profile one loop apart (perf record, perf stat); the ratios
// printed are then of that loop against itself.
#include "bench_common.hpp"
#include "counting_allocator.hpp"

#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace alation::auth;
using namespace std::chrono_literals;
using bench::Clock;

namespace {

constexpr int coroutines = 16;
constexpr auto near_refresh = 100ms;

enum Phase : int { fixed_phase, provider_phase, try_phase, stop_phase };
constexpr int loops = 3;

struct Sample {
    Clock::time_point start;
    Clock::time_point end;
};

struct Result {
    bench::Stats fixed_rps, provider_rps, try_rps;
    // CPU time of the client threads per request: unlike requests/s, it does not depend on how
    // the client threads and the fake's thread share the cores.
    bench::Stats fixed_cpu_us, provider_cpu_us, try_cpu_us;
    // Context switches of the client threads per 1,000 requests (voluntary: a thread slept in
    // epoll or on the scheduler's condition; involuntary: it was preempted): how the loops differ
    // in the way they share the cores, which requests/s alone cannot tell from their own cost.
    bench::Stats fixed_switches, provider_switches, try_switches;
    // Allocations of the client threads per request (the mints in the background included: a few
    // per second, nothing per request).
    bench::Stats fixed_allocations, provider_allocations, try_allocations;
    std::vector<double> fixed_us, provider_us, try_us, near_us, far_us;  // sorted latencies
    std::size_t refreshes = 0, mints = 0, rejected = 0, rejected_expired = 0, errors = 0;
};

http::request<http::empty_body> protected_request(const std::string& host) {
    http::request<http::empty_body> req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "bench");
    return req;
}

// The CPU seconds the given threads have used so far.
double cpu_seconds(std::vector<std::thread>& threads) {
    double total = 0;
    for (auto& t : threads) {
        clockid_t clock{};
        timespec ts{};
        if (pthread_getcpuclockid(t.native_handle(), &clock) == 0 && clock_gettime(clock, &ts) == 0)
            total += static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    }
    return total;
}

std::vector<double> latencies_us(const std::vector<Sample>& samples) {
    std::vector<double> out;
    out.reserve(samples.size());
    for (const auto& s : samples) out.push_back(std::chrono::duration<double, std::micro>(s.end - s.start).count());
    std::sort(out.begin(), out.end());
    return out;
}

// BENCH_ONLY's loop, or -1 for all of them in turn.
int only_loop() {
    const char* only = std::getenv("BENCH_ONLY");
    if (!only) return -1;
    const std::string_view name = only;
    if (name == "fixed") return fixed_phase;
    if (name == "send") return provider_phase;
    if (name == "try") return try_phase;
    throw std::invalid_argument("BENCH_ONLY: fixed, send or try");
}

Result run(int threads, testing::FakeAlation& fake, const RefreshToken& rt, const Secret& fixed_token,
           const bench::Mode& mode, int only) {
    const auto segment = mode.smoke ? 100ms : 2s;
    const int segments = mode.smoke ? 2 : 5;  // of each loop

    asio::io_context io(threads);
    auto work = asio::make_work_guard(io);
    std::vector<std::thread> pool;
    std::mutex tids_mutex;
    std::vector<pid_t> tids;
    std::vector<bench::AllocationCount> allocation_counts(threads);
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            bench::count_allocations_of_this_thread(allocation_counts[t]);
            {
                std::lock_guard lock(tids_mutex);
                tids.push_back(gettid());
            }
            io.run();
        });

    std::mutex refresh_mutex;
    std::vector<Clock::time_point> refresh_instants;
    ProviderOptions options;
    options.refresh.first_mint_jitter = {};  // one provider: its first mint starts at once
    options.on_event = [&](const ProviderEvent& e) {
        if (e.kind == ProviderEvent::Kind::refresh_started || e.kind == ProviderEvent::Kind::refresh_succeeded) {
            std::lock_guard lock(refresh_mutex);
            refresh_instants.push_back(Clock::now());
        }
    };
    Client client(io.get_executor(), fake.base_url());
    TokenProvider provider(client, rt, options);
    provider.token(asio::use_future).get();  // the first token: the one wait of a service's life
    {
        std::lock_guard lock(refresh_mutex);
        refresh_instants.clear();  // only refreshes during the loops count
    }

    const std::size_t minted_before = fake.access_tokens_minted();
    const std::size_t rejected_before = fake.protected_rejected();
    const std::size_t expired_before = fake.protected_rejected_expired();
    const std::string host = "127.0.0.1:" + std::to_string(fake.port());
    const std::string fixed_value(fixed_token.reveal());

    std::atomic<int> phase{fixed_phase};
    std::atomic<std::uint64_t> completed[loops] = {0, 0, 0};
    std::atomic<int> running{coroutines};
    std::atomic<std::size_t> errors{0};
    std::vector<std::vector<Sample>> samples[loops];
    for (auto& s : samples) s.resize(coroutines);

    const auto worker = [&](int id) -> asio::awaitable<void> {
        beast::tcp_stream stream(co_await asio::this_coro::executor);
        co_await stream.async_connect({asio::ip::make_address("127.0.0.1"), fake.port()}, asio::use_awaitable);
        beast::flat_buffer buffer;
        for (int p; (p = phase.load(std::memory_order_relaxed)) != stop_phase;) {
            auto req = protected_request(host);
            http::response<http::string_body> res;
            const auto start = Clock::now();
            if (p == provider_phase) {
                co_await provider.send(stream, req, buffer, res);
            } else {
                // The hot path's route: the header from the cached token, waiting only when none is usable.
                if (p == fixed_phase) {
                    req.set(token_header, fixed_value);
                } else if (!provider.try_authorize(req)) {
                    co_await provider.authorize(req);
                }
                co_await http::async_write(stream, req, asio::use_awaitable);
                co_await http::async_read(stream, buffer, res, asio::use_awaitable);
            }
            const auto end = Clock::now();
            if (res.result() != http::status::ok) errors.fetch_add(1, std::memory_order_relaxed);
            samples[p][id].push_back({start, end});
            completed[p].fetch_add(1, std::memory_order_relaxed);
        }
    };
    for (int i = 0; i < coroutines; ++i)
        asio::co_spawn(io, worker(i), [&](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    std::cerr << "bench_refresh_under_load: worker failed: " << ex.what() << '\n';
                }
                errors.fetch_add(1);
            }
            running.fetch_sub(1);
        });

    while ([&] {
        std::lock_guard lock(tids_mutex);
        return tids.size() < pool.size();
    }())
        std::this_thread::yield();
    const auto allocations = [&allocation_counts] {
        double total = 0;
        for (const auto& c : allocation_counts) total += static_cast<double>(c.allocations.load());
        return total;
    };
    std::vector<double> rps[loops], cpu_us[loops], switches[loops], allocations_per_request[loops];
    for (int s = 0; s < loops * segments; ++s) {
        const int p = only >= 0 ? only : s % loops;
        phase.store(p);
        const auto before = completed[p].load();
        const double cpu_before = cpu_seconds(pool);
        const double switches_before = bench::context_switches(tids);
        const double allocations_before = allocations();
        const auto start = Clock::now();
        std::this_thread::sleep_for(segment);
        const auto requests = static_cast<double>(completed[p].load() - before);
        rps[p].push_back(requests / bench::seconds_since(start));
        cpu_us[p].push_back((cpu_seconds(pool) - cpu_before) * 1e6 / std::max(requests, 1.0));
        switches[p].push_back((bench::context_switches(tids) - switches_before) * 1e3 / std::max(requests, 1.0));
        allocations_per_request[p].push_back((allocations() - allocations_before) / std::max(requests, 1.0));
    }
    if (only >= 0) {
        // The other loops did not run: report the one that did in their place.
        for (int p = 0; p < loops; ++p) {
            rps[p] = rps[only];
            cpu_us[p] = cpu_us[only];
            switches[p] = switches[only];
            allocations_per_request[p] = allocations_per_request[only];
        }
    }
    phase.store(stop_phase);
    while (running.load() != 0) std::this_thread::sleep_for(1ms);

    Result r;
    r.fixed_rps = bench::summarize(rps[fixed_phase]);
    r.provider_rps = bench::summarize(rps[provider_phase]);
    r.try_rps = bench::summarize(rps[try_phase]);
    r.fixed_cpu_us = bench::summarize(cpu_us[fixed_phase]);
    r.provider_cpu_us = bench::summarize(cpu_us[provider_phase]);
    r.try_cpu_us = bench::summarize(cpu_us[try_phase]);
    r.fixed_switches = bench::summarize(switches[fixed_phase]);
    r.provider_switches = bench::summarize(switches[provider_phase]);
    r.try_switches = bench::summarize(switches[try_phase]);
    r.fixed_allocations = bench::summarize(allocations_per_request[fixed_phase]);
    r.provider_allocations = bench::summarize(allocations_per_request[provider_phase]);
    r.try_allocations = bench::summarize(allocations_per_request[try_phase]);
    r.mints = fake.access_tokens_minted() - minted_before;
    r.rejected = fake.protected_rejected() - rejected_before;
    r.rejected_expired = fake.protected_rejected_expired() - expired_before;
    r.errors = errors.load();

    std::vector<Sample> fixed, prov, tried;
    for (auto& v : samples[fixed_phase]) fixed.insert(fixed.end(), v.begin(), v.end());
    for (auto& v : samples[provider_phase]) prov.insert(prov.end(), v.begin(), v.end());
    for (auto& v : samples[try_phase]) tried.insert(tried.end(), v.begin(), v.end());
    {
        std::lock_guard lock(refresh_mutex);
        std::sort(refresh_instants.begin(), refresh_instants.end());
        r.refreshes = refresh_instants.size();
    }
    // A request is "near a refresh" when a refresh started or finished within 100 ms of its span.
    std::vector<Sample> near, far;
    for (const auto& s : prov) {
        const auto it = std::lower_bound(refresh_instants.begin(), refresh_instants.end(), s.start - near_refresh);
        (it != refresh_instants.end() && *it <= s.end + near_refresh ? near : far).push_back(s);
    }
    r.fixed_us = latencies_us(fixed);
    r.provider_us = latencies_us(prov);
    r.try_us = latencies_us(tried);
    r.near_us = latencies_us(near);
    r.far_us = latencies_us(far);

    provider.stop();
    work.reset();
    io.stop();
    for (auto& t : pool) t.join();
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const auto mode = bench::Mode::parse(argc, argv);

    testing::FakeAlationOptions fake_options;
    // Full mode: 1.5 s tokens over 20 s of provider traffic per thread count, about two dozen
    // lifetimes; smoke mode shortens both so that a few refreshes still happen.
    fake_options.access_token_lifetime = mode.smoke ? 400ms : 1500ms;
    bench::ServerThread server(fake_options);
    auto& fake = server.fake;
    const auto& rt = server.refresh_token;
    const auto fixed = fake.issue_access_token(rt.value, 24h);

    bench::Table table(
        "bench_refresh_under_load: GET /integration/v2/table/ through TokenProvider::send, and with "
        "try_authorize, vs a fixed TOKEN, " +
        std::to_string(coroutines) + " keep-alive connections, tokens live " +
        std::to_string(fake_options.access_token_lifetime.count()) + " ms");
    std::ostringstream latency;
    latency << "\n## bench_refresh_under_load: latency per request (us)\n\n"
            << "| threads | requests | count | p50 | p99 | max |\n|---:|---|---:|---:|---:|---:|\n";
    const auto latency_row = [&latency](int threads, const std::string& what, const std::vector<double>& v) {
        latency << "| " << threads << " | " << what << " | " << v.size() << " | "
                << bench::Table::number(bench::quantile(v, 0.5)) << " | "
                << bench::Table::number(bench::quantile(v, 0.99)) << " | "
                << bench::Table::number(v.empty() ? 0.0 : v.back()) << " |\n";
    };
    const int only = only_loop();
    std::vector<int> thread_counts{1, 2, 4};
    if (const char* n = std::getenv("BENCH_THREADS")) thread_counts = {std::max(1, std::atoi(n))};
    bool ok = true;
    for (const int threads : thread_counts) {
        const Result r = run(threads, fake, rt, fixed.value, mode, only);
        const std::string t = std::to_string(threads) + (threads == 1 ? " thread: " : " threads: ");
        const double overhead = (r.fixed_rps.median - r.provider_rps.median) / r.fixed_rps.median * 100;
        table.row(t + "fixed TOKEN (no provider)", r.fixed_rps, "req/s");
        table.row(t + "TokenProvider::send", r.provider_rps, "req/s");
        table.row(t + "provider overhead (of the medians)", overhead, "%", "< 3 %", overhead < 3 ? "met" : "MISSED");
        table.row(t + "fixed TOKEN: client-thread CPU per request", r.fixed_cpu_us, "us");
        table.row(t + "TokenProvider::send: client-thread CPU per request", r.provider_cpu_us, "us", "",
                  bench::Table::number(r.provider_cpu_us.median / r.fixed_cpu_us.median) + "x fixed");
        const double try_overhead = (r.fixed_rps.median - r.try_rps.median) / r.fixed_rps.median * 100;
        table.row(t + "try_authorize + write + read", r.try_rps, "req/s");
        table.row(t + "try_authorize overhead (of the medians)", try_overhead, "%", "< 3 %",
                  try_overhead < 3 ? "met" : "MISSED");
        table.row(t + "try_authorize: client-thread CPU per request", r.try_cpu_us, "us", "",
                  bench::Table::number(r.try_cpu_us.median / r.fixed_cpu_us.median) + "x fixed");
        table.row(t + "fixed TOKEN: client-thread context switches per 1,000 requests", r.fixed_switches, "switches");
        table.row(t + "TokenProvider::send: context switches per 1,000 requests", r.provider_switches, "switches");
        table.row(t + "try_authorize: context switches per 1,000 requests", r.try_switches, "switches");
        table.row(t + "fixed TOKEN: client-thread allocations per request", r.fixed_allocations, "allocs");
        table.row(t + "TokenProvider::send: allocations per request", r.provider_allocations, "allocs");
        table.row(t + "try_authorize: allocations per request", r.try_allocations, "allocs");
        table.row(t + "mints during the loops", static_cast<double>(r.mints), "mints",
                  std::to_string(r.refreshes) + " refresh events (started + succeeded)");
        table.row(t + "rejected requests", static_cast<double>(r.rejected), "req", "== 0",
                  (r.rejected == 0 ? "met" : "MISSED") + std::string(" (") + std::to_string(r.rejected_expired) +
                      " for an expired token)");
        table.row(t + "failed requests (non-200 or error)", static_cast<double>(r.errors), "req", "== 0",
                  r.errors == 0 ? "met" : "MISSED");
        ok = ok && r.rejected == 0 && r.errors == 0;
        latency_row(threads, "fixed TOKEN", r.fixed_us);
        latency_row(threads, "provider, all", r.provider_us);
        latency_row(threads, "provider, within 100 ms of a refresh", r.near_us);
        latency_row(threads, "provider, the rest", r.far_us);
        latency_row(threads, "try_authorize, all", r.try_us);
    }
    table.print();
    std::cout << latency.str() << std::flush;

    return ok ? 0 : 1;
}
