// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
//
// The transport's steps over Beast's in-memory test::stream: the proxy's CONNECT tunnel and one
// request/response exchange, with every error path hit without a server or a socket.
#include <alation/auth/detail/transport.hpp>
#include <alation/auth/detail/transport_types.hpp>

#include "catch.hpp"
#include "url_test_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/error.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <memory_resource>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

using alation::auth::test::proxy;
using alation::auth::test::target;

// Runs a coroutine to its end; no test waits on a clock.
error_code run(asio::io_context& io, asio::awaitable<error_code> work) {
    std::optional<error_code> result;
    std::exception_ptr failure;
    asio::co_spawn(io, std::move(work), [&](std::exception_ptr ex, error_code ec) {
        failure = ex;
        result = ec;
    });
    io.run();
    io.restart();
    if (failure) std::rethrow_exception(failure);
    REQUIRE(result);
    return *result;
}

// A client stream connected to a peer that answers with `answer` (then, when `close`, EOF).
struct Pipe {
    asio::io_context io;
    beast::test::stream client{io};
    beast::test::stream peer{io};

    Pipe(std::string_view answer, bool close = false) {
        client.connect(peer);
        client.append(answer);
        if (close) client.close_remote();
    }
    Pipe(beast::test::fail_count& failures, std::string_view answer) : client(io, failures, {}) {
        client.connect(peer);
        client.append(answer);
    }
    // What the client sent.
    std::string sent() const { return std::string(peer.str()); }
};

// Made on first use, inside a test: REQUIRE needs one.
const BaseUrl& catalog() {
    static const BaseUrl url = target("https://catalog.example.com");
    return url;
}
const ProxyEndpoint& corporate() {
    static const ProxyEndpoint endpoint = proxy("http://alice:s3cr%40t@proxy.corp:3128");
    return endpoint;
}

error_code tunnel(Pipe& pipe, Diagnostics& diag, const ProxyEndpoint& via = corporate()) {
    return run(pipe.io, async_open_tunnel(pipe.client, catalog(), via, "alation-auth-test", diag));
}

}  // namespace

TEST_CASE("CONNECT: a 2xx opens the tunnel and leaves every following byte on the stream", "[transport][proxy]") {
    Diagnostics diag;
    SECTION("TLS bytes arriving with the 200 stay readable") {
        Pipe pipe("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01 server hello");
        CHECK_FALSE(tunnel(pipe, diag));
        CHECK(pipe.client.str() == "\x16\x03\x01 server hello");
        const std::string sent = pipe.sent();
        CHECK(sent.rfind("CONNECT catalog.example.com:443 HTTP/1.1\r\nHost: catalog.example.com:443\r\n", 0) == 0);
        CHECK(sent.find("Proxy-Authorization: Basic YWxpY2U6czNjckB0\r\n") != std::string::npos);
        CHECK(sent.ends_with("\r\n\r\n"));
    }
    SECTION("the answer split into single bytes") {
        Pipe pipe("HTTP/1.0 200 OK\r\nVia: 1.1 proxy\r\n\r\nTLS");
        pipe.client.read_size(1);
        CHECK_FALSE(tunnel(pipe, diag));
        CHECK(pipe.client.str() == "TLS");
    }
    SECTION("a 200's Content-Length and Transfer-Encoding are ignored (RFC 9110 9.3.6)") {
        Pipe pipe("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nTLS");
        CHECK_FALSE(tunnel(pipe, diag));
        CHECK(pipe.client.str() == "TLS");
    }
    SECTION("an interim 100 before the 200") {
        Pipe pipe("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nTLS");
        CHECK_FALSE(tunnel(pipe, diag));
        CHECK(pipe.client.str() == "TLS");
    }
    SECTION("no Proxy-Authorization without credentials") {
        Pipe pipe("HTTP/1.1 200 OK\r\n\r\n");
        CHECK_FALSE(tunnel(pipe, diag, proxy("http://proxy.corp:3128")));
        CHECK(pipe.sent().find("Proxy-Authorization") == std::string::npos);
    }
}

TEST_CASE("CONNECT: refusals and broken answers end in their own error", "[transport][proxy]") {
    Diagnostics diag;
    SECTION("407: proxy_authentication_required, never the password") {
        Pipe pipe(
            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n"
            "Content-Length: 19\r\n\r\nAccess denied, sorry");
        CHECK(tunnel(pipe, diag) == Error::proxy_authentication_required);
        CHECK(diag.http_status() == 407);
        CHECK(diag.message().find("http://proxy.corp:3128") != std::string::npos);
        CHECK(diag.to_string().find("s3cr") == std::string::npos);
        CHECK(diag.to_string().find("alice") == std::string::npos);
        CHECK(pipe.client.str() == "y");  // no more than Content-Length was read
    }
    SECTION("401 (tinyproxy's answer to wrong credentials): proxy_authentication_required too") {
        Pipe pipe(
            "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\nConnection: close\r\n\r\n"
            "<html><body>Unauthorized</body></html>",
            true);
        CHECK(tunnel(pipe, diag) == Error::proxy_authentication_required);
        CHECK(diag.http_status() == 401);
        CHECK(diag.message() == "the proxy http://proxy.corp:3128 rejected the credentials of the proxy URL");
    }
    SECTION("502 with an HTML page: proxy_error with the page's text") {
        Pipe pipe(
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n"
            "<html><head><style>p{}</style></head><body><p>Cannot reach catalog</p></body></html>",
            true);
        CHECK(tunnel(pipe, diag) == Error::proxy_error);
        CHECK(diag.http_status() == 502);
        CHECK(diag.server_detail().find("Cannot reach catalog") != std::string::npos);
        CHECK(diag.message().find("http://proxy.corp:3128") != std::string::npos);
    }
    SECTION("403 whose body is cut short still reports the 403") {
        Pipe pipe("HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nblocked by policy", true);
        CHECK(tunnel(pipe, diag) == Error::proxy_error);
        CHECK(diag.http_status() == 403);
        CHECK(diag.server_detail().find("blocked by policy") != std::string::npos);
    }
    SECTION("garbage instead of HTTP") {
        Pipe pipe("SSH-2.0-OpenSSH_9.2\r\n\r\n");
        CHECK(tunnel(pipe, diag) == Error::proxy_error);
        CHECK(diag.message().find("not HTTP") != std::string::npos);
        CHECK(diag.message().find("http://proxy.corp:3128") != std::string::npos);
    }
    SECTION("EOF in the middle of the head") {
        Pipe pipe("HTTP/1.1 200 Connection est", true);
        CHECK(tunnel(pipe, diag) == asio::error::eof);
        CHECK(diag.message().find("closed the connection") != std::string::npos);
    }
    SECTION("a reset while sending CONNECT") {
        beast::test::fail_count failures(0, asio::error::connection_reset);
        Pipe pipe(failures, "HTTP/1.1 200 OK\r\n\r\n");
        CHECK(tunnel(pipe, diag) == asio::error::connection_reset);
        CHECK(diag.message().find("sending CONNECT") != std::string::npos);
    }
    SECTION("every point of failure ends in an error, never in an open tunnel") {
        const std::string answer = "HTTP/1.1 200 OK\r\nVia: proxy\r\n\r\n";
        for (std::size_t n = 0; n <= answer.size(); ++n) {
            INFO(n);
            beast::test::fail_count failures(n);
            Pipe pipe(failures, answer);
            CHECK(tunnel(pipe, diag) == beast::test::error::test_failure);
        }
    }
}

namespace {

struct Exchanged {
    error_code ec;
    RawResponse response;
    ExchangeFlags flags;
    ResponseBuffer buffer;
    Diagnostics diag;
    std::string sent;
};

RequestBody access_request() {
    RequestBody body = token_request_body(Endpoint::create_access_token, Secret("refresh-token-123"), 7);
    body.authorization = Secret("Basic Y2xpZW50OnNlY3JldA==");
    return body;
}

Exchanged exchange(Pipe& pipe, std::size_t max_response_size = 64 * 1024, const ProxyEndpoint* http_proxy = nullptr,
                   const BaseUrl& to = catalog()) {
    Exchanged out;
    const RequestBody body = access_request();
    auto request = make_request(to, http_proxy, Endpoint::create_access_token, body, "alation-auth-test",
                                *std::pmr::new_delete_resource());
    out.ec =
        run(pipe.io, async_send_request(pipe.client, request, http_proxy, out.buffer, Endpoint::create_access_token,
                                        max_response_size, body.secret.reveal(), out.diag, out.response, out.flags));
    // The request has no copy of the body, only a view; its copies of the credentials are wiped
    // once written.
    CHECK(request.body().data() == body.json.reveal().data());
    CHECK(std::string_view(request[http::field::authorization]).find("Y2xp") == std::string_view::npos);
    out.sent = pipe.sent();
    return out;
}

constexpr std::string_view token_json = R"({"api_access_token":"tok","user_id":7})";

std::string ok_response(std::string_view extra_headers = {}) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(token_json.size()) +
           "\r\n" + std::string(extra_headers) + "\r\n" + std::string(token_json);
}

}  // namespace

TEST_CASE("exchange: a 2xx JSON response, and the request as sent", "[transport]") {
    Pipe pipe(ok_response());
    const auto out = exchange(pipe);
    REQUIRE_FALSE(out.ec);
    CHECK(out.response.body.reveal() == token_json);
    CHECK(out.flags.keep_alive);
    CHECK(out.diag.http_status() == 200);
    CHECK(out.sent.rfind("POST /integration/v1/createAPIAccessToken/ HTTP/1.1\r\n", 0) == 0);
    CHECK(out.sent.find("Host: catalog.example.com\r\n") != std::string::npos);
    CHECK(out.sent.find("Authorization: Basic Y2xpZW50OnNlY3JldA==\r\n") != std::string::npos);
    CHECK(out.sent.find("Proxy-Authorization") == std::string::npos);
    CHECK(out.sent.ends_with(R"({"refresh_token":"refresh-token-123","user_id":7})"));
}

TEST_CASE("exchange: the read buffer keeps no byte of a response, whatever the outcome", "[transport]") {
    // Its storage, as the next response will find it.
    auto storage = [](ResponseBuffer& buffer) {
        buffer.clear();
        const auto bytes = buffer.prepare(buffer.capacity());
        return std::string(static_cast<const char*>(bytes.data()), bytes.size());
    };
    // More than one read's worth (Beast reads at least 512 bytes at a time), so that the buffer
    // moves its data about and grows.
    const std::string long_token(3000, 'k');
    const std::string long_json = R"({"api_access_token":")" + long_token + R"(","user_id":7})";
    const std::string long_response =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(long_json.size()) +
        "\r\n\r\n" + long_json;
    auto check_wiped = [&](std::string_view answer, bool close) {
        Pipe pipe(answer, close);
        auto out = exchange(pipe);
        const std::string bytes = storage(out.buffer);
        CHECK(bytes.size() >= 512);
        CHECK(bytes.find("HTTP/1.1") == std::string::npos);
        CHECK(bytes.find("api_access_token") == std::string::npos);
        CHECK(bytes.find("kkkk") == std::string::npos);
        return out.ec;
    };
    SECTION("a 2xx") { CHECK_FALSE(check_wiped(ok_response(), false)); }
    SECTION("a 2xx larger than a read") { CHECK_FALSE(check_wiped(long_response, false)); }
    SECTION("bytes past the response") { CHECK_FALSE(check_wiped(ok_response() + "HTTP/1.1 200 OK\r\n", false)); }
    SECTION("EOF in the middle of the body") {
        CHECK(check_wiped(long_response.substr(0, long_response.size() - 10), true) == http::error::partial_message);
    }
    SECTION("a 401 that echoes the token") {
        const std::string refused = "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: " +
                                    std::to_string(long_json.size()) + "\r\n\r\n" + long_json;
        CHECK(check_wiped(refused, false));
    }
}

namespace {

// Frees through std::allocator, first counting the blocks it is handed and those that still hold a
// byte other than zero. Hands out zeroed storage, so that only bytes a container wrote count
// (a string's storage has a byte past its capacity that it never writes).
template <class T>
struct CheckingAllocator {
    using value_type = T;
    static inline int freed = 0;
    static inline int dirty = 0;

    CheckingAllocator() = default;
    template <class U>
    CheckingAllocator(const CheckingAllocator<U>& /*other*/) noexcept {}

    T* allocate(std::size_t n) {
        T* p = std::allocator<T>().allocate(n);
        std::memset(static_cast<void*>(p), 0, n * sizeof(T));
        return p;
    }
    void deallocate(T* p, std::size_t n) noexcept {
        ++freed;
        const auto* bytes = reinterpret_cast<const unsigned char*>(p);
        if (std::any_of(bytes, bytes + n * sizeof(T), [](unsigned char b) { return b != 0; })) ++dirty;
        std::allocator<T>().deallocate(p, n);
    }
    friend bool operator==(const CheckingAllocator&, const CheckingAllocator&) noexcept { return true; }
};

}  // namespace

TEST_CASE("exchange: the read buffer wipes the storage it lets go of as it grows", "[transport]") {
    // Beast's flat_buffer moves its data to larger storage and frees the old as it was; a
    // response that outgrows the buffer must not leave its first bytes (a token) on the heap.
    using Checking = CheckingAllocator<char>;
    Checking::freed = Checking::dirty = 0;
    {
        boost::beast::basic_flat_buffer<WipingAllocator<char, Checking>> buffer;
        for (int i = 0; i < 8; ++i) {
            const auto room = buffer.prepare(512);
            std::memset(room.data(), 'k', room.size());
            buffer.commit(room.size());
        }
    }
    CHECK(Checking::freed >= 2);  // grown at least once, then destroyed
    CHECK(Checking::dirty == 0);
    static_assert(std::is_same_v<ResponseBuffer::allocator_type, WipingAllocator<char>>);
}

TEST_CASE("exchange: a body sent chunked wipes the storage it outgrows", "[transport]") {
    // With no Content-Length to reserve for, the body grows as the chunks arrive; the storage it
    // leaves behind held the first bytes of a token.
    using Checking = CheckingAllocator<char>;
    using String = std::basic_string<char, std::char_traits<char>, Checking>;
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 40; ++i) wire += "64\r\n" + std::string(100, 'k') + "\r\n";  // 0x64 = 100 bytes
    wire += "0\r\n\r\n";
    Checking::freed = Checking::dirty = 0;
    {
        http::response_parser<BasicSecretStringBody<String>> parser;
        parser.eager(true);
        beast::error_code ec;
        std::string_view rest = wire;
        while (!parser.is_done() && !ec) rest.remove_prefix(parser.put(asio::buffer(rest.data(), rest.size()), ec));
        REQUIRE_FALSE(ec);
        auto& body = parser.get().body();
        CHECK(std::string_view(body.data(), body.size()) == std::string(4000, 'k'));
        OPENSSL_cleanse(body.data(), body.capacity());  // the Client wipes the body it keeps
    }
    CHECK(Checking::freed >= 3);  // grown at least twice from the heap, then destroyed
    CHECK(Checking::dirty == 0);
    static_assert(std::is_same_v<SecretStringBody::value_type, std::string>);
}

TEST_CASE("exchange: a 2xx JSON response sent chunked", "[transport]") {
    const std::string half(token_json.substr(0, 20)), rest(token_json.substr(20));
    const auto chunk = [](const std::string& data) {
        std::ostringstream size;
        size << std::hex << data.size();
        return size.str() + "\r\n" + data + "\r\n";
    };
    Pipe pipe("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(half) +
              chunk(rest) + "0\r\n\r\n");
    const auto out = exchange(pipe);
    REQUIRE_FALSE(out.ec);
    CHECK(out.response.body.reveal() == token_json);
    CHECK(out.flags.keep_alive);
}

TEST_CASE("exchange: a header larger than its arena spills over and is sent whole", "[transport]") {
    // The Client gives make_request a 1 KiB arena in its frame; a long path prefix or user agent
    // must not be cut at its end.
    const BaseUrl to = target("https://catalog.example.com/" + std::string(1500, 'p'));
    const std::string user_agent(3000, 'u');
    std::array<char, 64> storage;
    std::pmr::monotonic_buffer_resource arena(storage.data(), storage.size());
    Pipe pipe(ok_response());
    const RequestBody body = access_request();
    auto request = make_request(to, nullptr, Endpoint::create_access_token, body, user_agent, arena);
    Exchanged out;
    out.ec = run(pipe.io, async_send_request(pipe.client, request, nullptr, out.buffer, Endpoint::create_access_token,
                                             64 * 1024, body.secret.reveal(), out.diag, out.response, out.flags));
    REQUIRE_FALSE(out.ec);
    const std::string sent = pipe.sent();
    CHECK(sent.rfind("POST /" + std::string(1500, 'p') + "/integration/v1/createAPIAccessToken/ HTTP/1.1\r\n", 0) == 0);
    CHECK(sent.find("User-Agent: " + user_agent + "\r\n") != std::string::npos);
    CHECK(sent.ends_with(body.json.reveal()));
}

TEST_CASE("exchange: http through a proxy uses the absolute form and Proxy-Authorization", "[transport][proxy]") {
    Pipe pipe(ok_response());
    const BaseUrl plain = target("http://127.0.0.1:8080/alation");
    const auto out = exchange(pipe, 64 * 1024, &corporate(), plain);
    REQUIRE_FALSE(out.ec);
    CHECK(out.sent.rfind("POST http://127.0.0.1:8080/alation/integration/v1/createAPIAccessToken/ HTTP/1.1\r\n", 0) ==
          0);
    CHECK(out.sent.find("Host: 127.0.0.1:8080\r\n") != std::string::npos);
    CHECK(out.sent.find("Proxy-Authorization: Basic YWxpY2U6czNjckB0\r\n") != std::string::npos);
}

TEST_CASE("exchange: a 407 from the proxy of an http target", "[transport][proxy]") {
    const std::string answer =
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n"
        "Content-Length: 0\r\n\r\n";
    const BaseUrl plain = target("http://127.0.0.1:8080");
    Pipe through_proxy(answer);
    auto out = exchange(through_proxy, 64 * 1024, &corporate(), plain);
    CHECK(out.ec == Error::proxy_authentication_required);
    CHECK(out.diag.http_status() == 407);
    CHECK(out.diag.message().find("http://proxy.corp:3128") != std::string::npos);
    // Directly, a 407 is only an unexpected status.
    Pipe direct(answer);
    out = exchange(direct, 64 * 1024, nullptr, plain);
    CHECK(out.ec == Error::unexpected_status);
}

TEST_CASE("exchange: every error path", "[transport]") {
    SECTION("the write fails") {
        beast::test::fail_count failures(0);
        Pipe pipe(failures, ok_response());
        const auto out = exchange(pipe);
        CHECK(out.ec == beast::test::error::test_failure);
        CHECK_FALSE(out.flags.stale);
        CHECK(out.diag.message() == "sending the request failed");
    }
    SECTION("the write finds the connection closed: stale") {
        beast::test::fail_count failures(0, asio::error::broken_pipe);
        Pipe pipe(failures, ok_response());
        const auto out = exchange(pipe);
        CHECK(out.ec == asio::error::broken_pipe);
        CHECK(out.flags.stale);
    }
    SECTION("EOF before any byte of a response: stale") {
        Pipe pipe("", true);
        const auto out = exchange(pipe);
        CHECK(out.ec == http::error::end_of_stream);
        CHECK(out.flags.stale);
        CHECK_FALSE(out.flags.keep_alive);
    }
    SECTION("EOF in the middle of the header: not stale") {
        Pipe pipe("HTTP/1.1 200 OK\r\nContent-Ty", true);
        const auto out = exchange(pipe);
        CHECK(out.ec == http::error::partial_message);
        CHECK_FALSE(out.flags.stale);
        CHECK(out.diag.message() == "reading the response failed");
    }
    SECTION("EOF in the middle of the body") {
        Pipe pipe(ok_response().substr(0, ok_response().size() - 5), true);
        const auto out = exchange(pipe);
        CHECK(out.ec == http::error::partial_message);
        CHECK_FALSE(out.flags.stale);
        CHECK(out.response.body.empty());
    }
    SECTION("a read fails at every point") {
        const std::string answer = ok_response();
        for (std::size_t n = 1; n < 12; ++n) {
            INFO(n);
            beast::test::fail_count failures(n);
            Pipe pipe(failures, answer);
            pipe.client.read_size(8);
            const auto out = exchange(pipe);
            CHECK(out.ec == beast::test::error::test_failure);
            CHECK(out.response.body.empty());
        }
    }
    SECTION("an oversize body, announced or not") {
        Pipe announced(ok_response());
        auto out = exchange(announced, 80);
        CHECK(out.ec == Error::response_too_large);
        CHECK(out.diag.message().find("max_response_size (80 bytes)") != std::string::npos);

        Pipe chunked("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n" + std::string(0x200, 'x') +
                     "\r\n0\r\n\r\n");
        out = exchange(chunked, 256);
        CHECK(out.ec == Error::response_too_large);
    }
    SECTION("an oversize header") {
        Pipe pipe(ok_response("X-Padding: " + std::string(300, 'p') + "\r\n"));
        CHECK(exchange(pipe, 200).ec == Error::response_too_large);
    }
    SECTION("a 2xx that is not JSON") {
        Pipe pipe("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>");
        const auto out = exchange(pipe);
        CHECK(out.ec == Error::malformed_response);
        CHECK(out.diag.field() == "Content-Type");
        CHECK(out.response.body.empty());
    }
    SECTION("bytes past the response: the connection is not reused, the buffer left empty") {
        Pipe pipe(ok_response() + "HTTP/1.1 200 OK\r\n");
        const auto out = exchange(pipe);
        CHECK_FALSE(out.ec);
        CHECK_FALSE(out.flags.keep_alive);
        CHECK(out.buffer.size() == 0);
    }
    SECTION("keep-alive off") {
        Pipe pipe(ok_response("Connection: close\r\n"));
        const auto out = exchange(pipe);
        CHECK_FALSE(out.ec);
        CHECK_FALSE(out.flags.keep_alive);
    }
    SECTION("a 401 whose body echoes the token: classified, the token redacted") {
        const std::string body = R"({"detail":"refresh-token-123 is expired or revoked"})";
        Pipe pipe("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
        const auto out = exchange(pipe);
        CHECK(out.ec == Error::refresh_token_expired_or_revoked);
        CHECK(out.diag.http_status() == 401);
        CHECK(out.diag.server_detail().find("refresh-token-123") == std::string::npos);
        CHECK(out.flags.keep_alive);
    }
    SECTION("a 503 with Retry-After and an HTML page") {
        const std::string page = "<html><body>Maintenance</body></html>";
        Pipe pipe("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Type: text/html\r\nContent-Length: " +
                  std::to_string(page.size()) + "\r\n\r\n" + page);
        const auto out = exchange(pipe);
        CHECK(out.ec == Error::server_error);
        CHECK(out.diag.http_status() == 503);
        CHECK(out.diag.retry_after() == std::chrono::seconds(7));
        CHECK(out.diag.server_detail().find("Maintenance") != std::string::npos);
    }
}

TEST_CASE("Route: a key per (target, proxy)", "[transport][proxy]") {
    const auto direct = Route::make(catalog(), std::nullopt);
    const auto proxied = Route::make(catalog(), corporate());
    const auto other = Route::make(catalog(), proxy("http://proxy2.corp:3128"));
    CHECK(direct.key != proxied.key);
    CHECK(proxied.key != other.key);
    CHECK(proxied.key.find("s3cr") == std::string::npos);
    CHECK(proxied.tunnelled());
    CHECK(proxied.http_proxy() == nullptr);
    const auto plain = Route::make(target("http://127.0.0.1:8080"), corporate());
    CHECK_FALSE(plain.tunnelled());
    CHECK(plain.http_proxy() != nullptr);
    CHECK_FALSE(direct.tunnelled());
}
