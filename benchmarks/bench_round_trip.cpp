// bench_round_trip: createAPIAccessToken calls per second against the fake Alation on loopback,
// the library's Client next to a hand-written Beast keep-alive loop (the practical limit: same
// JSON body, same headers, response parsed with boost::json), over plain HTTP and over TLS.
//
// The fake serves on its own thread and io_context; the clients run on this thread. Figures are
// measured alternately (Client, Beast, Client, ...) so that the ratio is taken side by side.
// Besides calls/s, the CPU time the client thread spends per call is reported: on a shared
// machine it is the steadier figure, and it separates the client's own cost from waiting. So are
// the client thread's allocations per call (counting_allocator.hpp; OpenSSL's own mallocs are not
// counted), and how often the client's and the fake's threads slept per call: on loopback a send
// to a sleeping server runs the server's wake-up on the sender's CPU, so who waits for whom shows
// in the client's CPU time.
//
// BENCH_ONLY=client (or hand) makes every batch run that side alone, to profile it apart
// (perf record); the ratios it prints are then of one side against itself.
#include "bench_common.hpp"
#include "counting_allocator.hpp"

#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using namespace alation::auth;
using bench::Clock;

namespace {

// The client thread's (main's): the fake's thread allocates too, uncounted.
bench::AllocationCount client_allocations;

using Batch = std::function<double(std::uint64_t)>;
constexpr int concurrency = 8;

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The client's thread (this one) and the fake's, whose sleeps are counted.
struct SleepingThreads {
    std::vector<pid_t> client, server;
};

// Per call of each batch run, in order (calibration and warm-up first, the measured repetitions
// last): client-thread CPU microseconds, the client's and the server's sleeps, allocations and
// bytes allocated.
struct CpuLog {
    std::vector<double> cpu_us, client_sleeps, server_sleeps, allocations, bytes;
};

// Runs `calls` calls split over `workers` coroutines, `call(worker)` being one call; returns the
// seconds until the last one finished. A failure ends the program: figures of failed calls are void.
template <class Call>
double run_calls(asio::io_context& io, std::uint64_t calls, int workers, Call call, CpuLog* cpu = nullptr,
                 const SleepingThreads* threads = nullptr) {
    int running = workers;
    std::exception_ptr failure;
    // Read outside the measured CPU time and allocations: reading /proc allocates.
    using ThreadList = const std::vector<pid_t> SleepingThreads::*;
    const auto sleeps = [threads](ThreadList which) {
        return threads ? bench::context_switches(threads->*which, true) : 0.0;
    };
    const double client_sleeps_start = sleeps(&SleepingThreads::client);
    const double server_sleeps_start = sleeps(&SleepingThreads::server);
    const double cpu_start = thread_cpu_seconds();
    const std::uint64_t allocations_start = client_allocations.allocations, bytes_start = client_allocations.bytes;
    const auto start = Clock::now();
    for (int w = 0; w < workers; ++w) {
        const std::uint64_t share = calls / workers + (static_cast<std::uint64_t>(w) < calls % workers ? 1 : 0);
        asio::co_spawn(
            io,
            [&call, w, share]() -> asio::awaitable<void> {
                for (std::uint64_t i = 0; i < share; ++i) co_await call(w);
            },
            [&](std::exception_ptr e) {
                if (e && !failure) failure = e;
                if (--running == 0) io.stop();
            });
    }
    io.run();
    io.restart();
    const double took = bench::seconds_since(start);
    if (failure) std::rethrow_exception(failure);
    if (cpu) {
        // Taken before anything here allocates.
        const double cpu_seconds = thread_cpu_seconds() - cpu_start;
        const std::uint64_t call_allocations = client_allocations.allocations - allocations_start;
        const std::uint64_t call_bytes = client_allocations.bytes - bytes_start;
        const auto per_call = [calls](double v) { return v / static_cast<double>(calls); };
        cpu->cpu_us.push_back(per_call(cpu_seconds * 1e6));
        cpu->allocations.push_back(per_call(static_cast<double>(call_allocations)));
        cpu->bytes.push_back(per_call(static_cast<double>(call_bytes)));
        cpu->client_sleeps.push_back(per_call(sleeps(&SleepingThreads::client) - client_sleeps_start));
        cpu->server_sleeps.push_back(per_call(sleeps(&SleepingThreads::server) - server_sleeps_start));
    }
    return took;
}

// One keep-alive connection of the hand-written client: plain TCP or TLS.
template <class Stream>
struct BeastConnection {
    Stream stream;
    beast::flat_buffer buffer;
};

asio::awaitable<void> open(BeastConnection<beast::tcp_stream>& c, unsigned short port) {
    co_await c.stream.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
}

asio::awaitable<void> open(BeastConnection<beast::ssl_stream<beast::tcp_stream>>& c, unsigned short port) {
    co_await beast::get_lowest_layer(c.stream).async_connect({asio::ip::make_address("127.0.0.1"), port},
                                                             asio::use_awaitable);
    if (!SSL_set_tlsext_host_name(c.stream.native_handle(), "localhost")) throw std::runtime_error("cannot set SNI");
    c.stream.set_verify_mode(ssl::verify_peer);
    c.stream.set_verify_callback(ssl::host_name_verification("localhost"));
    co_await c.stream.async_handshake(ssl::stream_base::client, asio::use_awaitable);
}

// The hand-written loop: per call, format the body, POST it on the kept-alive connection, read
// the response and parse it with boost::json, reading the token into `checksum`.
template <class Stream>
asio::awaitable<void> beast_call(BeastConnection<Stream>& c, const std::string& host, const RefreshToken& rt,
                                 std::size_t& checksum) {
    http::request<http::string_body> req{http::verb::post, "/integration/v1/createAPIAccessToken/", 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "alation-auth");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.body() =
        R"({"refresh_token":")" + std::string(rt.value.reveal()) + R"(","user_id":)" + std::to_string(rt.user_id) + "}";
    req.prepare_payload();
    co_await http::async_write(c.stream, req, asio::use_awaitable);
    http::response<http::string_body> res;
    co_await http::async_read(c.stream, c.buffer, res, asio::use_awaitable);
    if (res.result() != http::status::ok)
        throw std::runtime_error("hand-written call: HTTP " + std::to_string(res.result_int()));
    const auto body = boost::json::parse(res.body());
    checksum += body.as_object().at("api_access_token").as_string().size();
}

struct Transport {
    const char* name;
    bool tls;
};

template <class Stream>
std::vector<Batch> batches(asio::io_context& io, Client& client, const RefreshToken& rt, unsigned short port,
                           const std::string& host, std::shared_ptr<ssl::context> tls_context, std::size_t& checksum,
                           std::vector<CpuLog>& cpu, const SleepingThreads& threads) {
    auto conns = std::make_shared<std::vector<std::unique_ptr<BeastConnection<Stream>>>>();
    const auto make = [&io, tls_context]() {
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>)
            return std::make_unique<BeastConnection<Stream>>(BeastConnection<Stream>{Stream(io), {}});
        else
            return std::make_unique<BeastConnection<Stream>>(BeastConnection<Stream>{Stream(io, *tls_context), {}});
    };
    // Connections are opened once (outside the timed batches) and kept alive, as the Client's pool does.
    for (int i = 0; i < concurrency; ++i) conns->push_back(make());
    run_calls(io, concurrency, concurrency, [conns, port](int w) { return open(*(*conns)[w], port); });

    using Call = std::function<asio::awaitable<void>(int)>;
    Call client_call = [&client, &rt, &checksum](int) -> asio::awaitable<void> {
        const AccessToken token = co_await client.create_access_token(rt);
        checksum += token.value.size();
    };
    Call hand_call = [conns, &host, &rt, &checksum](int w) { return beast_call(*(*conns)[w], host, rt, checksum); };
    const std::string only = std::getenv("BENCH_ONLY") ? std::getenv("BENCH_ONLY") : "";
    if (only == "client") hand_call = client_call;
    if (only == "hand") client_call = hand_call;
    cpu.assign(4, {});
    const auto batch = [&io, &cpu, &threads](Call call, int workers, int log) -> Batch {
        return [&io, &cpu, &threads, call = std::move(call), workers, log](std::uint64_t n) {
            return run_calls(io, n, workers, call, &cpu[log], &threads);
        };
    };
    return {batch(client_call, 1, 0), batch(hand_call, 1, 1), batch(client_call, concurrency, 2),
            batch(hand_call, concurrency, 3)};
}

bench::Stats per_second(const bench::Stats& ns) { return {1e9 / ns.median, 1e9 / ns.max, 1e9 / ns.min}; }

void run(const Transport& transport, const bench::Mode& mode) {
    testing::FakeAlationOptions fake_options;
    fake_options.tls = transport.tls;
    bench::ServerThread server(fake_options);
    auto& fake = server.fake;
    const auto& rt = server.refresh_token;

    ClientOptions options;
    std::shared_ptr<ssl::context> tls_context;
    const auto dir = std::filesystem::temp_directory_path();
    std::string ca_file;
    if (transport.tls) {
        ca_file = fake.write_ca_file(dir);
        options.ca_file = ca_file;
        tls_context = std::make_shared<ssl::context>(ssl::context::tls_client);
        tls_context->load_verify_file(ca_file);
    }
    asio::io_context io;
    Client client(io.get_executor(), fake.base_url(), options);
    const std::string host =
        transport.tls ? "localhost:" + std::to_string(fake.port()) : "127.0.0.1:" + std::to_string(fake.port());

    std::size_t checksum = 0;
    std::vector<CpuLog> cpu_log;
    const SleepingThreads threads{{gettid()}, {server.tid()}};
    auto b = transport.tls ? batches<beast::ssl_stream<beast::tcp_stream>>(io, client, rt, fake.port(), host,
                                                                           tls_context, checksum, cpu_log, threads)
                           : batches<beast::tcp_stream>(io, client, rt, fake.port(), host, tls_context, checksum,
                                                        cpu_log, threads);
    const std::size_t minted_before = fake.access_tokens_minted();
    const auto ns = bench::ns_per_op_side_by_side(b, mode);
    if (checksum == 0 || fake.access_tokens_minted() == minted_before) throw std::logic_error("no token was minted");

    const auto seq_client = per_second(ns[0]), seq_hand = per_second(ns[1]);
    const auto con_client = per_second(ns[2]), con_hand = per_second(ns[3]);
    const std::string n = std::to_string(concurrency);
    bench::Table table(std::string("bench_round_trip: createAPIAccessToken over ") + transport.name +
                       " (calls/s, higher is better; min = slowest repetition)");
    table.row("(a) Client, sequential (keep-alive)", seq_client, "calls/s", ">= 1/1.2 of (b)",
              bench::Table::verdict(seq_client.median * 1.2, seq_hand.median, false) + ", " +
                  bench::Table::number(seq_client.median / seq_hand.median) + "x (b)");
    table.row("(b) hand-written Beast keep-alive, sequential", seq_hand, "calls/s");
    table.row("(a) Client, " + n + " concurrent coroutines", con_client, "calls/s", ">= 1/1.2 of (b)",
              bench::Table::verdict(con_client.median * 1.2, con_hand.median, false) + ", " +
                  bench::Table::number(con_client.median / con_hand.median) + "x (b)");
    table.row("(b) hand-written Beast, " + n + " connections", con_hand, "calls/s");
    const auto measured = [&](const std::vector<double>& log) {
        return bench::summarize(std::vector<double>(log.end() - mode.repetitions, log.end()));
    };
    const auto cpu = [&](int i) { return measured(cpu_log[i].cpu_us); };
    const auto cpu_ratio = [&](int client_i, int hand_i) {
        return bench::Table::number(cpu(client_i).median / cpu(hand_i).median) + "x (b)";
    };
    table.row("(a) Client, sequential: client-thread CPU per call", cpu(0), "us", "", cpu_ratio(0, 1));
    table.row("(b) hand-written, sequential: client-thread CPU per call", cpu(1), "us");
    table.row("(a) Client, " + n + " concurrent: client-thread CPU per call", cpu(2), "us", "", cpu_ratio(2, 3));
    table.row("(b) hand-written, " + n + " connections: client-thread CPU per call", cpu(3), "us");
    const auto sleeps = [&](int i) {
        return "client " + bench::Table::number(measured(cpu_log[i].client_sleeps).median) + ", server " +
               bench::Table::number(measured(cpu_log[i].server_sleeps).median);
    };
    table.row("(a) Client, sequential: sleeps per call", measured(cpu_log[0].client_sleeps), "client", sleeps(0));
    table.row("(b) hand-written, sequential: sleeps per call", measured(cpu_log[1].client_sleeps), "client", sleeps(1));
    table.row("(a) Client, " + n + " concurrent: sleeps per call", measured(cpu_log[2].client_sleeps), "client",
              sleeps(2));
    table.row("(b) hand-written, " + n + " connections: sleeps per call", measured(cpu_log[3].client_sleeps), "client",
              sleeps(3));
    table.row("(a) Client, sequential: allocations per call", measured(cpu_log[0].allocations), "allocs",
              bench::Table::number(measured(cpu_log[0].bytes).median) + " bytes");
    table.row("(b) hand-written, sequential: allocations per call", measured(cpu_log[1].allocations), "allocs",
              bench::Table::number(measured(cpu_log[1].bytes).median) + " bytes");
    table.row("fake: connections accepted in all", static_cast<double>(fake.connections_accepted()), "");
    table.print();

    if (!ca_file.empty()) std::filesystem::remove(ca_file);
}

}  // namespace

int main(int argc, char** argv) {
    const auto mode = bench::Mode::parse(argc, argv);
    bench::count_allocations_of_this_thread(client_allocations);
    run({"plain HTTP", false}, mode);
    run({"TLS", true}, mode);
}
