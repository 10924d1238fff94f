// Quickstart: a refresh token, an access token, and an authorized call to the catalog.
//
// Runs against an embedded fake Alation by default. To use a real instance, set
//   ALATION_URL=https://catalog.example.com
// and either ALATION_USERNAME + ALATION_PASSWORD (a refresh token named "alation-auth-quickstart"
// is created), or ALATION_REFRESH_TOKEN + ALATION_USER_ID (an existing one is used).
// With ALATION_CLIENT_ID + ALATION_CLIENT_SECRET set it uses OAuth 2.0 client credentials instead
// (a JWT access token, no refresh token); the embedded fake then registers that client.
#include <alation/auth.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace auth = alation::auth;

namespace {

std::optional<std::string> env(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value) return std::nullopt;
    return std::string(value);
}

// GET <base>/integration/v2/table/?limit=1 with the provider's token, over http or https, on a
// connection the Client makes the way it makes its own: through the proxy it uses, if any.
asio::awaitable<http::status> list_one_table(auth::Client& client, auth::TokenProvider& provider,
                                             const std::string& base_url) {
    const auto url = boost::urls::parse_uri(base_url).value();
    const std::string host = url.host();
    std::string target = std::string(url.path());
    if (!target.empty() && target.back() == '/') target.pop_back();
    target += "/integration/v2/table/?limit=1";

    asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
    co_await client.connect(socket);

    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    request.set(http::field::accept, "application/json");
    beast::flat_buffer buffer;
    http::response<http::string_body> response;

    if (!client.ssl_context()) {
        beast::tcp_stream stream(std::move(socket));
        co_await provider.send(stream, request, buffer, response);
    } else {
        // The Client's trust settings (system store, ca_file); SNI and host-name check are ours.
        beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *client.ssl_context());
        SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
        stream.set_verify_mode(asio::ssl::verify_peer);
        stream.set_verify_callback(asio::ssl::host_name_verification(host));
        co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        co_await provider.send(stream, request, buffer, response);
    }
    co_return response.result();
}

// Prints the status of the authorized call; throws unless it is 200.
asio::awaitable<void> call_the_catalog(auth::Client& client, auth::TokenProvider& provider,
                                       const std::string& base_url) {
    const auto status = co_await list_one_table(client, provider, base_url);
    std::cout << "GET /integration/v2/table/: " << static_cast<unsigned>(status) << " " << http::obsolete_reason(status)
              << "\n";
    if (status != http::status::ok) throw std::runtime_error("the authorized call was not accepted");
}

// OAuth 2.0 client credentials: a JWT access token straight from the client id and secret.
asio::awaitable<void> quickstart_oauth(std::string base_url, auth::OAuthClientCredentials credentials) {
    auto executor = co_await asio::this_coro::executor;
    auth::Client client(executor, base_url);

    // 1. An access token, by hand.
    const auth::AccessToken access_token = co_await client.create_oauth_token(credentials);
    std::cout << "OAuth access token: " << access_token << "\n";

    // 2. What a service does instead: a TokenProvider over the client credentials.
    auth::TokenProvider provider(client, std::move(credentials));
    co_await call_the_catalog(client, provider, base_url);
}

asio::awaitable<void> quickstart(std::string base_url) {
    auto executor = co_await asio::this_coro::executor;
    auth::Client client(executor, base_url);

    // 1. A refresh token: long-lived, made from a username and password.
    auth::RefreshToken refresh_token;
    if (auto existing = env("ALATION_REFRESH_TOKEN")) {
        refresh_token.value = auth::Secret(std::move(*existing));
        refresh_token.user_id = std::stoll(env("ALATION_USER_ID").value_or("0"));
        refresh_token = co_await client.validate_refresh_token(refresh_token);
    } else {
        auth::Credentials credentials;
        credentials.username = env("ALATION_USERNAME").value_or("demo");
        credentials.password = auth::Secret(env("ALATION_PASSWORD").value_or("demo-password"));
        credentials.name = "alation-auth-quickstart";
        refresh_token = co_await client.create_refresh_token(credentials);
    }
    std::cout << "refresh token: " << refresh_token << "\n";

    // 2. An access token, by hand: short-lived, made from the refresh token.
    const auth::AccessToken access_token = co_await client.create_access_token(refresh_token);
    std::cout << "access token:  " << access_token << "\n";

    // 3. What a service does instead: a TokenProvider keeps a valid token on every request.
    auth::TokenProvider provider(client, refresh_token);
    co_await call_the_catalog(client, provider, base_url);
}

}  // namespace

int main() {
    asio::io_context io;
    std::optional<auth::testing::FakeAlation> fake;
    std::string base_url;
    std::optional<auth::OAuthClientCredentials> oauth;
    try {
        oauth = auth::client_credentials_from_environment();  // ALATION_CLIENT_ID, ALATION_CLIENT_SECRET
    } catch (const auth::ErrorWithDiagnostics& error) {
        std::cerr << "error: " << error.code().message() << " (" << error.diagnostics() << ")\n";
        return 1;
    }
    if (auto url = env("ALATION_URL")) {
        base_url = *url;
    } else {
        fake.emplace(io.get_executor());
        fake->add_user("demo", "demo-password");
        if (oauth) fake->add_oauth_client(oauth->client_id, std::string(oauth->client_secret.reveal()));
        base_url = fake->base_url();
        std::cout << "using the embedded fake Alation at " << base_url << " (set ALATION_URL for a real one)\n";
    }

    int exit_code = 0;
    auto run = oauth ? quickstart_oauth(base_url, std::move(*oauth)) : quickstart(base_url);
    asio::co_spawn(io, std::move(run), [&](std::exception_ptr e) {
        if (e) {
            exit_code = 1;
            try {
                std::rethrow_exception(e);
            } catch (const auth::ErrorWithDiagnostics& error) {
                std::cerr << "error: " << error.code().message() << " (" << error.diagnostics() << ")\n";
            } catch (const std::exception& error) {
                std::cerr << "error: " << error.what() << "\n";
            }
        }
        io.stop();  // the fake server would serve forever
    });
    io.run();
    return exit_code;
}
