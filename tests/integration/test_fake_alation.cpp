// Tests of the fake Alation itself, over loopback sockets with raw Beast requests: each endpoint,
// each variant option, each fault, the counters, keep-alive and TLS.
#include <alation/auth/detail/oauth.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include "catch.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using namespace alation::auth;
using namespace alation::auth::testing;
using namespace std::chrono_literals;
using boost::system::error_code;

namespace {

using alation::auth::detail::Endpoint;
const std::string_view create_refresh = alation::auth::detail::path(Endpoint::create_refresh_token);
const std::string_view validate_refresh = alation::auth::detail::path(Endpoint::validate_refresh_token);
const std::string_view regen_refresh = alation::auth::detail::path(Endpoint::regenerate_refresh_token);
const std::string_view create_access = alation::auth::detail::path(Endpoint::create_access_token);
const std::string_view validate_access = alation::auth::detail::path(Endpoint::validate_access_token);
const std::string_view revoke_access = alation::auth::detail::path(Endpoint::revoke_access_tokens);
const std::string_view oauth_token = alation::auth::detail::path(Endpoint::oauth_token);
const std::string_view oauth_introspect = alation::auth::detail::path(Endpoint::oauth_introspect);
constexpr std::string_view table = "/integration/v2/table/";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The fake serves on a two-thread pool, so every test also runs it multi-threaded.
struct Server {
    asio::thread_pool pool{2};
    FakeAlation fake;
    std::int64_t user_id;

    explicit Server(FakeAlationOptions options = {}) : fake(pool.get_executor(), options) {
        user_id = fake.add_user("alice", "alice-password");
    }
};

Request post(std::string_view path, std::string body, std::string_view content_type = "application/json") {
    Request req{http::verb::post, path, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

Request get_table(std::string_view token) {
    Request req{http::verb::get, table, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set("TOKEN", token);
    return req;
}

struct Received {
    error_code ec;
    Response response;
    std::chrono::steady_clock::duration elapsed{};
};

// One client connection, driven synchronously on its own io_context, every read bounded.
template <class Stream>
class BasicConnection {
public:
    template <class... Args>
    explicit BasicConnection(Args&&... args) : stream_(ioc_, std::forward<Args>(args)...) {}

    Stream& stream() { return stream_; }
    beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

    error_code connect(unsigned short port) {
        error_code ec;
        tcp().socket().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
        return ec;
    }

    error_code send(const Request& req) {
        error_code ec;
        http::write(stream_, req, ec);
        return ec;
    }

    Received receive(std::chrono::milliseconds timeout = 2s) {
        Received r;
        http::response_parser<http::string_body> parser;
        parser.body_limit(16 << 20);
        const auto start = std::chrono::steady_clock::now();
        tcp().expires_after(timeout);
        http::async_read(stream_, buffer_, parser, [&](error_code ec, std::size_t) { r.ec = ec; });
        ioc_.restart();
        ioc_.run();
        r.elapsed = std::chrono::steady_clock::now() - start;
        r.response = parser.release();
        return r;
    }

    // `elapsed` counts from before the request is written: the server's delay starts as soon as
    // it has read the request, which may be before our write returns.
    Received exchange(const Request& req, std::chrono::milliseconds timeout = 2s) {
        const auto start = std::chrono::steady_clock::now();
        Received r;
        r.ec = send(req);
        if (r.ec) return r;
        r = receive(timeout);
        r.elapsed = std::chrono::steady_clock::now() - start;
        return r;
    }

private:
    asio::io_context ioc_;
    Stream stream_;
    beast::flat_buffer buffer_;
};

using Connection = BasicConnection<beast::tcp_stream>;

// One request on a fresh connection; it must get an HTTP response.
Response call(FakeAlation& fake, const Request& req) {
    Connection c;
    REQUIRE_FALSE(c.connect(fake.port()));
    Received r = c.exchange(req);
    INFO(r.ec.message());
    REQUIRE_FALSE(r.ec);
    return std::move(r.response);
}

Response call(FakeAlation& fake, std::string_view path, const json::object& body) {
    return call(fake, post(path, json::serialize(body)));
}

json::object parse(const Response& res) {
    INFO(res.body());
    error_code ec;
    json::value v = json::parse(res.body(), ec);
    REQUIRE_FALSE(ec);
    REQUIRE(v.is_object());
    return std::move(v.as_object());
}

std::string str(const json::object& o, std::string_view key) {
    INFO(key);
    REQUIRE(o.contains(key));
    REQUIRE(o.at(key).is_string());
    return std::string(o.at(key).as_string());
}

json::object create_refresh_token(Server& s, std::string name = "etl") {
    const Response res = call(s.fake, create_refresh,
                              {{"username", "alice"}, {"password", "alice-password"}, {"name", std::move(name)}});
    REQUIRE(res.result_int() == 200);
    return parse(res);
}

json::object refresh_request(const json::object& refresh) {
    return {{"refresh_token", refresh.at("refresh_token")}, {"user_id", refresh.at("user_id")}};
}

json::object create_access_token(Server& s, const json::object& refresh) {
    const Response res = call(s.fake, create_access, refresh_request(refresh));
    REQUIRE(res.result_int() == 200);
    return parse(res);
}

void check_error(const Response& res, unsigned status, std::string_view detail, std::string_view code) {
    INFO(res.body());
    CHECK(res.result_int() == status);
    CHECK(res[http::field::content_type] == "application/json");
    const json::object body = parse(res);
    CHECK(str(body, "detail") == detail);
    CHECK(str(body, "code") == code);
}

// An RFC 3339 timestamp as an instant, whatever its fraction and offset.
std::chrono::sys_time<std::chrono::nanoseconds> parse_time(const std::string& s) {
    static const std::regex form(
        R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2})))");
    std::smatch m;
    INFO(s);
    REQUIRE(std::regex_match(s, m, form));
    using namespace std::chrono;
    const sys_days date = year_month_day{year{std::stoi(m[1])}, month{static_cast<unsigned>(std::stoi(m[2]))},
                                         std::chrono::day{static_cast<unsigned>(std::stoi(m[3]))}};
    nanoseconds t = hours(std::stoi(m[4])) + minutes(std::stoi(m[5])) + seconds(std::stoi(m[6]));
    if (m[8].matched) {
        std::string fraction = m[8];
        fraction.resize(9, '0');
        t += nanoseconds(std::stoll(fraction));
    }
    if (m[10].matched) {
        const minutes offset = hours(std::stoi(m[11])) + minutes(std::stoi(m[12]));
        t -= m[10] == "+" ? offset : -offset;
    }
    return date + t;
}

Fault fault_of(Fault::Kind kind) {
    Fault f;
    f.kind = kind;
    return f;
}

bool wait_until(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

TEST_CASE("createRefreshToken returns a refresh token in the documented shape") {
    Server s;
    const json::object body = create_refresh_token(s, "nightly-etl");
    CHECK(body.size() == 6);
    CHECK(str(body, "refresh_token").size() == 80);
    CHECK(std::regex_match(str(body, "refresh_token"), std::regex("[A-Za-z0-9_-]{80}")));
    REQUIRE(body.at("user_id").is_int64());
    CHECK(body.at("user_id").as_int64() == s.user_id);
    CHECK(str(body, "name") == "nightly-etl");
    CHECK(str(body, "token_status") == "ACTIVE");
    CHECK(std::regex_match(str(body, "created_at"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
    CHECK(parse_time(str(body, "token_expires_at")) - parse_time(str(body, "created_at")) == 24h * 60);
    const auto age = std::chrono::system_clock::now() - parse_time(str(body, "created_at"));
    CHECK(age >= 0s);
    CHECK(age < 5s);
    CHECK(s.fake.refresh_tokens_created() == 1);
    CHECK(s.fake.request_count(create_refresh) == 1);
    // Two tokens of one user are different.
    CHECK(str(create_refresh_token(s), "refresh_token") != str(body, "refresh_token"));
}

TEST_CASE("createRefreshToken refuses wrong credentials and SSO users") {
    Server s;
    s.fake.add_user("sso-bob", "", true);
    SECTION("wrong password") {
        check_error(call(s.fake, create_refresh, {{"username", "alice"}, {"password", "nope"}, {"name", "n"}}), 401,
                    "Invalid username or password.", "401000");
    }
    SECTION("unknown user") {
        check_error(
            call(s.fake, create_refresh, {{"username", "carol"}, {"password", "alice-password"}, {"name", "n"}}), 401,
            "Invalid username or password.", "401000");
    }
    SECTION("SSO user, 401 by default") {
        const Response res = call(s.fake, create_refresh, {{"username", "sso-bob"}, {"password", "x"}, {"name", "n"}});
        CHECK(res.result_int() == 401);
        CHECK(str(parse(res), "code") == "401000");
    }
    CHECK(s.fake.refresh_tokens_created() == 0);
    CHECK(s.fake.request_count(create_refresh) == 1);
    CHECK_THROWS_AS(s.fake.add_user("alice", "again"), std::invalid_argument);
}

TEST_CASE("SSO users may get 403 instead") {
    FakeAlationOptions options;
    options.sso_rejection_status = 403;
    Server s(options);
    s.fake.add_user("sso-bob", "", true);
    const Response res = call(s.fake, create_refresh, {{"username", "sso-bob"}, {"password", "x"}, {"name", "n"}});
    CHECK(res.result_int() == 403);
    CHECK(str(parse(res), "code") == "403000");
}

TEST_CASE("request validation: fields, types, JSON, Content-Type, method, path") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    SECTION("missing field") {
        check_error(call(s.fake, create_refresh, {{"username", "alice"}, {"name", "n"}}), 400,
                    "password: This field is required.", "400002");
        check_error(call(s.fake, create_access, {{"refresh_token", refresh.at("refresh_token")}}), 400,
                    "user_id: This field is required.", "400002");
        check_error(call(s.fake, validate_access, {{"user_id", s.user_id}}), 400,
                    "api_access_token: This field is required.", "400002");
    }
    SECTION("wrong type") {
        check_error(call(s.fake, create_refresh, {{"username", "alice"}, {"password", 5}, {"name", "n"}}), 400,
                    "password: Not a valid string.", "400003");
        check_error(call(s.fake, create_access, {{"refresh_token", refresh.at("refresh_token")}, {"user_id", 1.5}}),
                    400, "user_id: A valid integer is required.", "400003");
        check_error(call(s.fake, create_access, {{"refresh_token", refresh.at("refresh_token")}, {"user_id", "7x"}}),
                    400, "user_id: A valid integer is required.", "400003");
    }
    SECTION("blank") {
        check_error(call(s.fake, create_refresh, {{"username", "alice"}, {"password", "alice-password"}, {"name", ""}}),
                    400, "name: This field may not be blank.", "400004");
    }
    SECTION("invalid JSON and non-object JSON") {
        check_error(call(s.fake, post(create_access, "{\"refresh_token\":")), 400, "JSON parse error.", "400001");
        check_error(call(s.fake, post(create_access, "[1,2]")), 400, "Invalid data. Expected a dictionary.", "400001");
    }
    SECTION("Content-Type") {
        const std::string body = json::serialize(refresh_request(refresh));
        check_error(call(s.fake, post(create_access, body, "text/plain")), 400,
                    "Content-Type must be application/json.", "400000");
        check_error(call(s.fake, post(create_access, body, "")), 400, "Content-Type must be application/json.",
                    "400000");
        CHECK(call(s.fake, post(create_access, body, "Application/JSON; charset=utf-8")).result_int() == 200);
    }
    SECTION("method") {
        Request req{http::verb::get, create_access, 11};
        const Response res = call(s.fake, req);
        check_error(res, 405, "Method \"GET\" not allowed.", "405000");
        CHECK(res[http::field::allow] == "POST");
        const Response table_res = call(s.fake, post(table, "{}"));
        CHECK(table_res.result_int() == 405);
        CHECK(table_res[http::field::allow] == "GET");
    }
    SECTION("path: the trailing slash matters; the query does not") {
        check_error(
            call(s.fake, post("/integration/v1/createAPIAccessToken", json::serialize(refresh_request(refresh)))), 404,
            "Not found.", "404000");
        CHECK(call(s.fake, post(std::string(create_access) + "?x=1", json::serialize(refresh_request(refresh))))
                  .result_int() == 200);
        CHECK(s.fake.request_count("/integration/v1/createAPIAccessToken") == 1);
        CHECK(s.fake.request_count(create_access) == 1);
    }
    CHECK(s.fake.access_tokens_minted() <= 1);
}

TEST_CASE("user_id may be a numeric string, unless the option forbids it") {
    FakeAlationOptions options;
    SECTION("accepted") {
        Server s(options);
        const json::object refresh = create_refresh_token(s);
        const Response res =
            call(s.fake, create_access,
                 {{"refresh_token", refresh.at("refresh_token")}, {"user_id", std::to_string(s.user_id)}});
        REQUIRE(res.result_int() == 200);
        CHECK(parse(res).at("user_id").as_int64() == s.user_id);
    }
    SECTION("refused") {
        options.accept_user_id_as_string = false;
        Server s(options);
        const json::object refresh = create_refresh_token(s);
        check_error(call(s.fake, create_access,
                         {{"refresh_token", refresh.at("refresh_token")}, {"user_id", std::to_string(s.user_id)}}),
                    400, "user_id: A valid integer is required.", "400003");
    }
}

TEST_CASE("validateRefreshToken: last_used_at, invalid, expired, revoked") {
    Server s;
    const json::object refresh = create_refresh_token(s, "bi");
    const json::object validated = parse(call(s.fake, validate_refresh, refresh_request(refresh)));
    CHECK(validated.size() == 7);
    CHECK(validated.at("last_used_at").is_null());
    CHECK(str(validated, "token_status") == "ACTIVE");
    CHECK(str(validated, "name") == "bi");
    CHECK(validated.at("refresh_token") == refresh.at("refresh_token"));
    CHECK(validated.at("created_at") == refresh.at("created_at"));

    create_access_token(s, refresh);
    const json::object used = parse(call(s.fake, validate_refresh, refresh_request(refresh)));
    CHECK(parse_time(str(used, "last_used_at")) >= parse_time(str(used, "created_at")));

    check_error(call(s.fake, validate_refresh, {{"refresh_token", "not-a-token"}, {"user_id", s.user_id}}), 401,
                "Refresh token provided is invalid.", "401000");
    check_error(
        call(s.fake, validate_refresh, {{"refresh_token", refresh.at("refresh_token")}, {"user_id", s.user_id + 1}}),
        401, "Refresh token provided is invalid.", "401000");

    const Secret value(str(refresh, "refresh_token"));
    SECTION("expired") { s.fake.expire_refresh_token(value); }
    SECTION("revoked") { s.fake.revoke_refresh_token(value); }
    check_error(call(s.fake, validate_refresh, refresh_request(refresh)), 401,
                "Refresh token provided is expired or revoked.", "401000");
    check_error(call(s.fake, create_access, refresh_request(refresh)), 401,
                "Refresh token provided is expired or revoked.", "401000");
    CHECK(s.fake.access_tokens_minted() == 1);
}

TEST_CASE("validateRefreshToken variant: expired and revoked answer 200 with their status") {
    FakeAlationOptions options;
    options.expired_refresh_validates_as_200 = true;
    Server s(options);
    const RefreshToken expired = s.fake.issue_refresh_token(s.user_id, "a");
    const RefreshToken revoked = s.fake.issue_refresh_token(s.user_id, "b");
    s.fake.expire_refresh_token(expired.value);
    s.fake.revoke_refresh_token(revoked.value);
    const auto status_of = [&](const RefreshToken& t) {
        const Response res =
            call(s.fake, validate_refresh, {{"refresh_token", t.value.reveal()}, {"user_id", s.user_id}});
        REQUIRE(res.result_int() == 200);
        return str(parse(res), "token_status");
    };
    CHECK(status_of(expired) == "EXPIRED");
    CHECK(status_of(revoked) == "REVOKED");
    // Minting still refuses them.
    CHECK(
        call(s.fake, create_access, {{"refresh_token", expired.value.reveal()}, {"user_id", s.user_id}}).result_int() ==
        401);
}

TEST_CASE("regenRefreshToken replaces the refresh token") {
    Server s;
    const json::object old_token = create_refresh_token(s, "svc");
    const Response res = call(s.fake, regen_refresh, refresh_request(old_token));
    REQUIRE(res.result_int() == 200);
    const json::object new_token = parse(res);
    CHECK(new_token.size() == 6);
    CHECK(str(new_token, "refresh_token").size() == 80);
    CHECK(str(new_token, "refresh_token") != str(old_token, "refresh_token"));
    CHECK(str(new_token, "name") == "svc");
    CHECK(new_token.at("user_id").as_int64() == s.user_id);
    CHECK(s.fake.refresh_tokens_created() == 2);
    check_error(call(s.fake, create_access, refresh_request(old_token)), 401,
                "Refresh token provided is expired or revoked.", "401000");
    check_error(call(s.fake, regen_refresh, refresh_request(old_token)), 401,
                "Refresh token provided is expired or revoked.", "401000");
    create_access_token(s, new_token);
    CHECK(s.fake.refresh_tokens_created() == 2);
}

TEST_CASE("createAPIAccessToken and validateAPIAccessToken") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    const json::object access = create_access_token(s, refresh);
    CHECK(access.size() == 5);
    CHECK(std::regex_match(str(access, "api_access_token"), std::regex("[A-Za-z0-9_-]{48}")));
    CHECK(access.at("user_id").as_int64() == s.user_id);
    CHECK(str(access, "token_status") == "ACTIVE");
    CHECK(parse_time(str(access, "token_expires_at")) - parse_time(str(access, "created_at")) == 24h);
    CHECK(s.fake.access_tokens_minted() == 1);

    const json::object request{{"api_access_token", access.at("api_access_token")}, {"user_id", s.user_id}};
    const json::object validated = parse(call(s.fake, validate_access, request));
    CHECK(validated == access);

    check_error(call(s.fake, validate_access, {{"api_access_token", "nope"}, {"user_id", s.user_id}}), 401,
                "API Access Token provided is invalid.", "401000");
    check_error(call(s.fake, validate_access, {{"api_access_token", access.at("api_access_token")}, {"user_id", 999}}),
                401, "API Access Token provided is invalid.", "401000");

    const Secret value(str(access, "api_access_token"));
    SECTION("expired: 200 with EXPIRED") {
        s.fake.expire_access_token(value);
        CHECK(str(parse(call(s.fake, validate_access, request)), "token_status") == "EXPIRED");
    }
    SECTION("revoked: 200 with REVOKED") {
        s.fake.revoke_access_token(value);
        CHECK(str(parse(call(s.fake, validate_access, request)), "token_status") == "REVOKED");
    }
    SECTION("a new lifetime applies to tokens minted afterwards") {
        s.fake.set_access_token_lifetime(90s);
        const json::object second = create_access_token(s, refresh);
        CHECK(parse_time(str(second, "token_expires_at")) - parse_time(str(second, "created_at")) == 90s);
        CHECK(str(parse(call(s.fake, validate_access, request)), "token_expires_at") ==
              str(access, "token_expires_at"));
        CHECK(s.fake.access_tokens_minted() == 2);
    }
}

TEST_CASE("revokeAPIAccessTokens revokes every access token of that refresh token only") {
    Server s;
    const RefreshToken refresh = s.fake.issue_refresh_token(s.user_id, "etl");
    const RefreshToken other = s.fake.issue_refresh_token(s.user_id, "other");
    const AccessToken a1 = s.fake.issue_access_token(refresh.value);
    const AccessToken a2 = s.fake.issue_access_token(refresh.value);
    const AccessToken kept = s.fake.issue_access_token(other.value);
    const Response res =
        call(s.fake, revoke_access, {{"refresh_token", refresh.value.reveal()}, {"user_id", s.user_id}});
    REQUIRE(res.result_int() == 200);
    const json::object body = parse(res);
    CHECK(body.size() == 1);
    CHECK(str(body, "detail") == "Revoked active access tokens for refresh token: 'etl' with id: 1");
    for (const AccessToken* t : {&a1, &a2}) CHECK(call(s.fake, get_table(t->value.reveal())).result_int() == 401);
    CHECK(call(s.fake, get_table(kept.value.reveal())).result_int() == 200);
    // The refresh token itself still works.
    create_access_token(s, {{"refresh_token", refresh.value.reveal()}, {"user_id", s.user_id}});
    check_error(call(s.fake, revoke_access, {{"refresh_token", "unknown"}, {"user_id", s.user_id}}), 401,
                "Refresh token provided is invalid.", "401000");
}

TEST_CASE("issued tokens carry their times and status") {
    FakeAlationOptions options;
    options.server_clock_offset = -1h;
    Server s(options);
    const RefreshToken refresh = s.fake.issue_refresh_token(s.user_id, "n", 10min);
    CHECK(refresh.lifetime() == 10min);
    CHECK(refresh.value.size() == 80);
    CHECK(refresh.status == TokenStatus::active);
    CHECK(refresh.user_id == s.user_id);
    const auto skew = std::chrono::system_clock::now() - refresh.created_at;
    CHECK(skew > 59min);
    CHECK(skew < 61min);
    const AccessToken access = s.fake.issue_access_token(refresh.value, 0ms);
    CHECK(access.value.size() == 48);
    CHECK(access.status == TokenStatus::expired);
    CHECK(s.fake.access_tokens_minted() == 0);
    CHECK(s.fake.refresh_tokens_created() == 0);
    CHECK_THROWS_AS(s.fake.issue_refresh_token(12345, "n"), std::invalid_argument);
    CHECK_THROWS_AS(s.fake.issue_access_token(Secret("unknown")), std::invalid_argument);
    CHECK_THROWS_AS(s.fake.revoke_access_token(Secret("unknown")), std::invalid_argument);
}

TEST_CASE("the protected endpoint checks the TOKEN header") {
    FakeAlationOptions options;
    const unsigned rejection = GENERATE(401u, 403u);
    options.protected_rejection_status = rejection;
    Server s(options);
    const RefreshToken refresh = s.fake.issue_refresh_token(s.user_id, "n");
    const AccessToken good = s.fake.issue_access_token(refresh.value);
    const AccessToken expired = s.fake.issue_access_token(refresh.value, 0ms);
    const AccessToken revoked = s.fake.issue_access_token(refresh.value);
    s.fake.revoke_access_token(revoked.value);

    const Response ok = call(s.fake, get_table(good.value.reveal()));
    CHECK(ok.result_int() == 200);
    CHECK(ok.body() == "[]");
    check_error(call(s.fake, get_table("")), 403, "Authentication credentials were not provided.", "403000");
    const std::string code = std::to_string(rejection * 1000);
    check_error(call(s.fake, get_table("bogus")), rejection, "Invalid or expired API access token.", code);
    check_error(call(s.fake, get_table(expired.value.reveal())), rejection, "Invalid or expired API access token.",
                code);
    check_error(call(s.fake, get_table(revoked.value.reveal())), rejection, "Invalid or expired API access token.",
                code);
    CHECK(s.fake.protected_accepted() == 1);
    CHECK(s.fake.protected_rejected() == 4);
    CHECK(s.fake.protected_rejected_expired() == 1);
    CHECK(s.fake.request_count(table) == 5);
}

TEST_CASE("timestamp styles") {
    struct Case {
        TimestampStyle style;
        const char* pattern;
    };
    const Case c = GENERATE(Case{TimestampStyle::milliseconds, R"(.*T\d\d:\d\d:\d\d\.\d{3}Z)"},
                            Case{TimestampStyle::microseconds, R"(.*T\d\d:\d\d:\d\d\.\d{6}Z)"},
                            Case{TimestampStyle::nanoseconds, R"(.*T\d\d:\d\d:\d\d\.\d{9}Z)"},
                            Case{TimestampStyle::no_fraction, R"(.*T\d\d:\d\d:\d\dZ)"},
                            Case{TimestampStyle::offset_utc, R"(.*T\d\d:\d\d:\d\d\.\d{6}\+00:00)"},
                            Case{TimestampStyle::offset_negative, R"(.*T\d\d:\d\d:\d\d\.\d{6}-05:00)"});
    FakeAlationOptions options;
    options.timestamps = c.style;
    Server s(options);
    const RefreshToken refresh = s.fake.issue_refresh_token(s.user_id, "n");
    const json::object body =
        parse(call(s.fake, validate_refresh, {{"refresh_token", refresh.value.reveal()}, {"user_id", s.user_id}}));
    for (const char* field : {"created_at", "token_expires_at"}) {
        INFO(field);
        CHECK(std::regex_match(str(body, field), std::regex(c.pattern)));
    }
    // The same instant as issue_refresh_token reported, to the precision of the style.
    const auto precision = c.style == TimestampStyle::no_fraction    ? std::chrono::nanoseconds(1s)
                           : c.style == TimestampStyle::milliseconds ? std::chrono::nanoseconds(1ms)
                                                                     : std::chrono::nanoseconds(1us);
    const auto truncated = [&](auto t) {
        const auto since_epoch = std::chrono::nanoseconds(t.time_since_epoch());
        return since_epoch - since_epoch % precision;
    };
    CHECK(truncated(parse_time(str(body, "created_at"))) == truncated(refresh.created_at));
}

TEST_CASE("token_status letter case") {
    FakeAlationOptions options;
    const auto [status_case, expected] =
        GENERATE(std::pair{StatusCase::upper, "ACTIVE"}, std::pair{StatusCase::lower, "active"},
                 std::pair{StatusCase::capitalized, "Active"});
    options.status_case = status_case;
    Server s(options);
    const json::object refresh = create_refresh_token(s);
    CHECK(str(refresh, "token_status") == expected);
    CHECK(str(create_access_token(s, refresh), "token_status") == expected);
}

TEST_CASE("server clock offset shifts the timestamps, not the lifetimes") {
    FakeAlationOptions options;
    options.server_clock_offset = 5min;
    Server s(options);
    const json::object refresh = create_refresh_token(s);
    const auto skew = parse_time(str(refresh, "created_at")) - std::chrono::system_clock::now();
    CHECK(skew > 4min);
    CHECK(skew < 6min);
    const json::object access = create_access_token(s, refresh);
    CHECK(parse_time(str(access, "token_expires_at")) - parse_time(str(access, "created_at")) == 24h);
}

TEST_CASE("fault: respond with a status, Retry-After and a JSON body fitting it") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    Fault fault;
    fault.retry_after = "7";
    s.fake.inject(std::string(create_access), fault);
    const Response res = call(s.fake, create_access, refresh_request(refresh));
    check_error(res, 503, "Service Unavailable.", "503000");
    CHECK(res[http::field::retry_after] == "7");
    CHECK(s.fake.access_tokens_minted() == 0);
    // Once only.
    CHECK(call(s.fake, create_access, refresh_request(refresh)).result_int() == 200);
    CHECK(s.fake.request_count(create_access) == 2);
}

TEST_CASE("fault: HTML pages and custom bodies") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    Fault html;
    html.status = 502;
    html.html = true;
    s.fake.inject(std::string(create_access), html);
    const Response page = call(s.fake, create_access, refresh_request(refresh));
    CHECK(page.result_int() == 502);
    CHECK(page[http::field::content_type] == "text/html");
    CHECK(page.body().find("<title>502 Bad Gateway</title>") != std::string::npos);

    Fault custom;
    custom.status = 200;
    custom.body = R"({"api_access_token": 5})";
    custom.content_type = "application/json; charset=utf-8";
    s.fake.inject(std::string(create_access), custom);
    const Response res = call(s.fake, create_access, refresh_request(refresh));
    CHECK(res.result_int() == 200);
    CHECK(res.body() == custom.body);
    CHECK(res[http::field::content_type] == "application/json; charset=utf-8");
    CHECK(s.fake.access_tokens_minted() == 0);
}

TEST_CASE("faults apply per path, FIFO, `times` each; clear_faults drops them") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    Fault throttled;
    throttled.status = 429;
    Fault bad_gateway;
    bad_gateway.status = 502;
    s.fake.inject(std::string(create_access), throttled, 2);
    s.fake.inject(std::string(create_access), bad_gateway);
    s.fake.inject(std::string(validate_access), bad_gateway, 5);
    CHECK(call(s.fake, create_refresh, {{"username", "alice"}, {"password", "alice-password"}, {"name", "x"}})
              .result_int() == 200);
    std::vector<unsigned> statuses;
    for (int i = 0; i < 4; ++i) statuses.push_back(call(s.fake, create_access, refresh_request(refresh)).result_int());
    CHECK(statuses == std::vector<unsigned>{429, 429, 502, 200});
    CHECK_THROWS_AS(s.fake.inject(std::string(create_access), throttled, 0), std::invalid_argument);
    s.fake.clear_faults();
    CHECK(call(s.fake, validate_access, {{"api_access_token", "x"}, {"user_id", 1}}).result_int() == 401);
}

TEST_CASE("fault: delay before answering") {
    Server s;
    Fault slow;
    slow.status = 504;
    slow.delay = 150ms;
    s.fake.inject(std::string(table), slow);
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.exchange(get_table(""));
    REQUIRE_FALSE(r.ec);
    CHECK(r.response.result_int() == 504);
    CHECK(r.elapsed >= 150ms);
}

TEST_CASE("fault: reset before the response, the request not acted on") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    s.fake.inject(std::string(create_access), fault_of(Fault::Kind::reset_before_response));
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.exchange(post(create_access, json::serialize(refresh_request(refresh))));
    CHECK(r.ec == asio::error::connection_reset);
    CHECK(s.fake.access_tokens_minted() == 0);
    CHECK(s.fake.request_count(create_access) == 1);
}

TEST_CASE("fault: reset during the response, after the server acted") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    s.fake.inject(std::string(create_access), fault_of(Fault::Kind::reset_during_response));
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.exchange(post(create_access, json::serialize(refresh_request(refresh))));
    CHECK(r.ec == asio::error::connection_reset);
    CHECK(s.fake.access_tokens_minted() == 1);
}

TEST_CASE("fault: truncated body") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    s.fake.inject(std::string(create_access), fault_of(Fault::Kind::truncated_body));
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.exchange(post(create_access, json::serialize(refresh_request(refresh))));
    CHECK(r.ec == http::error::partial_message);
    CHECK(r.response.result_int() == 200);
    CHECK(s.fake.access_tokens_minted() == 1);
}

TEST_CASE("fault: oversized body, still valid JSON") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    Fault big = fault_of(Fault::Kind::oversized_body);
    big.size = 200'000;
    s.fake.inject(std::string(create_access), big);
    const Response res = call(s.fake, create_access, refresh_request(refresh));
    CHECK(res.result_int() == 200);
    CHECK(res.body().size() == 200'000);
    CHECK(str(parse(res), "api_access_token").size() == 48);
}

TEST_CASE("fault: never answer, until stop()") {
    Server s;
    s.fake.inject(std::string(table), fault_of(Fault::Kind::never_answer), 2);
    Connection silent;
    REQUIRE_FALSE(silent.connect(s.fake.port()));
    const Received timed_out = silent.exchange(get_table(""), 200ms);
    CHECK(timed_out.ec == beast::error::timeout);

    Connection waiting;
    REQUIRE_FALSE(waiting.connect(s.fake.port()));
    REQUIRE_FALSE(waiting.send(get_table("")));
    REQUIRE(wait_until([&] { return s.fake.request_count(table) == 2; }));
    s.fake.stop();
    const Received closed = waiting.receive(5s);
    CHECK(closed.ec == http::error::end_of_stream);
    CHECK(closed.elapsed < 1s);
    CHECK(s.fake.protected_rejected() == 0);
}

TEST_CASE("fault: drip, one byte per delay") {
    Server s;
    const json::object refresh = create_refresh_token(s);
    Fault drip = fault_of(Fault::Kind::drip);
    drip.delay = 1ms;
    s.fake.inject(std::string(create_access), drip);
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.exchange(post(create_access, json::serialize(refresh_request(refresh))), 5s);
    REQUIRE_FALSE(r.ec);
    CHECK(str(parse(r.response), "api_access_token").size() == 48);
    // Over 300 bytes, each after 1 ms.
    CHECK(r.elapsed >= 300ms);
}

TEST_CASE("fault: close after the response, unannounced") {
    Server s;
    s.fake.inject(std::string(table), fault_of(Fault::Kind::close_after_response));
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received first = c.exchange(get_table(""));
    REQUIRE_FALSE(first.ec);
    CHECK(first.response.result_int() == 403);
    CHECK(first.response.keep_alive());
    CHECK(first.response[http::field::connection].empty());
    CHECK(c.receive().ec == http::error::end_of_stream);
}

TEST_CASE("keep-alive: many requests on one connection, Connection: close honoured") {
    Server s;
    const RefreshToken refresh = s.fake.issue_refresh_token(s.user_id, "n");
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    std::set<std::string> tokens;
    for (int i = 0; i < 5; ++i) {
        const Received r = c.exchange(
            post(create_access,
                 json::serialize(json::object{{"refresh_token", refresh.value.reveal()}, {"user_id", s.user_id}})));
        REQUIRE_FALSE(r.ec);
        CHECK(r.response.keep_alive());
        tokens.insert(str(parse(r.response), "api_access_token"));
    }
    CHECK(tokens.size() == 5);
    CHECK(s.fake.connections_accepted() == 1);
    CHECK(s.fake.access_tokens_minted() == 5);

    Request last = get_table("");
    last.keep_alive(false);
    const Received r = c.exchange(last);
    REQUIRE_FALSE(r.ec);
    CHECK(r.response[http::field::connection] == "close");
    CHECK(c.receive().ec == http::error::end_of_stream);
    CHECK(s.fake.connections_accepted() == 1);
}

TEST_CASE("idle connections are closed after idle_timeout") {
    FakeAlationOptions options;
    options.idle_timeout = 100ms;
    Server s(options);
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.receive(2s);
    CHECK(r.ec == http::error::end_of_stream);
    CHECK(r.elapsed >= 90ms);
    CHECK(r.elapsed < 1s);
}

TEST_CASE("request bodies over the limit get 413 and the connection closes") {
    FakeAlationOptions options;
    options.max_request_body = 1024;
    Server s(options);
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.exchange(post(create_refresh, std::string(2048, ' ')));
    REQUIRE_FALSE(r.ec);
    check_error(r.response, 413, "Request body too large.", "413000");
    CHECK(r.response[http::field::connection] == "close");
    CHECK(c.receive().ec == http::error::end_of_stream);
}

TEST_CASE("malformed HTTP gets 400") {
    Server s;
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    asio::write(c.tcp().socket(), asio::buffer(std::string_view("NOT HTTP AT ALL\r\n\r\n")));
    const Received r = c.receive();
    REQUIRE_FALSE(r.ec);
    check_error(r.response, 400, "Malformed HTTP request.", "400000");
}

TEST_CASE("concurrent clients on a multi-threaded server", "[concurrency]") {
    Server s;
    const RefreshToken refresh = s.fake.issue_refresh_token(s.user_id, "n");
    const std::string body =
        json::serialize(json::object{{"refresh_token", refresh.value.reveal()}, {"user_id", s.user_id}});
    std::vector<std::thread> threads;
    std::vector<std::vector<std::string>> tokens(4);
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            Connection c;
            if (c.connect(s.fake.port())) return void(++failures[t]);
            for (int i = 0; i < 25; ++i) {
                const Received r = c.exchange(post(create_access, body));
                if (r.ec || r.response.result_int() != 200) {
                    ++failures[t];
                    continue;
                }
                tokens[t].push_back(json::parse(r.response.body()).at("api_access_token").as_string().c_str());
            }
        });
    }
    for (auto& t : threads) t.join();
    std::set<std::string> all;
    for (int t = 0; t < 4; ++t) {
        CHECK(failures[t] == 0);
        all.insert(tokens[t].begin(), tokens[t].end());
    }
    CHECK(all.size() == 100);
    CHECK(s.fake.access_tokens_minted() == 100);
    CHECK(s.fake.connections_accepted() == 4);
    CHECK(s.fake.request_count(create_access) == 100);
}

TEST_CASE("stop() closes the listening socket") {
    Server s;
    const unsigned short port = s.fake.port();
    s.fake.stop();
    s.fake.stop();
    CHECK(wait_until([&] {
        Connection c;
        return c.connect(port) == asio::error::connection_refused;
    }));
}

TEST_CASE("base_url and the CA file") {
    Server plain;
    CHECK(plain.fake.base_url() == "http://127.0.0.1:" + std::to_string(plain.fake.port()));
    FakeAlationOptions options;
    options.tls = true;
    Server tls(options);
    CHECK(tls.fake.base_url() == "https://localhost:" + std::to_string(tls.fake.port()));
    const std::filesystem::path dir = std::filesystem::temp_directory_path();
    const std::string path = tls.fake.write_ca_file(dir);
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    CHECK(content.str() == tls.fake.ca_certificate_pem());
    CHECK(content.str().rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
    std::filesystem::remove(path);
}

namespace {

using TlsConnection = BasicConnection<beast::ssl_stream<beast::tcp_stream>>;

struct Handshake {
    error_code ec;
    long verify_result = X509_V_OK;
};

// A client that trusts only the test CA and checks the host name as a real client would.
Handshake tls_handshake(FakeAlation& fake, TlsConnection& c, const std::string& host = "localhost") {
    Handshake h;
    SSL* ssl = c.stream().native_handle();
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
    REQUIRE_FALSE(c.connect(fake.port()));
    c.stream().handshake(asio::ssl::stream_base::client, h.ec);
    h.verify_result = SSL_get_verify_result(ssl);
    return h;
}

asio::ssl::context client_context(const std::string& ca_pem) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.add_certificate_authority(asio::buffer(ca_pem));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    return ctx;
}

}  // namespace

TEST_CASE("TLS: the valid certificate verifies against the CA, and requests work") {
    FakeAlationOptions options;
    options.tls = true;
    Server s(options);
    asio::ssl::context ctx = client_context(s.fake.ca_certificate_pem());
    TlsConnection c(ctx);
    const Handshake h = tls_handshake(s.fake, c);
    INFO(h.ec.message());
    REQUIRE_FALSE(h.ec);
    CHECK(h.verify_result == X509_V_OK);
    for (int i = 0; i < 2; ++i) {
        const Received r = c.exchange(get_table(""));
        REQUIRE_FALSE(r.ec);
        CHECK(r.response.result_int() == 403);
    }
    Request last = get_table("");
    last.keep_alive(false);
    CHECK(c.exchange(last).response[http::field::connection] == "close");
    // The server ends TLS cleanly: close_notify, seen as end of stream.
    CHECK(c.receive().ec == http::error::end_of_stream);
    CHECK(s.fake.connections_accepted() == 1);

    TlsConnection by_ip(ctx);
    CHECK_FALSE(tls_handshake(s.fake, by_ip, "127.0.0.1").ec);
}

TEST_CASE("TLS: bad certificates fail verification") {
    struct Case {
        CertificateKind kind;
        long verify_result;
    };
    const Case c = GENERATE(Case{CertificateKind::expired, X509_V_ERR_CERT_HAS_EXPIRED},
                            Case{CertificateKind::wrong_host, X509_V_ERR_HOSTNAME_MISMATCH},
                            Case{CertificateKind::self_signed_untrusted, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT});
    FakeAlationOptions options;
    options.tls = true;
    options.certificate = c.kind;
    Server s(options);
    asio::ssl::context ctx = client_context(s.fake.ca_certificate_pem());
    TlsConnection conn(ctx);
    const Handshake h = tls_handshake(s.fake, conn);
    CHECK(h.ec.category() == asio::error::get_ssl_category());
    CHECK(h.verify_result == c.verify_result);
}

TEST_CASE("test certificates: a CA and leaves with the documented properties") {
    const TestCertificates& certs = TestCertificates::shared();
    CHECK(&certs == &TestCertificates::shared());
    const auto load = [](const std::string& pem) {
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        BIO_free(bio);
        REQUIRE(cert != nullptr);
        return std::unique_ptr<X509, decltype(&X509_free)>(cert, &X509_free);
    };
    const auto ca = load(certs.ca_certificate_pem());
    CHECK(X509_check_ca(ca.get()) == 1);
    const auto valid = load(certs.server(CertificateKind::valid).certificate_pem);
    CHECK(X509_check_ca(valid.get()) == 0);
    CHECK(X509_check_host(valid.get(), "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_ip_asc(valid.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_issued(ca.get(), valid.get()) == X509_V_OK);
    EVP_PKEY* key = X509_get0_pubkey(valid.get());
    CHECK(EVP_PKEY_is_a(key, "EC") == 1);
    CHECK(EVP_PKEY_get_bits(key) == 256);
    const auto wrong = load(certs.server(CertificateKind::wrong_host).certificate_pem);
    CHECK(X509_check_host(wrong.get(), "localhost", 0, 0, nullptr) == 0);
    CHECK(X509_check_host(wrong.get(), "other.invalid", 0, 0, nullptr) == 1);
    const auto expired = load(certs.server(CertificateKind::expired).certificate_pem);
    CHECK(X509_cmp_current_time(X509_get0_notAfter(expired.get())) < 0);
    const auto self_signed = load(certs.server(CertificateKind::self_signed_untrusted).certificate_pem);
    CHECK(X509_check_issued(ca.get(), self_signed.get()) != X509_V_OK);
    CHECK(X509_verify(self_signed.get(), X509_get0_pubkey(self_signed.get())) == 1);
    CHECK(X509_verify(self_signed.get(), X509_get0_pubkey(ca.get())) != 1);
    CHECK(X509_verify(valid.get(), X509_get0_pubkey(ca.get())) == 1);
    // A second set is a different CA.
    CHECK(TestCertificates().ca_certificate_pem() != certs.ca_certificate_pem());
}

TEST_CASE("TLS: faults that cut the response") {
    FakeAlationOptions options;
    options.tls = true;
    Server s(options);
    const auto [kind, expected] =
        GENERATE(std::pair{Fault::Kind::truncated_body, error_code(http::error::partial_message)},
                 std::pair{Fault::Kind::reset_during_response, error_code(asio::error::connection_reset)});
    s.fake.inject(std::string(table), fault_of(kind));
    asio::ssl::context ctx = client_context(s.fake.ca_certificate_pem());
    TlsConnection c(ctx);
    REQUIRE_FALSE(tls_handshake(s.fake, c).ec);
    const Received r = c.exchange(get_table(""));
    CHECK(r.ec == expected);
    CHECK(r.response.result_int() == 403);
}

TEST_CASE("HTTP/1.0 requests are answered, then the connection closes") {
    Server s;
    Request req = get_table("");
    req.version(10);
    Connection c;
    REQUIRE_FALSE(c.connect(s.fake.port()));
    const Received r = c.exchange(req);
    REQUIRE_FALSE(r.ec);
    CHECK(r.response.result_int() == 403);
    CHECK(c.receive().ec == http::error::end_of_stream);
}

// ---- OAuth 2.0 client credentials ----

namespace {

constexpr std::string_view form_type = "application/x-www-form-urlencoded";

// A server with the OAuth client "etl" (secret "s3cret", tokens of 10 minutes).
struct OAuthServer : Server {
    explicit OAuthServer(FakeAlationOptions options = {}) : Server(options) {
        fake.add_oauth_client("etl", "s3cret", 10min);
    }
};

Request post_form(std::string_view path, std::string body, std::string_view authorization = "",
                  std::string_view content_type = form_type) {
    Request req = post(path, std::move(body), content_type);
    if (!authorization.empty()) req.set(http::field::authorization, authorization);
    return req;
}

const std::string client_body = "grant_type=client_credentials&client_id=etl&client_secret=s3cret";

std::string basic(std::string_view id, std::string_view secret) {
    return std::string(alation::auth::detail::basic_client_authorization(id, Secret(std::string(secret))).reveal());
}

json::object mint(FakeAlation& fake, std::string body = client_body, std::string_view authorization = "") {
    const Response res = call(fake, post_form(oauth_token, std::move(body), authorization));
    INFO(res.body());
    REQUIRE(res.result_int() == 200);
    CHECK(res[http::field::content_type] == "application/json");
    return parse(res);
}

void check_oauth_error(const Response& res, unsigned status, std::string_view error) {
    INFO(res.body());
    CHECK(res.result_int() == status);
    CHECK(res[http::field::content_type] == "application/json");
    const json::object body = parse(res);
    CHECK(str(body, "error") == error);
    CHECK_FALSE(str(body, "error_description").empty());
    CHECK_FALSE(body.contains("code"));
    CHECK_FALSE(body.contains("detail"));
}

// RFC 4648 §5 base64url without padding, decoded; fails the test on a bad character.
std::string base64url_decode(std::string text) {
    for (char& c : text) {
        INFO(text);
        REQUIRE((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    const std::size_t padding = (4 - text.size() % 4) % 4;
    REQUIRE(padding != 3);
    text.append(padding, '=');
    std::string out(text.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    REQUIRE(n >= 0);
    out.resize(static_cast<std::size_t>(n) - padding);
    return out;
}

struct Jwt {
    json::object header;
    json::object claims;
    std::string signature;
};

Jwt decode_jwt(const std::string& token) {
    INFO(token);
    const std::size_t first = token.find('.');
    const std::size_t second = token.find('.', first + 1);
    REQUIRE(second != std::string::npos);
    REQUIRE(token.find('.', second + 1) == std::string::npos);
    const auto object = [](const std::string& text) {
        INFO(text);
        error_code ec;
        json::value v = json::parse(text, ec);
        REQUIRE_FALSE(ec);
        REQUIRE(v.is_object());
        return std::move(v.as_object());
    };
    return Jwt{object(base64url_decode(token.substr(0, first))),
               object(base64url_decode(token.substr(first + 1, second - first - 1))),
               base64url_decode(token.substr(second + 1))};
}

std::int64_t num(const json::object& o, std::string_view key) {
    INFO(key);
    REQUIRE(o.contains(key));
    REQUIRE(o.at(key).is_int64());
    return o.at(key).as_int64();
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

TEST_CASE("OAuth token endpoint: client credentials in the body give a JWT in the documented shape", "[oauth]") {
    OAuthServer s;
    const json::object body = mint(s.fake);
    CHECK(body.size() == 4);
    CHECK(str(body, "token_type") == "Bearer");
    CHECK(num(body, "expires_in") == 600);
    CHECK(str(body, "scope") == "api");
    CHECK(std::regex_match(str(body, "access_token"),
                           std::regex(R"([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43})")));
    // Without the trailing slash too; each token differs.
    const Response res = call(s.fake, post_form("/oauth/v2/token", client_body));
    REQUIRE(res.result_int() == 200);
    CHECK(str(parse(res), "access_token") != str(body, "access_token"));
    CHECK(s.fake.oauth_tokens_minted() == 2);
    CHECK(s.fake.request_count(oauth_token) == 1);
    CHECK(s.fake.request_count("/oauth/v2/token") == 1);
    CHECK(s.fake.access_tokens_minted() == 0);
    // Parameters in any order, empty pairs ignored.
    CHECK(mint(s.fake, "client_secret=s3cret&&client_id=etl&grant_type=client_credentials").contains("access_token"));
}

TEST_CASE("OAuth: client credentials in HTTP Basic, each part form-urlencoded first", "[oauth]") {
    OAuthServer s;
    s.fake.add_oauth_client("svc:etl/é", "p@ss w+rd%&=:", 1h);
    CHECK(num(mint(s.fake, "grant_type=client_credentials", basic("svc:etl/é", "p@ss w+rd%&=:")), "expires_in") ==
          3600);
    // base64("etl:s3cret") written out, and the scheme in another case.
    CHECK(num(mint(s.fake, "grant_type=client_credentials", "Basic ZXRsOnMzY3JldA=="), "expires_in") == 600);
    CHECK(num(mint(s.fake, "grant_type=client_credentials", "basic  ZXRsOnMzY3JldA== "), "expires_in") == 600);
    // client_id may repeat the Basic user in the body.
    CHECK(num(mint(s.fake, "grant_type=client_credentials&client_id=etl", "Basic ZXRsOnMzY3JldA=="), "expires_in") ==
          600);
    // The body form is decoded the same way.
    CHECK(mint(s.fake,
               "grant_type=client_credentials&client_id=svc%3Aetl%2F%C3%A9&client_secret=p%40ss+w%2Brd%25%26%3D%3A")
              .contains("access_token"));
    CHECK(s.fake.oauth_tokens_minted() == 5);
}

TEST_CASE("OAuth: the JWT is header.payload.signature with iat, exp, sub and client_id", "[oauth]") {
    FakeAlationOptions options;
    const auto offset = GENERATE(0min, -30min);
    options.server_clock_offset = offset;
    OAuthServer s(options);
    const std::int64_t before = unix_now();
    const std::string token = str(mint(s.fake), "access_token");
    const std::int64_t after = unix_now();
    const Jwt jwt = decode_jwt(token);
    CHECK(jwt.header == json::object{{"alg", "HS256"}, {"typ", "JWT"}});
    CHECK(str(jwt.claims, "sub") == "etl");
    CHECK(str(jwt.claims, "client_id") == "etl");
    CHECK(str(jwt.claims, "jti").size() >= 16);
    const std::int64_t iat = num(jwt.claims, "iat");
    const std::int64_t shift = std::chrono::duration_cast<std::chrono::seconds>(offset).count();
    CHECK(iat >= before + shift - 1);
    CHECK(iat <= after + shift);
    CHECK(num(jwt.claims, "exp") - iat == 600);
    CHECK(jwt.claims.size() == 5);
    CHECK(jwt.signature.size() == 32);
    // Tokens issued without HTTP have the same shape, with their own lifetime.
    const Secret issued = s.fake.issue_oauth_token("etl", 5min);
    const Jwt other = decode_jwt(std::string(issued.reveal()));
    CHECK(num(other.claims, "exp") - num(other.claims, "iat") == 300);
    CHECK(other.signature != jwt.signature);
    CHECK(s.fake.oauth_tokens_minted() == 1);
}

TEST_CASE("OAuth token endpoint: every bad request gets OAuth's error and mints nothing", "[oauth]") {
    OAuthServer s;
    const auto token_call = [&](std::string body, std::string_view authorization = "",
                                std::string_view content_type = form_type) {
        return call(s.fake, post_form(oauth_token, std::move(body), authorization, content_type));
    };
    SECTION("Content-Type") {
        check_oauth_error(token_call(client_body, "", "application/json"), 400, "invalid_request");
        check_oauth_error(token_call(client_body, "", ""), 400, "invalid_request");
        CHECK(token_call(client_body, "", "Application/X-WWW-Form-URLEncoded; charset=UTF-8").result_int() == 200);
    }
    SECTION("missing, empty or repeated parameters, bad escapes") {
        check_oauth_error(token_call("client_id=etl&client_secret=s3cret"), 400, "invalid_request");
        check_oauth_error(token_call("grant_type=&client_id=etl&client_secret=s3cret"), 400, "invalid_request");
        check_oauth_error(token_call(""), 400, "invalid_request");
        check_oauth_error(token_call(client_body + "&grant_type=client_credentials"), 400, "invalid_request");
        check_oauth_error(token_call(client_body + "&client_id=etl"), 400, "invalid_request");
        check_oauth_error(token_call(client_body + "&x=%4"), 400, "invalid_request");
        check_oauth_error(token_call(client_body + "&x%zz=1"), 400, "invalid_request");
    }
    SECTION("grant type") {
        check_oauth_error(token_call("grant_type=password&client_id=etl&client_secret=s3cret"), 400,
                          "unsupported_grant_type");
        check_oauth_error(token_call("grant_type=Client_Credentials&client_id=etl&client_secret=s3cret"), 400,
                          "unsupported_grant_type");
    }
    SECTION("wrong, unknown or missing client credentials in the body") {
        for (const char* body :
             {"grant_type=client_credentials&client_id=etl&client_secret=wrong",
              "grant_type=client_credentials&client_id=etl&client_secret=S3CRET",
              "grant_type=client_credentials&client_id=other&client_secret=s3cret",
              "grant_type=client_credentials&client_id=etl", "grant_type=client_credentials&client_secret=s3cret",
              "grant_type=client_credentials"}) {
            INFO(body);
            const Response res = token_call(body);
            check_oauth_error(res, 401, "invalid_client");
            CHECK(res[http::field::www_authenticate].empty());
            // The secret sent is not echoed.
            CHECK(res.body().find("wrong") == std::string::npos);
        }
    }
    SECTION("wrong or malformed HTTP Basic") {
        for (const std::string& authorization :
             {basic("etl", "wrong"), basic("nobody", "s3cret"), std::string("Basic ZXRsOnMzY3JldA="),
              std::string("Basic !!!!"), std::string("Basic ZXRs"), std::string("Basic "),
              std::string("Bearer abc.def.ghi"), std::string("Basic ZXRsJXp6Ong=")}) {
            INFO(authorization);
            const Response res = token_call("grant_type=client_credentials", authorization);
            check_oauth_error(res, 401, "invalid_client");
            CHECK(res[http::field::www_authenticate] == R"(Basic realm="oauth")");
        }
    }
    SECTION("HTTP Basic and credentials in the body at once") {
        check_oauth_error(token_call("grant_type=client_credentials&client_secret=s3cret", basic("etl", "s3cret")), 400,
                          "invalid_request");
        check_oauth_error(token_call("grant_type=client_credentials&client_id=other", basic("etl", "s3cret")), 400,
                          "invalid_request");
    }
    SECTION("method") {
        Request req{http::verb::get, oauth_token, 11};
        const Response res = call(s.fake, req);
        CHECK(res.result_int() == 405);
        CHECK(res[http::field::allow] == "POST");
    }
    CHECK(s.fake.oauth_tokens_minted() <= 1);
    // The connection-level state is intact: a good request still works.
    CHECK(mint(s.fake).contains("access_token"));
}

TEST_CASE("OAuth variants: invalid_client with a code, no scope, created_at, no expires_in", "[oauth]") {
    FakeAlationOptions options;
    SECTION("invalid_client may carry a code") {
        options.oauth_invalid_client_code = true;
        OAuthServer s(options);
        const Response res =
            call(s.fake, post_form(oauth_token, "grant_type=client_credentials&client_id=etl&client_secret=x"));
        CHECK(res.result_int() == 401);
        const json::object body = parse(res);
        CHECK(str(body, "error") == "invalid_client");
        CHECK(str(body, "code") == "401000");
        // Other errors do not.
        CHECK_FALSE(parse(call(s.fake, post_form(oauth_token, "grant_type=password"))).contains("code"));
    }
    SECTION("no scope, created_at present") {
        options.oauth_scope.clear();
        options.oauth_created_at = true;
        options.timestamps = TimestampStyle::milliseconds;
        OAuthServer s(options);
        const json::object body = mint(s.fake);
        CHECK_FALSE(body.contains("scope"));
        CHECK(std::regex_match(str(body, "created_at"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
        const auto age = std::chrono::system_clock::now() - parse_time(str(body, "created_at"));
        CHECK(age >= -1s);
        CHECK(age < 5s);
        CHECK(num(decode_jwt(str(body, "access_token")).claims, "iat") ==
              std::chrono::floor<std::chrono::seconds>(parse_time(str(body, "created_at"))).time_since_epoch().count());
    }
    SECTION("no expires_in: the JWT says the lifetime") {
        options.oauth_expires_in = false;
        OAuthServer s(options);
        const json::object body = mint(s.fake);
        CHECK_FALSE(body.contains("expires_in"));
        CHECK(body.size() == 3);
        const Jwt jwt = decode_jwt(str(body, "access_token"));
        CHECK(num(jwt.claims, "exp") - num(jwt.claims, "iat") == 600);
    }
}

TEST_CASE("OAuth: the protected endpoint takes the JWT in TOKEN until it expires", "[oauth]") {
    OAuthServer s;
    const std::string token = str(mint(s.fake), "access_token");
    const Response ok = call(s.fake, get_table(token));
    CHECK(ok.result_int() == 200);
    CHECK(ok.body() == "[]");

    const auto check_refused = [&](const std::string& jwt) {
        const Response res = call(s.fake, get_table(jwt));
        CHECK(res.result_int() == 401);
        CHECK(res[http::field::content_type] == "application/json");
        CHECK(parse(res) == json::object{{"detail", "Authentication failed: invalid bearer token."}});
    };
    // A token the fake did not issue, such as one with an altered payload.
    std::string forged = token;
    forged[forged.find('.') + 2] = forged[forged.find('.') + 2] == 'A' ? 'B' : 'A';
    check_refused(forged);
    check_refused("a.b.c");
    CHECK(s.fake.protected_rejected_expired() == 0);

    s.fake.expire_oauth_token(Secret(token));
    check_refused(token);
    CHECK(s.fake.protected_accepted() == 1);
    CHECK(s.fake.protected_rejected() == 3);
    CHECK(s.fake.protected_rejected_expired() == 1);
    // A token of zero lifetime is born expired; another token of the client is unaffected.
    check_refused(std::string(s.fake.issue_oauth_token("etl", 0s).reveal()));
    CHECK(call(s.fake, get_table(s.fake.issue_oauth_token("etl").reveal())).result_int() == 200);
    // The fake's other rules stand: 403 without TOKEN, the option's status for opaque tokens.
    CHECK(call(s.fake, get_table("")).result_int() == 403);
}

TEST_CASE("OAuth introspection: active for the client's own live token, else inactive", "[oauth]") {
    OAuthServer s;
    s.fake.add_oauth_client("bi", "bi-secret", 2h);
    const std::string token = str(mint(s.fake), "access_token");
    const Jwt jwt = decode_jwt(token);
    const auto introspect = [&](const std::string& t, std::string credentials = "&client_id=etl&client_secret=s3cret",
                                std::string_view authorization = "") {
        const Response res = call(
            s.fake,
            post_form(oauth_introspect, "token=" + t + "&token_type_hint=access_token" + credentials, authorization));
        INFO(res.body());
        REQUIRE(res.result_int() == 200);
        return parse(res);
    };

    json::object active = introspect(token);
    REQUIRE(active.at("active").as_bool());
    for (const auto& [key, claim] : jwt.claims) CHECK(active.at(key) == claim);
    CHECK(str(active, "token_type") == "Bearer");
    CHECK(str(active, "scope") == "api");
    CHECK(introspect(token, "", basic("etl", "s3cret")).at("active").as_bool());

    const json::object inactive{{"active", false}};
    CHECK(introspect(token, "&client_id=bi&client_secret=bi-secret") == inactive);
    CHECK(introspect("unknown") == inactive);
    CHECK(introspect(str(create_access_token(s, create_refresh_token(s)), "api_access_token")) == inactive);
    s.fake.expire_oauth_token(Secret(token));
    CHECK(introspect(token) == inactive);

    check_oauth_error(call(s.fake, post_form(oauth_introspect, "client_id=etl&client_secret=s3cret")), 400,
                      "invalid_request");
    check_oauth_error(call(s.fake, post_form(oauth_introspect, "token=" + token + "&client_id=etl&client_secret=no")),
                      401, "invalid_client");
    check_oauth_error(call(s.fake, post_form(oauth_introspect, "token=" + token)), 401, "invalid_client");
    check_oauth_error(call(s.fake, post(oauth_introspect, "{\"token\":\"x\"}")), 400, "invalid_request");
    CHECK(call(s.fake, post_form("/oauth/v2/introspect", "token=x&client_id=etl&client_secret=s3cret")).result_int() ==
          404);
    CHECK(s.fake.oauth_tokens_minted() == 1);
}

TEST_CASE("OAuth: faults are injected on the OAuth endpoints like on the others", "[oauth]") {
    OAuthServer s;
    SECTION("429 with Retry-After, then the normal answer") {
        Fault throttled;
        throttled.status = 429;
        throttled.retry_after = "30";
        s.fake.inject(std::string(oauth_token), throttled);
        const Response res = call(s.fake, post_form(oauth_token, client_body));
        CHECK(res.result_int() == 429);
        CHECK(res[http::field::retry_after] == "30");
        CHECK(s.fake.oauth_tokens_minted() == 0);
        CHECK(mint(s.fake).contains("access_token"));
    }
    SECTION("an HTML page") {
        Fault html;
        html.status = 503;
        html.html = true;
        s.fake.inject(std::string(oauth_introspect), html);
        const Response res = call(s.fake, post_form(oauth_introspect, "token=x&client_id=etl&client_secret=s3cret"));
        CHECK(res.result_int() == 503);
        CHECK(res[http::field::content_type] == "text/html");
    }
    SECTION("a malformed 200") {
        Fault custom;
        custom.status = 200;
        custom.body = R"({"access_token": 5, "token_type": "Bearer"})";
        s.fake.inject(std::string(oauth_token), custom);
        CHECK(call(s.fake, post_form(oauth_token, client_body)).body() == custom.body);
        CHECK(s.fake.oauth_tokens_minted() == 0);
    }
    SECTION("a reset before the response: nothing minted") {
        s.fake.inject(std::string(oauth_token), fault_of(Fault::Kind::reset_before_response));
        Connection c;
        REQUIRE_FALSE(c.connect(s.fake.port()));
        CHECK(c.exchange(post_form(oauth_token, client_body)).ec == asio::error::connection_reset);
        CHECK(s.fake.oauth_tokens_minted() == 0);
    }
    SECTION("a truncated body: the token was minted") {
        s.fake.inject(std::string(oauth_token), fault_of(Fault::Kind::truncated_body));
        Connection c;
        REQUIRE_FALSE(c.connect(s.fake.port()));
        CHECK(c.exchange(post_form(oauth_token, client_body)).ec == http::error::partial_message);
        CHECK(s.fake.oauth_tokens_minted() == 1);
    }
    SECTION("a stall, until the client gives up") {
        s.fake.inject(std::string(oauth_token), fault_of(Fault::Kind::never_answer));
        Connection c;
        REQUIRE_FALSE(c.connect(s.fake.port()));
        CHECK(c.exchange(post_form(oauth_token, client_body), 200ms).ec == beast::error::timeout);
        CHECK(s.fake.oauth_tokens_minted() == 0);
    }
    SECTION("the path without the slash is its own path for faults") {
        s.fake.inject("/oauth/v2/token", fault_of(Fault::Kind::respond));
        CHECK(mint(s.fake).contains("access_token"));
        CHECK(call(s.fake, post_form("/oauth/v2/token", client_body)).result_int() == 503);
    }
}

TEST_CASE("OAuth clients: argument errors", "[oauth]") {
    OAuthServer s;
    CHECK_THROWS_AS(s.fake.add_oauth_client("etl", "again"), std::invalid_argument);
    CHECK_THROWS_AS(s.fake.add_oauth_client("", "x"), std::invalid_argument);
    CHECK_THROWS_AS(s.fake.add_oauth_client("x", ""), std::invalid_argument);
    CHECK_THROWS_AS(s.fake.add_oauth_client("x", "y", 0s), std::invalid_argument);
    CHECK_THROWS_AS(s.fake.issue_oauth_token("nobody"), std::invalid_argument);
    CHECK_THROWS_AS(s.fake.expire_oauth_token(Secret("a.b.c")), std::invalid_argument);
    // The secret does not appear in the errors.
    try {
        s.fake.add_oauth_client("etl", "top-secret-value");
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("top-secret-value") == std::string::npos);
    }
}

TEST_CASE("max_live_access_tokens revokes the oldest live token beyond K per refresh token and per OAuth client",
          "[oauth]") {
    FakeAlationOptions options;
    options.max_live_access_tokens = 2;
    OAuthServer s(options);
    s.fake.add_oauth_client("bi", "bi-secret");
    const auto accepted = [&](std::string_view token) { return call(s.fake, get_table(token)).result_int() == 200; };

    const json::object refresh = create_refresh_token(s, "a");
    const RefreshToken other = s.fake.issue_refresh_token(s.user_id, "b");
    // An expired token is not live and does not count.
    const AccessToken expired = s.fake.issue_access_token(Secret(str(refresh, "refresh_token")), 0ms);
    std::vector<std::string> tokens;
    for (int i = 0; i < 2; ++i) tokens.push_back(str(create_access_token(s, refresh), "api_access_token"));
    const AccessToken sibling = s.fake.issue_access_token(other.value);
    CHECK(accepted(tokens[0]));
    CHECK(accepted(tokens[1]));
    tokens.push_back(str(create_access_token(s, refresh), "api_access_token"));
    CHECK_FALSE(accepted(tokens[0]));
    CHECK(accepted(tokens[1]));
    CHECK(accepted(tokens[2]));
    CHECK(accepted(sibling.value.reveal()));
    const Response validated = call(s.fake, validate_access, {{"api_access_token", tokens[0]}, {"user_id", s.user_id}});
    CHECK(str(parse(validated), "token_status") == "REVOKED");
    CHECK(s.fake.protected_rejected_expired() == 0);

    std::vector<std::string> jwts;
    for (int i = 0; i < 3; ++i) jwts.push_back(str(mint(s.fake), "access_token"));
    const Secret bi = s.fake.issue_oauth_token("bi");
    CHECK_FALSE(accepted(jwts[0]));
    CHECK(accepted(jwts[1]));
    CHECK(accepted(jwts[2]));
    CHECK(accepted(bi.reveal()));
    const Response introspected =
        call(s.fake, post_form(oauth_introspect, "token=" + jwts[0] + "&client_id=etl&client_secret=s3cret"));
    CHECK(parse(introspected) == json::object{{"active", false}});
}
