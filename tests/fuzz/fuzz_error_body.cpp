// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Error responses: classify_error_response must map any status, body and Retry-After to an
// error, keep the server's text bounded and clean, and never let the secret through.
//
// Input layout: byte 0 picks the endpoint, byte 1 the status, then the Retry-After value up to
// the first '\n', then the body.
#include <alation/auth/detail/protocol.hpp>

#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::chrono;

namespace {

constexpr Endpoint endpoints[] = {
    Endpoint::create_refresh_token, Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token,
    Endpoint::create_access_token,  Endpoint::validate_access_token,  Endpoint::revoke_access_tokens,
    Endpoint::oauth_token,          Endpoint::oauth_introspect};
constexpr unsigned statuses[] = {0, 200, 302, 400, 401, 403, 404, 429, 500, 501, 502, 503, 504, 599};
// What the seed corpus echoes back; it has no whitespace, so cleaning cannot reassemble it.
constexpr std::string_view secret = "tok-S3cr3t\"Value\\42";

void check_clean(const std::string& text, std::size_t limit) {
    FUZZ_CHECK(text.size() <= limit + 3);
    FUZZ_CHECK(text.find(secret) == std::string::npos);
    for (const char c : text) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const Endpoint e = endpoints[data[0] % std::size(endpoints)];
    const unsigned status = statuses[data[1] % std::size(statuses)];
    std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
    const std::size_t newline = rest.find('\n');
    const std::string_view retry_after =
        newline == std::string_view::npos ? std::string_view{} : rest.substr(0, newline);
    const std::string_view body = newline == std::string_view::npos ? rest : rest.substr(newline + 1);

    Diagnostics diag;
    const auto now = system_clock::time_point{sys_days{2026y / November / 28}};
    const error_code ec = classify_error_response(e, status, body, retry_after, now, diag, secret);
    FUZZ_CHECK(ec && ec.category() == error_category());
    FUZZ_CHECK(diag.http_status() == status);
    check_clean(diag.server_detail(), max_server_detail);
    check_clean(diag.server_code(), max_server_code);
    if (diag.retry_after()) FUZZ_CHECK(diag.retry_after()->count() >= 0);
    FUZZ_CHECK(diag.to_string().find(secret) == std::string::npos);
    return 0;
}
