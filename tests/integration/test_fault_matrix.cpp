// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// The fault matrix (issue 4): each way the network, the server or a proxy can fail, and what the
// Client makes of it: the exact error, the diagnostics, how many requests the server saw, how
// long it took. Every outcome is also checked for secrets: no password or token value may appear
// in any message, what(), Diagnostics::to_string() or operator<< output.
#include "client_test_support.hpp"

#include <catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sstream>
#include <vector>

using namespace alation::auth;
using namespace alation::auth::test;
using asio::awaitable;
using asio::use_awaitable;
using detail::Endpoint;

namespace {

struct Outcome {
    error_code ec;
    Diagnostics diag;
    std::chrono::milliseconds elapsed{};
};

// A fake with a user, a refresh token and an access token, and a client with short timeouts.
struct Matrix : Fixture {
    RefreshToken refresh;
    AccessToken access;
    ClientOptions options;
    std::vector<std::string> secrets;

    explicit Matrix(FakeAlationOptions fake_options = {}) : Fixture(fake_options) {
        refresh = refresh_token();
        access = fake.issue_access_token(refresh.value);
        options = fake_options.tls ? tls_options() : fast_options();
        secrets = {password, std::string(refresh.value.reveal()), std::string(access.value.reveal())};
    }

    Outcome call(Endpoint e, std::string base_url = {}) {
        Client client(io.get_executor(), base_url.empty() ? fake.base_url() : base_url, options);
        Outcome out;
        const auto start = SteadyClock::now();
        run(io, [&]() -> awaitable<void> {
            auto tuple = asio::as_tuple(use_awaitable);
            switch (e) {
            case Endpoint::create_refresh_token: {
                // A named variable: GCC 12 destroys a temporary in a co_await expression twice.
                const Credentials creds = credentials();
                auto [ec, t] = co_await client.create_refresh_token(creds, out.diag, tuple);
                out.ec = ec;
                record(t);
                break;
            }
            case Endpoint::validate_refresh_token: {
                auto [ec, t] = co_await client.validate_refresh_token(refresh, out.diag, tuple);
                out.ec = ec;
                record(t);
                break;
            }
            case Endpoint::regenerate_refresh_token: {
                auto [ec, t] = co_await client.regenerate_refresh_token(refresh, out.diag, tuple);
                out.ec = ec;
                record(t);
                break;
            }
            case Endpoint::create_access_token: {
                auto [ec, t] = co_await client.create_access_token(refresh, out.diag, tuple);
                out.ec = ec;
                record(t);
                break;
            }
            case Endpoint::validate_access_token: {
                auto [ec, t] = co_await client.validate_access_token(access, out.diag, tuple);
                out.ec = ec;
                record(t);
                break;
            }
            case Endpoint::revoke_access_tokens: {
                auto [ec, r] = co_await client.revoke_access_tokens(refresh, out.diag, tuple);
                out.ec = ec;
                break;
            }
            case Endpoint::oauth_token:
            case Endpoint::oauth_introspect: FAIL_CHECK("the OAuth endpoints are not in the matrix yet"); break;
            }
        });
        out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);
        check_hygiene(out);
        return out;
    }

    // Tokens the call got back are secrets too; their redacted forms are checked below.
    template <class Token>
    void record(const Token& t) {
        if (!t.value.empty()) secrets.emplace_back(t.value.reveal());
        std::ostringstream os;
        os << t;
        texts.push_back(os.str());
    }

    void check_hygiene(const Outcome& out) {
        std::ostringstream streamed;
        streamed << out.diag;
        texts.push_back(out.ec.message());
        texts.push_back(out.diag.to_string());
        texts.push_back(streamed.str());
        texts.push_back(ErrorWithDiagnostics(out.ec, out.diag).what());
        for (const auto& text : texts) {
            for (const auto& secret : secrets) {
                INFO(text);
                CHECK(text.find(secret) == std::string::npos);
            }
        }
    }

    std::vector<std::string> texts;
};

std::string path_of(Endpoint e) { return std::string(detail::path(e)); }

const Endpoint all_endpoints[] = {Endpoint::create_refresh_token,     Endpoint::validate_refresh_token,
                                  Endpoint::regenerate_refresh_token, Endpoint::create_access_token,
                                  Endpoint::validate_access_token,    Endpoint::revoke_access_tokens};

bool is_ssl_reason(error_code ec, int reason) {
    return ec.category() == asio::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == reason;
}

}  // namespace

TEST_CASE("fault matrix: connection refused") {
    Matrix m;
    unsigned short port;
    {
        // A port that was just free: nothing listens on it.
        asio::ip::tcp::acceptor probe(m.io, {asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }
    for (Endpoint e : {Endpoint::create_refresh_token, Endpoint::create_access_token}) {
        Outcome out = m.call(e, "http://127.0.0.1:" + std::to_string(port));
        CHECK(out.ec == asio::error::connection_refused);
        CHECK(out.diag.http_status() == 0);
        CHECK(out.diag.message() == "cannot connect to the server");
    }
}

TEST_CASE("fault matrix: reset before the response") {
    for (Endpoint e : all_endpoints) {
        INFO(detail::name(e));
        Matrix m;
        m.fake.inject(path_of(e), Fault{.kind = Fault::Kind::reset_before_response}, 3);
        Outcome out = m.call(e);
        CHECK(out.ec == asio::error::connection_reset);
        // Retried up to max_attempts (3), except createRefreshToken, which the server may have acted on.
        CHECK(m.fake.request_count(path_of(e)) == (e == Endpoint::create_refresh_token ? 1u : 3u));
    }
    Matrix m;
    m.fake.inject(path_of(Endpoint::create_access_token), Fault{.kind = Fault::Kind::reset_before_response});
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(!out.ec);
    CHECK(m.fake.request_count(path_of(Endpoint::create_access_token)) == 2);
}

TEST_CASE("fault matrix: reset during the response") {
    Matrix m;
    m.fake.inject(access_path(), Fault{.kind = Fault::Kind::reset_during_response}, 3);
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == asio::error::connection_reset);
    CHECK(m.fake.request_count(access_path()) == 3);
}

TEST_CASE("fault matrix: truncated body") {
    Matrix m;
    m.fake.inject(access_path(), Fault{.kind = Fault::Kind::truncated_body}, 3);
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == boost::beast::http::error::partial_message);
    CHECK(out.diag.message() == "reading the response failed");
    CHECK(m.fake.request_count(access_path()) == 3);

    m.fake.inject(path_of(Endpoint::create_refresh_token), Fault{.kind = Fault::Kind::truncated_body}, 3);
    out = m.call(Endpoint::create_refresh_token);
    CHECK(out.ec == boost::beast::http::error::partial_message);
    CHECK(m.fake.request_count(path_of(Endpoint::create_refresh_token)) == 1);
}

TEST_CASE("fault matrix: body over the size limit") {
    Matrix m;
    m.fake.inject(access_path(), Fault{.kind = Fault::Kind::oversized_body, .size = 1 << 20});
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::response_too_large);
    CHECK(out.diag.message() == "the response exceeds max_response_size (65536 bytes)");
    CHECK(m.fake.request_count(access_path()) == 1);

    // The limit counts the header too: a body of exactly the limit does not fit.
    const std::string body = R"({"detail":"Revoked active access tokens for refresh token: 'etl' with id: 1"})";
    m.options.max_response_size = body.size();
    m.fake.inject(path_of(Endpoint::revoke_access_tokens), Fault{.status = 200, .body = body});
    out = m.call(Endpoint::revoke_access_tokens);
    CHECK(out.ec == Error::response_too_large);
    m.options.max_response_size = body.size() + 1000;
    m.fake.inject(path_of(Endpoint::revoke_access_tokens), Fault{.status = 200, .body = body});
    out = m.call(Endpoint::revoke_access_tokens);
    CHECK(!out.ec);
}

TEST_CASE("fault matrix: HTML 502 from a proxy, retried") {
    Matrix m;
    m.fake.inject(access_path(), Fault{.status = 502, .html = true}, 3);
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::server_error);
    CHECK(out.diag.http_status() == 502);
    CHECK(!out.diag.server_detail().empty());
    CHECK(out.diag.server_detail().find('<') == std::string::npos);
    CHECK(m.fake.request_count(access_path()) == 3);
}

TEST_CASE("fault matrix: 200 bodies that are not the contract's JSON") {
    const std::string token(48, 'A');
    auto body = [&](std::string user_id, std::string expires, std::string extra = "") {
        return R"({"api_access_token":")" + token + R"(","user_id":)" + user_id +
               R"(,"created_at":"2026-01-01T00:00:00Z","token_expires_at":)" + expires + R"(,"token_status":"ACTIVE")" +
               extra + "}";
    };
    struct Case {
        std::string name, body, field, message;
    };
    const Case cases[] = {
        {"sanity", body("7", R"("2026-01-02T00:00:00Z")"), "", ""},
        {"invalid JSON", "{not json", "", ""},
        {"array", "[]", "", "expected a JSON object, got an array"},
        {"missing field", R"({"user_id":7,"created_at":"2026-01-01T00:00:00Z"})", "api_access_token", "missing"},
        {"wrong type", body("true", R"("2026-01-02T00:00:00Z")"), "user_id", "expected an integer, got a boolean"},
        {"null", body("7", "null"), "token_expires_at", "expected a string, got null"},
        {"huge user_id", body("99999999999999999999", R"("2026-01-02T00:00:00Z")"), "user_id", ""},
        {"negative lifetime", body("7", R"("2025-12-31T00:00:00Z")"), "token_expires_at",
         "expires before it was created"},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        Matrix m;
        m.fake.inject(access_path(), Fault{.status = 200, .body = c.body});
        Outcome out = m.call(Endpoint::create_access_token);
        if (c.name == "sanity") {
            CHECK(!out.ec);
            continue;
        }
        CHECK(out.ec == Error::malformed_response);
        CHECK(out.diag.field() == c.field);
        if (!c.message.empty()) CHECK(out.diag.message() == c.message);
        // Never retried: the server answered, and would answer the same.
        CHECK(m.fake.request_count(access_path()) == 1);
    }
}

TEST_CASE("fault matrix: a 200 with the wrong Content-Type") {
    Matrix m;
    m.fake.inject(path_of(Endpoint::revoke_access_tokens),
                  Fault{.status = 200, .body = R"({"detail":"Revoked"})", .content_type = "text/html; charset=utf-8"});
    Outcome out = m.call(Endpoint::revoke_access_tokens);
    CHECK(out.ec == Error::malformed_response);
    CHECK(out.diag.field() == "Content-Type");
    CHECK(out.diag.message() == "expected application/json");

    // Parameters and +json types are fine.
    m.fake.inject(
        path_of(Endpoint::revoke_access_tokens),
        Fault{.status = 200, .body = R"({"detail":"Revoked"})", .content_type = "Application/JSON; charset=utf-8"});
    out = m.call(Endpoint::revoke_access_tokens);
    CHECK(!out.ec);
}

TEST_CASE("fault matrix: the server never answers") {
    Matrix m;
    m.options.request_timeout = 200ms;
    m.options.retry.max_attempts = 2;
    m.fake.inject(access_path(), Fault{.kind = Fault::Kind::never_answer}, 2);
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::timeout);
    CHECK(out.diag.message() == "reading the response failed");
    CHECK(m.fake.request_count(access_path()) == 2);
    CHECK(out.elapsed >= 400ms);
    CHECK(out.elapsed < 2s);

    // createRefreshToken: the request reached the server; not retried.
    m.fake.inject(path_of(Endpoint::create_refresh_token), Fault{.kind = Fault::Kind::never_answer});
    out = m.call(Endpoint::create_refresh_token);
    CHECK(out.ec == Error::timeout);
    CHECK(m.fake.request_count(path_of(Endpoint::create_refresh_token)) == 1);
}

TEST_CASE("fault matrix: a drip-feeding server times out, does not hang") {
    Matrix m;
    m.options.request_timeout = 300ms;
    m.options.retry = RetryPolicy::none();
    m.fake.inject(access_path(), Fault{.kind = Fault::Kind::drip, .delay = 20ms});
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::timeout);
    CHECK(out.elapsed >= 300ms);
    CHECK(out.elapsed < 1500ms);
}

TEST_CASE("fault matrix: 429 with Retry-After, then success") {
    Matrix m;
    m.fake.inject(access_path(), Fault{.status = 429, .retry_after = "1"});
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(!out.ec);
    CHECK(m.fake.request_count(access_path()) == 2);
    CHECK(out.elapsed >= 1s);  // the backoff alone is at most 5 ms: Retry-After was honoured

    // A Retry-After above max_retry_after ends the retries at once.
    m.fake.inject(access_path(), Fault{.status = 429, .retry_after = "60"});
    out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::rate_limited);
    CHECK(out.diag.retry_after() == std::chrono::seconds(60));
    CHECK(out.elapsed < 1s);
    CHECK(m.fake.request_count(access_path()) == 3);
}

TEST_CASE("fault matrix: 503 three times, then success") {
    Matrix m;
    m.options.retry.max_attempts = 4;
    m.fake.inject(access_path(), Fault{.status = 503}, 3);
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(!out.ec);
    CHECK(m.fake.request_count(access_path()) == 4);
    CHECK(m.fake.access_tokens_minted() == 1);
}

TEST_CASE("fault matrix: 401 and 400 are never retried") {
    Matrix m;
    m.fake.inject(access_path(),
                  Fault{.status = 401, .body = R"({"detail":"Refresh token provided is invalid.","code":"401000"})"});
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::invalid_refresh_token);
    CHECK(out.diag.server_code() == "401000");
    CHECK(m.fake.request_count(access_path()) == 1);

    m.fake.inject(access_path(), Fault{.status = 400});
    out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::bad_request);
    CHECK(m.fake.request_count(access_path()) == 2);
}

TEST_CASE("fault matrix: createRefreshToken is not retried after a 503") {
    Matrix m;
    m.fake.inject(path_of(Endpoint::create_refresh_token), Fault{.status = 503});
    Outcome out = m.call(Endpoint::create_refresh_token);
    CHECK(out.ec == Error::server_error);
    CHECK(out.diag.http_status() == 503);
    CHECK(m.fake.request_count(path_of(Endpoint::create_refresh_token)) == 1);
    CHECK(m.fake.refresh_tokens_created() == 0);
}

TEST_CASE("fault matrix: TLS certificates that must not be trusted") {
    using testing::CertificateKind;
    for (auto kind : {CertificateKind::self_signed_untrusted, CertificateKind::wrong_host, CertificateKind::expired}) {
        INFO("certificate kind " << static_cast<int>(kind));
        Matrix m(FakeAlationOptions{.tls = true, .certificate = kind});
        for (Endpoint e : {Endpoint::create_refresh_token, Endpoint::create_access_token}) {
            Outcome out = m.call(e);
            CHECK(is_ssl_reason(out.ec, SSL_R_CERTIFICATE_VERIFY_FAILED));
            CHECK(out.diag.message() == "TLS handshake failed");
            CHECK(m.fake.request_count(path_of(e)) == 0);
        }
        // No retry: one handshake per call.
        CHECK(m.fake.connections_accepted() == 2);

        // With verification off (testing only) the same server is accepted.
        m.options.verify_peer = false;
        CHECK(!m.call(Endpoint::create_access_token).ec);
    }
}

TEST_CASE("fault matrix: a plain HTTP server behind an https URL fails promptly") {
    Matrix m;
    m.options.connect_timeout = 3s;
    Outcome out = m.call(Endpoint::create_access_token, "https://127.0.0.1:" + std::to_string(m.fake.port()));
    CHECK(is_ssl_reason(out.ec, SSL_R_WRONG_VERSION_NUMBER));
    CHECK(out.elapsed < 1s);
    CHECK(m.fake.connections_accepted() == 1);
}

TEST_CASE("fault matrix: secret hygiene, a server echoing the secret it was sent") {
    Matrix m;
    const std::string token(m.refresh.value.reveal());
    m.fake.inject(
        access_path(),
        Fault{.status = 400, .body = R"({"detail":"bad refresh_token )" + token + R"(","code":")" + token + "\"}"});
    Outcome out = m.call(Endpoint::create_access_token);
    CHECK(out.ec == Error::bad_request);
    CHECK(out.diag.server_detail() == "bad refresh_token [redacted]");

    m.fake.inject(
        path_of(Endpoint::create_refresh_token),
        Fault{.status = 502, .body = "<html><body>upstream said " + password + "</body></html>", .html = true});
    out = m.call(Endpoint::create_refresh_token);
    CHECK(out.ec == Error::server_error);
    CHECK(out.diag.server_detail().find("[redacted]") != std::string::npos);
    // check_hygiene ran on both outcomes and every token printed.
    CHECK(m.texts.size() >= 8);
}
