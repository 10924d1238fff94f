// The program each consumer project builds, using the library as an application would: against the
// fake Alation it creates a refresh token with alation::auth::Client, then calls a protected
// endpoint with plain Beast through a TokenProvider over that token. Exits 0 only when that call
// answers 200.
//
// Header-only, TokenProvider's constructors are defined where token_provider.hpp and client.hpp
// meet, whichever comes first: the find_package project includes the provider's header first
// (CONSUMER_PROVIDER_HEADER_FIRST), the others the umbrella header, which has the Client's first.
#ifdef CONSUMER_PROVIDER_HEADER_FIRST
#include <alation/auth/token_provider.hpp>
#endif
#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>
#ifdef CONSUMER_WITH_REDIS
#include <alation/auth/redis_token_store.hpp>
#endif

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace auth = alation::auth;

namespace {

constexpr std::string_view username = "consumer";
constexpr std::string_view password = "consumer-password";

// The HTTP status of GET /integration/v2/table/ made with a freshly minted access token.
asio::awaitable<unsigned> get_table_list(const auth::testing::FakeAlation& fake) {
    const auto executor = co_await asio::this_coro::executor;
    auth::Client client(executor, fake.base_url());
    // A named variable, not a braced temporary inside the co_await expression: GCC 12 frees such a
    // temporary's strings wrongly (an invalid free under ASan).
    const auth::Credentials credentials{std::string(username), auth::Secret(password), "consumer-test"};
    auth::RefreshToken refresh_token = co_await client.create_refresh_token(credentials);
    auth::ProviderOptions options;
    options.refresh.first_mint_jitter = {};  // A single process: its first request need not wait.
    auth::TokenProvider provider(client, std::move(refresh_token), std::move(options));

    beast::tcp_stream stream(executor);
    co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), fake.port()),
                                  asio::use_awaitable);
    http::request<http::empty_body> request(http::verb::get, "/integration/v2/table/", 11);
    request.set(http::field::host, "127.0.0.1");
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await provider.send(stream, request, buffer, response);
    co_return response.result_int();
}

#ifdef CONSUMER_WITH_REDIS
// A load from a RedisTokenStore where no Redis listens: it must complete, with
// token_store_unavailable, through hiredis.
bool redis_store_reports_unavailable() {
    asio::io_context io;
    auth::RedisTokenStoreOptions options;
    options.port = 1;
    auto store = auth::RedisTokenStore::create(io.get_executor(), std::move(options));
    auth::error_code result;
    store->async_load("user:1", [&](auth::error_code ec, std::optional<auth::RefreshToken>) { result = ec; });
    io.run();
    std::printf("alation-auth %s: RedisTokenStore without Redis: %s\n", ALATION_AUTH_VERSION_STRING,
                result.message().c_str());
    return result == auth::Error::token_store_unavailable;
}
#endif

}  // namespace

int main() {
#ifdef CONSUMER_WITH_REDIS
    if (!redis_store_reports_unavailable()) return 1;
#endif
    asio::io_context io;
    auth::testing::FakeAlation fake(io.get_executor());
    fake.add_user(std::string(username), std::string(password));

    unsigned status = 0;
    std::exception_ptr failure;
    asio::co_spawn(io, get_table_list(fake), [&](std::exception_ptr e, unsigned s) {
        failure = e;
        status = s;
        fake.stop();  // Lets io.run() return.
    });
    io.run();

    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "alation-auth %s consumer failed: %s\n", ALATION_AUTH_VERSION_STRING, e.what());
        }
        return 1;
    }
    std::printf("alation-auth %s: GET /integration/v2/table/ answered %u\n", ALATION_AUTH_VERSION_STRING, status);
    return status == 200 ? 0 : 1;
}
