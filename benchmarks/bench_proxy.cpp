// bench_proxy: createAPIAccessToken over TLS through a forward proxy (testing::FakeProxy, a CONNECT
// tunnel) next to the same call made directly, side by side: on a kept-alive connection (the
// tunnel is opened once, so the proxy adds only its relaying), and with a new Client per call
// (connection set-up included: TCP to the proxy, CONNECT and its 200, then the TLS handshake;
// the Clients share one ssl::context, so no trust store is loaded per call).
//
// The fake Alation and the proxy serve on their own threads; the Client runs on this one. Besides
// calls/s, the CPU time of the client thread per call is reported: the steadier figure on a shared
// machine, and the one that shows what the proxy costs the client itself (the CONNECT exchange),
// apart from the extra hop's latency.
#include "bench_common.hpp"

#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>
#include <alation/auth/testing/fake_proxy.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
using namespace alation::auth;

namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A FakeProxy on a thread and io_context of its own.
class ProxyThread {
public:
    ProxyThread() : proxy(io_.get_executor()), thread_([this] { io_.run(); }) {}
    ~ProxyThread() {
        proxy.stop();
        work_.reset();
        thread_.join();
    }
    ProxyThread(const ProxyThread&) = delete;
    ProxyThread& operator=(const ProxyThread&) = delete;

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};

public:
    testing::FakeProxy proxy;

private:
    std::thread thread_;
};

// Client-thread CPU microseconds per call, one entry per batch (calibration and warm-up first).
using CpuLog = std::vector<double>;

// Runs `calls` sequential calls of `call()` on `io`; returns the seconds they took.
template <class Call>
double run_calls(asio::io_context& io, std::uint64_t calls, Call call, CpuLog& cpu) {
    std::exception_ptr failure;
    const double cpu_start = thread_cpu_seconds();
    const auto start = bench::Clock::now();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (std::uint64_t i = 0; i < calls; ++i) co_await call();
        },
        [&](std::exception_ptr e) { failure = e; });
    io.run();
    io.restart();
    const double took = bench::seconds_since(start);
    // A failed call voids the figures.
    if (failure) std::rethrow_exception(failure);
    cpu.push_back((thread_cpu_seconds() - cpu_start) * 1e6 / static_cast<double>(calls));
    return took;
}

}  // namespace

int main(int argc, char** argv) {
    const auto mode = bench::Mode::parse(argc, argv);
    testing::FakeAlationOptions fake_options;
    fake_options.tls = true;
    bench::ServerThread server(fake_options);
    ProxyThread proxy;
    const RefreshToken& rt = server.refresh_token;
    const std::string ca_file = server.fake.write_ca_file(std::filesystem::temp_directory_path());

    // One context for every Client: a new Client per call then costs its connection, not the
    // loading of a trust store.
    auto tls_context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    tls_context->load_verify_file(ca_file);
    tls_context->set_verify_mode(asio::ssl::verify_peer);
    ClientOptions direct_options;
    direct_options.ssl_context = tls_context;
    direct_options.proxy = Secret(std::string());  // no proxy, whatever the environment says
    ClientOptions proxy_options = direct_options;
    proxy_options.proxy = Secret(proxy.proxy.url());

    asio::io_context io;
    Client direct(io.get_executor(), server.fake.base_url(), direct_options);
    Client proxied(io.get_executor(), server.fake.base_url(), proxy_options);
    std::size_t checksum = 0;
    const auto kept_alive = [&](Client& client) {
        return [&client, &rt, &checksum]() -> asio::awaitable<void> {
            const AccessToken token = co_await client.create_access_token(rt);
            checksum += token.value.size();
        };
    };
    const auto fresh = [&](const ClientOptions& options) {
        return [&io, &server, &options, &rt, &checksum]() -> asio::awaitable<void> {
            Client client(io.get_executor(), server.fake.base_url(), options);
            const AccessToken token = co_await client.create_access_token(rt);
            checksum += token.value.size();
        };
    };
    std::vector<CpuLog> cpu(4);
    std::vector<std::function<double(std::uint64_t)>> batches{
        [&, call = kept_alive(direct)](std::uint64_t n) { return run_calls(io, n, call, cpu[0]); },
        [&, call = kept_alive(proxied)](std::uint64_t n) { return run_calls(io, n, call, cpu[1]); },
        [&, call = fresh(direct_options)](std::uint64_t n) { return run_calls(io, n, call, cpu[2]); },
        [&, call = fresh(proxy_options)](std::uint64_t n) { return run_calls(io, n, call, cpu[3]); },
    };
    const auto ns = bench::ns_per_op_side_by_side(batches, mode);
    if (checksum == 0 || proxy.proxy.tunnels() == 0) throw std::logic_error("no call went through the proxy");

    const auto per_second = [](const bench::Stats& s) {
        return bench::Stats{1e9 / s.median, 1e9 / s.max, 1e9 / s.min};
    };
    const auto measured_cpu = [&](int i) {
        return bench::summarize(std::vector<double>(cpu[i].end() - mode.repetitions, cpu[i].end()));
    };
    const auto ratio = [](double proxied_value, double direct_value) {
        return bench::Table::number(proxied_value / direct_value) + "x direct";
    };
    bench::Table table(
        "bench_proxy: createAPIAccessToken over TLS, direct and through a CONNECT tunnel (FakeProxy), sequential");
    table.row("(a) direct, kept-alive connection", per_second(ns[0]), "calls/s");
    table.row("(b) through the proxy, kept-alive tunnel", per_second(ns[1]), "calls/s", "",
              ratio(per_second(ns[1]).median, per_second(ns[0]).median));
    table.row("(c) direct, new Client and connection per call", per_second(ns[2]), "calls/s");
    table.row("(d) through the proxy, new Client, connection and CONNECT per call", per_second(ns[3]), "calls/s", "",
              ratio(per_second(ns[3]).median, per_second(ns[2]).median));
    table.row("(a) client-thread CPU per call", measured_cpu(0), "us");
    table.row("(b) client-thread CPU per call", measured_cpu(1), "us", "",
              ratio(measured_cpu(1).median, measured_cpu(0).median));
    table.row("(c) client-thread CPU per call", measured_cpu(2), "us");
    table.row("(d) client-thread CPU per call", measured_cpu(3), "us", "",
              ratio(measured_cpu(3).median, measured_cpu(2).median));
    table.row("proxy: CONNECT tunnels opened in all", static_cast<double>(proxy.proxy.tunnels()), "");
    table.print();
    std::filesystem::remove(ca_file);
}
