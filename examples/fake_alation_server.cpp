// A fake Alation Data Catalog to try clients against: the token endpoints, OAuth 2.0 client
// credentials (/oauth/v2/token/, /oauth/v2/introspect/) and a protected endpoint
// (GET /integration/v2/table/), on 127.0.0.1, plain HTTP or TLS with a generated CA.
//
//   fake_alation_server [--port N] [--tls] [--user NAME:PASSWORD]... [--access-lifetime SECONDS]
//                       [--oauth-client ID:SECRET[:LIFETIME_SECONDS]]...
//
// Prints the base URL on the first line of stdout and, with --tls, the path of the CA file to trust
// on the second, for scripts; the users, OAuth clients and the final counts go to stderr. Serves
// until SIGINT or SIGTERM.
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

constexpr std::string_view usage_text =
    "usage: fake_alation_server [--port N] [--tls] [--user NAME:PASSWORD]... [--access-lifetime SECONDS]\n"
    "                           [--oauth-client ID:SECRET[:LIFETIME_SECONDS]]...\n"
    "  default user (without --user): demo / demo-password\n"
    "  --oauth-client  registers an OAuth client whose JWTs live LIFETIME_SECONDS (default 3600);\n"
    "                  the ID ends at the first colon; a trailing :DIGITS is the lifetime, so a\n"
    "                  SECRET that itself ends in :DIGITS needs the lifetime written after it\n";

[[noreturn]] void usage(std::string_view error) {
    std::cerr << "fake_alation_server: " << error << '\n' << usage_text;
    std::exit(2);
}

template <class Int>
Int parse_number(std::string_view text, std::string_view option) {
    Int value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        usage(std::string(option) + ": not a number: " + std::string(text));
    return value;
}

struct OAuthClient {
    std::string id;
    std::string secret;
    std::chrono::seconds lifetime{3600};
};

// ID:SECRET[:LIFETIME_SECONDS]
OAuthClient parse_oauth_client(std::string_view spec) {
    const auto colon = spec.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == spec.size())
        usage("--oauth-client takes ID:SECRET[:LIFETIME_SECONDS]");
    OAuthClient client{std::string(spec.substr(0, colon)), std::string(spec.substr(colon + 1))};
    const auto last = client.secret.rfind(':');
    const std::string_view digits = last == std::string::npos ? "" : std::string_view(client.secret).substr(last + 1);
    if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos) {
        const long seconds = parse_number<long>(digits, "--oauth-client");
        if (seconds <= 0) usage("--oauth-client: the lifetime must be positive");
        client.lifetime = std::chrono::seconds(seconds);
        client.secret.resize(last);
        if (client.secret.empty()) usage("--oauth-client takes ID:SECRET[:LIFETIME_SECONDS]");
    }
    return client;
}

}  // namespace

int main(int argc, char** argv) {
    alation::auth::testing::FakeAlationOptions options;
    std::vector<std::pair<std::string, std::string>> users;
    std::vector<OAuthClient> oauth_clients;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--port") {
            options.port = parse_number<unsigned short>(value(), arg);
        } else if (arg == "--tls") {
            options.tls = true;
        } else if (arg == "--user") {
            const std::string_view spec = value();
            const auto colon = spec.find(':');
            if (colon == std::string_view::npos || colon == 0) usage("--user takes NAME:PASSWORD");
            users.emplace_back(spec.substr(0, colon), spec.substr(colon + 1));
        } else if (arg == "--oauth-client") {
            oauth_clients.push_back(parse_oauth_client(value()));
        } else if (arg == "--access-lifetime") {
            const long seconds = parse_number<long>(value(), arg);
            if (seconds <= 0) usage("--access-lifetime must be positive");
            options.access_token_lifetime = std::chrono::seconds(seconds);
        } else if (arg == "--help" || arg == "-h") {
            std::cout << usage_text;
            return 0;
        } else {
            usage("unknown argument: " + std::string(arg));
        }
    }
    if (users.empty()) users.emplace_back("demo", "demo-password");

    try {
        boost::asio::io_context ioc;
        alation::auth::testing::FakeAlation fake(ioc.get_executor(), options);
        for (auto& [name, password] : users) {
            const std::int64_t id = fake.add_user(name, std::move(password));
            std::cerr << "user " << name << " (user_id " << id << ")\n";
        }
        for (auto& client : oauth_clients) {
            std::cerr << "OAuth client " << client.id << " (tokens of " << client.lifetime.count() << " s)\n";
            fake.add_oauth_client(std::move(client.id), std::move(client.secret), client.lifetime);
        }
        std::cout << fake.base_url() << '\n';
        std::string ca_file;
        if (options.tls) {
            ca_file = fake.write_ca_file(std::filesystem::temp_directory_path());
            std::cout << ca_file << '\n';
        }
        std::cout << std::flush;

        boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code ec, int) {
            if (!ec) fake.stop();
        });
        // Returns once stop() has closed the acceptor and every connection.
        ioc.run();
        std::cerr << "stopped after " << fake.access_tokens_minted() << " access tokens, "
                  << fake.refresh_tokens_created() << " refresh tokens and " << fake.oauth_tokens_minted()
                  << " OAuth tokens" << std::endl;
        if (!ca_file.empty()) std::filesystem::remove(ca_file);
    } catch (const std::exception& e) {
        std::cerr << "fake_alation_server: " << e.what() << '\n';
        return 1;
    }
}
