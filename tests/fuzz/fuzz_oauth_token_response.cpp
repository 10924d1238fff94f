// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// OAuth 200 bodies: the token endpoint's, read into an AccessToken with its lifetime from
// expires_in or the JWT, and the introspection endpoint's. Each must give an error or a result
// that keeps the contract, and never crash.
#include <alation/auth/detail/oauth.hpp>

#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace alation::auth;
using namespace alation::auth::detail;

namespace {

// A fixed wall clock: the one input the parser takes besides the body.
const auto now =
    std::chrono::system_clock::time_point{std::chrono::sys_days{std::chrono::year{2026} / std::chrono::November / 28}};

void check_malformed(error_code ec, const Diagnostics& diag) {
    FUZZ_CHECK(ec == Error::malformed_response);
    FUZZ_CHECK(!diag.message().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    {
        AccessToken token;
        Diagnostics diag;
        if (const error_code ec = parse_oauth_token_response(body, now, token, diag)) {
            check_malformed(ec, diag);
        } else {
            FUZZ_CHECK(!token.value.empty());
            FUZZ_CHECK(token.user_id == 0);
            FUZZ_CHECK(token.status == TokenStatus::active);
            FUZZ_CHECK(token.lifetime().count() > 0);
            FUZZ_CHECK(token.lifetime() <= max_token_lifetime);
            FUZZ_CHECK(diag == Diagnostics{});
        }
    }
    OAuthTokenInfo info;
    Diagnostics diag;
    if (const error_code ec = parse_result(Endpoint::oauth_introspect, body, info, diag)) {
        check_malformed(ec, diag);
    } else if (!info.active) {
        FUZZ_CHECK(info.client_id.empty() && info.subject.empty() && !info.expires_at && !info.issued_at);
    }
    return 0;
}
