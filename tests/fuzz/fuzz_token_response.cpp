// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// 200 bodies, as every result type: parse_result must return an error or a token that keeps the
// contract (non-empty value, positive user_id, non-negative lifetime), and never crash.
#include <alation/auth/detail/protocol.hpp>

#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace alation::auth;
using namespace alation::auth::detail;

namespace {

void check_times(const TokenTimes& t) {
    FUZZ_CHECK(t.expires_at >= t.created_at);
    FUZZ_CHECK(t.lifetime().count() >= 0);
    FUZZ_CHECK(t.lifetime() <= max_token_lifetime);
}

void check_failure(error_code ec, Error dead, const Diagnostics& diag) {
    if (ec == Error::malformed_response) {
        FUZZ_CHECK(!diag.message().empty());
    } else {
        FUZZ_CHECK(ec == dead);
        FUZZ_CHECK(diag.field() == "token_status");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    for (const Endpoint e :
         {Endpoint::create_refresh_token, Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token}) {
        RefreshToken token;
        Diagnostics diag;
        if (const error_code ec = parse_result(e, body, token, diag)) {
            check_failure(ec, Error::refresh_token_expired_or_revoked, diag);
            continue;
        }
        FUZZ_CHECK(!token.value.empty());
        FUZZ_CHECK(token.user_id > 0);
        FUZZ_CHECK(token.status == TokenStatus::active || token.status == TokenStatus::unknown);
        check_times(token);
        FUZZ_CHECK(diag == Diagnostics{});
    }
    for (const Endpoint e : {Endpoint::create_access_token, Endpoint::validate_access_token}) {
        AccessToken token;
        Diagnostics diag;
        if (const error_code ec = parse_result(e, body, token, diag)) {
            check_failure(ec, Error::access_token_expired_or_revoked, diag);
            continue;
        }
        FUZZ_CHECK(!token.value.empty());
        FUZZ_CHECK(token.user_id > 0);
        check_times(token);
    }
    RevokeResult revoked;
    Diagnostics diag;
    if (const error_code ec = parse_result(Endpoint::revoke_access_tokens, body, revoked, diag)) {
        FUZZ_CHECK(ec == Error::malformed_response);
    } else {
        FUZZ_CHECK(revoked.detail.size() <= max_server_detail + 3);
        for (const char c : revoked.detail) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    }
    return 0;
}
