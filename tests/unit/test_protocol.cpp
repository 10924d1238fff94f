// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#include <alation/auth/detail/oauth.hpp>
#include <alation/auth/detail/protocol.hpp>

#include "catch.hpp"

#include <boost/json.hpp>

#include <openssl/evp.h>

#include <chrono>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::chrono;
using namespace std::literals;

namespace {

Timestamp utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} + microseconds{us};
}

const std::string refresh_value(64, 'R');
const std::string access_value(43, 'A');

boost::json::object refresh_body() {
    return {{"refresh_token", refresh_value},
            {"user_id", 7},
            {"created_at", "2021-12-31T01:04:47.035Z"},
            {"name", "etl"},
            {"token_expires_at", "2022-03-01T01:04:47.035Z"},
            {"token_status", "ACTIVE"}};
}

boost::json::object access_body() {
    return {{"api_access_token", access_value},
            {"user_id", 7},
            {"created_at", "2022-11-15T21:52:48.116496Z"},
            {"token_expires_at", "2022-11-16T21:52:48.116496Z"},
            {"token_status", "active"}};
}

template <class Result>
error_code parse(Endpoint e, const boost::json::value& body, Result& out, Diagnostics& diag) {
    return parse_result(e, boost::json::serialize(body), out, diag);
}

// Every way a required field can be wrong, and what the diagnostics must say about it.
struct Corruption {
    boost::json::value value;  // null object marker: remove the field
    bool remove;
    std::string message;
};

template <class Result>
void check_required_fields(Endpoint e, const boost::json::object& good,
                           const std::vector<std::pair<std::string, std::vector<Corruption>>>& fields) {
    for (const auto& [field, corruptions] : fields) {
        for (const auto& c : corruptions) {
            INFO("field " << field << " corrupted as " << (c.remove ? "missing" : boost::json::serialize(c.value)));
            boost::json::object body = good;
            if (c.remove) {
                body.erase(field);
            } else {
                body[field] = c.value;
            }
            Result out;
            Diagnostics diag;
            CHECK(parse(e, body, out, diag) == Error::malformed_response);
            CHECK(diag.field() == field);
            CHECK(diag.message() == c.message);
        }
    }
}

const std::vector<Corruption> string_corruptions = {
    {nullptr, true, "missing"},
    {nullptr, false, "expected a string, got null"},
    {42, false, "expected a string, got a number"},
    {true, false, "expected a string, got a boolean"},
    {boost::json::array{"x"}, false, "expected a string, got an array"},
    {boost::json::object{{"x", 1}}, false, "expected a string, got an object"},
};

std::vector<Corruption> with(std::vector<Corruption> base, std::vector<Corruption> more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
}

const std::vector<Corruption> token_corruptions = with(string_corruptions, {{"", false, "empty"}});
const std::vector<Corruption> timestamp_corruptions =
    with(string_corruptions, {{"", false, "not an RFC 3339 timestamp"},
                              {"2021-12-31", false, "not an RFC 3339 timestamp"},
                              {"1640912687", false, "not an RFC 3339 timestamp"},
                              {"2021-02-30T00:00:00Z", false, "not an RFC 3339 timestamp"}});
const std::vector<Corruption> user_id_corruptions = {
    {nullptr, true, "missing"},
    {nullptr, false, "expected an integer, got null"},
    {true, false, "expected an integer, got a boolean"},
    {boost::json::array{7}, false, "expected an integer, got an array"},
    {0, false, "not a positive integer"},
    {-7, false, "not a positive integer"},
    {9223372036854775808ULL, false, "not a positive integer"},
    {7.5, false, "expected an integer, got a fractional or out-of-range number"},
    {7.0, false, "expected an integer, got a fractional or out-of-range number"},
    {1e30, false, "expected an integer, got a fractional or out-of-range number"},
    {"", false, "not an integer"},
    {"abc", false, "not an integer"},
    {"7a", false, "not an integer"},
    {" 7", false, "not an integer"},
    {"+7", false, "not an integer"},
    {"-7", false, "not an integer"},
    {"7.0", false, "not an integer"},
    {"0", false, "not a positive integer"},
    {"9223372036854775808", false, "not a positive integer"},
    {"99999999999999999999999", false, "not a positive integer"},
};

}  // namespace

TEST_CASE("Endpoints have Alation's paths, with the trailing slash, and names") {
    CHECK(path(Endpoint::create_refresh_token) == "/integration/v1/createRefreshToken/");
    CHECK(path(Endpoint::validate_refresh_token) == "/integration/v1/validateRefreshToken/");
    CHECK(path(Endpoint::regenerate_refresh_token) == "/integration/v1/regenRefreshToken/");
    CHECK(path(Endpoint::create_access_token) == "/integration/v1/createAPIAccessToken/");
    CHECK(path(Endpoint::validate_access_token) == "/integration/v1/validateAPIAccessToken/");
    CHECK(path(Endpoint::revoke_access_tokens) == "/integration/v1/revokeAPIAccessTokens/");
    CHECK(name(Endpoint::create_refresh_token) == "createRefreshToken");
    CHECK(name(Endpoint::regenerate_refresh_token) == "regenRefreshToken");
    CHECK(name(Endpoint::revoke_access_tokens) == "revokeAPIAccessTokens");
    CHECK(path(Endpoint::oauth_token) == "/oauth/v2/token/");
    CHECK(path(Endpoint::oauth_introspect) == "/oauth/v2/introspect/");
    CHECK(name(Endpoint::oauth_token) == "oauth/v2/token");
    CHECK(name(Endpoint::oauth_introspect) == "oauth/v2/introspect");
}

TEST_CASE("parse_timestamp reads every RFC 3339 form the server may send") {
    const std::vector<std::pair<std::string_view, Timestamp>> cases = {
        {"2021-12-31T01:04:47.035Z", utc(2021, 12, 31, 1, 4, 47, 35'000)},
        {"2022-11-15T21:52:48.116496Z", utc(2022, 11, 15, 21, 52, 48, 116'496)},
        {"2022-11-15T21:52:48.116496789Z", utc(2022, 11, 15, 21, 52, 48, 116'496)},
        {"2022-11-15T21:52:48.1Z", utc(2022, 11, 15, 21, 52, 48, 100'000)},
        {"2022-11-15T21:52:48Z", utc(2022, 11, 15, 21, 52, 48)},
        {"2022-11-15t21:52:48z", utc(2022, 11, 15, 21, 52, 48)},
        {"2022-11-15T21:52:48+00:00", utc(2022, 11, 15, 21, 52, 48)},
        {"2022-11-15T21:52:48-00:00", utc(2022, 11, 15, 21, 52, 48)},
        {"2022-11-15T16:52:48.5-05:00", utc(2022, 11, 15, 21, 52, 48, 500'000)},
        {"2022-11-16T03:22:48+05:30", utc(2022, 11, 15, 21, 52, 48)},
        {"2022-11-15T23:59:59+23:59", utc(2022, 11, 15, 0, 0, 59)},
        {"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0)},
        {"0000-01-01T00:00:00Z", utc(0, 1, 1, 0, 0, 0)},
        {"9999-12-31T23:59:59.999999Z", utc(9999, 12, 31, 23, 59, 59, 999'999)},
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        const auto parsed = parse_timestamp(text);
        REQUIRE(parsed.has_value());
        CHECK(*parsed == expected);
    }
}

TEST_CASE("parse_timestamp rejects garbage, out-of-range fields and trailing junk") {
    for (const std::string_view text : {
             ""sv,
             "2021-12-31"sv,
             "2021-12-31T01:04:47"sv,              // no zone
             "2021-12-31T01:04Z"sv,                // no seconds
             "2021-12-31 01:04:47Z"sv,             // space separator
             "2021-12-31T01:04:47.Z"sv,            // empty fraction
             "2021-12-31T01:04:47.0123456789Z"sv,  // 10 fraction digits
             "2021-12-31T01:04:47ZZ"sv,
             "2021-12-31T01:04:47Z "sv,
             " 2021-12-31T01:04:47Z"sv,
             "2021-12-31T01:04:47+0500"sv,
             "2021-12-31T01:04:47+5:00"sv,
             "2021-12-31T01:04:47+05:00x"sv,
             "2021-12-31T01:04:47+24:00"sv,
             "2021-12-31T01:04:47+05:60"sv,
             "2021-12-31T01:04:47 +05:00"sv,
             "21-12-31T01:04:47Z"sv,
             "2021/12/31T01:04:47Z"sv,
             "+2021-12-31T01:04:47Z"sv,
             "2021-13-01T00:00:00Z"sv,
             "2021-00-01T00:00:00Z"sv,
             "2021-01-00T00:00:00Z"sv,
             "2021-01-32T00:00:00Z"sv,
             "2021-02-29T00:00:00Z"sv,
             "2021-02-30T00:00:00Z"sv,
             "2021-04-31T00:00:00Z"sv,
             "2021-12-31T24:00:00Z"sv,
             "2021-12-31T23:60:00Z"sv,
             "2021-12-31T23:59:60Z"sv,
             "2021-12-31T-1:04:47Z"sv,
             "2021-12-31T01:04:4Z"sv,
             "2021-12-3aT01:04:47Z"sv,
             "2021-12-31T01:04:47.03a5Z"sv,
             "2021-12-31T01:04:47\0Z"sv,
         }) {
        INFO(text);
        CHECK_FALSE(parse_timestamp(text).has_value());
    }
}

TEST_CASE("format_timestamp writes what parse_timestamp reads back") {
    const Timestamp t = utc(2022, 11, 15, 21, 52, 48, 116'496);
    CHECK(format_timestamp(t) == "2022-11-15T21:52:48.116496Z");
    CHECK(format_timestamp(utc(1970, 1, 1, 0, 0, 0)) == "1970-01-01T00:00:00.000000Z");
    CHECK(format_timestamp(utc(1969, 12, 31, 23, 59, 59, 1)) == "1969-12-31T23:59:59.000001Z");
    for (const Timestamp x : {t, utc(2000, 2, 29, 12, 0, 0, 7), utc(9999, 12, 31, 23, 59, 59, 999'999)}) {
        CHECK(parse_timestamp(format_timestamp(x)) == x);
    }
}

TEST_CASE("parse_http_date reads the three HTTP-date forms") {
    const auto expected = sys_seconds{sys_days{1994y / November / 6} + 8h + 49min + 37s};
    CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected);
    CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected);
    CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == expected);
    CHECK(parse_http_date("Sun Nov 16 08:49:37 1994") == expected + days{10});
    CHECK(parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT") == sys_seconds{sys_days{2026y / January / 1}});
    for (const std::string_view bad :
         {"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
          "Sun, 06 Nov 1994 24:49:37 GMT", "Sun, 06 Nox 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
          "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 06 Nov 1994 08:49:37",
          "Sun Nov 6 08:49:37 1994", "Sunday, 06-Nov-1994 08:49:37 GMT", "120"}) {
        INFO(bad);
        CHECK_FALSE(parse_http_date(bad).has_value());
    }
}

TEST_CASE("parse_token_status takes every letter case and keeps unknown values") {
    for (const std::string_view s : {"ACTIVE", "active", "Active", "aCtIvE"})
        CHECK(parse_token_status(s) == TokenStatus::active);
    for (const std::string_view s : {"EXPIRED", "expired", "Expired"})
        CHECK(parse_token_status(s) == TokenStatus::expired);
    for (const std::string_view s : {"REVOKED", "revoked", "Revoked"})
        CHECK(parse_token_status(s) == TokenStatus::revoked);
    for (const std::string_view s : {"", "ACTIVE ", " active", "inactive", "ACTIV", "PENDING", "activeX"}) {
        INFO(s);
        CHECK(parse_token_status(s) == TokenStatus::unknown);
    }
}

TEST_CASE("Request bodies are exact JSON and keep the secret they hold") {
    SECTION("createRefreshToken") {
        const Credentials credentials{"etl@example.com", Secret("p\"a\\ss\x01w\xc3\xa9"), "etl job"};
        const RequestBody body = refresh_token_request_body(credentials);
        CHECK(body.json.reveal() == R"({"username":"etl@example.com","password":"p\"a\\ss\u0001w)"
                                    "\xc3\xa9"
                                    R"(","name":"etl job"})");
        CHECK(body.secret == credentials.password);
        const auto parsed = boost::json::parse(body.json.reveal());
        const auto& password = parsed.at("password").as_string();
        CHECK(std::string_view(password.data(), password.size()) == credentials.password.reveal());
    }
    SECTION("the refresh-token endpoints send refresh_token") {
        for (const Endpoint e : {Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token,
                                 Endpoint::create_access_token, Endpoint::revoke_access_tokens}) {
            const RequestBody body = token_request_body(e, Secret(refresh_value), 42);
            CHECK(body.json.reveal() == R"({"refresh_token":")" + refresh_value + R"(","user_id":42})");
            CHECK(body.secret.reveal() == refresh_value);
        }
    }
    SECTION("validateAPIAccessToken sends api_access_token") {
        const RequestBody body = token_request_body(Endpoint::validate_access_token, Secret(access_value), 9);
        CHECK(body.json.reveal() == R"({"api_access_token":")" + access_value + R"(","user_id":9})");
        CHECK(body.secret.reveal() == access_value);
    }
}

TEST_CASE("append_json_string escapes exactly json_string_size bytes") {
    for (const std::string_view s : {""sv, "plain"sv, R"(q"b\)"sv, "\n\t\x1f\x7f"sv, "\0x"sv, "\xc3\xa9"sv}) {
        std::string out = "prefix";
        append_json_string(out, s);
        CHECK(out.size() == 6 + json_string_size(s));
        const auto parsed = boost::json::parse(out.substr(6));
        CHECK(std::string_view(parsed.as_string().data(), parsed.as_string().size()) == s);
    }
}

TEST_CASE("A refresh token body is parsed into every field") {
    SECTION("createRefreshToken: no last_used_at, requested_at untouched") {
        RefreshToken out;
        const auto requested = SteadyClock::time_point{} + 5s;
        out.requested_at = requested;
        out.last_used_at = utc(2000, 1, 1, 0, 0, 0);
        Diagnostics diag;
        REQUIRE_FALSE(parse(Endpoint::create_refresh_token, refresh_body(), out, diag));
        CHECK(out.value.reveal() == refresh_value);
        CHECK(out.user_id == 7);
        CHECK(out.name == "etl");
        CHECK(out.created_at == utc(2021, 12, 31, 1, 4, 47, 35'000));
        CHECK(out.expires_at == utc(2022, 3, 1, 1, 4, 47, 35'000));
        CHECK(out.lifetime() == hours{24 * 60});
        CHECK(out.status == TokenStatus::active);
        CHECK_FALSE(out.last_used_at.has_value());
        CHECK(out.requested_at == requested);
        CHECK(diag == Diagnostics{});
    }
    SECTION("validateRefreshToken: last_used_at null or a timestamp") {
        auto body = refresh_body();
        body["last_used_at"] = nullptr;
        RefreshToken out;
        Diagnostics diag;
        REQUIRE_FALSE(parse(Endpoint::validate_refresh_token, body, out, diag));
        CHECK_FALSE(out.last_used_at.has_value());
        body["last_used_at"] = "2022-01-02T03:04:05.000006+00:00";
        REQUIRE_FALSE(parse(Endpoint::validate_refresh_token, body, out, diag));
        CHECK(out.last_used_at == utc(2022, 1, 2, 3, 4, 5, 6));
    }
    SECTION("user_id as a numeric string, the largest int64, unknown fields ignored") {
        auto body = refresh_body();
        body["user_id"] = "9223372036854775807";
        body["unknown"] = boost::json::object{{"nested", boost::json::array{1, 2, 3}}};
        body["token_type"] = "refresh";
        RefreshToken out;
        Diagnostics diag;
        REQUIRE_FALSE(parse(Endpoint::regenerate_refresh_token, body, out, diag));
        CHECK(out.user_id == 9223372036854775807);
        body["user_id"] = 9223372036854775807LL;
        REQUIRE_FALSE(parse(Endpoint::regenerate_refresh_token, body, out, diag));
        CHECK(out.user_id == 9223372036854775807);
        SECTION("a response larger than the parser's inline arena: values spill to the heap intact") {
            auto body = refresh_body();
            const std::string token(5000, 't');
            body["refresh_token"] = token;
            body["name"] = std::string(3000, 'n');
            boost::json::array padding;
            for (int i = 0; i < 300; ++i) padding.emplace_back(boost::json::object{{"k", i}});
            body["unknown"] = std::move(padding);
            RefreshToken out;
            Diagnostics diag;
            REQUIRE_FALSE(parse(Endpoint::create_refresh_token, body, out, diag));
            CHECK(out.value.reveal() == token);
            CHECK(out.name == std::string(3000, 'n'));
            CHECK(out.user_id == 7);
        }
    }
    SECTION("an unknown token_status is kept, not an error; an empty name is a name") {
        auto body = refresh_body();
        body["token_status"] = "PENDING";
        body["name"] = "";
        RefreshToken out;
        Diagnostics diag;
        REQUIRE_FALSE(parse(Endpoint::create_refresh_token, body, out, diag));
        CHECK(out.status == TokenStatus::unknown);
        CHECK(out.name.empty());
    }
    SECTION("a token living zero seconds is not negative") {
        auto body = refresh_body();
        body["token_expires_at"] = body["created_at"];
        RefreshToken out;
        Diagnostics diag;
        CHECK_FALSE(parse(Endpoint::create_refresh_token, body, out, diag));
    }
}

TEST_CASE("Each required refresh token field missing, null or of a wrong type is named") {
    check_required_fields<RefreshToken>(Endpoint::create_refresh_token, refresh_body(),
                                        {{"refresh_token", token_corruptions},
                                         {"user_id", user_id_corruptions},
                                         {"name", string_corruptions},
                                         {"created_at", timestamp_corruptions},
                                         {"token_expires_at", timestamp_corruptions},
                                         {"token_status", string_corruptions}});
    // Optional, but when present it must be a timestamp.
    auto body = refresh_body();
    check_required_fields<RefreshToken>(
        Endpoint::validate_refresh_token, body,
        {{"last_used_at",
          {{42, false, "expected a string, got a number"}, {"yesterday", false, "not an RFC 3339 timestamp"}}}});
}

TEST_CASE("Each required access token field missing, null or of a wrong type is named") {
    check_required_fields<AccessToken>(Endpoint::create_access_token, access_body(),
                                       {{"api_access_token", token_corruptions},
                                        {"user_id", user_id_corruptions},
                                        {"created_at", timestamp_corruptions},
                                        {"token_expires_at", timestamp_corruptions},
                                        {"token_status", string_corruptions}});
}

TEST_CASE("An access token body is parsed into every field") {
    auto body = access_body();
    body["refresh_token"] = "ignored";
    body["user_id"] = "42";
    AccessToken out;
    Diagnostics diag;
    REQUIRE_FALSE(parse(Endpoint::create_access_token, body, out, diag));
    CHECK(out.value.reveal() == access_value);
    CHECK(out.user_id == 42);
    CHECK(out.created_at == utc(2022, 11, 15, 21, 52, 48, 116'496));
    CHECK(out.lifetime() == 24h);
    CHECK(out.status == TokenStatus::active);
}

TEST_CASE("A token that never expires gets a lifetime local clocks can count") {
    auto body = access_body();
    body["token_expires_at"] = "9999-12-31T23:59:59Z";
    AccessToken out;
    out.requested_at = SteadyClock::now();
    Diagnostics diag;
    REQUIRE_FALSE(parse(Endpoint::create_access_token, body, out, diag));
    CHECK(out.lifetime() == duration_cast<microseconds>(max_token_lifetime));
    CHECK(out.local_expiry() - out.requested_at == duration_cast<SteadyClock::duration>(max_token_lifetime));

    body["token_expires_at"] = "2122-11-15T21:52:48.116496Z";  // 100 calendar years, within the cap: kept
    REQUIRE_FALSE(parse(Endpoint::create_access_token, body, out, diag));
    CHECK(out.expires_at == utc(2122, 11, 15, 21, 52, 48, 116'496));
}

TEST_CASE("A token that expires before it was created is malformed") {
    auto body = access_body();
    body["token_expires_at"] = "2022-11-15T21:52:48.116495Z";
    AccessToken access;
    Diagnostics diag;
    CHECK(parse(Endpoint::validate_access_token, body, access, diag) == Error::malformed_response);
    CHECK(diag.field() == "token_expires_at");
    CHECK(diag.message() == "expires before it was created");

    auto refresh = refresh_body();
    refresh["created_at"] = "2022-03-01T01:04:47.036Z";
    RefreshToken out;
    Diagnostics diag2;
    CHECK(parse(Endpoint::create_refresh_token, refresh, out, diag2) == Error::malformed_response);
    CHECK(diag2.field() == "token_expires_at");
}

TEST_CASE("A body that is not a JSON object is malformed, with no field named") {
    for (const std::string_view body : {""sv, "<html><body>502 Bad Gateway</body></html>"sv, "{"sv,
                                        R"({"refresh_token": "x",})"sv, R"({"a":1} trailing)"sv, "\xff"sv}) {
        INFO(body);
        RefreshToken out;
        Diagnostics diag;
        CHECK(parse_result(Endpoint::create_refresh_token, body, out, diag) == Error::malformed_response);
        CHECK(diag.field().empty());
        CHECK(diag.message().rfind("not JSON: ", 0) == 0);
    }
    const std::vector<std::pair<std::string_view, std::string_view>> non_objects = {
        {"[]", "expected a JSON object, got an array"},
        {"\"token\"", "expected a JSON object, got a string"},
        {"42", "expected a JSON object, got a number"},
        {"null", "expected a JSON object, got null"},
    };
    for (const auto& [body, message] : non_objects) {
        AccessToken out;
        Diagnostics diag;
        CHECK(parse_result(Endpoint::create_access_token, body, out, diag) == Error::malformed_response);
        CHECK(diag.field().empty());
        CHECK(diag.message() == message);
    }
}

TEST_CASE("Deeply nested JSON is refused without recursion trouble") {
    const std::string deep = R"({"refresh_token":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
    RefreshToken out;
    Diagnostics diag;
    CHECK(parse_result(Endpoint::create_refresh_token, deep, out, diag) == Error::malformed_response);
    CHECK(diag.message().rfind("not JSON: ", 0) == 0);
}

TEST_CASE("A 200 with an expired or revoked token_status is the token's error") {
    for (const Endpoint e :
         {Endpoint::create_refresh_token, Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token}) {
        for (const auto& [status, word] : {std::pair{"EXPIRED", "expired"}, std::pair{"revoked", "revoked"}}) {
            auto body = refresh_body();
            body["token_status"] = status;
            RefreshToken out;
            Diagnostics diag;
            CHECK(parse(e, body, out, diag) == Error::refresh_token_expired_or_revoked);
            CHECK(diag.field() == "token_status");
            CHECK(diag.message() == std::string(name(e)) + " answered token_status " + word);
            CHECK(out.status == parse_token_status(status));
        }
    }
    for (const Endpoint e : {Endpoint::create_access_token, Endpoint::validate_access_token}) {
        for (const auto& status : {"Expired", "REVOKED"}) {
            auto body = access_body();
            body["token_status"] = status;
            AccessToken out;
            Diagnostics diag;
            CHECK(parse(e, body, out, diag) == Error::access_token_expired_or_revoked);
            CHECK(diag.field() == "token_status");
        }
    }
    auto body = access_body();
    body["token_status"] = "EXPIRED";
    AccessToken out;
    Diagnostics diag;
    REQUIRE(parse(Endpoint::validate_access_token, body, out, diag));
    CHECK(diag.message() == "validateAPIAccessToken answered token_status expired");
}

TEST_CASE("revokeAPIAccessTokens: the detail sentence, cleaned") {
    RevokeResult out;
    Diagnostics diag;
    REQUIRE_FALSE(parse_result(Endpoint::revoke_access_tokens,
                               R"({"detail": "Revoked active access tokens for refresh token: 'etl' with id: 7"})", out,
                               diag));
    CHECK(out.detail == "Revoked active access tokens for refresh token: 'etl' with id: 7");
    REQUIRE_FALSE(parse_result(Endpoint::revoke_access_tokens, R"({"detail": "a\nb\u0000c", "x": 1})", out, diag));
    CHECK(out.detail == "a b c");
    const std::string long_body = R"({"detail": ")" + std::string(2000, 'x') + "\"}";
    REQUIRE_FALSE(parse_result(Endpoint::revoke_access_tokens, long_body, out, diag));
    CHECK(out.detail == std::string(max_server_detail, 'x') + "...");

    check_required_fields<RevokeResult>(Endpoint::revoke_access_tokens, {{"detail", "ok"}},
                                        {{"detail", string_corruptions}});
}

TEST_CASE("redact replaces every occurrence of the secret") {
    std::string text = "token tok-123 and tok-123 again, tok-12";
    redact(text, "tok-123");
    CHECK(text == "token [redacted] and [redacted] again, tok-12");
    std::string overlapping = "aaaaa";
    redact(overlapping, "aa");
    CHECK(overlapping == "[redacted][redacted]a");
    std::string whole = "s3cret";
    redact(whole, "s3cret");
    CHECK(whole == "[redacted]");
    std::string untouched = "nothing here";
    redact(untouched, "");
    CHECK(untouched == "nothing here");
    redact(untouched, "absent");
    CHECK(untouched == "nothing here");
    // A secret that is part of the marker cannot make the loop run forever.
    std::string marker = "x redacted y";
    redact(marker, "redacted");
    CHECK(marker == "x [redacted] y");
}

namespace {

struct Classified {
    error_code ec;
    Diagnostics diag;
};

const auto now = system_clock::time_point{sys_days{2026y / November / 28} + 4h};

Classified classify(Endpoint e, unsigned status, std::string_view body, std::string_view retry_after = {},
                    std::string_view secret = {}) {
    Classified c;
    c.ec = classify_error_response(e, status, body, retry_after, now, c.diag, secret);
    return c;
}

constexpr Endpoint all_endpoints[] = {
    Endpoint::create_refresh_token, Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token,
    Endpoint::create_access_token,  Endpoint::validate_access_token,  Endpoint::revoke_access_tokens,
    Endpoint::oauth_token,          Endpoint::oauth_introspect};
constexpr Endpoint refresh_token_endpoints[] = {Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token,
                                                Endpoint::create_access_token, Endpoint::revoke_access_tokens};

}  // namespace

TEST_CASE("401 and 403 map to the error of the token each endpoint takes") {
    const auto invalid = R"({"detail": "Refresh token provided is invalid.", "code": "401000"})";
    const auto expired = R"({"detail": "Refresh token provided is expired or revoked.", "code": "401000"})";
    const auto forbidden = R"({"detail": "Authentication credentials were not provided.", "code": "403000"})";

    CHECK(classify(Endpoint::create_refresh_token, 401, R"({"detail": "Invalid username/password."})").ec ==
          Error::invalid_credentials);
    CHECK(classify(Endpoint::create_refresh_token, 403, forbidden).ec == Error::invalid_credentials);
    for (const Endpoint e : refresh_token_endpoints) {
        INFO(name(e));
        CHECK(classify(e, 401, invalid).ec == Error::invalid_refresh_token);
        CHECK(classify(e, 401, expired).ec == Error::refresh_token_expired_or_revoked);
        CHECK(classify(e, 401, R"({"detail": "REFRESH TOKEN IS EXPIRED OR REVOKED"})").ec ==
              Error::refresh_token_expired_or_revoked);
        CHECK(classify(e, 401, "<html>Expired or Revoked</html>").ec == Error::refresh_token_expired_or_revoked);
        CHECK(classify(e, 401, "").ec == Error::invalid_refresh_token);
        CHECK(classify(e, 403, expired).ec == Error::unauthorized);
    }
    CHECK(classify(Endpoint::validate_access_token, 401, R"({"detail": "API Access Token provided is invalid."})").ec ==
          Error::invalid_access_token);
    CHECK(classify(Endpoint::validate_access_token, 403, forbidden).ec == Error::unauthorized);

    const auto c = classify(Endpoint::create_access_token, 401, expired);
    CHECK(c.diag.http_status() == 401);
    CHECK(c.diag.server_detail() == "Refresh token provided is expired or revoked.");
    CHECK(c.diag.server_code() == "401000");
    CHECK_FALSE(c.diag.retry_after().has_value());
    CHECK(c.diag.field().empty());
    CHECK(c.diag.message().empty());
}

TEST_CASE("Other statuses map the same on every endpoint") {
    const std::vector<std::pair<unsigned, Error>> cases = {
        {400, Error::bad_request},       {429, Error::rate_limited},      {500, Error::server_error},
        {502, Error::server_error},      {503, Error::server_error},      {504, Error::server_error},
        {404, Error::unexpected_status}, {405, Error::unexpected_status}, {501, Error::unexpected_status},
        {302, Error::unexpected_status}, {200, Error::unexpected_status}, {204, Error::unexpected_status},
        {0, Error::unexpected_status},   {999, Error::unexpected_status},
    };
    for (const Endpoint e : all_endpoints) {
        for (const auto& [status, error] : cases) {
            INFO(name(e) << " " << status);
            const auto c = classify(e, status, R"({"detail": "x", "code": 400001})");
            CHECK(c.ec == error);
            CHECK(c.diag.http_status() == status);
            CHECK(c.diag.server_code() == "400001");
        }
    }
}

TEST_CASE("The server's words are extracted from JSON bodies") {
    SECTION("code as a string, a number, or something else") {
        CHECK(classify(Endpoint::create_access_token, 400, R"({"detail": "d", "code": "400002"})").diag.server_code() ==
              "400002");
        CHECK(classify(Endpoint::create_access_token, 400, R"({"detail": "d", "code": 400002})").diag.server_code() ==
              "400002");
        CHECK(
            classify(Endpoint::create_access_token, 400, R"({"detail": "d", "code": 4.5})").diag.server_code().empty());
        CHECK(classify(Endpoint::create_access_token, 400, R"({"detail": "d", "code": null})")
                  .diag.server_code()
                  .empty());
        CHECK(classify(Endpoint::create_access_token, 400, R"({"detail": "d"})").diag.server_code().empty());
        CHECK(classify(Endpoint::create_access_token, 400, R"({"code": "1\n2"})").diag.server_code() == "1 2");
        CHECK(classify(Endpoint::create_access_token, 400, R"({"code": ")" + std::string(100, '7') + "\"}")
                  .diag.server_code() == std::string(max_server_code, '7') + "...");
    }
    SECTION("a JSON body without a detail sentence is kept as JSON text") {
        const std::string_view drf = R"({"user_id": ["This field is required."]})";
        CHECK(classify(Endpoint::create_access_token, 400, drf).diag.server_detail() == drf);
        CHECK(classify(Endpoint::create_access_token, 400, R"({"detail": ["a", "b"]})").diag.server_detail() ==
              R"({"detail": ["a", "b"]})");
    }
    SECTION("control characters become spaces; long details are bounded on a character boundary") {
        CHECK(classify(Endpoint::create_access_token, 400, R"({"detail": "line1\nline2\ttab\u0007\u007f"})")
                  .diag.server_detail() == "line1 line2 tab  ");
        const std::string long_detail = "a" + [] {
            std::string s;
            for (int i = 0; i < 400; ++i) s += "\xc3\xa9";
            return s;
        }();
        const auto detail =
            classify(Endpoint::create_access_token, 400, R"({"detail": ")" + long_detail + "\"}").diag.server_detail();
        CHECK(detail == long_detail.substr(0, max_server_detail - 1) + "...");
    }
}

TEST_CASE("HTML and text error pages are reduced to their words") {
    const auto nginx =
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
        "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    const auto c = classify(Endpoint::create_access_token, 502, nginx);
    CHECK(c.ec == Error::server_error);
    CHECK(c.diag.server_detail() == "502 Bad Gateway 502 Bad Gateway nginx");
    CHECK(c.diag.server_code().empty());

    const auto maintenance =
        "<!DOCTYPE html><html><head><style>body { color: red; }</style><SCRIPT type=\"text/javascript\">var x = "
        "\"<b>\";</SCRIPT><title>Service Unavailable</title></head><body><h1>Down for maintenance</h1>\n\t<p>Back "
        "soon.</p><!-- comment --></body></html>";
    CHECK(classify(Endpoint::validate_access_token, 503, maintenance).diag.server_detail() ==
          "Service Unavailable Down for maintenance Back soon.");

    CHECK(classify(Endpoint::create_access_token, 503, "upstream connect error\nor disconnect/reset before headers")
              .diag.server_detail() == "upstream connect error or disconnect/reset before headers");
    CHECK(classify(Endpoint::create_access_token, 503, "<script>never closed").diag.server_detail().empty());
    CHECK(classify(Endpoint::create_access_token, 503, "text <unclosed tag").diag.server_detail() == "text");

    std::string words;
    for (int i = 0; i < 1000; ++i) words += "<p>word</p>\n";
    const auto long_page = classify(Endpoint::create_access_token, 504, words).diag.server_detail();
    CHECK(long_page.size() == max_server_page_text + 3);
    CHECK(long_page.substr(0, 15) == "word word word ");
    CHECK(long_page.substr(long_page.size() - 3) == "...");
}

TEST_CASE("The secret sent is redacted from the server's words, before they are bounded") {
    const std::string secret = "tok-" + std::string(40, 'S');
    SECTION("in a JSON detail") {
        const auto c = classify(Endpoint::create_access_token, 401,
                                R"({"detail": "Refresh token )" + secret + R"( is invalid."})", {}, secret);
        CHECK(c.diag.server_detail() == "Refresh token [redacted] is invalid.");
    }
    SECTION("in an HTML page and in JSON text, escaped or not") {
        const std::string password = "pa\"ss\\word";
        const std::string echoed = R"(<pre>{"password": "pa\"ss\\word"}</pre> and pa"ss\word)";
        const auto c = classify(Endpoint::create_refresh_token, 502, echoed, {}, password);
        CHECK(c.diag.server_detail() == R"({"password": "[redacted]"} and [redacted])");
        const auto drf =
            classify(Endpoint::create_refresh_token, 400, R"({"password": ["pa\"ss\\word is bad"]})", {}, password);
        CHECK(drf.diag.server_detail() == R"({"password": ["[redacted] is bad"]})");
    }
    SECTION("no prefix of it survives the cut") {
        const std::string detail = std::string(max_server_detail - 7, 'x') + secret;
        const auto c = classify(Endpoint::create_access_token, 401, R"({"detail": ")" + detail + "\"}", {}, secret);
        CHECK(c.diag.server_detail() == std::string(max_server_detail - 7, 'x') + "[redact...");
        CHECK(c.diag.to_string().find("tok-") == std::string::npos);
    }
}

TEST_CASE("Retry-After: delta-seconds and HTTP-dates relative to now") {
    const std::vector<std::pair<std::string_view, std::optional<seconds>>> cases = {
        {"120", 120s},
        {" 5\t", 5s},
        {"0", 0s},
        {"007", 7s},
        {"99999999999999999999", seconds{1'000'000'000}},
        {"1000000001", seconds{1'000'000'000}},
        {"", std::nullopt},
        {"  ", std::nullopt},
        {"abc", std::nullopt},
        {"-1", std::nullopt},
        {"1.5", std::nullopt},
        {"5s", std::nullopt},
        {"Sat, 28 Nov 2026 04:01:30 GMT", 90s},
        {"Saturday, 28-Nov-26 04:01:30 GMT", 90s},
        {"Sat Nov 28 04:01:30 2026", 90s},
        {"Sat, 28 Nov 2026 04:00:00 GMT", 0s},
        {"Fri, 27 Nov 2026 04:00:00 GMT", 0s},
        {"Fri, 31 Dec 9999 23:59:59 GMT", seconds{1'000'000'000}},
        {"Mon, 01 Jan 0001 00:00:00 GMT", 0s},
        {"Sat, 31 Nov 2026 04:01:30 GMT", std::nullopt},
        {"Sat, 28 Nov 2026 04:01:30 UTC", std::nullopt},
    };
    for (const auto& [value, expected] : cases) {
        INFO("Retry-After: " << value);
        CHECK(parse_retry_after(value, now) == expected);
    }
    // A date is rounded up: waiting a little too long beats coming back early.
    CHECK(parse_retry_after("Sat, 28 Nov 2026 04:01:30 GMT", now + 500ms) == 90s);

    CHECK(classify(Endpoint::create_access_token, 429, "", "30").diag.retry_after() == 30s);
    CHECK(classify(Endpoint::create_access_token, 503, "<h1>busy</h1>", "Sat, 28 Nov 2026 04:00:10 GMT")
              .diag.retry_after() == 10s);
    CHECK_FALSE(classify(Endpoint::create_access_token, 503, "", "soon").diag.retry_after().has_value());
}

TEST_CASE("Content-Type: media types match without case, blanks or parameters") {
    CHECK(is_media_type("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"));
    CHECK(is_media_type(" Application/X-WWW-Form-URLEncoded ; charset=UTF-8", "application/x-www-form-urlencoded"));
    CHECK_FALSE(is_media_type("application/x-www-form-urlencodedx", "application/x-www-form-urlencoded"));
    CHECK_FALSE(is_media_type("", "application/json"));
    CHECK_FALSE(is_media_type("text/plain; application/json", "application/json"));

    CHECK(is_json_content_type("application/json"));
    CHECK(is_json_content_type("Application/JSON; charset=utf-8"));
    CHECK(is_json_content_type("application/json "));
    CHECK(is_json_content_type("application/problem+json"));
    CHECK(is_json_content_type("application/vnd.api+JSON;v=1"));
    CHECK_FALSE(is_json_content_type("+json"));
    CHECK_FALSE(is_json_content_type("application/jsonx"));
    CHECK_FALSE(is_json_content_type("text/html"));
    CHECK_FALSE(is_json_content_type(""));
}

namespace {

std::string form(std::string_view s) {
    std::string out;
    form_urlencode(out, s);
    CHECK(out.size() == form_urlencoded_size(s));
    return out;
}

}  // namespace

TEST_CASE("form_urlencode keeps unreserved characters, writes spaces as + and the rest as %XX", "[oauth]") {
    CHECK(form("") == "");
    CHECK(form("AZaz09-._~") == "AZaz09-._~");
    CHECK(form("a b") == "a+b");
    CHECK(form("+") == "%2B");
    CHECK(form("%&=:/?#[]@!$'()*,;\"") == "%25%26%3D%3A%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%22");
    CHECK(form("\xC3\xA9\xE2\x82\xAC") == "%C3%A9%E2%82%AC");  // é€ as UTF-8
    CHECK(form("\n\x7f"s + '\0') == "%0A%7F%00");
}

TEST_CASE("The Basic client header encodes id and secret before base64 (RFC 6749 2.3.1)", "[oauth]") {
    // base64("svc:s3cret")
    CHECK(basic_client_authorization("svc", Secret("s3cret")).reveal() == "Basic c3ZjOnMzY3JldA==");
    // base64("a%3Ab:p+w%25") -- a colon in the id cannot split the pair.
    CHECK(basic_client_authorization("a:b", Secret("p w%")).reveal() == "Basic YSUzQWI6cCt3JTI1");
    CHECK(basic_client_authorization("", Secret()).reveal() == "Basic Og==");
}

TEST_CASE("OAuth client credentials print the id, never the secret", "[oauth]") {
    std::ostringstream os;
    os << OAuthClientCredentials{"svc\n\"x", Secret("top-secret-value")};
    CHECK(os.str() == "OAuthClientCredentials(client_id=\"svc??x\", Secret(16 chars))");
}

namespace {

const OAuthClientCredentials oauth_client{"svc:1", Secret("p w&=+")};
const std::string_view oauth_secret_post = "&client_id=svc%3A1&client_secret=p+w%26%3D%2B";

std::string base64url(std::string_view bytes) {
    std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return out;
}

// A JWS-shaped token whose payload is `payload`, as the server would sign it.
std::string jwt(std::string_view payload) {
    return base64url(R"({"alg":"RS256","typ":"JWT"})") + "." + base64url(payload) + ".c2lnbmF0dXJl";
}

const std::string oauth_jwt = jwt(R"({"iat":1764547200,"exp":1764550800,"sub":"svc","client_id":"svc:1"})");
constexpr sys_seconds oauth_iat{seconds{1764547200}};

std::string token_body(std::string_view extra) {
    return R"({"access_token":")" + oauth_jwt + "\"" + std::string(extra) + "}";
}

struct OAuthParsed {
    error_code ec;
    AccessToken token;
    Diagnostics diag;
};

OAuthParsed parse_oauth(std::string_view body) {
    OAuthParsed p;
    p.ec = parse_oauth_token_response(body, now, p.token, p.diag);
    const std::string texts = p.diag.to_string();
    CHECK(texts.find(oauth_jwt) == std::string::npos);
    return p;
}

std::string jwt_problem(std::string_view token) {
    JwtTimes times;
    Diagnostics diag;
    const error_code ec = decode_jwt_times(token, times, diag);
    if (!ec) return "ok";
    CHECK(ec == Error::malformed_response);
    CHECK(diag.field() == "access_token");
    return diag.message();
}

}  // namespace

TEST_CASE("OAuth request bodies are form-urlencoded, with the client's credentials as asked", "[oauth]") {
    SECTION("token, client_secret_basic") {
        const RequestBody b = oauth_token_request_body(oauth_client, OAuthClientAuthentication::client_secret_basic);
        CHECK(b.json.reveal() == "grant_type=client_credentials");
        CHECK(b.content_type == "application/x-www-form-urlencoded");
        CHECK(b.authorization == basic_client_authorization("svc:1", Secret("p w&=+")));
        CHECK(b.secret == oauth_client.client_secret);
    }
    SECTION("token, client_secret_post") {
        const RequestBody b = oauth_token_request_body(oauth_client, OAuthClientAuthentication::client_secret_post);
        CHECK(b.json.reveal() == "grant_type=client_credentials"s + std::string(oauth_secret_post));
        CHECK(b.content_type == form_media_type);
        CHECK(b.authorization.empty());
        CHECK(b.secret == oauth_client.client_secret);
    }
    SECTION("introspection, both ways") {
        const Secret token("a.b+c/d");
        const RequestBody basic =
            oauth_introspect_request_body(oauth_client, token, OAuthClientAuthentication::client_secret_basic);
        CHECK(basic.json.reveal() == "token=a.b%2Bc%2Fd&token_type_hint=access_token");
        CHECK(basic.content_type == form_media_type);
        CHECK_FALSE(basic.authorization.empty());
        CHECK(basic.secret == oauth_client.client_secret);
        const RequestBody post =
            oauth_introspect_request_body(oauth_client, token, OAuthClientAuthentication::client_secret_post);
        CHECK(post.json.reveal() == "token=a.b%2Bc%2Fd&token_type_hint=access_token"s + std::string(oauth_secret_post));
        CHECK(post.authorization.empty());
    }
    SECTION("unusable arguments are named before any request") {
        CHECK(argument_problem(oauth_client).empty());
        CHECK(argument_problem(OAuthClientCredentials{"", Secret("s")}) == "the OAuth client id is empty");
        CHECK(argument_problem(OAuthClientCredentials{"id", Secret()}) == "the OAuth client secret is empty");
        CHECK(argument_problem(oauth_client, Secret()) == "the token is empty");
        CHECK(argument_problem(oauth_client, Secret("t")).empty());
        CHECK(argument_problem(OAuthClientCredentials{}, Secret("t")) == "the OAuth client id is empty");
    }
}

TEST_CASE("An OAuth token response: lifetime from expires_in, from the request's send instant", "[oauth]") {
    SECTION("every field") {
        const auto p = parse_oauth(token_body(R"(,"token_type":"Bearer","expires_in":3600,"scope":"catalog:read")"));
        REQUIRE_FALSE(p.ec);
        CHECK(p.token.value.reveal() == oauth_jwt);
        CHECK(p.token.scope == "catalog:read");
        CHECK(p.token.user_id == 0);
        CHECK(p.token.status == TokenStatus::active);
        CHECK(p.token.lifetime() == 3600s);
        // No created_at: the JWT's iat stands for the server's clock.
        CHECK(p.token.created_at == oauth_iat);
        CHECK(p.token.requested_at == SteadyClock::time_point{});
        CHECK(p.diag == Diagnostics{});
    }
    SECTION("created_at, when sent, as RFC 3339 or epoch seconds") {
        auto p = parse_oauth(token_body(R"(,"expires_in":300,"created_at":"2026-11-28T04:00:00Z")"));
        REQUIRE_FALSE(p.ec);
        CHECK(p.token.created_at == utc(2026, 11, 28, 4, 0, 0));
        CHECK(p.token.expires_at == utc(2026, 11, 28, 4, 5, 0));
        p = parse_oauth(token_body(R"(,"expires_in":300,"created_at":1764547300)"));
        REQUIRE_FALSE(p.ec);
        CHECK(p.token.created_at == oauth_iat + 100s);
        CHECK(p.token.lifetime() == 300s);
    }
    SECTION("an opaque token and no created_at: the local wall clock stands in") {
        const auto p = parse_oauth(R"({"access_token":"opaque","expires_in":"259200"})");
        REQUIRE_FALSE(p.ec);
        CHECK(p.token.created_at == floor<microseconds>(now));
        CHECK(p.token.lifetime() == 72h);
        CHECK(p.token.scope.empty());
    }
    SECTION("expires_in: whole positive seconds, as a number or digits; huge values are bounded") {
        for (const std::string_view ok : {"3600", "3600.0", "3.6e3", "\"3600\"", "\"0003600\""}) {
            INFO(ok);
            const auto p = parse_oauth(token_body(",\"expires_in\":" + std::string(ok)));
            REQUIRE_FALSE(p.ec);
            CHECK(p.token.lifetime() == 3600s);
        }
        for (const std::string_view huge : {"1e300", "18446744073709551615", "\"99999999999999999999999\""}) {
            INFO(huge);
            const auto p = parse_oauth(token_body(",\"expires_in\":" + std::string(huge)));
            REQUIRE_FALSE(p.ec);
            CHECK(p.token.lifetime() == duration_cast<microseconds>(max_token_lifetime));
            CHECK(p.token.local_expiry() > p.token.requested_at);
        }
    }
    SECTION("parse_result answers for the OAuth endpoint with this parser") {
        AccessToken token;
        Diagnostics diag;
        REQUIRE_FALSE(parse_result(Endpoint::oauth_token, token_body(R"(,"expires_in":60)"), token, diag));
        CHECK(token.lifetime() == 60s);
        CHECK(token.user_id == 0);
    }
}

TEST_CASE("An OAuth token response without expires_in takes the JWT's exp - iat", "[oauth]") {
    SECTION("a JWT with both") {
        const auto p = parse_oauth(token_body(""));
        REQUIRE_FALSE(p.ec);
        CHECK(p.token.lifetime() == 1h);
        CHECK(p.token.created_at == oauth_iat);
    }
    SECTION("fractional NumericDates are truncated") {
        const auto p = parse_oauth(R"({"access_token":")" + jwt(R"({"iat":100.9,"exp":400.2})") + "\"}");
        REQUIRE_FALSE(p.ec);
        CHECK(p.token.lifetime() == 300s);
    }
    SECTION("no lifetime anywhere is an error naming expires_in, never a guess") {
        const std::vector<std::pair<std::string, std::string_view>> cases = {
            {"opaque", "missing, and the access_token is not a JWT: not three dot-separated parts"},
            {jwt(R"({"iat":100})"), "missing, and the access_token's JWT does not carry both iat and exp"},
            {jwt(R"({"exp":100})"), "missing, and the access_token's JWT does not carry both iat and exp"},
            {jwt(R"({"iat":100,"exp":100})"),
             "missing, and the access_token's JWT expires (exp) before it was issued (iat)"},
            {jwt(R"({"iat":200,"exp":100})"),
             "missing, and the access_token's JWT expires (exp) before it was issued (iat)"},
            {jwt("[1,2]"), "missing, and the access_token is not a JWT: the payload is an array, not a JSON object"},
            {jwt(R"({"iat":"100","exp":200})"),
             "missing, and the access_token is not a JWT: the payload's iat is expected a number, got a string"},
        };
        for (const auto& [token, message] : cases) {
            INFO(token);
            const auto p = parse_oauth(R"({"access_token":")" + token + "\"}");
            CHECK(p.ec == Error::malformed_response);
            CHECK(p.diag.field() == "expires_in");
            CHECK(p.diag.message() == message);
        }
    }
}

TEST_CASE("A JWT payload is decoded defensively", "[oauth]") {
    CHECK(jwt_problem(jwt(R"({"iat":1,"exp":2})")) == "ok");
    CHECK(jwt_problem(jwt("{}")) == "ok");
    // Padding is not in RFC 7515, but costs nothing to accept.
    CHECK(jwt_problem("h." + base64url(R"({"a":1})") + "==.s") == "ok");
    CHECK(jwt_problem("h." + base64url(R"({"a":1})") + "=.s") == "the payload is not base64url");
    CHECK(jwt_problem("h." + base64url(R"({"iat":1,"exp":2})") + ".") == "ok");  // unsecured: empty signature
    CHECK(jwt_problem("") == "not three dot-separated parts");
    CHECK(jwt_problem("a.b") == "not three dot-separated parts");
    CHECK(jwt_problem("a.b.c.d.e") == "not three dot-separated parts");
    CHECK(jwt_problem("h.ab+/.s") == "the payload is not base64url");
    CHECK(jwt_problem("h.a.s") == "the payload is not base64url");  // 6 bits cannot make a byte
    CHECK(jwt_problem("h.e30==x.s") == "the payload is not base64url");
    CHECK(jwt_problem("h.." + base64url("x")).starts_with("the payload is not JSON"));
    CHECK(jwt_problem("h." + base64url("{\"iat\":") + ".s").starts_with("the payload is not JSON"));
    CHECK(jwt_problem(jwt("\"text\"")) == "the payload is a string, not a JSON object");
    CHECK(jwt_problem(jwt(std::string(100, '[') + std::string(100, ']'))).starts_with("the payload is not JSON"));
    CHECK(jwt_problem(jwt(R"({"exp":1e20})")) == "the payload's exp is not a date between 1970 and 9999");
    CHECK(jwt_problem(jwt(R"({"exp":99999999999999999999999})")) ==
          "the payload's exp is not a date between 1970 and 9999");
    CHECK(jwt_problem(jwt(R"({"iat":-1})")) == "the payload's iat is not a date between 1970 and 9999");
    CHECK(jwt_problem(jwt(R"({"iat":-1e300})")) == "the payload's iat is not a date between 1970 and 9999");
    CHECK(jwt_problem(jwt(R"({"iat":null})")) == "the payload's iat is expected a number, got null");
    CHECK(jwt_problem(jwt(R"({"exp":true})")) == "the payload's exp is expected a number, got a boolean");
    JwtTimes times;
    Diagnostics diag;
    REQUIRE_FALSE(decode_jwt_times(jwt(R"({"iat":1,"exp":253402300799})"), times, diag));
    CHECK(times.issued_at == sys_seconds{1s});
    CHECK(times.expires_at == sys_days{9999y / December / 31} + 23h + 59min + 59s);
}

TEST_CASE("An OAuth token response that breaks the contract is malformed, naming the field", "[oauth]") {
    const std::vector<std::tuple<std::string, std::string_view, std::string_view>> cases = {
        {R"({"expires_in":3600})", "access_token", "missing"},
        {R"({"access_token":"","expires_in":3600})", "access_token", "empty"},
        {R"({"access_token":7,"expires_in":3600})", "access_token", "expected a string, got a number"},
        {R"({"access_token":null,"expires_in":3600})", "access_token", "expected a string, got null"},
        {token_body(R"(,"expires_in":0)"), "expires_in", "not a positive number of seconds"},
        {token_body(R"(,"expires_in":-5)"), "expires_in", "not a positive number of seconds"},
        {token_body(R"(,"expires_in":3600.5)"), "expires_in", "not a whole number of seconds"},
        {token_body(R"(,"expires_in":"36x")"), "expires_in", "not a number of seconds"},
        {token_body(R"(,"expires_in":"-5")"), "expires_in", "not a number of seconds"},
        {token_body(R"(,"expires_in":"")"), "expires_in", "not a number of seconds"},
        {token_body(R"(,"expires_in":" 60")"), "expires_in", "not a number of seconds"},
        {token_body(R"(,"expires_in":null)"), "expires_in", "expected a number, got null"},
        {token_body(R"(,"expires_in":true)"), "expires_in", "expected a number, got a boolean"},
        {token_body(R"(,"expires_in":[60])"), "expires_in", "expected a number, got an array"},
        {token_body(R"(,"expires_in":60,"token_type":1)"), "token_type", "expected a string, got a number"},
        {token_body(R"(,"expires_in":60,"scope":["a"])"), "scope", "expected a string, got an array"},
        {token_body(R"(,"expires_in":60,"created_at":"yesterday")"), "created_at", "not an RFC 3339 timestamp"},
        {token_body(R"(,"expires_in":60,"created_at":-1)"), "created_at", "not a date between 1970 and 9999"},
        {token_body(R"(,"expires_in":60,"created_at":null)"), "created_at", "expected a number, got null"},
        {token_body(R"(,"expires_in":-0e30076200)"), "expires_in", "not a number"},
        {token_body(R"(,"expires_in":60,"created_at":-0e30076200)"), "created_at", "not a number"},
        {"[]", "", "expected a JSON object, got an array"},
        {R"({"status": "failed"})", "access_token", "missing"},
    };
    for (const auto& [body, field, message] : cases) {
        INFO(body);
        const auto p = parse_oauth(body);
        CHECK(p.ec == Error::malformed_response);
        CHECK(p.diag.field() == field);
        CHECK(p.diag.message() == message);
    }
    const auto p = parse_oauth("<html>502</html>");
    CHECK(p.ec == Error::malformed_response);
    CHECK(p.diag.message().starts_with("not JSON"));
}

TEST_CASE("Introspection: active with its claims, or inactive and nothing else", "[oauth]") {
    const auto introspect = [](std::string_view body, OAuthTokenInfo& info, Diagnostics& diag) {
        return parse_result(Endpoint::oauth_introspect, body, info, diag);
    };
    OAuthTokenInfo info;
    Diagnostics diag;
    REQUIRE_FALSE(introspect(R"({"active":true,"client_id":"svc:1","sub":"svc","scope":"read",)"
                             R"("token_type":"Bearer","exp":1764550800,"iat":1764547200,"extra":[1]})",
                             info, diag));
    CHECK(info.active);
    CHECK(info.client_id == "svc:1");
    CHECK(info.subject == "svc");
    CHECK(info.scope == "read");
    CHECK(info.token_type == "Bearer");
    CHECK(info.issued_at == oauth_iat);
    CHECK(info.expires_at == oauth_iat + 1h);
    std::ostringstream os;
    os << info;
    CHECK(os.str() == "OAuthTokenInfo(active=true, client_id=\"svc:1\", subject=\"svc\", expires_at=" +
                          format_timestamp(oauth_iat + 1h) + ")");

    REQUIRE_FALSE(introspect(R"({"active":true})", info, diag));
    CHECK(info.active);
    CHECK(info.client_id.empty());
    CHECK_FALSE(info.expires_at);

    REQUIRE_FALSE(introspect(R"({"active":false,"exp":"junk","client_id":7})", info, diag));
    CHECK_FALSE(info.active);
    CHECK(info.client_id.empty());

    const std::vector<std::tuple<std::string_view, std::string_view, std::string_view>> bad = {
        {R"({})", "active", "missing"},
        {R"({"active":"true"})", "active", "expected a boolean, got a string"},
        {R"({"active":1})", "active", "expected a boolean, got a number"},
        {R"({"active":true,"exp":"1764550800"})", "exp", "expected a number, got a string"},
        {R"({"active":true,"iat":-5})", "iat", "not a date between 1970 and 9999"},
        {R"({"active":true,"sub":{}})", "sub", "expected a string, got an object"},
        {R"({"active":true,"client_id":null})", "client_id", "expected a string, got null"},
        {R"(true)", "", "expected a JSON object, got a boolean"},
    };
    for (const auto& [body, field, message] : bad) {
        INFO(body);
        diag.clear();
        CHECK(introspect(body, info, diag) == Error::malformed_response);
        CHECK(diag.field() == field);
        CHECK(diag.message() == message);
    }
}

TEST_CASE("OAuth error responses map to the library's errors, error and error_description in Diagnostics", "[oauth]") {
    const auto invalid_client = R"({"error":"invalid_client","error_description":"Client authentication failed."})";
    for (const Endpoint e : {Endpoint::oauth_token, Endpoint::oauth_introspect}) {
        INFO(name(e));
        auto c = classify(e, 401, invalid_client);
        CHECK(c.ec == Error::invalid_client_credentials);
        CHECK(c.diag.server_code() == "invalid_client");
        CHECK(c.diag.server_detail() == "Client authentication failed.");
        // Credentials in the body may earn a 400 (RFC 6749 5.2).
        CHECK(classify(e, 400, invalid_client).ec == Error::invalid_client_credentials);
        CHECK(classify(e, 403, invalid_client).ec == Error::invalid_client_credentials);
        CHECK(classify(e, 401, "").ec == Error::invalid_client_credentials);
        CHECK(classify(e, 401, "<html>Unauthorized</html>").ec == Error::invalid_client_credentials);
        CHECK(classify(e, 403, R"({"detail":"Forbidden."})").ec == Error::unauthorized);
        c = classify(e, 400, R"({"error":"unsupported_grant_type"})");
        CHECK(c.ec == Error::bad_request);
        CHECK(c.diag.server_code() == "unsupported_grant_type");
        CHECK(c.diag.server_detail() == R"({"error":"unsupported_grant_type"})");
        CHECK(classify(e, 400, R"({"error":"invalid_request","error_description":"x"})").ec == Error::bad_request);
        CHECK(classify(e, 400, R"({"error":"unauthorized_client"})").ec == Error::bad_request);
        c = classify(e, 429, R"({"error":"slow_down"})", "7");
        CHECK(c.ec == Error::rate_limited);
        CHECK(c.diag.retry_after() == 7s);
        CHECK(classify(e, 503, "<html>down</html>").ec == Error::server_error);
        // With Alation's code as well, OAuth's error says more.
        c = classify(e, 401, R"({"error":"invalid_client","error_description":"d","code":"401000"})");
        CHECK(c.diag.server_code() == "invalid_client");
        CHECK(c.diag.server_detail() == "d");
    }
    // `error` means nothing special to the integration endpoints.
    CHECK(classify(Endpoint::create_access_token, 400, invalid_client).ec == Error::bad_request);
    CHECK(classify(Endpoint::create_access_token, 401, invalid_client).ec == Error::invalid_refresh_token);
}

TEST_CASE("The client secret is redacted from what an OAuth error echoes", "[oauth]") {
    const std::string secret = "s3cr\"et-value";
    const auto c =
        classify(Endpoint::oauth_token, 401,
                 R"({"error":"invalid_client","error_description":"bad secret s3cr\"et-value for svc"})", {}, secret);
    CHECK(c.ec == Error::invalid_client_credentials);
    CHECK(c.diag.server_detail() == "bad secret [redacted] for svc");
    const auto in_error =
        classify(Endpoint::oauth_token, 400, R"({"error":"s3cr\"et-value"})", {}, secret).diag.server_code();
    CHECK(in_error == "[redacted]");
}
