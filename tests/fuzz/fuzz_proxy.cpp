// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// The proxy layer's parsers: the proxy's answer to CONNECT (what a proxy sends), the proxy URL
// and no_proxy (what the environment holds).
//
// Input layout: byte 0 picks the parser. For the CONNECT answer, byte 1 is the size of the
// chunks the answer arrives in and the rest is the answer; for the URL, the rest is the URL; for
// no_proxy, the rest is the host, a '\n', then the no_proxy value.
#include <alation/auth/detail/proxy.hpp>

#include "fuzz_check.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace alation::auth;
using namespace alation::auth::detail;

namespace {

// The credentials of the proxy the answers come from; the seed corpus echoes them back.
constexpr std::string_view password = "pr0xy-S3cr3t";
constexpr std::string_view encoded_credentials = "dXNlcjpwcjB4eS1TM2NyM3Q=";  // base64("user:" password)

struct Outcome {
    std::size_t consumed = 0;
    error_code ec;
    bool done = false;
    unsigned status = 0;
    std::optional<std::uint64_t> content_length;
};

Outcome parse_in_chunks(std::string_view answer, std::size_t chunk) {
    ConnectResponseParser parser;
    Outcome out;
    for (std::size_t from = 0; from < answer.size() && !parser.done() && !parser.failed(); from += chunk) {
        const std::string_view piece = answer.substr(from, chunk);
        const std::size_t consumed = parser.feed(piece, out.ec);
        FUZZ_CHECK(consumed <= piece.size());
        // Short of the end of the head or an error, every byte is taken.
        if (!parser.done() && !parser.failed()) FUZZ_CHECK(consumed == piece.size());
        out.consumed += consumed;
    }
    FUZZ_CHECK(parser.failed() == static_cast<bool>(out.ec));
    FUZZ_CHECK(!parser.failed() || !parser.problem().empty());
    out.done = parser.done();
    out.status = parser.status();
    out.content_length = parser.content_length();
    return out;
}

void check_connect_answer(std::size_t chunk, std::string_view answer) {
    const Outcome whole = parse_in_chunks(answer, answer.size() + 1);
    const Outcome chunked = parse_in_chunks(answer, chunk);
    FUZZ_CHECK(whole.consumed == chunked.consumed && whole.ec == chunked.ec && whole.done == chunked.done &&
               whole.status == chunked.status && whole.content_length == chunked.content_length);
    FUZZ_CHECK(whole.consumed <= ConnectResponseParser::max_head_size + 1);
    if (!whole.done) return;
    FUZZ_CHECK(answer[whole.consumed - 1] == '\n');
    FUZZ_CHECK(whole.status >= 101 && whole.status <= 599 && (whole.status >= 200 || whole.status == 101));
    if (whole.status < 300) FUZZ_CHECK(!whole.content_length);

    ProxyEndpoint proxy;
    Diagnostics ignored;
    FUZZ_CHECK(!parse_proxy_url("http://user:pr0xy-S3cr3t@proxy.corp:3128", proxy, ignored));
    Diagnostics diag;
    const error_code ec = classify_connect_response(proxy, whole.status, "", answer.substr(whole.consumed), diag);
    if (whole.status >= 200 && whole.status < 300) {
        FUZZ_CHECK(!ec && diag == Diagnostics{});
        return;
    }
    // A 401 to CONNECT is the proxy's too (tinyproxy answers wrong credentials so).
    const bool authentication = whole.status == 407 || whole.status == 401;
    FUZZ_CHECK(ec == (authentication ? Error::proxy_authentication_required : Error::proxy_error));
    FUZZ_CHECK(diag.http_status() == whole.status);
    const std::string text = diag.to_string();
    FUZZ_CHECK(text.find(password) == std::string::npos);
    FUZZ_CHECK(text.find(encoded_credentials) == std::string::npos);
}

void check_proxy_url(std::string_view url) {
    ProxyEndpoint proxy;
    Diagnostics diag;
    if (const error_code ec = parse_proxy_url(url, proxy, diag)) {
        FUZZ_CHECK(ec == Error::invalid_url);
        // Messages quote nothing of the URL but a short scheme, which cannot hold userinfo.
        FUZZ_CHECK(!diag.message().empty() && diag.message().find('@') == std::string::npos);
        FUZZ_CHECK(proxy.host.empty() && proxy.authorization.empty());
        return;
    }
    FUZZ_CHECK(diag == Diagnostics{});
    FUZZ_CHECK(!proxy.host.empty() && is_valid_port(proxy.port));
    FUZZ_CHECK(proxy.display.starts_with("http://") && proxy.display.find('@') == std::string::npos);
    FUZZ_CHECK(proxy.authorization.empty() || proxy.authorization.reveal().starts_with("Basic "));
}

void check_no_proxy(std::string_view input) {
    const std::size_t newline = input.find('\n');
    if (newline == std::string_view::npos) return;
    const std::string host(input.substr(0, newline));
    const std::string_view no_proxy = input.substr(newline + 1);
    const bool matches = no_proxy_matches(no_proxy, host);
    // Letter case never matters, in the host or in the entries.
    std::string upper = host;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    FUZZ_CHECK(no_proxy_matches(no_proxy, upper) == matches);
    // An entry more never exempts fewer hosts, unless it spoils a lone "*".
    if (no_proxy.find('*') == std::string_view::npos)
        FUZZ_CHECK(!matches || no_proxy_matches(std::string(no_proxy) + ",other.invalid", host));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0: check_connect_answer(static_cast<std::size_t>(data[1]) + 1, rest.substr(1)); break;
    case 1: check_proxy_url(rest); break;
    default: check_no_proxy(rest); break;
    }
    return 0;
}
