// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
//
// alation-token: the Alation token endpoints from the shell, one subcommand per endpoint.
// Secrets come from the environment or a terminal prompt, never from the command line, where
// every user of the machine can read them (ps, /proc/PID/cmdline, shell history).

#include <alation/auth/client.hpp>
#include <alation/auth/detail/timestamp.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace alation::auth;

namespace {

constexpr std::string_view program = "alation-token";
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

// A mistake on the command line: exit status 2.
struct UsageError {
    std::string message;
};

enum class Input { credentials, refresh_token, access_token, oauth_client, oauth_client_and_token };

bool is_oauth(Input input) { return input == Input::oauth_client || input == Input::oauth_client_and_token; }

struct Command {
    std::string_view name;
    /// The path it POSTs to.
    std::string_view endpoint;
    Input input;
    std::string_view summary;
};

constexpr Command commands[] = {
    {"create-refresh-token", "/integration/v1/createRefreshToken/", Input::credentials,
     "Create a refresh token from a username and password (--name is required)."},
    {"validate-refresh-token", "/integration/v1/validateRefreshToken/", Input::refresh_token,
     "Show a refresh token's record; fails if it is invalid, expired or revoked."},
    {"regenerate-refresh-token", "/integration/v1/regenRefreshToken/", Input::refresh_token,
     "Replace a refresh token with a new one; the old one stops working."},
    {"create-access-token", "/integration/v1/createAPIAccessToken/", Input::refresh_token,
     "Mint an API access token from a refresh token."},
    {"validate-access-token", "/integration/v1/validateAPIAccessToken/", Input::access_token,
     "Show an API access token's record; fails if it is invalid, expired or revoked."},
    {"revoke-access-tokens", "/integration/v1/revokeAPIAccessTokens/", Input::refresh_token,
     "Revoke every active access token minted from a refresh token."},
    {"create-oauth-token", "/oauth/v2/token/", Input::oauth_client,
     "Get a JWT access token for an OAuth client (client credentials)."},
    {"introspect-oauth-token", "/oauth/v2/introspect/", Input::oauth_client_and_token,
     "Show whether a JWT access token is active, and its claims."},
};

// Options that would carry a secret, and where the secret goes instead.
constexpr std::pair<std::string_view, std::string_view> secret_options[] = {
    {"--password", "ALATION_PASSWORD"},
    {"--refresh-token", "ALATION_REFRESH_TOKEN"},
    {"--access-token", "ALATION_ACCESS_TOKEN"},
    {"--api-access-token", "ALATION_ACCESS_TOKEN"},
    {"--token", "ALATION_REFRESH_TOKEN or ALATION_ACCESS_TOKEN"},
    {"--client-secret", "ALATION_CLIENT_SECRET"},
};

struct Options {
    const Command* command = nullptr;
    bool help = false;
    std::string url;
    std::optional<std::int64_t> user_id;
    std::string name;
    std::string ca_file;
    bool allow_insecure_http = false;
    std::optional<std::string> proxy;
    bool no_proxy = false;
    bool reveal = false;
    std::optional<std::chrono::milliseconds> timeout;
    OAuthClientAuthentication client_authentication = OAuthClientAuthentication::client_secret_basic;
};

void print_overall_help(std::ostream& os) {
    os << "Usage: " << program << " COMMAND [OPTIONS]\n"
       << "       " << program << " COMMAND --help\n\n"
       << "Calls one Alation token endpoint and prints the result as one JSON object on stdout.\n\n"
       << "Commands:\n";
    for (const Command& c : commands) {
        os << "  " << c.name << std::string(26 - c.name.size(), ' ') << c.summary << '\n';
    }
    os << "\nSecrets are read from ALATION_USERNAME, ALATION_PASSWORD, ALATION_REFRESH_TOKEN,\n"
       << "ALATION_ACCESS_TOKEN, ALATION_CLIENT_ID and ALATION_CLIENT_SECRET, or asked for on the\n"
       << "terminal (echo off for secrets); never from arguments.\n"
       << "A proxy is taken from HTTPS_PROXY (and NO_PROXY) as curl does, unless --proxy or --no-proxy.\n"
       << "Exit status: 0 on success, 1 when the call fails, 2 for a usage error.\n";
}

void print_command_help(std::ostream& os, const Command& c) {
    os << "Usage: " << program << ' ' << c.name << " --url URL"
       << (c.input == Input::credentials ? " --name NAME"
           : is_oauth(c.input)           ? ""
                                         : " --user-id ID")
       << " [OPTIONS]\n\n"
       << c.summary << " (POST " << c.endpoint << ")\n\n"
       << "Options:\n"
       << "  --url URL             the catalog's base URL (default: $ALATION_URL)\n";
    if (c.input == Input::credentials) {
        os << "  --name NAME           the new refresh token's name, shown in Alation's UI\n";
    } else if (is_oauth(c.input)) {
        os << "  --client-auth HOW     basic (default: an Authorization header) or post (in the form)\n";
    } else {
        os << "  --user-id ID          the token owner's user id (default: $ALATION_USER_ID)\n";
    }
    os << "  --ca-file FILE        extra trusted CA certificates (PEM), e.g. a corporate proxy's\n"
       << "  --allow-insecure-http allow plain http to a host that is not loopback\n"
       << "  --proxy URL           go through this HTTP proxy, http://host:port, instead of the one\n"
       << "                        $HTTPS_PROXY names (a proxy password goes in $HTTPS_PROXY only)\n"
       << "  --no-proxy            connect directly, whatever $HTTPS_PROXY says\n"
       << "  --timeout SECONDS     give up after this long (default: the client's own timeouts)\n";
    if (c.name != "revoke-access-tokens" && c.input != Input::oauth_client_and_token) {
        os << "  --reveal              print the token's value (default: \"<redacted>\")\n";
    }
    os << "  --help                this help\n\nSecrets:\n";
    switch (c.input) {
    case Input::credentials: os << "  ALATION_USERNAME, ALATION_PASSWORD: else asked for on the terminal\n"; break;
    case Input::refresh_token: os << "  ALATION_REFRESH_TOKEN: else asked for on the terminal\n"; break;
    case Input::access_token: os << "  ALATION_ACCESS_TOKEN: else asked for on the terminal\n"; break;
    case Input::oauth_client:
        os << "  ALATION_CLIENT_ID, ALATION_CLIENT_SECRET: else asked for on the terminal\n";
        break;
    case Input::oauth_client_and_token:
        os << "  ALATION_CLIENT_ID, ALATION_CLIENT_SECRET, ALATION_ACCESS_TOKEN (the JWT):\n"
           << "  else asked for on the terminal\n";
        break;
    }
}

std::int64_t parse_user_id(std::string_view text) {
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id < 0) {
        throw UsageError{"the user id must be a non-negative integer, not '" + std::string(text) + "'"};
    }
    return id;
}

OAuthClientAuthentication parse_client_authentication(std::string_view text) {
    if (text == "basic") return OAuthClientAuthentication::client_secret_basic;
    if (text == "post") return OAuthClientAuthentication::client_secret_post;
    throw UsageError{"--client-auth takes basic or post, not '" + std::string(text) + "'"};
}

std::chrono::milliseconds parse_timeout(std::string_view text) {
    double seconds = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || end != text.data() + text.size() || !(seconds > 0) || seconds > 86'400) {
        throw UsageError{"--timeout takes a number of seconds between 0 and 86400, not '" + std::string(text) + "'"};
    }
    return std::chrono::milliseconds(std::llround(seconds * 1000));
}

// A proxy URL's password would be as readable on the command line as any other secret.
std::string parse_proxy(std::string_view url) {
    std::string_view authority = url;
    if (const auto scheme_end = authority.find("://"); scheme_end != std::string_view::npos) {
        authority.remove_prefix(scheme_end + 3);
    }
    authority = authority.substr(0, authority.find('/'));
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos) {
        throw UsageError{
            "--proxy: a proxy password is not accepted as an argument, which other users can read "
            "(ps, /proc, shell history); put the whole URL in HTTPS_PROXY instead"};
    }
    return std::string(url);
}

// Refuses a secret on the command line before anything else is looked at, naming only the option:
// the value itself is not repeated on stderr.
void refuse_secret_arguments(std::span<char*> args) {
    for (const std::string_view arg : args) {
        const std::string_view option = arg.substr(0, arg.find('='));
        for (const auto& [name, variable] : secret_options) {
            if (option == name) {
                throw UsageError{std::string(name) +
                                 ": secrets are not accepted as arguments, which other users "
                                 "can read (ps, /proc, shell history); set " +
                                 std::string(variable) + " or leave it unset to be asked on the terminal"};
            }
        }
    }
}

Options parse_arguments(std::span<char*> args) {
    refuse_secret_arguments(args);
    Options o;
    if (args.empty()) throw UsageError{"missing command"};
    const std::string_view first = args[0];
    if (first == "--help" || first == "-h" || first == "help") {
        o.help = true;
        return o;
    }
    for (const Command& c : commands) {
        if (c.name == first) o.command = &c;
    }
    if (o.command == nullptr) throw UsageError{"unknown command '" + std::string(first) + "'"};

    for (std::size_t i = 1; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (!arg.starts_with("--")) {
            // Not repeated: a stray positional argument may well be a pasted secret.
            throw UsageError{"unexpected argument at position " + std::to_string(i + 1) +
                             " (options start with --; secrets go in environment variables)"};
        }
        std::optional<std::string_view> inline_value;
        if (const auto eq = arg.find('='); eq != std::string_view::npos) {
            inline_value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        auto flag = [&](bool& target) {
            if (inline_value) throw UsageError{std::string(arg) + " takes no value"};
            target = true;
        };
        auto value = [&]() -> std::string_view {
            if (inline_value) return *inline_value;
            if (i + 1 >= args.size()) throw UsageError{std::string(arg) + " needs a value"};
            return args[++i];
        };
        if (arg == "--help") {
            flag(o.help);
        } else if (arg == "--url") {
            o.url = value();
        } else if (arg == "--user-id") {
            o.user_id = parse_user_id(value());
        } else if (arg == "--name") {
            o.name = value();
        } else if (arg == "--ca-file") {
            o.ca_file = value();
        } else if (arg == "--allow-insecure-http") {
            flag(o.allow_insecure_http);
        } else if (arg == "--proxy") {
            o.proxy = parse_proxy(value());
        } else if (arg == "--no-proxy") {
            flag(o.no_proxy);
        } else if (arg == "--reveal") {
            flag(o.reveal);
        } else if (arg == "--timeout") {
            o.timeout = parse_timeout(value());
        } else if (arg == "--client-auth" && is_oauth(o.command->input)) {
            o.client_authentication = parse_client_authentication(value());
        } else {
            throw UsageError{"unknown option " + std::string(arg)};
        }
    }
    if (o.help) return o;
    if (o.proxy && o.no_proxy) throw UsageError{"--proxy and --no-proxy contradict each other"};

    if (o.url.empty()) {
        if (const char* env = std::getenv("ALATION_URL")) o.url = env;
    }
    if (o.url.empty()) throw UsageError{"no catalog URL: pass --url or set ALATION_URL"};
    if (o.command->input == Input::credentials) {
        if (o.name.empty()) throw UsageError{"create-refresh-token needs --name, the new refresh token's name"};
    } else if (!is_oauth(o.command->input)) {
        if (!o.user_id) {
            if (const char* env = std::getenv("ALATION_USER_ID")) o.user_id = parse_user_id(env);
        }
        if (!o.user_id) throw UsageError{"no user id: pass --user-id or set ALATION_USER_ID"};
    }
    return o;
}

// The terminal whose echo is off, and its settings before: what a signal handler restores.
int quiet_tty = -1;
termios echoing_settings{};

// A signal that ends the program at the prompt (Ctrl-C, Ctrl-\, a hangup, kill) would leave
// the user's terminal without echo: restore it, then die of the signal as if not caught.
void restore_echo_and_reraise(int signal_number) {
    ::tcsetattr(quiet_tty, TCSAFLUSH, &echoing_settings);
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
}

// Turns the terminal's echo off when `enabled`, and back on however the prompt ends.
class EchoOff {
public:
    EchoOff(int fd, bool enabled) : fd_(fd) {
        if (!enabled || ::tcgetattr(fd_, &echoing_settings) != 0) return;
        quiet_tty = fd_;
        struct sigaction restoring = {};
        restoring.sa_handler = restore_echo_and_reraise;
        sigemptyset(&restoring.sa_mask);
        for (std::size_t i = 0; i < fatal_signals.size(); ++i) ::sigaction(fatal_signals[i], &restoring, &previous_[i]);
        termios quiet = echoing_settings;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
        if (!active_) restore_handlers();
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;
    ~EchoOff() {
        if (!active_) return;
        ::tcsetattr(fd_, TCSAFLUSH, &echoing_settings);
        restore_handlers();
    }

private:
    static constexpr std::array<int, 4> fatal_signals{SIGINT, SIGQUIT, SIGTERM, SIGHUP};

    void restore_handlers() {
        for (std::size_t i = 0; i < fatal_signals.size(); ++i) ::sigaction(fatal_signals[i], &previous_[i], nullptr);
        quiet_tty = -1;
    }

    int fd_;
    std::array<struct sigaction, fatal_signals.size()> previous_{};
    bool active_ = false;
};

// The value of `variable`, else a line typed on the controlling terminal (echo off for secrets).
Secret read_input(const char* variable, std::string_view prompt, bool secret) {
    if (const char* env = std::getenv(variable); env != nullptr && *env != '\0') return Secret(std::string_view(env));

    const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty < 0) {
        throw UsageError{std::string(variable) + " is not set and there is no terminal to ask for it on"};
    }
    std::string line;
    line.reserve(4096);  // never reallocated, so no unwiped copy of the secret is freed
    {
        const EchoOff echo_off(tty, secret);
        (void)!::write(tty, prompt.data(), prompt.size());
        char c = 0;
        while (line.size() < line.capacity() && ::read(tty, &c, 1) == 1 && c != '\n') line += c;
    }
    if (secret) (void)!::write(tty, "\n", 1);
    ::close(tty);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
        Secret::wipe(line);
        throw UsageError{std::string("nothing entered for ") + variable};
    }
    return Secret(std::move(line));
}

json::string timestamp(Timestamp t) { return {detail::format_timestamp(t)}; }

json::value token_value(const Secret& value, bool reveal) {
    return reveal ? json::string(value.reveal()) : json::string("<redacted>");
}

json::object to_json(const RefreshToken& t, bool reveal, const Command& c) {
    json::object o;
    o["refresh_token"] = token_value(t.value, reveal);
    o["user_id"] = t.user_id;
    o["name"] = t.name;
    o["created_at"] = timestamp(t.created_at);
    o["token_expires_at"] = timestamp(t.expires_at);
    o["token_status"] = to_string(t.status);
    if (c.name == "validate-refresh-token")
        o["last_used_at"] = t.last_used_at ? json::value(timestamp(*t.last_used_at)) : nullptr;
    return o;
}

json::object to_json(const AccessToken& t, bool reveal, const Command& c) {
    json::object o;
    if (is_oauth(c.input)) {
        // OAuth's own names; the expiry is the server's creation instant plus the granted lifetime.
        o["access_token"] = token_value(t.value, reveal);
        o["expires_in"] = std::chrono::duration_cast<std::chrono::seconds>(t.lifetime()).count();
        o["scope"] = t.scope;
        o["created_at"] = timestamp(t.created_at);
        o["expires_at"] = timestamp(t.expires_at);
        return o;
    }
    o["api_access_token"] = token_value(t.value, reveal);
    o["user_id"] = t.user_id;
    o["created_at"] = timestamp(t.created_at);
    o["token_expires_at"] = timestamp(t.expires_at);
    o["token_status"] = to_string(t.status);
    return o;
}

json::object to_json(const RevokeResult& r, bool, const Command&) { return json::object{{"detail", r.detail}}; }

json::object to_json(const OAuthTokenInfo& t, bool, const Command&) {
    json::object o;
    o["active"] = t.active;
    if (!t.active) return o;
    o["client_id"] = t.client_id;
    o["sub"] = t.subject;
    o["scope"] = t.scope;
    o["token_type"] = t.token_type;
    o["expires_at"] = t.expires_at ? json::value(timestamp(*t.expires_at)) : nullptr;
    o["issued_at"] = t.issued_at ? json::value(timestamp(*t.issued_at)) : nullptr;
    return o;
}

void print_failure(const Command& c, error_code ec, const Diagnostics& diag) {
    std::cerr << program << ": " << c.name << " failed: " << ec.message() << '\n';
    if (diag.http_status() != 0) std::cerr << "  HTTP status: " << diag.http_status() << '\n';
    if (!diag.server_detail().empty()) std::cerr << "  server detail: " << diag.server_detail() << '\n';
    if (!diag.server_code().empty()) std::cerr << "  server code: " << diag.server_code() << '\n';
    if (!diag.field().empty()) std::cerr << "  field: " << diag.field() << '\n';
    if (!diag.message().empty()) std::cerr << "  " << diag.message() << '\n';
    if (diag.retry_after()) std::cerr << "  retry after: " << diag.retry_after()->count() << " s\n";
}

// Runs one call to completion. `start(diag, handler)` begins it; --timeout cancels it.
template <class Result, class Start>
int run(asio::io_context& ioc, const Options& o, Start start) {
    Diagnostics diag;
    asio::cancellation_signal cancel;
    asio::steady_timer deadline(ioc);
    bool timed_out = false;
    error_code result_ec;
    std::optional<Result> result;

    start(diag, asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, Result r) {
              deadline.cancel();
              result_ec = ec;
              if (!ec) result.emplace(std::move(r));
          }));
    if (o.timeout) {
        deadline.expires_after(*o.timeout);
        deadline.async_wait([&](error_code ec) {
            if (ec) return;
            timed_out = true;
            cancel.emit(asio::cancellation_type::terminal);
        });
    }
    ioc.run();

    if (timed_out && result_ec == asio::error::operation_aborted) result_ec = Error::timeout;
    if (result_ec) {
        print_failure(*o.command, result_ec, diag);
        return exit_failure;
    }
    std::string out = json::serialize(to_json(*result, o.reveal, *o.command));
    std::cout << out << '\n' << std::flush;
    Secret::wipe(out);
    return std::cout ? EXIT_SUCCESS : exit_failure;
}

int execute(const Options& o) {
    ClientOptions client_options;
    client_options.ca_file = o.ca_file;
    client_options.allow_insecure_http = o.allow_insecure_http;
    // Set but empty means "no proxy" to the library; unset leaves the choice to the environment.
    if (o.proxy) client_options.proxy = Secret(*o.proxy);
    if (o.no_proxy) client_options.proxy = Secret(std::string());
    client_options.oauth_client_authentication = o.client_authentication;
    if (o.timeout) {
        // No single attempt, nor the retries together, may outlast the deadline.
        client_options.connect_timeout = std::min(client_options.connect_timeout, *o.timeout);
        client_options.request_timeout = std::min(client_options.request_timeout, *o.timeout);
        client_options.retry.total_budget = std::min(client_options.retry.total_budget, *o.timeout);
    }

    asio::io_context ioc;
    std::optional<Client> client;
    try {
        client.emplace(ioc.get_executor(), o.url, std::move(client_options));
    } catch (const ErrorWithDiagnostics& e) {
        // A URL the client refuses (the catalog's or the proxy's) is the caller's mistake: a usage error.
        std::cerr << program << ": " << e.code().message() << '\n';
        if (const std::string why = e.diagnostics().to_string(); !why.empty()) std::cerr << "  " << why << '\n';
        return exit_usage;
    }

    const std::string_view name = o.command->name;
    const std::int64_t user_id = o.user_id.value_or(0);
    switch (o.command->input) {
    case Input::credentials: {
        Credentials credentials;
        credentials.username = std::string(read_input("ALATION_USERNAME", "Alation username: ", false).reveal());
        credentials.password = read_input("ALATION_PASSWORD", "Alation password: ", true);
        credentials.name = o.name;
        return run<RefreshToken>(ioc, o, [&](Diagnostics& d, auto handler) {
            client->create_refresh_token(credentials, d, std::move(handler));
        });
    }
    case Input::refresh_token: {
        const Secret token = read_input("ALATION_REFRESH_TOKEN", "Refresh token: ", true);
        if (name == "validate-refresh-token") {
            return run<RefreshToken>(ioc, o, [&](Diagnostics& d, auto handler) {
                client->validate_refresh_token(token, user_id, d, std::move(handler));
            });
        }
        if (name == "regenerate-refresh-token") {
            return run<RefreshToken>(ioc, o, [&](Diagnostics& d, auto handler) {
                client->regenerate_refresh_token(token, user_id, d, std::move(handler));
            });
        }
        if (name == "create-access-token") {
            return run<AccessToken>(ioc, o, [&](Diagnostics& d, auto handler) {
                client->create_access_token(token, user_id, d, std::move(handler));
            });
        }
        return run<RevokeResult>(ioc, o, [&](Diagnostics& d, auto handler) {
            client->revoke_access_tokens(token, user_id, d, std::move(handler));
        });
    }
    case Input::access_token: {
        const Secret token = read_input("ALATION_ACCESS_TOKEN", "API access token: ", true);
        return run<AccessToken>(ioc, o, [&](Diagnostics& d, auto handler) {
            client->validate_access_token(token, user_id, d, std::move(handler));
        });
    }
    case Input::oauth_client:
    case Input::oauth_client_and_token: {
        OAuthClientCredentials credentials;
        credentials.client_id = std::string(read_input("ALATION_CLIENT_ID", "OAuth client id: ", false).reveal());
        credentials.client_secret = read_input("ALATION_CLIENT_SECRET", "OAuth client secret: ", true);
        if (o.command->input == Input::oauth_client) {
            return run<AccessToken>(ioc, o, [&](Diagnostics& d, auto handler) {
                client->create_oauth_token(credentials, d, std::move(handler));
            });
        }
        const Secret token = read_input("ALATION_ACCESS_TOKEN", "JWT access token: ", true);
        return run<OAuthTokenInfo>(ioc, o, [&](Diagnostics& d, auto handler) {
            client->introspect_oauth_token(credentials, token, d, std::move(handler));
        });
    }
    }
    return exit_failure;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options o = parse_arguments(std::span<char*>(argv + 1, argc > 0 ? argc - 1 : 0));
        if (o.help) {
            if (o.command) {
                print_command_help(std::cout, *o.command);
            } else {
                print_overall_help(std::cout);
            }
            return EXIT_SUCCESS;
        }
        return execute(o);
    } catch (const UsageError& e) {
        std::cerr << program << ": " << e.message << "\nTry '" << program << " --help'.\n";
        return exit_usage;
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return exit_failure;
    }
}
