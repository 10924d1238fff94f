#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>

#include "catch.hpp"

#include <sstream>
#include <string>

using namespace alation::auth;

namespace {
template <class T>
std::string streamed(const T& value) {
    std::ostringstream os;
    os << value;
    return os.str();
}
}  // namespace

TEST_CASE("Secret prints redacted and compares by value") {
    const Secret s("tok-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789");
    CHECK(streamed(s) == "Secret(41 chars)");
    CHECK(s.reveal() == "tok-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789");
    CHECK(s == Secret("tok-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789"));
    CHECK_FALSE(s == Secret("tok-ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456788"));
    CHECK_FALSE(s == Secret("tok"));
}

TEST_CASE("Secret taken from a std::string leaves no copy in the caller's string") {
    SECTION("a long value: its heap buffer moves, nothing is copied") {
        std::string source = "a-password-long-enough-to-live-on-the-heap";
        const char* buffer = source.data();
        Secret s(std::move(source));
        CHECK(s.reveal() == "a-password-long-enough-to-live-on-the-heap");
        CHECK(s.reveal().data() == buffer);
    }
    SECTION("a short value: the bytes the string kept inline are wiped") {
        std::string source = "short-pw";
        const char* inline_buffer = source.data();
        const auto capacity = source.capacity();
        Secret s(std::move(source));
        CHECK(s.reveal() == "short-pw");
        REQUIRE(source.data() == inline_buffer);  // NOLINT(bugprone-use-after-move)
        for (std::size_t i = 0; i < capacity; ++i) CHECK(inline_buffer[i] == '\0');
    }
}

TEST_CASE("A moved-from Secret is empty and keeps no copy") {
    SECTION("a long value: the buffer moves with it") {
        Secret a("a-refresh-token-value-well-beyond-the-small-string-size");
        const char* buffer = a.reveal().data();
        Secret b(std::move(a));
        CHECK(b.reveal() == "a-refresh-token-value-well-beyond-the-small-string-size");
        CHECK(b.reveal().data() == buffer);
        CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the state after a move is the contract
    }
    SECTION("a short value: the moved-from inline buffer is wiped") {
        Secret a("short-token");
        const char* inline_buffer = a.reveal().data();
        const auto size = a.size();
        Secret b(std::move(a));
        CHECK(b.reveal() == "short-token");
        CHECK(a.empty());  // NOLINT(bugprone-use-after-move)
        REQUIRE(a.reveal().data() == inline_buffer);
        for (std::size_t i = 0; i < size; ++i) CHECK(inline_buffer[i] == '\0');
    }
    SECTION("move assignment, both ways") {
        Secret a("a-refresh-token-value-well-beyond-the-small-string-size");
        Secret b("short-token");
        const char* inline_buffer = b.reveal().data();
        a = std::move(b);
        CHECK(a.reveal() == "short-token");
        CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
        for (std::size_t i = 0; i < 11; ++i) CHECK(inline_buffer[i] == '\0');
        b = std::move(a);
        CHECK(b.reveal() == "short-token");
        CHECK(a.empty());  // NOLINT(bugprone-use-after-move)
    }
}

TEST_CASE("Tokens print without their value") {
    AccessToken t;
    t.value = Secret("the-access-token-value");
    t.user_id = 7;
    t.status = TokenStatus::active;
    const auto text = streamed(t);
    CHECK(text.find("the-access-token-value") == std::string::npos);
    CHECK(text.find("user_id=7") != std::string::npos);

    RefreshToken r;
    r.value = Secret("the-refresh-token-value");
    r.name = "etl";
    CHECK(streamed(r).find("the-refresh-token-value") == std::string::npos);

    // A name with control characters cannot forge a log line.
    r.name = "etl\nERROR forged line\r\"";
    CHECK(streamed(r).find("name=\"etl?ERROR forged line??\"") != std::string::npos);
}

TEST_CASE("Token lifetime and local expiry ignore the local wall clock") {
    AccessToken t;
    t.created_at = Timestamp{std::chrono::hours(1000)};
    t.expires_at = t.created_at + std::chrono::hours(24);
    t.requested_at = SteadyClock::time_point{std::chrono::seconds(5)};
    CHECK(t.lifetime() == std::chrono::hours(24));
    CHECK(t.local_expiry() == SteadyClock::time_point{std::chrono::seconds(5) + std::chrono::hours(24)});
}

TEST_CASE("Errors have their own category and readable messages") {
    const error_code ec = Error::invalid_refresh_token;
    CHECK(&ec.category() == &error_category());
    CHECK(std::string(ec.category().name()) == "alation.auth");
    CHECK(ec.message() == "the refresh token is invalid");
    CHECK(ec == Error::invalid_refresh_token);
    CHECK(ec != Error::invalid_access_token);
    for (int e = 1; e <= static_cast<int>(Error::regeneration_in_progress); ++e)
        CHECK(error_category().message(e) != "unknown alation.auth error");
}

TEST_CASE("ErrorWithDiagnostics keeps the server's words out of what()") {
    Diagnostics d;
    d.set_http_status(401);
    d.set_server_detail("Refresh token provided is invalid.");
    d.set_server_code("401000");
    const ErrorWithDiagnostics e(Error::invalid_refresh_token, d);
    CHECK(std::string(e.what()).find("provided is invalid") == std::string::npos);
    CHECK(e.code() == Error::invalid_refresh_token);
    CHECK(e.diagnostics().server_code() == "401000");
    CHECK(d.to_string() == "HTTP 401, code 401000, detail: Refresh token provided is invalid.");
}
