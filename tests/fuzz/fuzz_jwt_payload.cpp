// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// JWT payload decoding, twice per input: the input as the base64url payload segment (the text
// the server sends), and the input base64url-encoded (so mutations reach the JSON inside). Either
// the times come out within the NumericDate range, or a malformed_response names the token.
#include <alation/auth/detail/oauth.hpp>

#include "fuzz_check.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace alation::auth;
using namespace alation::auth::detail;

namespace {

std::string base64url(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : bytes) {
        bits = (bits << 8) | static_cast<unsigned char>(c);
        count += 8;
        while (count >= 6) {
            count -= 6;
            out += alphabet[(bits >> count) & 0x3f];
        }
    }
    if (count > 0) out += alphabet[(bits << (6 - count)) & 0x3f];
    return out;
}

void check(const std::string& jwt) {
    JwtTimes times;
    Diagnostics diag;
    if (const error_code ec = decode_jwt_times(jwt, times, diag)) {
        FUZZ_CHECK(ec == Error::malformed_response);
        FUZZ_CHECK(diag.field() == "access_token");
        FUZZ_CHECK(!diag.message().empty());
        return;
    }
    const std::chrono::sys_seconds last{std::chrono::sys_days{std::chrono::year{9999} / 12 / 31} +
                                        std::chrono::seconds{86'399}};
    for (const auto& t : {times.issued_at, times.expires_at}) {
        if (t) FUZZ_CHECK(t->time_since_epoch().count() >= 0 && *t <= last);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check("eyJhbGciOiJSUzI1NiJ9." + std::string(input) + ".c2ln");
    check("eyJhbGciOiJSUzI1NiJ9." + base64url(input) + ".c2ln");
    return 0;
}
