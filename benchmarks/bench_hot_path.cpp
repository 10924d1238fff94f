// bench_hot_path: the cost of putting a cached token on a request, next to setting the header by
// hand in the same run.
//
// Every iteration inserts the TOKEN header into a request holding Host, User-Agent and Accept,
// reads the inserted field back into a checksum, and erases it, so that every set really inserts
// and every figure pays the same read-back and erase.
#include "bench_common.hpp"

#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace alation::auth;
using bench::Clock;

namespace {

using Request = http::request<http::empty_body>;
using Batch = std::function<double(std::uint64_t)>;

Request make_request() {
    Request req{http::verb::get, "/integration/v2/table/", 11};
    req.set(http::field::host, "catalog.example.com");
    req.set(http::field::user_agent, "bench");
    req.set(http::field::accept, "application/json");
    return req;
}

// Reads back the field just inserted (the last one) and erases it.
std::size_t take_last_field(Request& req) {
    const auto last = std::prev(req.end());
    const std::size_t size = last->value().size();
    req.erase(last);
    return size;
}

// A batch of `op(req)` on one request, timed.
template <class Op>
Batch plain_batch(Op op) {
    return [op](std::uint64_t n) {
        auto req = make_request();
        std::size_t checksum = 0;
        const auto start = Clock::now();
        for (std::uint64_t i = 0; i < n; ++i) {
            op(req);
            checksum += take_last_field(req);
        }
        const double took = bench::seconds_since(start);
        if (checksum == 0) throw std::logic_error("no header was set");
        bench::do_not_optimize(checksum);
        return took;
    };
}

// The same on `threads` threads at once, each with its own request: wall time of n operations per thread.
template <class Op>
Batch threaded_batch(Op op, int threads) {
    return [op, threads](std::uint64_t n) {
        std::vector<std::thread> pool;
        std::atomic<int> ready{0};
        std::atomic<bool> go{false};
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                auto req = make_request();
                std::size_t checksum = 0;
                ++ready;
                while (!go.load()) std::this_thread::yield();
                for (std::uint64_t i = 0; i < n; ++i) {
                    op(req);
                    checksum += take_last_field(req);
                }
                bench::do_not_optimize(checksum);
            });
        while (ready.load() != threads) std::this_thread::yield();
        const auto start = Clock::now();
        go = true;
        for (auto& t : pool) t.join();
        return bench::seconds_since(start);
    };
}

// A batch of `co_await op(req)` in a coroutine on `io`, timed inside the coroutine.
template <class Op>
Batch coroutine_batch(asio::io_context& io, Op op) {
    return [&io, op](std::uint64_t n) {
        double took = 0;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                auto req = make_request();
                std::size_t checksum = 0;
                const auto start = Clock::now();
                for (std::uint64_t i = 0; i < n; ++i) {
                    co_await op(req);
                    checksum += take_last_field(req);
                }
                took = bench::seconds_since(start);
                if (checksum == 0) throw std::logic_error("no header was set");
                bench::do_not_optimize(checksum);
            },
            [&](std::exception_ptr e) {
                io.stop();
                if (e) std::rethrow_exception(e);
            });
        io.run();  // the provider's refresh timer keeps it busy: the handler above stops it
        io.restart();
        return took;
    };
}

}  // namespace

int main(int argc, char** argv) {
    const auto mode = bench::Mode::parse(argc, argv);

    // The fake serves on its own thread; the provider lives on `io`, run by this thread only.
    bench::ServerThread server;
    auto& fake = server.fake;
    const auto& refresh_token = server.refresh_token;

    asio::io_context io;
    Client client(io.get_executor(), fake.base_url());
    TokenProvider provider(client, refresh_token);
    // The same policy over OAuth client credentials: the hot path does not depend on the source.
    fake.add_oauth_client("bench-client", "bench-client-secret");
    TokenProvider oauth_provider(client, OAuthClientCredentials{"bench-client", Secret("bench-client-secret")});
    std::string value;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            value = std::string((co_await provider.token()).value.reveal());
            co_await oauth_provider.token();
        },
        [&](std::exception_ptr e) {
            io.stop();
            if (e) std::rethrow_exception(e);
        });
    io.run();
    io.restart();

    {
        auto probe = make_request();
        if (!provider.try_authorize(probe) || probe["TOKEN"] != value) throw std::logic_error("no cached token");
    }

    const auto bare_set = [&value](Request& req) { req.set("TOKEN", value); };
    const auto field_set = [&value](Request& req) { req.set(http::field::authorization, value); };
    const auto try_authorize = [&provider](Request& req) {
        if (!provider.try_authorize(req)) throw std::logic_error("try_authorize found no token");
    };
    const auto try_authorize_oauth = [&oauth_provider](Request& req) {
        if (!oauth_provider.try_authorize(req)) throw std::logic_error("try_authorize found no token");
    };
    const auto co_authorize = [&provider](Request& req) { return provider.authorize(req); };
    // The floor under any asynchronous completion: one suspend and resume through the scheduler.
    const auto co_post_set = [&value](Request& req) -> asio::awaitable<void> {
        co_await asio::post(co_await asio::this_coro::executor, asio::deferred);
        req.set("TOKEN", value);
    };

    // What Asio charges for awaiting an operation that completes inside its initiation, under the
    // rule authorize follows with a usable token: the handler resumes the coroutine in place, and
    // each time detail::max_inline_resumptions such resumptions have nested on the stack, one goes
    // through the scheduler instead and unwinds it. Then the same through the library's default
    // token, whose handler throws with diagnostics on error: co_await authorize less this is the
    // provider's own share.
    int depth = 0;  // in-place resumptions on this stack, as detail::inline_resumptions counts them
    const auto complete_like_authorize = [&depth](auto handler) {
        if (depth == detail::max_inline_resumptions) {
            asio::post(asio::append(std::move(handler), error_code{}));
            return;
        }
        ++depth;
        std::move(handler)(error_code{});
        --depth;
    };
    const auto co_inline_set = [&value, &complete_like_authorize](Request& req) {
        return asio::async_initiate<const asio::deferred_t&, void(error_code)>(
            [&](auto handler) {
                req.set("TOKEN", value);
                complete_like_authorize(std::move(handler));
            },
            asio::deferred);
    };
    const auto co_inline_default_set = [&value, &complete_like_authorize](Request& req) {
        DefaultCompletionToken token;
        return asio::async_initiate<DefaultCompletionToken, void(error_code)>(
            [&](auto handler, Diagnostics* /*out*/) {
                req.set("TOKEN", value);
                complete_like_authorize(std::move(handler));
            },
            token, static_cast<Diagnostics*>(nullptr));
    };

    // Part of try_authorize's cost that any expiry check pays: reading the clock.
    const Batch clock_read = [](std::uint64_t n) {
        std::int64_t checksum = 0;
        const auto start = Clock::now();
        for (std::uint64_t i = 0; i < n; ++i) checksum += SteadyClock::now().time_since_epoch().count() & 1;
        const double took = bench::seconds_since(start);
        bench::do_not_optimize(checksum);
        return took;
    };

    std::vector<Batch> single{
        plain_batch(bare_set),
        plain_batch(field_set),
        plain_batch(try_authorize),
        coroutine_batch(io, co_authorize),
        coroutine_batch(io, co_post_set),
        clock_read,
        plain_batch(try_authorize_oauth),
        coroutine_batch(io, co_inline_set),
        coroutine_batch(io, co_inline_default_set),
    };
    const auto s = bench::ns_per_op_side_by_side(single, mode);
    const double bare = s[0].median;

    std::vector<Batch> contended{
        threaded_batch(bare_set, 2),
        threaded_batch(try_authorize, 2),
    };
    const auto c = bench::ns_per_op_side_by_side(contended, mode);

    bench::Table table("bench_hot_path: a cached token onto a request (ns per call, one thread unless said)");
    table.row("req.set(\"TOKEN\", value) (bare)", s[0], "ns/call");
    table.row("req.set(http::field::authorization, value)", s[1], "ns/call");
    table.row("provider.try_authorize(req)", s[2], "ns/call", "<= 2x bare set",
              bench::Table::verdict(s[2].median, 2 * bare, true) + ", " + bench::Table::number(s[2].median / bare) +
                  "x bare");
    table.row("co_await provider.authorize(req) (default token)", s[3], "ns/call", "< 150 ns",
              bench::Table::verdict(s[3].median, 150, true));
    table.row("co_await asio::post(deferred) + bare set (through the scheduler)", s[4], "ns/call");
    table.row("co_await an op completing at once, deferred + bare set (Asio's floor)", s[7], "ns/call");
    table.row("same op, default token (Asio's and the token's floor)", s[8], "ns/call", "",
              "authorize less this: " + bench::Table::number(s[3].median - s[8].median) + " ns");
    table.row("steady_clock::now() alone (part of any expiry check)", s[5], "ns/call");
    table.row("oauth_provider.try_authorize(req) (OAuth source)", s[6], "ns/call", "<= 2x bare set",
              bench::Table::verdict(s[6].median, 2 * bare, true) + ", " + bench::Table::number(s[6].median / bare) +
                  "x bare");
    table.row("bare set, 2 threads at once (wall per call per thread)", c[0], "ns/call");
    table.row("try_authorize, 2 threads at once (wall per call per thread)", c[1], "ns/call", "",
              bench::Table::number(c[1].median / c[0].median) + "x bare, 2 threads");
    table.print();

    provider.stop();
    oauth_provider.stop();
}
