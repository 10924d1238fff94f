// A small service: many concurrent workers on two threads make authorized requests to the
// catalog through one TokenProvider, for several access-token lifetimes, against an embedded
// fake Alation whose tokens live 3 seconds. The service writes no token code: the provider
// refreshes in the background and the workers never see an expired token. The refresh token
// reaches the service as it would in a Kubernetes pod: as a mounted Secret, read with
// refresh_token_from_mount (docs/fleets.md).
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

#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <system_error>
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

// Stands in for Kubernetes: a private directory holding the token as a mounted Secret holds it,
// one file per key that only this user can read; removed when the example ends.
class SecretVolume {
public:
    explicit SecretVolume(const auth::RefreshToken& token) {
        std::string pattern = (std::filesystem::temp_directory_path() / "service-secret-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = pattern;
        write("refresh_token", token.value.reveal());
        write("user_id", std::to_string(token.user_id));
    }
    SecretVolume(const SecretVolume&) = delete;
    SecretVolume& operator=(const SecretVolume&) = delete;
    ~SecretVolume() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    void write(const char* key, std::string_view value) {
        std::ofstream(path_ / key) << value << '\n';  // the newline kubectl --from-file often keeps
        std::filesystem::permissions(path_ / key, std::filesystem::perms::owner_read);
    }

    std::filesystem::path path_;
};

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
    const SecretVolume secret_volume(refresh_token);

    // The service: one Client and one TokenProvider for all its workers, on two threads.
    asio::io_context io;
    auth::Client client(io.get_executor(), catalog.base_url());
    std::mutex log_mutex;
    auth::ProviderOptions options;
    options.on_event = [&](const auth::ProviderEvent& event) {  // redacted: safe to log
        std::lock_guard lock(log_mutex);
        std::cout << "token provider: " << event << "\n";
    };
    // As in a pod: the refresh token from a Secret mount, or OAuth client credentials from the
    // environment; both throw ErrorWithDiagnostics naming the file or variable when unusable.
    std::unique_ptr<auth::TokenProvider> provider_storage;
    if (oauth) {
        provider_storage =
            std::make_unique<auth::TokenProvider>(client, *auth::client_credentials_from_environment(), options);
    } else {
        auto credentials = auth::refresh_token_from_mount({secret_volume.path()});
        provider_storage =
            std::make_unique<auth::TokenProvider>(client, std::move(credentials.value), credentials.user_id, options);
    }
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
