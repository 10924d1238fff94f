// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Forward proxies: the test proxies themselves over raw sockets (the in-process FakeProxy and
// Debian's tinyproxy), then the Client through them: the whole token lifecycle, credentials,
// every fault, secrets never in clear, http targets, the environment, keep-alive.
#include "client_test_support.hpp"
#include "tinyproxy.hpp"

#include <catch.hpp>

#include <alation/auth/testing/fake_proxy.hpp>
#include <alation/auth/token_provider.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace alation::auth;
using namespace alation::auth::test;
using testing::FakeProxy;
using testing::FakeProxyOptions;
using testing::ProxyFault;

namespace {

namespace beast = boost::beast;

// One client connection to a proxy, driven synchronously on its own io_context, every read bounded.
class Raw {
public:
    explicit Raw(unsigned short port) { stream_.socket().connect({asio::ip::make_address("127.0.0.1"), port}); }

    void send(std::string_view bytes) { asio::write(stream_.socket(), asio::buffer(bytes)); }

    // Reads through `delimiter` and returns that much; what came after it stays in pending().
    std::string read_until(std::string_view delimiter) {
        std::size_t n = 0;
        ec_ = run([&](auto handler) {
            asio::async_read_until(stream_, asio::dynamic_buffer(in_), delimiter,
                                   [&n, handler](error_code ec, std::size_t size) {
                                       n = size;
                                       handler(ec);
                                   });
        });
        std::string head = in_.substr(0, n);
        in_.erase(0, n);
        return head;
    }

    // Reads until the peer closes or fails; returns everything not yet returned.
    std::string read_to_end() {
        ec_ = run([&](auto handler) { read_all(handler); });
        return std::exchange(in_, {});
    }

    // A whole HTTP/1.1 exchange inside a tunnel (or on a plain connection): the response's head
    // and its Content-Length body.
    std::string exchange(std::string_view request) {
        send(request);
        std::string response = read_until("\r\n\r\n");
        const std::size_t at = response.find("Content-Length: ");
        REQUIRE(at != std::string::npos);
        const std::size_t length = std::stoul(response.substr(at + 16));
        while (in_.size() < length && !ec_) read_more();
        response += in_.substr(0, length);
        in_.erase(0, length);
        return response;
    }

    error_code error() const { return ec_; }

private:
    template <class Start>
    error_code run(Start start) {
        error_code result;
        stream_.expires_after(5s);
        start([&result](error_code ec) { result = ec; });
        io_.restart();
        io_.run();
        return result;
    }

    template <class Handler>
    void read_all(Handler handler) {
        stream_.async_read_some(asio::buffer(chunk_), [this, handler](error_code ec, std::size_t n) {
            in_.append(chunk_.data(), n);
            if (ec) return handler(ec);
            read_all(handler);
        });
    }

    void read_more() {
        ec_ = run([&](auto handler) {
            stream_.async_read_some(asio::buffer(chunk_), [this, handler](error_code ec, std::size_t n) {
                in_.append(chunk_.data(), n);
                handler(ec);
            });
        });
    }

    asio::io_context io_;
    beast::tcp_stream stream_{io_};
    std::string in_;
    std::array<char, 4096> chunk_{};
    error_code ec_;
};

std::string connect_request(unsigned short target_port, std::string_view extra_headers = {}) {
    const std::string authority = "127.0.0.1:" + std::to_string(target_port);
    return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n" + std::string(extra_headers) + "\r\n";
}

std::string create_refresh_request(std::string_view password) {
    const std::string body = R"({"username":"alice","password":")" + std::string(password) + R"(","name":"etl"})";
    return "POST " + create_refresh_path() +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string table_request(std::string_view target, std::string_view token) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTOKEN: " + std::string(token) + "\r\n\r\n";
}

constexpr std::string_view table_path = "/integration/v2/table/";

bool wait_until(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

ProxyFault proxy_fault(ProxyFault::Kind kind, unsigned status = 502) {
    ProxyFault f;
    f.kind = kind;
    f.status = status;
    return f;
}

// The fake Alation (plain HTTP, for raw tests) and a FakeProxy, both serving on a two-thread pool.
struct RawSetup {
    asio::thread_pool pool{2};
    FakeAlation fake;
    FakeProxy proxy;

    explicit RawSetup(FakeProxyOptions options = {}) : fake(pool.get_executor()), proxy(pool.get_executor(), options) {
        fake.add_user("alice", password);
    }
    ~RawSetup() {
        proxy.stop();
        fake.stop();
        pool.join();
    }
};

const std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";

}  // namespace

// ---------------------------------------------------------------------------------------------
// The FakeProxy itself, over raw sockets.

TEST_CASE("FakeProxy tunnels CONNECT and records only what crosses it outside the tunnel", "[proxy]") {
    RawSetup s;
    Raw c(s.proxy.port());
    c.send(connect_request(s.fake.port()));
    CHECK(c.read_until("\r\n\r\n") == established);
    const std::string response = c.exchange(create_refresh_request(password));
    CHECK(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    const std::size_t at = response.find(R"("refresh_token":")");
    REQUIRE(at != std::string::npos);
    const std::string refresh_token = response.substr(at + 17, 80);

    CHECK(s.proxy.connects() == 1);
    CHECK(s.proxy.tunnels() == 1);
    CHECK(s.proxy.forwarded_requests() == 0);
    const std::string recorded = s.proxy.recorded();
    CHECK(recorded == connect_request(s.fake.port()) + established);
    CHECK(recorded.find(password) == std::string::npos);
    CHECK(recorded.find(refresh_token) == std::string::npos);
}

TEST_CASE("FakeProxy forwards absolute-form requests in origin form, keeping both connections alive", "[proxy]") {
    RawSetup s;
    Raw c(s.proxy.port());
    const std::string target = "http://127.0.0.1:" + std::to_string(s.fake.port()) + std::string(table_path);
    for (int i = 0; i < 2; ++i) {
        const std::string response = c.exchange(table_request(target, "visible-token"));
        INFO(response);
        CHECK(response.rfind("HTTP/1.1 401 Unauthorized\r\n", 0) == 0);
    }
    CHECK(s.proxy.forwarded_requests() == 2);
    CHECK(s.proxy.connects() == 0);
    CHECK(s.proxy.connections_accepted() == 1);
    CHECK(s.fake.connections_accepted() == 1);
    // The fake counts by path: it was asked for the origin form.
    CHECK(s.fake.request_count(table_path) == 2);
    // In clear: the recorder sees what a real proxy would.
    CHECK(s.proxy.recorded().find("TOKEN: visible-token") != std::string::npos);
    CHECK(s.proxy.recorded().find("Invalid or expired API access token.") != std::string::npos);
}

TEST_CASE("FakeProxy requires Basic credentials when configured", "[proxy]") {
    FakeProxyOptions options;
    options.username = "proxy-user";
    options.password = "p@ss word";
    RawSetup s(options);
    CHECK(s.proxy.url_with_credentials() ==
          "http://proxy-user:p%40ss%20word@127.0.0.1:" + std::to_string(s.proxy.port()));

    for (const std::string header : {"", "Proxy-Authorization: Basic cHJveHktdXNlcjp3cm9uZw==\r\n"}) {
        Raw c(s.proxy.port());
        c.send(connect_request(s.fake.port(), header));
        const std::string head = c.read_until("\r\n\r\n");
        CHECK(head.rfind("HTTP/1.1 407 Proxy Authentication Required\r\n", 0) == 0);
        CHECK(head.find("Proxy-Authenticate: Basic realm=\"fake-proxy\"\r\n") != std::string::npos);
        CHECK(head.find("Content-Type: text/html") != std::string::npos);
        c.read_to_end();
        CHECK(c.error() == asio::error::eof);
    }
    CHECK(s.proxy.authentication_failures() == 2);
    CHECK(s.proxy.tunnels() == 0);

    // base64("proxy-user:p@ss word"), the scheme in another letter case.
    Raw c(s.proxy.port());
    c.send(connect_request(s.fake.port(), "Proxy-Authorization: basic cHJveHktdXNlcjpwQHNzIHdvcmQ=\r\n"));
    CHECK(c.read_until("\r\n\r\n") == established);
    CHECK(s.proxy.tunnels() == 1);
    // The fake counts the connection on its own threads, maybe after the proxy's 200.
    CHECK(wait_until([&] { return s.fake.connections_accepted() == 1; }));
}

TEST_CASE("FakeProxy faults that answer in place of the target", "[proxy]") {
    RawSetup s;
    SECTION("403 and 502 with an HTML page, then close; the target is never contacted") {
        for (const unsigned status : {403u, 502u}) {
            s.proxy.inject(proxy_fault(ProxyFault::Kind::respond, status));
            Raw c(s.proxy.port());
            c.send(connect_request(s.fake.port()));
            const std::string head = c.read_until("\r\n\r\n");
            CHECK(head.rfind("HTTP/1.1 " + std::to_string(status), 0) == 0);
            CHECK(head.find("Connection: close") != std::string::npos);
            CHECK(c.read_to_end().find("<html>") != std::string::npos);
        }
        CHECK(s.fake.connections_accepted() == 0);
        CHECK(s.proxy.tunnels() == 0);
    }
    SECTION("a reset") {
        s.proxy.inject(proxy_fault(ProxyFault::Kind::reset));
        Raw c(s.proxy.port());
        c.send(connect_request(s.fake.port()));
        CHECK(c.read_to_end().empty());
        CHECK(c.error() == asio::error::connection_reset);
    }
    SECTION("garbage instead of HTTP") {
        s.proxy.inject(proxy_fault(ProxyFault::Kind::garbage));
        Raw c(s.proxy.port());
        c.send(connect_request(s.fake.port()));
        const std::string answer = c.read_to_end();
        CHECK(answer.rfind("SSH-2.0-", 0) == 0);
        CHECK(answer.find("HTTP/") == std::string::npos);
    }
    SECTION("a stall: silent until stop()") {
        s.proxy.inject(proxy_fault(ProxyFault::Kind::stall));
        Raw c(s.proxy.port());
        c.send(connect_request(s.fake.port()));
        REQUIRE(wait_until([&] { return s.proxy.connects() == 1; }));
        s.proxy.stop();
        CHECK(c.read_to_end().empty());
        CHECK(c.error() != error_code());
        CHECK(c.error() != asio::error::timed_out);
    }
    SECTION("a fault for the next N requests, then the normal answer") {
        s.proxy.inject(proxy_fault(ProxyFault::Kind::respond, 502), 2);
        for (int i = 0; i < 2; ++i) {
            Raw c(s.proxy.port());
            c.send(connect_request(s.fake.port()));
            CHECK(c.read_until("\r\n\r\n").rfind("HTTP/1.1 502 Bad Gateway\r\n", 0) == 0);
        }
        Raw c(s.proxy.port());
        c.send(connect_request(s.fake.port()));
        CHECK(c.read_until("\r\n\r\n") == established);
    }
    SECTION("an unreachable target: 502") {
        Raw c(s.proxy.port());
        c.send(connect_request(1));
        CHECK(c.read_until("\r\n\r\n").rfind("HTTP/1.1 502 Bad Gateway\r\n", 0) == 0);
    }
}

TEST_CASE("FakeProxy faults in the 200 that opens the tunnel", "[proxy]") {
    RawSetup s;
    ProxyFault fault;
    std::string expected_head = established;
    std::string expected_garbage;
    SECTION("Content-Length") {
        fault = proxy_fault(ProxyFault::Kind::established_with_content_length);
        fault.size = 1234;
        expected_head = "HTTP/1.1 200 Connection established\r\nContent-Length: 1234\r\n\r\n";
    }
    SECTION("Transfer-Encoding: chunked") {
        fault = proxy_fault(ProxyFault::Kind::established_chunked);
        expected_head = "HTTP/1.1 200 Connection established\r\nTransfer-Encoding: chunked\r\n\r\n";
    }
    SECTION("split into one-byte writes") {
        fault = proxy_fault(ProxyFault::Kind::established_with_content_length);
        fault.size = 5;
        fault.piece_size = 1;
        expected_head = "HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n";
    }
    SECTION("bytes right after the head") {
        fault = proxy_fault(ProxyFault::Kind::established_then_garbage);
        fault.size = 10;
        expected_garbage = std::string(10, 'g');
    }
    s.proxy.inject(fault);
    Raw c(s.proxy.port());
    c.send(connect_request(s.fake.port()));
    CHECK(c.read_until("\r\n\r\n") == expected_head);
    // What follows the head is the tunnel's, byte for byte.
    if (!expected_garbage.empty()) CHECK(c.read_until(expected_garbage) == expected_garbage);
    // Then the tunnel works.
    CHECK(c.exchange(create_refresh_request(password)).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(s.proxy.tunnels() == 1);
}

// ---------------------------------------------------------------------------------------------
// Debian's tinyproxy, over raw sockets: the launcher works and the proxy behaves as the tests expect.

TEST_CASE("tinyproxy: started on a free port, tunnels CONNECT, requires its BasicAuth", "[proxy][tinyproxy]") {
    RawSetup s;
    Tinyproxy tinyproxy({.username = "corp", .password = "corp-secret"});
    {
        Raw c(tinyproxy.port());
        c.send(connect_request(s.fake.port()));
        CHECK(c.read_until("\r\n\r\n").rfind("HTTP/1.0 407 ", 0) == 0);
    }
    Raw c(tinyproxy.port());
    // base64("corp:corp-secret")
    c.send(connect_request(s.fake.port(), "Proxy-Authorization: Basic Y29ycDpjb3JwLXNlY3JldA==\r\n"));
    // tinyproxy answers CONNECT in HTTP/1.0 up to 1.11.1 and in HTTP/1.1 from 1.11.2.
    const std::string established = c.read_until("\r\n\r\n");
    INFO(established);
    CHECK((established.starts_with("HTTP/1.0 200 Connection established\r\n") ||
           established.starts_with("HTTP/1.1 200 Connection established\r\n")));
    CHECK(c.exchange(create_refresh_request(password)).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(tinyproxy.connects() == 2);
    CHECK(tinyproxy.requests() == 2);
}

// ---------------------------------------------------------------------------------------------
// The Client through a proxy.

namespace {

using asio::awaitable;
using asio::use_awaitable;

// The fake Alation over TLS and a FakeProxy, on the client's io_context; the client trusts the fake's CA.
struct ProxyFixture : Fixture {
    FakeProxy proxy;

    explicit ProxyFixture(FakeProxyOptions proxy_options = {}, bool tls = true)
        : Fixture(FakeAlationOptions{.tls = tls}), proxy(io.get_executor(), std::move(proxy_options)) {}

    // fast_options() through `proxy_url` (default: the proxy, with its credentials if any).
    ClientOptions options(std::optional<std::string> proxy_url = {}) {
        ClientOptions o = fake.base_url().starts_with("https") ? tls_options() : fast_options();
        o.proxy = Secret(proxy_url.value_or(proxy.url_with_credentials()));
        return o;
    }
};

FakeProxyOptions with_credentials() { return {.username = "proxy-user", .password = "proxy-Pass-4242"}; }

// What a failed call gives: its code and diagnostics.
struct Failure {
    error_code ec;
    Diagnostics diag;
};

Failure create_access_token_failure(Fixture& f, Client& client, const RefreshToken& refresh) {
    Failure out;
    run(f.io, [&]() -> awaitable<void> {
        auto [ec, token] = co_await client.create_access_token(refresh, out.diag, asio::as_tuple(use_awaitable));
        out.ec = ec;
    });
    return out;
}

// Every call of the token lifecycle; returns the secrets it saw, for the checks on the proxy's record.
std::vector<std::string> token_lifecycle(Fixture& f, Client& client) {
    std::vector<std::string> secrets{password};
    run(f.io, [&]() -> awaitable<void> {
        const Credentials credentials = f.credentials();
        const RefreshToken refresh = co_await client.create_refresh_token(credentials);
        const AccessToken access = co_await client.create_access_token(refresh);
        const RefreshToken validated = co_await client.validate_refresh_token(refresh);
        CHECK(validated.value == refresh.value);
        const AccessToken access_validated = co_await client.validate_access_token(access);
        CHECK(access_validated.value == access.value);
        const RevokeResult revoked = co_await client.revoke_access_tokens(refresh);
        CHECK(revoked.detail.find("Revoked active access tokens") == 0);
        const RefreshToken regenerated = co_await client.regenerate_refresh_token(refresh);
        CHECK(regenerated.value != refresh.value);
        for (const Secret* s : {&refresh.value, &access.value, &regenerated.value}) secrets.emplace_back(s->reveal());
    });
    CHECK(f.fake.refresh_tokens_created() == 2);
    CHECK(f.fake.access_tokens_minted() == 1);
    return secrets;
}

// The first bytes of a recording: the CONNECT request head the client sent.
void check_connect_head(const std::string& recorded, const Fixture& f, bool credentials) {
    const std::string authority = "localhost:" + std::to_string(f.fake.port());
    CHECK(recorded.rfind("CONNECT " + authority + " HTTP/1.1\r\n", 0) == 0);
    CHECK(recorded.find("\r\nHost: " + authority + "\r\n") != std::string::npos);
    CHECK((recorded.find("\r\nProxy-Authorization: Basic ") != std::string::npos) == credentials);
}

void check_no_secret_in(const std::string& recorded, const std::vector<std::string>& secrets) {
    for (const std::string& s : secrets) {
        INFO(s);
        CHECK(recorded.find(s) == std::string::npos);
    }
    CHECK(recorded.find("TOKEN:") == std::string::npos);
}

// A call that must succeed now: the proxy and the client are back in a clean state.
void check_next_call_succeeds(ProxyFixture& f, Client& client) {
    const RefreshToken refresh = f.refresh_token();
    const std::size_t minted = f.fake.access_tokens_minted();
    run(f.io, [&]() -> awaitable<void> { co_await client.create_access_token(refresh); });
    CHECK(f.fake.access_tokens_minted() == minted + 1);
}

// Sets environment variables for one scope, restoring them after.
class EnvironmentScope {
public:
    EnvironmentScope(std::initializer_list<std::pair<const char*, const char*>> values) {
        for (const auto& [name, value] : values) {
            const char* old = std::getenv(name);
            saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
            if (value)
                ::setenv(name, value, 1);
            else
                ::unsetenv(name);
        }
    }
    ~EnvironmentScope() {
        for (const auto& [name, old] : saved_) {
            if (old)
                ::setenv(name.c_str(), old->c_str(), 1);
            else
                ::unsetenv(name.c_str());
        }
    }
    EnvironmentScope(const EnvironmentScope&) = delete;
    EnvironmentScope& operator=(const EnvironmentScope&) = delete;

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace

TEST_CASE("the token lifecycle through the FakeProxy over TLS: one CONNECT, no secret in clear", "[proxy]") {
    const bool credentials = GENERATE(false, true);
    ProxyFixture f(credentials ? with_credentials() : FakeProxyOptions{});
    Client client = f.client(f.options());
    const std::vector<std::string> secrets = token_lifecycle(f, client);

    // Keep-alive through the tunnel: every call after the first reused it.
    CHECK(f.proxy.connections_accepted() == 1);
    CHECK(f.proxy.connects() == 1);
    CHECK(f.proxy.tunnels() == 1);
    CHECK(f.fake.connections_accepted() == 1);
    const std::string recorded = f.proxy.recorded();
    check_connect_head(recorded, f, credentials);
    check_no_secret_in(recorded, secrets);
}

TEST_CASE("the proxy's 407: Error::proxy_authentication_required, never retried", "[proxy]") {
    ProxyFixture f(with_credentials());
    const RefreshToken refresh = f.refresh_token();
    const std::string wrong_password = "not-the-Proxy-Pass-77";
    SECTION("wrong credentials") {
        Client client =
            f.client(f.options("http://proxy-user:" + wrong_password + "@127.0.0.1:" + std::to_string(f.proxy.port())));
        const Failure failure = create_access_token_failure(f, client, refresh);
        CHECK(failure.ec == Error::proxy_authentication_required);
        CHECK(failure.diag.to_string().find(wrong_password) == std::string::npos);
        CHECK(failure.diag.to_string().find("proxy-user") == std::string::npos);
    }
    SECTION("no credentials") {
        Client client = f.client(f.options(f.proxy.url()));
        CHECK(create_access_token_failure(f, client, refresh).ec == Error::proxy_authentication_required);
    }
    SECTION("a 407 written a byte at a time") {
        ProxyFault split = proxy_fault(ProxyFault::Kind::respond, 407);
        split.piece_size = 1;
        f.proxy.inject(split);
        Client client = f.client(f.options());
        CHECK(create_access_token_failure(f, client, refresh).ec == Error::proxy_authentication_required);
    }
    CHECK(f.proxy.connects() == 1);
    CHECK(f.fake.connections_accepted() == 0);
    CHECK(f.fake.access_tokens_minted() == 0);
}

TEST_CASE("the proxy refuses the tunnel: Error::proxy_error with its status and page", "[proxy]") {
    ProxyFixture f;
    Client client = f.client(f.options());
    const RefreshToken refresh = f.refresh_token();
    SECTION("403: not retried") {
        f.proxy.inject(proxy_fault(ProxyFault::Kind::respond, 403));
        const Failure failure = create_access_token_failure(f, client, refresh);
        CHECK(failure.ec == Error::proxy_error);
        CHECK(failure.diag.http_status() == 403);
        CHECK(failure.diag.server_detail().find("403 Forbidden") != std::string::npos);
        CHECK(failure.diag.server_detail().find("<") == std::string::npos);
        CHECK(f.proxy.connects() == 1);
        CHECK(f.fake.access_tokens_minted() == 0);
    }
    SECTION("502 with an HTML page: retried, as the server's own 502") {
        f.proxy.inject(proxy_fault(ProxyFault::Kind::respond, 502), 3);
        const Failure failure = create_access_token_failure(f, client, refresh);
        CHECK(failure.ec == Error::proxy_error);
        CHECK(failure.diag.http_status() == 502);
        CHECK(failure.diag.server_detail().find("502 Bad Gateway") != std::string::npos);
        CHECK(failure.diag.to_string().find(f.proxy.url()) != std::string::npos);
        CHECK(f.proxy.connects() == 3);
        CHECK(f.fake.access_tokens_minted() == 0);
    }
    SECTION("502 once, then the tunnel: the retry succeeds") {
        f.proxy.inject(proxy_fault(ProxyFault::Kind::respond, 502));
        run(f.io, [&]() -> awaitable<void> { co_await client.create_access_token(refresh); });
        CHECK(f.proxy.connects() == 2);
        CHECK(f.fake.access_tokens_minted() == 1);
    }
    check_next_call_succeeds(f, client);
}

TEST_CASE("a proxy that resets, stalls or answers garbage: a transport error or timeout, then recovery", "[proxy]") {
    ProxyFixture f;
    ClientOptions o = f.options();
    o.retry.max_attempts = 1;
    o.connect_timeout = 300ms;
    Client client = f.client(o);
    const RefreshToken refresh = f.refresh_token();
    SECTION("a reset during CONNECT") {
        f.proxy.inject(proxy_fault(ProxyFault::Kind::reset));
        const Failure failure = create_access_token_failure(f, client, refresh);
        INFO(failure.ec.message());
        CHECK((failure.ec == asio::error::connection_reset || failure.ec == asio::error::eof));
    }
    SECTION("a stall: Error::timeout within connect_timeout") {
        f.proxy.inject(proxy_fault(ProxyFault::Kind::stall));
        CHECK(create_access_token_failure(f, client, refresh).ec == Error::timeout);
    }
    SECTION("garbage instead of HTTP") {
        f.proxy.inject(proxy_fault(ProxyFault::Kind::garbage));
        const Failure failure = create_access_token_failure(f, client, refresh);
        CHECK(failure.ec == Error::proxy_error);
        CHECK(failure.diag.message().find("not HTTP") != std::string::npos);
    }
    SECTION("an unreachable proxy") {
        Client unreachable = f.client(f.options("http://127.0.0.1:1"));
        CHECK(create_access_token_failure(f, unreachable, refresh).ec == asio::error::connection_refused);
    }
    CHECK(f.fake.access_tokens_minted() == 0);
    check_next_call_succeeds(f, client);
}

TEST_CASE("answers to CONNECT the client must tolerate", "[proxy]") {
    ProxyFixture f;
    ProxyFault fault;
    SECTION("a 200 with a Content-Length, which RFC 9110 says to ignore") {
        fault = proxy_fault(ProxyFault::Kind::established_with_content_length);
        fault.size = 4096;
    }
    SECTION("a 200 with Transfer-Encoding: chunked") { fault = proxy_fault(ProxyFault::Kind::established_chunked); }
    SECTION("a 200 written a byte at a time") {
        fault = proxy_fault(ProxyFault::Kind::established_with_content_length);
        fault.piece_size = 1;
    }
    f.proxy.inject(fault);
    Client client = f.client(f.options());
    check_next_call_succeeds(f, client);
    CHECK(f.proxy.connects() == 1);
    check_next_call_succeeds(f, client);
    CHECK(f.proxy.connects() == 1);
}

TEST_CASE("bytes right after the 200 go to TLS, which rejects them", "[proxy]") {
    ProxyFixture f;
    ClientOptions o = f.options();
    o.retry.max_attempts = 1;
    Client client = f.client(o);
    f.proxy.inject(proxy_fault(ProxyFault::Kind::established_then_garbage));
    const Failure failure = create_access_token_failure(f, client, f.refresh_token());
    // A client that dropped them would have completed the handshake with the fake and succeeded.
    INFO(failure.ec.message());
    CHECK(failure.ec.category() == asio::error::get_ssl_category());
    CHECK(failure.diag.message() == "TLS handshake failed (through the proxy " + f.proxy.url() + ")");
    CHECK(f.fake.access_tokens_minted() == 0);
    check_next_call_succeeds(f, client);
}

TEST_CASE("http targets through the proxy: absolute-form requests with Proxy-Authorization", "[proxy]") {
    ProxyFixture f(with_credentials(), /*tls=*/false);
    Client client = f.client(f.options());
    const std::vector<std::string> secrets = token_lifecycle(f, client);
    CHECK(f.proxy.connects() == 0);
    CHECK(f.proxy.forwarded_requests() == 6);
    CHECK(f.proxy.authentication_failures() == 0);
    const std::string recorded = f.proxy.recorded();
    CHECK(recorded.rfind(
              "POST http://127.0.0.1:" + std::to_string(f.fake.port()) + create_refresh_path() + " HTTP/1.1\r\n", 0) ==
          0);
    CHECK(recorded.find("\r\nProxy-Authorization: Basic ") != std::string::npos);
    // Plain http is in clear by nature: the record shows it, which proves the record complete.
    for (const std::string& s : secrets) CHECK(recorded.find(s) != std::string::npos);
}

TEST_CASE("the proxy from the environment, end to end", "[proxy]") {
    ProxyFixture f(with_credentials());
    const RefreshToken refresh = f.refresh_token();
    const std::string proxy_url = f.proxy.url_with_credentials();
    const auto call_with = [&](ClientOptions o) {
        Client client = f.client(o);
        run(f.io, [&]() -> awaitable<void> { co_await client.create_access_token(refresh); });
    };
    ClientOptions from_environment = f.tls_options();
    {
        const EnvironmentScope env{{"https_proxy", nullptr}, {"HTTPS_PROXY", proxy_url.c_str()},
                                   {"all_proxy", nullptr},   {"ALL_PROXY", nullptr},
                                   {"no_proxy", nullptr},    {"NO_PROXY", nullptr}};
        call_with(from_environment);
        CHECK(f.proxy.connects() == 1);
    }
    {
        const EnvironmentScope env{{"https_proxy", nullptr},
                                   {"HTTPS_PROXY", proxy_url.c_str()},
                                   {"no_proxy", nullptr},
                                   {"NO_PROXY", "example.com, localhost"}};
        call_with(from_environment);
        CHECK(f.proxy.connects() == 1);
    }
    {
        const EnvironmentScope env{{"https_proxy", proxy_url.c_str()}, {"no_proxy", nullptr}, {"NO_PROXY", nullptr}};
        ClientOptions explicit_none = from_environment;
        explicit_none.proxy = Secret(std::string());
        call_with(explicit_none);
        ClientOptions environment_off = from_environment;
        environment_off.proxy_from_environment = false;
        call_with(environment_off);
        CHECK(f.proxy.connects() == 1);
    }
    CHECK(f.fake.access_tokens_minted() == 4);
}

TEST_CASE("a TokenProvider through the proxy", "[proxy]") {
    ProxyFixture f(with_credentials());
    Client client = f.client(f.options());
    TokenProvider provider(client, f.refresh_token(), test::provider_options());
    run(f.io, [&]() -> awaitable<void> {
        const AccessToken first = co_await provider.token();
        const AccessToken second = co_await provider.token();
        CHECK(first.value == second.value);
    });
    CHECK(f.fake.access_tokens_minted() == 1);
    CHECK(f.proxy.connects() == 1);
    check_no_secret_in(f.proxy.recorded(), {password});
}

TEST_CASE("Client::connect: the service's own calls to the catalog go the Client's way, through the tunnel",
          "[proxy]") {
    namespace http = beast::http;
    ProxyFixture f(with_credentials());
    SECTION("through the proxy: TLS with the catalog inside the tunnel, and its TOKEN never in clear") {
        Client client = f.client(f.options());
        TokenProvider provider(client, f.refresh_token(), test::provider_options());
        run(f.io, [&]() -> awaitable<void> {
            asio::ip::tcp::socket socket(f.io);
            co_await client.connect(socket);
            REQUIRE(socket.is_open());
            CHECK(socket.remote_endpoint().port() == f.proxy.port());
            beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *client.ssl_context());
            REQUIRE(SSL_set_tlsext_host_name(stream.native_handle(), "localhost") == 1);
            stream.set_verify_mode(asio::ssl::verify_peer);
            stream.set_verify_callback(asio::ssl::host_name_verification("localhost"));
            co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
            http::request<http::empty_body> request{http::verb::get, "/integration/v2/table/", 11};
            request.set(http::field::host, "localhost");
            beast::flat_buffer buffer;
            http::response<http::string_body> response;
            co_await provider.send(stream, request, buffer, response);
            CHECK(response.result() == http::status::ok);
        });
        // One tunnel for the provider's mint, one for the service's own call.
        CHECK(f.proxy.tunnels() == 2);
        check_no_secret_in(f.proxy.recorded(), {password});
    }
    SECTION("without a proxy: straight to the catalog") {
        ClientOptions options = f.options();
        options.proxy = Secret(std::string());
        Client client = f.client(options);
        run(f.io, [&]() -> awaitable<void> {
            asio::ip::tcp::socket socket(f.io);
            co_await client.connect(socket);
            CHECK(socket.remote_endpoint().port() == f.fake.port());
        });
        CHECK(f.proxy.connections_accepted() == 0);
    }
    SECTION("the proxy's refusal: an error with its diagnostics, the socket left closed") {
        Client client = f.client(f.options(f.proxy.url()));  // no credentials
        run(f.io, [&]() -> awaitable<void> {
            asio::ip::tcp::socket socket(f.io);
            Diagnostics diag;
            auto [ec] = co_await client.connect(socket, diag, asio::as_tuple(use_awaitable));
            CHECK(ec == Error::proxy_authentication_required);
            CHECK(diag.http_status() == 407);
            CHECK_FALSE(socket.is_open());
        });
        CHECK(f.proxy.authentication_failures() == 1);
    }
}

// ---------------------------------------------------------------------------------------------
// The Client through Debian's tinyproxy.

TEST_CASE("through tinyproxy: the token lifecycle and a TokenProvider over TLS", "[proxy][tinyproxy]") {
    const bool credentials = GENERATE(false, true);
    Fixture f(FakeAlationOptions{.tls = true});
    Tinyproxy tinyproxy(credentials ? TinyproxyOptions{.username = "corp", .password = "corp-Secret-9"}
                                    : TinyproxyOptions{});
    ClientOptions o = f.tls_options();
    o.proxy = Secret(tinyproxy.url_with_credentials());
    Client client = f.client(o);
    token_lifecycle(f, client);
    CHECK(tinyproxy.connects() == 1);
    CHECK(f.fake.connections_accepted() == 1);

    TokenProvider provider(client, f.refresh_token(), test::provider_options());
    run(f.io, [&]() -> awaitable<void> { co_await provider.token(); });
    CHECK(f.fake.access_tokens_minted() == 2);
    CHECK(tinyproxy.connects() == 1);
}

TEST_CASE("through tinyproxy: wrong credentials (its 401) are proxy_authentication_required, not retried",
          "[proxy][tinyproxy]") {
    Fixture f(FakeAlationOptions{.tls = true});
    Tinyproxy tinyproxy({.username = "corp", .password = "corp-Secret-9"});
    ClientOptions o = f.tls_options();
    o.proxy = Secret("http://corp:wrong-Secret-1@127.0.0.1:" + std::to_string(tinyproxy.port()));
    Client client = f.client(o);
    Failure failure = create_access_token_failure(f, client, f.refresh_token());
    CHECK(failure.ec == Error::proxy_authentication_required);
    CHECK(failure.diag.to_string().find("wrong-Secret-1") == std::string::npos);
    CHECK(tinyproxy.requests() == 1);
    CHECK(f.fake.connections_accepted() == 0);
}
