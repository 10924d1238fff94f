// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_REQUESTS_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_REQUESTS_IPP

// What the fake answers, without I/O: which endpoint a path is (the paths come from
// detail/protocol.hpp, the one home of the wire's facts), the answer type, Alation's and OAuth's
// error shapes, and the validation of JSON fields. The form, Basic and JWT parts of OAuth are in
// fake_oauth.ipp. Part of fake_alation.ipp.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/testing/impl/fake_oauth.ipp>

#include <boost/beast/http/status.hpp>
#include <boost/json.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace alation::auth::testing::detail {

namespace http = boost::beast::http;
namespace json = boost::json;

using auth::detail::Endpoint;

// The fake's own protected endpoint (not a token endpoint: the client never calls it).
inline constexpr std::string_view path_protected = "/integration/v2/table/";

// The token API endpoint (JSON bodies) at `path`, if any.
inline std::optional<Endpoint> token_api_endpoint(std::string_view path) noexcept {
    for (const Endpoint e :
         {Endpoint::create_refresh_token, Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token,
          Endpoint::create_access_token, Endpoint::validate_access_token, Endpoint::revoke_access_tokens})
        if (path == auth::detail::path(e)) return e;
    return std::nullopt;
}

// The OAuth endpoint (form bodies) at `path`, if any: the token endpoint also without its slash.
inline std::optional<Endpoint> oauth_endpoint(std::string_view path) noexcept {
    const std::string_view token = auth::detail::path(Endpoint::oauth_token);
    if (path == token || path == token.substr(0, token.size() - 1)) return Endpoint::oauth_token;
    if (path == auth::detail::path(Endpoint::oauth_introspect)) return Endpoint::oauth_introspect;
    return std::nullopt;
}

// One HTTP answer, before it is put on the wire.
struct Answer {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::optional<std::string> retry_after;
    std::string allow;
    std::string www_authenticate;
};

ALATION_AUTH_DECL Answer json_error(unsigned status, std::string detail, std::string code) {
    Answer a;
    a.status = status;
    a.body = json::serialize(json::object{{"detail", std::move(detail)}, {"code", std::move(code)}});
    return a;
}

// OAuth's error shape (RFC 6749 §5.2), optionally with Alation's `code` as well.
ALATION_AUTH_DECL Answer oauth_error(unsigned status, std::string_view error, std::string description,
                                     bool with_code = false) {
    json::object o{{"error", error}, {"error_description", std::move(description)}};
    if (with_code) o["code"] = std::to_string(status * 1000);
    Answer a;
    a.status = status;
    a.body = json::serialize(o);
    return a;
}

inline std::string reason(unsigned status) {
    return std::string(http::obsolete_reason(static_cast<http::status>(status)));
}

// Reads the required, non-blank string `key`; on failure returns the 400 to send.
inline std::optional<Answer> get_string(const json::object& body, std::string_view key, std::string& out) {
    const json::value* v = body.if_contains(key);
    if (v == nullptr || v->is_null()) return json_error(400, std::string(key) + ": This field is required.", "400002");
    if (!v->is_string()) return json_error(400, std::string(key) + ": Not a valid string.", "400003");
    if (v->as_string().empty()) return json_error(400, std::string(key) + ": This field may not be blank.", "400004");
    out = std::string(v->as_string());
    return std::nullopt;
}

inline std::optional<Answer> get_user_id(const json::object& body, bool accept_string, std::int64_t& out) {
    const json::value* v = body.if_contains("user_id");
    if (v == nullptr || v->is_null()) return json_error(400, "user_id: This field is required.", "400002");
    if (v->is_int64()) {
        out = v->get_int64();
        return std::nullopt;
    }
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = static_cast<std::int64_t>(v->get_uint64());
        return std::nullopt;
    }
    if (accept_string && v->is_string()) {
        const json::string& s = v->get_string();
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return std::nullopt;
    }
    return json_error(400, "user_id: A valid integer is required.", "400003");
}

}  // namespace alation::auth::testing::detail

#endif
