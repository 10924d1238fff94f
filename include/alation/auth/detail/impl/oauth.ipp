// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_OAUTH_IPP
#define ALATION_AUTH_DETAIL_IMPL_OAUTH_IPP

#include <alation/auth/detail/oauth.hpp>
// The JSON helpers and the wiping allocator every parser shares.
#include <alation/auth/detail/impl/protocol.ipp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace alation::auth::detail {
namespace oauth_impl {

inline bool is_form_unreserved(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

namespace json = boost::json;
using protocol_impl::malformed;
using protocol_impl::view;
using protocol_impl::wrong_type;

// NumericDates (RFC 7519) this library can turn into a Timestamp: 1970-01-01 to 9999-12-31.
inline constexpr std::int64_t max_numeric_date = 253'402'300'799;

// A whole count of seconds from a JSON number or a string of digits, saturating at int64's
// range; with `truncate`, a fractional number is truncated instead of refused.
inline error_code get_seconds(const json::value& v, std::string_view key, bool truncate, std::int64_t& out,
                              Diagnostics& diag) {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    if (v.is_int64()) {
        out = v.get_int64();
    } else if (v.is_uint64()) {
        out = max;
    } else if (v.is_double()) {
        const double d = v.get_double();
        // Boost.JSON reads -0e30076200 as 0 times infinity.
        if (std::isnan(d)) return malformed(diag, key, "not a number");
        if (!truncate && d != std::floor(d)) return malformed(diag, key, "not a whole number of seconds");
        // 2^63 as a double; every double below it converts without overflow.
        constexpr double limit = 9223372036854775808.0;
        out = d >= limit ? max : d <= -limit ? std::numeric_limits<std::int64_t>::min() : static_cast<std::int64_t>(d);
    } else if (v.is_string()) {
        const std::string_view text = view(v.get_string());
        if (text.empty()) return malformed(diag, key, "not a number of seconds");
        std::int64_t n = 0;
        for (const char c : text) {
            if (c < '0' || c > '9') return malformed(diag, key, "not a number of seconds");
            n = n > (max - (c - '0')) / 10 ? max : n * 10 + (c - '0');
        }
        out = n;
    } else {
        return wrong_type(diag, key, "a number", v);
    }
    return {};
}

inline error_code get_numeric_date(const json::object& o, std::string_view key,
                                   std::optional<std::chrono::sys_seconds>& out, Diagnostics& diag) {
    const json::value* v = o.if_contains(key);
    if (!v) return {};
    if (v->is_string()) return wrong_type(diag, key, "a number", *v);
    std::int64_t seconds = 0;
    if (auto ec = get_seconds(*v, key, true, seconds, diag)) return ec;
    if (seconds < 0 || seconds > max_numeric_date) return malformed(diag, key, "not a date between 1970 and 9999");
    out = std::chrono::sys_seconds{std::chrono::seconds{seconds}};
    return {};
}

// An optional string member: absent is fine, another type is not.
inline error_code get_optional_string(const json::object& o, std::string_view key, std::string& out,
                                      Diagnostics& diag) {
    const json::value* v = o.if_contains(key);
    if (!v) return {};
    if (!v->is_string()) return wrong_type(diag, key, "a string", *v);
    out = view(v->get_string());
    return {};
}

// RFC 4648 section 5, without padding; the decoded bytes may hold claims, so they go into `out`,
// which the caller wipes.
inline bool base64url_decode(std::string_view in, std::string& out) {
    const auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-') return 62;
        if (c == '_') return 63;
        return -1;
    };
    if (in.size() % 4 == 0) {
        for (int i = 0; i < 2 && !in.empty() && in.back() == '='; ++i) in.remove_suffix(1);
    }
    if (in.size() % 4 == 1) return false;
    out.reserve(in.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : in) {
        const int v = value(c);
        if (v < 0) return false;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xff);
        }
    }
    return true;
}

// The lifetime the response grants, or the error saying why it grants none we can count.
inline error_code granted_lifetime(const json::object& o, const JwtTimes& jwt, error_code jwt_ec,
                                   const Diagnostics& jwt_diag, std::chrono::seconds& out, Diagnostics& diag) {
    constexpr std::string_view key = "expires_in";
    if (const json::value* v = o.if_contains(key)) {
        std::int64_t seconds = 0;
        if (auto ec = get_seconds(*v, key, false, seconds, diag)) return ec;
        if (seconds <= 0) return malformed(diag, key, "not a positive number of seconds");
        out = std::chrono::seconds{seconds};
        return {};
    }
    if (jwt_ec) return malformed(diag, key, "missing, and the access_token is not a JWT: " + jwt_diag.message());
    if (!jwt.issued_at || !jwt.expires_at) {
        return malformed(diag, key, "missing, and the access_token's JWT does not carry both iat and exp");
    }
    if (*jwt.expires_at <= *jwt.issued_at) {
        return malformed(diag, key, "missing, and the access_token's JWT expires (exp) before it was issued (iat)");
    }
    out = *jwt.expires_at - *jwt.issued_at;
    return {};
}

// The server's created_at: RFC 3339, or seconds since the epoch.
inline error_code get_created_at(const json::object& o, std::optional<Timestamp>& out, Diagnostics& diag) {
    constexpr std::string_view key = "created_at";
    const json::value* v = o.if_contains(key);
    if (!v) return {};
    if (v->is_string()) {
        const auto t = parse_timestamp(view(v->get_string()));
        if (!t) return malformed(diag, key, "not an RFC 3339 timestamp");
        out = *t;
        return {};
    }
    std::optional<std::chrono::sys_seconds> seconds;
    if (auto ec = get_numeric_date(o, key, seconds, diag)) return ec;
    out = seconds;
    return {};
}

// The form body common to both requests: `fields` (already encoded) and, for client_secret_post,
// the client's id and secret. Sized before it is written, so the secret is never left behind in
// a freed buffer.
inline RequestBody form_request(std::string_view fields, std::string_view token_field, const Secret& token,
                                const OAuthClientCredentials& credentials, OAuthClientAuthentication how) {
    constexpr std::string_view id_key = "&client_id=", secret_key = "&client_secret=";
    const bool post = how == OAuthClientAuthentication::client_secret_post;
    const std::string_view secret = credentials.client_secret.reveal();
    std::string form;
    form.reserve(fields.size() + token_field.size() + form_urlencoded_size(token.reveal()) +
                 (post ? id_key.size() + form_urlencoded_size(credentials.client_id) + secret_key.size() +
                             form_urlencoded_size(secret)
                       : 0));
    form += token_field;
    form_urlencode(form, token.reveal());
    form += fields;
    if (post) {
        form += id_key;
        form_urlencode(form, credentials.client_id);
        form += secret_key;
        form_urlencode(form, secret);
    }
    RequestBody body{.json = Secret(std::move(form)), .secret = credentials.client_secret};
    body.content_type = form_media_type;
    if (!post) body.authorization = basic_client_authorization(credentials.client_id, credentials.client_secret);
    return body;
}

}  // namespace oauth_impl

ALATION_AUTH_DECL std::size_t form_urlencoded_size(std::string_view s) noexcept {
    std::size_t n = 0;
    for (const char c : s) n += oauth_impl::is_form_unreserved(c) || c == ' ' ? 1 : 3;
    return n;
}

ALATION_AUTH_DECL void form_urlencode(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (oauth_impl::is_form_unreserved(c)) {
            out += c;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
}

ALATION_AUTH_DECL Secret basic_client_authorization(std::string_view client_id, const Secret& client_secret) {
    const std::string_view secret = client_secret.reveal();
    std::string pair;
    pair.reserve(form_urlencoded_size(client_id) + 1 + form_urlencoded_size(secret));
    form_urlencode(pair, client_id);
    pair += ':';
    form_urlencode(pair, secret);
    constexpr std::string_view scheme = "Basic ";
    // EVP_EncodeBlock writes 4 characters per started 3 bytes and a terminating NUL.
    std::string header(scheme.size() + (pair.size() + 2) / 3 * 4 + 1, '\0');
    header.replace(0, scheme.size(), scheme);
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(header.data() + scheme.size()),
                                  reinterpret_cast<const unsigned char*>(pair.data()), static_cast<int>(pair.size()));
    Secret::wipe(pair);
    header.resize(scheme.size() + static_cast<std::size_t>(n));
    return Secret(std::move(header));
}

ALATION_AUTH_DECL RequestBody oauth_token_request_body(const OAuthClientCredentials& credentials,
                                                       OAuthClientAuthentication how) {
    return oauth_impl::form_request("grant_type=client_credentials", {}, Secret(), credentials, how);
}

ALATION_AUTH_DECL RequestBody oauth_introspect_request_body(const OAuthClientCredentials& credentials,
                                                            const Secret& token, OAuthClientAuthentication how) {
    return oauth_impl::form_request("&token_type_hint=access_token", "token=", token, credentials, how);
}

ALATION_AUTH_DECL error_code decode_jwt_times(std::string_view jwt, JwtTimes& out, Diagnostics& diag) {
    using namespace oauth_impl;
    constexpr std::string_view key = "access_token";
    const std::size_t first = jwt.find('.');
    const std::size_t second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
    if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos) {
        return malformed(diag, key, "not three dot-separated parts");
    }
    const std::string_view payload = jwt.substr(first + 1, second - first - 1);
    std::string decoded;
    const bool decoded_ok = base64url_decode(payload, decoded);
    struct Wipe {
        std::string& s;
        ~Wipe() { Secret::wipe(s); }
    } wipe{decoded};
    if (!decoded_ok) return malformed(diag, key, "the payload is not base64url");
    protocol_impl::WipingResource mr;
    error_code parse_ec;
    const json::value v = protocol_impl::parse_json(decoded, mr, parse_ec);
    if (parse_ec) return malformed(diag, key, "the payload is not JSON: " + parse_ec.message());
    if (!v.is_object())
        return malformed(diag, key,
                         "the payload is " + std::string(protocol_impl::kind_name(v)) + ", not a JSON object");
    const json::object& claims = v.get_object();
    // Name the claim inside the token, not a member of the response.
    Diagnostics claim_diag;
    auto ec = get_numeric_date(claims, "iat", out.issued_at, claim_diag);
    if (!ec) ec = get_numeric_date(claims, "exp", out.expires_at, claim_diag);
    if (ec) return malformed(diag, key, "the payload's " + claim_diag.field() + " is " + claim_diag.message());
    return {};
}

ALATION_AUTH_DECL error_code parse_oauth_token_response(std::string_view body,
                                                        std::chrono::system_clock::time_point now, AccessToken& out,
                                                        Diagnostics& diag) {
    using namespace oauth_impl;
    protocol_impl::WipingResource mr;
    error_code parse_ec;
    const json::value v = protocol_impl::parse_json(body, mr, parse_ec);
    const json::object* o = nullptr;
    if (auto ec = protocol_impl::as_object(v, parse_ec, o, diag)) return ec;
    if (auto ec = protocol_impl::get_token(*o, "access_token", out.value, diag)) return ec;
    std::string token_type;
    if (auto ec = get_optional_string(*o, "token_type", token_type, diag)) return ec;
    if (auto ec = get_optional_string(*o, "scope", out.scope, diag)) return ec;
    std::optional<Timestamp> created_at;
    if (auto ec = get_created_at(*o, created_at, diag)) return ec;
    // The JWT is read only for what the response leaves out; a token that is not a JWT is fine
    // when it does not.
    JwtTimes jwt;
    Diagnostics jwt_diag;
    const error_code jwt_ec = decode_jwt_times(out.value.reveal(), jwt, jwt_diag);
    std::chrono::seconds lifetime{};
    if (auto ec = granted_lifetime(*o, jwt, jwt_ec, jwt_diag, lifetime, diag)) return ec;
    if (!created_at)
        created_at =
            !jwt_ec && jwt.issued_at ? Timestamp(*jwt.issued_at) : std::chrono::floor<std::chrono::microseconds>(now);
    out.created_at = *created_at;
    out.expires_at = *created_at + std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::min<std::chrono::seconds>(lifetime, max_token_lifetime));
    out.user_id = 0;
    out.status = TokenStatus::active;
    return {};
}

ALATION_AUTH_DECL error_code parse_result(Endpoint, std::string_view body, OAuthTokenInfo& out, Diagnostics& diag) {
    using namespace oauth_impl;
    protocol_impl::WipingResource mr;
    error_code parse_ec;
    const json::value v = protocol_impl::parse_json(body, mr, parse_ec);
    const json::object* o = nullptr;
    if (auto ec = protocol_impl::as_object(v, parse_ec, o, diag)) return ec;
    const json::value* active = o->if_contains("active");
    if (!active) return malformed(diag, "active", "missing");
    if (!active->is_bool()) return wrong_type(diag, "active", "a boolean", *active);
    out = OAuthTokenInfo{};
    out.active = active->get_bool();
    if (!out.active) return {};
    std::optional<std::chrono::sys_seconds> exp, iat;
    if (auto ec = get_optional_string(*o, "client_id", out.client_id, diag)) return ec;
    if (auto ec = get_optional_string(*o, "sub", out.subject, diag)) return ec;
    if (auto ec = get_optional_string(*o, "scope", out.scope, diag)) return ec;
    if (auto ec = get_optional_string(*o, "token_type", out.token_type, diag)) return ec;
    if (auto ec = get_numeric_date(*o, "exp", exp, diag)) return ec;
    if (auto ec = get_numeric_date(*o, "iat", iat, diag)) return ec;
    if (exp) out.expires_at = *exp;
    if (iat) out.issued_at = *iat;
    return {};
}

}  // namespace alation::auth::detail

#endif
