// A small service: many concurrent workers on two threads make authorized requests to the
// catalog through one TokenProvider, for several access-token lifetimes, against an embedded
// fake Alation whose tokens live 3 seconds. The service writes no token code: the provider
// refreshes in the background and the workers never see an expired token.
//
// The provider's tokens come from a refresh token, or, when ALATION_CLIENT_ID and
// ALATION_CLIENT_SECRET are set, from those OAuth 2.0 client credentials (registered with the
// embedded catalog as a service account): the service's code is the same for both.
//
//   service [SECONDS]   (default 12)
#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace auth = alation::auth;
using namespace std::chrono_literals;

namespace {

struct Stats {
    std::atomic<long> ok{0};
    std::atomic<long> failed{0};
};

// One worker: a keep-alive connection to the catalog, one authorized request after another.
asio::awaitable<void> worker(auth::TokenProvider& provider, unsigned short port,
                             std::chrono::steady_clock::time_point until, Stats& stats) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    co_await stream.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    beast::flat_buffer buffer;
    while (std::chrono::steady_clock::now() < until) {
        http::request<http::empty_body> request{http::verb::get, "/integration/v2/table/", 11};
        request.set(http::field::host, "127.0.0.1");
        http::response<http::string_body> response;
        // Authorizes with the cached token; on a 401/403 it drops that token and retries once.
        co_await provider.send(stream, request, buffer, response);
        (response.result() == http::status::ok ? stats.ok : stats.failed)++;
        asio::steady_timer pause(stream.get_executor(), 2ms);
        co_await pause.async_wait(asio::use_awaitable);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const auto seconds = std::chrono::seconds(argc > 1 ? std::atoi(argv[1]) : 12);

    // The catalog: a fake Alation on its own thread, with 3-second access tokens.
    asio::io_context catalog_io;
    auth::testing::FakeAlationOptions catalog_options;
    catalog_options.access_token_lifetime = 3s;
    auth::testing::FakeAlation catalog(catalog_io.get_executor(), catalog_options);
    const auto user_id = catalog.add_user("svc-reporting", "a-service-password");
    const auto refresh_token = catalog.issue_refresh_token(user_id, "reporting-service");
    const char* client_id = std::getenv("ALATION_CLIENT_ID");
    const char* client_secret = std::getenv("ALATION_CLIENT_SECRET");
    const bool oauth = client_id && *client_id && client_secret && *client_secret;
    if (oauth) catalog.add_oauth_client(client_id, client_secret, 3s);
    std::thread catalog_thread([&] { catalog_io.run(); });

    // The service: one Client and one TokenProvider for all its workers, on two threads.
    asio::io_context io;
    auth::Client client(io.get_executor(), catalog.base_url());
    std::mutex log_mutex;
    auth::ProviderOptions options;
    options.on_event = [&](const auth::ProviderEvent& event) {  // redacted: safe to log
        std::lock_guard lock(log_mutex);
        std::cout << "token provider: " << event << "\n";
    };
    auto provider_storage =
        oauth ? std::make_unique<auth::TokenProvider>(
                    client, auth::OAuthClientCredentials{client_id, auth::Secret(client_secret)}, options)
              : std::make_unique<auth::TokenProvider>(client, refresh_token, options);
    auth::TokenProvider& provider = *provider_storage;

    Stats stats;
    const auto until = std::chrono::steady_clock::now() + seconds;
    constexpr int workers = 32;
    std::atomic<int> running{workers};
    for (int i = 0; i < workers; ++i) {
        asio::co_spawn(io, worker(provider, catalog.port(), until, stats), [&](std::exception_ptr e) {
            if (e) stats.failed++;
            if (--running == 0) provider.stop();  // lets io.run() return
        });
    }
    std::thread second_thread([&] { io.run(); });
    io.run();
    second_thread.join();

    catalog.stop();
    catalog_thread.join();

    std::cout << "\n"
              << stats.ok << " requests accepted, " << stats.failed << " failed, "
              << catalog.protected_rejected_expired() << " sent with an expired token, "
              << (oauth ? catalog.oauth_tokens_minted() : catalog.access_tokens_minted())
              << (oauth ? " OAuth tokens" : " access tokens") << " minted in " << seconds.count() << " s\n";
    return stats.failed == 0 && catalog.protected_rejected_expired() == 0 ? 0 : 1;
}
