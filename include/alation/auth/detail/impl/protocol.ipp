// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_PROTOCOL_IPP
#define ALATION_AUTH_DETAIL_IMPL_PROTOCOL_IPP

#include <alation/auth/detail/protocol.hpp>

#include <boost/container/pmr/memory_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <limits>
#include <new>

namespace alation::auth::detail {
namespace protocol_impl {

namespace json = boost::json;
// What json::storage_ptr takes (Boost.JSON's own alias for it, json::memory_resource, went in 1.92).
using MemoryResource = boost::container::pmr::memory_resource;

// Frees nothing without wiping it first: a parsed response holds a token in its strings.
// A response's whole value tree normally fits the inline arena, so parsing one allocates
// nothing; a larger one spills to the heap. Boost.JSON may pass a different alignment to
// deallocate than to allocate, so every heap block within the default new alignment goes through
// the plain operators.
class WipingResource final : public MemoryResource {
public:
    WipingResource() = default;
    WipingResource(const WipingResource&) = delete;
    WipingResource& operator=(const WipingResource&) = delete;
    ~WipingResource() override { OPENSSL_cleanse(arena_, used_); }

private:
    static bool over_aligned(std::size_t align) noexcept { return align > __STDCPP_DEFAULT_NEW_ALIGNMENT__; }
    // clang-format 14 puts a space after `operator new` in these calls, later versions do not.
    // clang-format off
    static void* heap_allocate(std::size_t n, std::size_t align) {
        return over_aligned(align) ? ::operator new(n, std::align_val_t{align}) : ::operator new(n);
    }
    static void heap_free(void* p, std::size_t align) noexcept {
        if (over_aligned(align)) {
            ::operator delete(p, std::align_val_t{align});
        } else {
            ::operator delete(p);
        }
    }
    // clang-format on
    bool in_arena(const void* p) const noexcept {
        const auto* byte = static_cast<const unsigned char*>(p);
        return byte >= arena_ && byte < arena_ + sizeof arena_;
    }
    void* do_allocate(std::size_t n, std::size_t align) override {
        const std::size_t start = (used_ + align - 1) / align * align;
        if (align <= alignof(std::max_align_t) && start <= sizeof arena_ && n <= sizeof arena_ - start) {
            used_ = start + n;
            return arena_ + start;
        }
        return heap_allocate(n, align);
    }
    void do_deallocate(void* p, std::size_t n, std::size_t align) override {
        OPENSSL_cleanse(p, n);
        if (!in_arena(p)) heap_free(p, align);
    }
    bool do_is_equal(const MemoryResource& other) const noexcept override { return this == &other; }

    alignas(std::max_align_t) unsigned char arena_[2048];
    std::size_t used_ = 0;
};

inline std::string_view view(const json::string& s) noexcept { return {s.data(), s.size()}; }

// Parses a whole body; the value and the parser's scratch space live in `mr`. Responses are
// flat objects, so a small depth limit costs nothing and stops stack-hungry nesting.
inline json::value parse_json(std::string_view body, WipingResource& mr, error_code& ec) {
    json::parse_options options;
    options.max_depth = 16;
    unsigned char scratch[256];
    // Declared before the parser, so it runs after the parser is gone.
    struct Wipe {
        unsigned char* p;
        std::size_t n;
        ~Wipe() { OPENSSL_cleanse(p, n); }
    } wipe{scratch, sizeof scratch};
    json::parser p(json::storage_ptr(&mr), options, scratch, sizeof scratch);
    p.reset(json::storage_ptr(&mr));
    p.write(body.data(), body.size(), ec);
    if (ec) return json::value(json::storage_ptr(&mr));
    return p.release();
}

inline std::string_view kind_name(const json::value& v) noexcept {
    switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
    }
    return "an unknown value";
}

inline error_code malformed(Diagnostics& diag, std::string_view field, std::string message) {
    diag.set_field(std::string(field));
    diag.set_message(std::move(message));
    return Error::malformed_response;
}

inline error_code wrong_type(Diagnostics& diag, std::string_view field, std::string_view expected,
                             const json::value& got) {
    return malformed(diag, field, "expected " + std::string(expected) + ", got " + std::string(kind_name(got)));
}

// The body as a JSON object, or the error saying why it is not one.
inline error_code as_object(const json::value& v, error_code parse_ec, const json::object*& out, Diagnostics& diag) {
    if (parse_ec) return malformed(diag, "", "not JSON: " + parse_ec.message());
    if (!v.is_object()) return wrong_type(diag, "", "a JSON object", v);
    out = &v.get_object();
    return {};
}

inline error_code get_string(const json::object& o, std::string_view key, std::string_view& out, Diagnostics& diag) {
    const json::value* v = o.if_contains(key);
    if (!v) return malformed(diag, key, "missing");
    if (!v->is_string()) return wrong_type(diag, key, "a string", *v);
    out = view(v->get_string());
    return {};
}

inline error_code get_token(const json::object& o, std::string_view key, Secret& out, Diagnostics& diag) {
    std::string_view value;
    if (auto ec = get_string(o, key, value, diag)) return ec;
    if (value.empty()) return malformed(diag, key, "empty");
    out = Secret(value);
    return {};
}

// A positive integer that fits int64; servers send a number, some clients and servers a numeric string.
inline error_code get_user_id(const json::object& o, std::int64_t& out, Diagnostics& diag) {
    constexpr std::string_view key = "user_id";
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const json::value* v = o.if_contains(key);
    if (!v) return malformed(diag, key, "missing");
    std::uint64_t id = 0;
    if (v->is_int64()) {
        if (v->get_int64() <= 0) return malformed(diag, key, "not a positive integer");
        id = static_cast<std::uint64_t>(v->get_int64());
    } else if (v->is_uint64()) {
        id = v->get_uint64();
    } else if (v->is_string()) {
        const json::string& s = v->get_string();
        const char* end = s.data() + s.size();
        // from_chars on an unsigned type takes neither a sign nor spaces: digits only.
        const auto [ptr, err] = std::from_chars(s.data(), end, id);
        if (s.empty() || ptr != end || (err != std::errc{} && err != std::errc::result_out_of_range)) {
            return malformed(diag, key, "not an integer");
        }
        if (err == std::errc::result_out_of_range) id = max + 1;
    } else if (v->is_double()) {
        return malformed(diag, key, "expected an integer, got a fractional or out-of-range number");
    } else {
        return wrong_type(diag, key, "an integer", *v);
    }
    if (id == 0 || id > max) return malformed(diag, key, "not a positive integer");
    out = static_cast<std::int64_t>(id);
    return {};
}

inline error_code get_timestamp(const json::object& o, std::string_view key, Timestamp& out, Diagnostics& diag) {
    std::string_view text;
    if (auto ec = get_string(o, key, text, diag)) return ec;
    const auto t = parse_timestamp(text);
    if (!t) return malformed(diag, key, "not an RFC 3339 timestamp");
    out = *t;
    return {};
}

inline error_code get_times(const json::object& o, TokenTimes& out, Diagnostics& diag) {
    if (auto ec = get_timestamp(o, "created_at", out.created_at, diag)) return ec;
    if (auto ec = get_timestamp(o, "token_expires_at", out.expires_at, diag)) return ec;
    if (out.expires_at < out.created_at) return malformed(diag, "token_expires_at", "expires before it was created");
    if (out.expires_at - out.created_at > max_token_lifetime) {
        out.expires_at = out.created_at + std::chrono::duration_cast<std::chrono::microseconds>(max_token_lifetime);
    }
    return {};
}

inline error_code get_status(const json::object& o, TokenStatus& out, Diagnostics& diag) {
    std::string_view text;
    if (auto ec = get_string(o, "token_status", text, diag)) return ec;
    out = parse_token_status(text);
    return {};
}

// A 200 carrying a dead token is the server's way (in one variant) of saying the token is gone.
inline error_code check_status(Endpoint e, TokenStatus status, Error dead, Diagnostics& diag) {
    if (status != TokenStatus::expired && status != TokenStatus::revoked) return {};
    diag.set_field("token_status");
    diag.set_message(std::string(name(e)) + " answered token_status " + std::string(to_string(status)));
    return dead;
}

inline bool is_control(unsigned char c) noexcept { return c < 0x20 || c == 0x7f; }

inline bool iequals_prefix(std::string_view text, std::string_view prefix) noexcept {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

// A Content-Type without its parameters and the blanks around it.
inline std::string_view media_type_of(std::string_view content_type) noexcept {
    std::string_view media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
    return media;
}

// Where `lower_needle` (lower case) first occurs in `text` in any case, or npos.
inline std::size_t ifind(std::string_view text, std::string_view lower_needle, std::size_t from = 0) noexcept {
    for (std::size_t i = from; i + lower_needle.size() <= text.size(); ++i) {
        if (iequals_prefix(text.substr(i), lower_needle)) return i;
    }
    return std::string_view::npos;
}

// Cuts `s` to at most `limit` bytes at the start of a UTF-8 character and marks the cut.
inline void bound(std::string& s, std::size_t limit) {
    if (s.size() <= limit) return;
    std::size_t n = limit;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
    s += "...";
}

// The server's text with the secret removed, in both the forms it can take in a body.
inline std::string redacted(std::string_view text, std::string_view secret) {
    std::string out(text);
    redact(out, secret);
    std::string escaped;
    escaped.reserve(json_string_size(secret));
    append_json_string(escaped, secret);
    // Without the quotes append_json_string adds.
    const std::string_view inner = std::string_view(escaped).substr(1, escaped.size() - 2);
    if (inner != secret) redact(out, inner);
    Secret::wipe(escaped);
    return out;
}

inline std::string clean_text(std::string_view text, std::string_view secret, std::size_t limit) {
    std::string out = redacted(text, secret);
    for (char& c : out) {
        if (is_control(static_cast<unsigned char>(c))) c = ' ';
    }
    bound(out, limit);
    return out;
}

// The words of a page that is not JSON: tags, scripts and styles dropped, whitespace and control
// characters collapsed to one space.
inline std::string page_text(std::string_view body, std::string_view secret, std::size_t limit) {
    const std::string text = redacted(body, secret);
    const std::string_view in = text;
    std::string out;
    bool space = false;
    for (std::size_t i = 0; i < in.size() && out.size() <= limit;) {
        const char c = in[i];
        if (c == '<') {
            // A script or style element holds code, not words: skip to its end tag.
            std::size_t from = i;
            for (const std::string_view element : {std::string_view("script"), std::string_view("style")}) {
                if (iequals_prefix(in.substr(i + 1), element)) {
                    from = ifind(in, std::string("</").append(element), i + 1);
                    break;
                }
            }
            const std::size_t close = from == std::string_view::npos ? from : in.find('>', from);
            i = close == std::string_view::npos ? in.size() : close + 1;
            space = true;
        } else if (c == ' ' || is_control(static_cast<unsigned char>(c))) {
            space = true;
            ++i;
        } else {
            if (space && !out.empty()) out += ' ';
            space = false;
            out += c;
            ++i;
        }
    }
    bound(out, limit);
    return out;
}

inline Error error_for_status(Endpoint e, unsigned status, const ServerError& server) noexcept {
    // RFC 6749 5.2 allows invalid_client with 400 when the credentials came in the body.
    const bool oauth = e == Endpoint::oauth_token || e == Endpoint::oauth_introspect;
    if (oauth && server.code == "invalid_client" && (status == 400 || status == 401 || status == 403)) {
        return Error::invalid_client_credentials;
    }
    switch (status) {
    case 400: return Error::bad_request;
    case 429: return Error::rate_limited;
    case 500:
    case 502:
    case 503:
    case 504: return Error::server_error;
    case 401:
    case 403: break;
    default: return Error::unexpected_status;
    }
    switch (e) {
    case Endpoint::create_refresh_token: return Error::invalid_credentials;
    case Endpoint::validate_refresh_token:
    case Endpoint::regenerate_refresh_token:
    case Endpoint::create_access_token:
    case Endpoint::revoke_access_tokens:
        if (status != 401) break;
        return ifind(server.detail, "expired or revoked") != std::string_view::npos
                   ? Error::refresh_token_expired_or_revoked
                   : Error::invalid_refresh_token;
    case Endpoint::validate_access_token:
        if (status == 401) return Error::invalid_access_token;
        break;
    case Endpoint::oauth_token:
    case Endpoint::oauth_introspect:
        // The client's credentials are the only ones these endpoints take.
        if (status == 401) return Error::invalid_client_credentials;
        break;
    }
    return Error::unauthorized;
}

}  // namespace protocol_impl

ALATION_AUTH_DECL std::size_t json_string_size(std::string_view s) noexcept {
    std::size_t n = 2;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        n += (c == '"' || c == '\\') ? 2 : u < 0x20 ? 6 : 1;
    }
    return n;
}

ALATION_AUTH_DECL void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
}

ALATION_AUTH_DECL RequestBody refresh_token_request_body(const Credentials& credentials) {
    constexpr std::string_view k1 = "{\"username\":", k2 = ",\"password\":", k3 = ",\"name\":", k4 = "}";
    std::string json;
    json.reserve(k1.size() + k2.size() + k3.size() + k4.size() + json_string_size(credentials.username) +
                 json_string_size(credentials.password.reveal()) + json_string_size(credentials.name));
    json += k1;
    append_json_string(json, credentials.username);
    json += k2;
    append_json_string(json, credentials.password.reveal());
    json += k3;
    append_json_string(json, credentials.name);
    json += k4;
    return {.json = Secret(std::move(json)), .secret = credentials.password};
}

ALATION_AUTH_DECL RequestBody token_request_body(Endpoint e, const Secret& token, std::int64_t user_id) {
    const std::string_view key =
        e == Endpoint::validate_access_token ? "{\"api_access_token\":" : "{\"refresh_token\":";
    const std::string id = std::to_string(user_id);
    constexpr std::string_view k2 = ",\"user_id\":", k3 = "}";
    std::string json;
    json.reserve(key.size() + json_string_size(token.reveal()) + k2.size() + id.size() + k3.size());
    json += key;
    append_json_string(json, token.reveal());
    json += k2;
    json += id;
    json += k3;
    return {.json = Secret(std::move(json)), .secret = token};
}

ALATION_AUTH_DECL error_code parse_result(Endpoint e, std::string_view body, RefreshToken& out, Diagnostics& diag) {
    using namespace protocol_impl;
    WipingResource mr;
    error_code parse_ec;
    const json::value v = parse_json(body, mr, parse_ec);
    const json::object* o = nullptr;
    if (auto ec = as_object(v, parse_ec, o, diag)) return ec;
    if (auto ec = get_token(*o, "refresh_token", out.value, diag)) return ec;
    if (auto ec = get_user_id(*o, out.user_id, diag)) return ec;
    std::string_view token_name;
    if (auto ec = get_string(*o, "name", token_name, diag)) return ec;
    out.name = token_name;
    if (auto ec = get_times(*o, out, diag)) return ec;
    if (auto ec = get_status(*o, out.status, diag)) return ec;
    // Only validateRefreshToken sends it, null for a token never used.
    out.last_used_at.reset();
    if (const json::value* last = o->if_contains("last_used_at"); last && !last->is_null()) {
        Timestamp t{};
        if (auto ec = get_timestamp(*o, "last_used_at", t, diag)) return ec;
        out.last_used_at = t;
    }
    return check_status(e, out.status, Error::refresh_token_expired_or_revoked, diag);
}

ALATION_AUTH_DECL error_code parse_result(Endpoint e, std::string_view body, AccessToken& out, Diagnostics& diag) {
    using namespace protocol_impl;
    if (e == Endpoint::oauth_token)
        return parse_oauth_token_response(body, std::chrono::system_clock::now(), out, diag);
    WipingResource mr;
    error_code parse_ec;
    const json::value v = parse_json(body, mr, parse_ec);
    const json::object* o = nullptr;
    if (auto ec = as_object(v, parse_ec, o, diag)) return ec;
    if (auto ec = get_token(*o, "api_access_token", out.value, diag)) return ec;
    if (auto ec = get_user_id(*o, out.user_id, diag)) return ec;
    if (auto ec = get_times(*o, out, diag)) return ec;
    if (auto ec = get_status(*o, out.status, diag)) return ec;
    return check_status(e, out.status, Error::access_token_expired_or_revoked, diag);
}

ALATION_AUTH_DECL error_code parse_result(Endpoint, std::string_view body, RevokeResult& out, Diagnostics& diag) {
    using namespace protocol_impl;
    WipingResource mr;
    error_code parse_ec;
    const json::value v = parse_json(body, mr, parse_ec);
    const json::object* o = nullptr;
    if (auto ec = as_object(v, parse_ec, o, diag)) return ec;
    std::string_view detail;
    if (auto ec = get_string(*o, "detail", detail, diag)) return ec;
    out.detail = clean_text(detail, {}, max_server_detail);
    return {};
}

ALATION_AUTH_DECL TokenStatus parse_token_status(std::string_view text) noexcept {
    using protocol_impl::iequals_prefix;
    const auto is = [text](std::string_view lower) {
        return text.size() == lower.size() && iequals_prefix(text, lower);
    };
    if (is("active")) return TokenStatus::active;
    if (is("expired")) return TokenStatus::expired;
    if (is("revoked")) return TokenStatus::revoked;
    return TokenStatus::unknown;
}

ALATION_AUTH_DECL ServerError parse_error_body(std::string_view body, std::string_view secret) {
    using namespace protocol_impl;
    WipingResource mr;
    error_code parse_ec;
    const json::value v = parse_json(body, mr, parse_ec);
    if (parse_ec || !v.is_object()) return {page_text(body, secret, max_server_page_text), {}};
    const json::object& o = v.get_object();
    ServerError out;
    const auto string_member = [&o](std::string_view key) -> const json::string* {
        const json::value* v = o.if_contains(key);
        return v && v->is_string() ? &v->get_string() : nullptr;
    };
    const json::string* detail = string_member("error_description");
    if (!detail) detail = string_member("detail");
    out.detail = clean_text(detail ? view(*detail) : body, secret, max_server_detail);
    if (const json::string* oauth_error = string_member("error")) {
        out.code = clean_text(view(*oauth_error), secret, max_server_code);
    } else if (const json::value* code = o.if_contains("code")) {
        if (code->is_string()) out.code = clean_text(view(code->get_string()), secret, max_server_code);
        if (code->is_int64()) out.code = std::to_string(code->get_int64());
        if (code->is_uint64()) out.code = std::to_string(code->get_uint64());
    }
    return out;
}

ALATION_AUTH_DECL std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept {
    using namespace std::chrono;
    // Saturating here keeps "wait very long" meaning that, rather than "no advice".
    constexpr std::int64_t max_delay = 1'000'000'000;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (value.front() >= '0' && value.front() <= '9') {
        std::int64_t delay = 0;
        const auto [ptr, err] = std::from_chars(value.data(), value.data() + value.size(), delay);
        if (ptr != value.data() + value.size()) return std::nullopt;
        if (err == std::errc::result_out_of_range || delay > max_delay) delay = max_delay;
        return seconds{delay};
    }
    const auto date = parse_http_date(value);
    if (!date) return std::nullopt;
    // In whole seconds: a date up to year 9999 does not fit system_clock's nanoseconds. Against
    // the start of the current second, the difference is already rounded up.
    const seconds delay = *date - floor<seconds>(now);
    return seconds{std::clamp<std::int64_t>(delay.count(), 0, max_delay)};
}

ALATION_AUTH_DECL error_code classify_error_response(Endpoint e, unsigned status, std::string_view body,
                                                     std::string_view retry_after_header,
                                                     std::chrono::system_clock::time_point now, Diagnostics& diag,
                                                     std::string_view secret) {
    ServerError server = parse_error_body(body, secret);
    diag.set_http_status(status);
    diag.set_retry_after(parse_retry_after(retry_after_header, now));
    const Error result = protocol_impl::error_for_status(e, status, server);
    diag.set_server_detail(std::move(server.detail));
    diag.set_server_code(std::move(server.code));
    return result;
}

ALATION_AUTH_DECL bool is_media_type(std::string_view content_type, std::string_view media_type) noexcept {
    const std::string_view media = protocol_impl::media_type_of(content_type);
    return media.size() == media_type.size() && protocol_impl::iequals_prefix(media, media_type);
}

ALATION_AUTH_DECL bool is_json_content_type(std::string_view content_type) noexcept {
    const std::string_view media = protocol_impl::media_type_of(content_type);
    constexpr std::string_view suffix = "+json";
    return is_media_type(media, "application/json") ||
           (media.size() > suffix.size() &&
            protocol_impl::iequals_prefix(media.substr(media.size() - suffix.size()), suffix));
}

ALATION_AUTH_DECL void redact(std::string& text, std::string_view secret) {
    if (secret.empty()) return;
    constexpr std::string_view mark = "[redacted]";
    for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + mark.size())) {
        text.replace(pos, secret.size(), mark);
    }
}

}  // namespace alation::auth::detail

// parse_result(AccessToken) answers for the OAuth endpoint too; its parser builds on the helpers above.
#include <alation/auth/detail/oauth.hpp>

#endif
