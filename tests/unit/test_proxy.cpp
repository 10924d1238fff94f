// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#include <alation/auth/detail/proxy.hpp>

#include "catch.hpp"
#include "url_test_support.hpp"

#include <boost/version.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace alation::auth;
using namespace alation::auth::detail;
using namespace std::literals;

namespace {

using alation::auth::test::proxy;
using alation::auth::test::target;

using Environment = std::map<std::string, std::string>;

EnvironmentLookup lookup(const Environment& env) {
    return [&env](const char* name) {
        const auto it = env.find(name);
        return it == env.end() ? std::string_view() : std::string_view(it->second);
    };
}

// The display form of the proxy choose_proxy picked, or "direct".
struct Chosen {
    std::string route;
    std::string source;
};

Chosen choose(std::string_view target_url, const Environment& env, std::optional<Secret> option = std::nullopt,
              bool from_environment = true) {
    ProxyChoice choice;
    Diagnostics diag;
    const error_code ec = choose_proxy(target(target_url), option, from_environment, lookup(env), choice, diag);
    INFO(diag.message());
    REQUIRE_FALSE(ec);
    return {choice.proxy ? choice.proxy->display : "direct", std::string(choice.source)};
}

}  // namespace

TEST_CASE("choose_proxy follows curl's environment rules", "[proxy]") {
    struct Case {
        const char* what;
        const char* target;
        Environment env;
        const char* route;
        const char* source;
    };
    const std::vector<Case> cases{
        {"nothing set", "https://catalog.example.com", {}, "direct", ""},
        {"https_proxy",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}},
         "http://p1:3128",
         "https_proxy"},
        {"HTTPS_PROXY",
         "https://catalog.example.com",
         {{"HTTPS_PROXY", "http://p2:3128"}},
         "http://p2:3128",
         "HTTPS_PROXY"},
        {"lower case first",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"HTTPS_PROXY", "http://p2:3128"}},
         "http://p1:3128",
         "https_proxy"},
        {"an empty variable counts as unset",
         "https://catalog.example.com",
         {{"https_proxy", ""}, {"HTTPS_PROXY", "http://p2:3128"}},
         "http://p2:3128",
         "HTTPS_PROXY"},
        {"http_proxy does not apply to https",
         "https://catalog.example.com",
         {{"http_proxy", "http://p1:3128"}},
         "direct",
         ""},
        {"https_proxy does not apply to http",
         "http://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}},
         "direct",
         ""},
        {"http_proxy",
         "http://catalog.example.com",
         {{"http_proxy", "http://p1:3128"}},
         "http://p1:3128",
         "http_proxy"},
        {"httpoxy: HTTP_PROXY is ignored",
         "http://catalog.example.com",
         {{"HTTP_PROXY", "http://p2:3128"}},
         "direct",
         ""},
        {"httpoxy: HTTP_PROXY is ignored, all_proxy next",
         "http://catalog.example.com",
         {{"HTTP_PROXY", "http://p2:3128"}, {"all_proxy", "http://p3:3128"}},
         "http://p3:3128",
         "all_proxy"},
        {"https_proxy before all_proxy",
         "https://catalog.example.com",
         {{"all_proxy", "http://p3:3128"}, {"HTTPS_PROXY", "http://p2:3128"}},
         "http://p2:3128",
         "HTTPS_PROXY"},
        {"all_proxy before ALL_PROXY",
         "https://catalog.example.com",
         {{"all_proxy", "http://p3:3128"}, {"ALL_PROXY", "http://p4:3128"}},
         "http://p3:3128",
         "all_proxy"},
        {"ALL_PROXY", "https://catalog.example.com", {{"ALL_PROXY", "http://p4:3128"}}, "http://p4:3128", "ALL_PROXY"},
        {"scheme-less proxy",
         "https://catalog.example.com",
         {{"https_proxy", "proxy.corp:3128"}},
         "http://proxy.corp:3128",
         "https_proxy"},
        {"no_proxy *",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "*"}},
         "direct",
         "no_proxy"},
        {"no_proxy * with blanks",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", " * "}},
         "direct",
         "no_proxy"},
        {"* among other entries matches nothing",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "*,other.org"}},
         "http://p1:3128",
         "https_proxy"},
        {"no_proxy domain with a leading dot",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", ".example.com"}},
         "direct",
         "no_proxy"},
        {"a leading dot still matches the name itself",
         "https://example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", ".example.com"}},
         "direct",
         "no_proxy"},
        {"a trailing dot is ignored",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "example.com."}},
         "direct",
         "no_proxy"},
        {"the target's trailing dot is ignored",
         "https://catalog.example.com.",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "example.com"}},
         "direct",
         "no_proxy"},
        {"label boundary: notexample.com is not example.com",
         "https://notexample.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "example.com"}},
         "http://p1:3128",
         "https_proxy"},
        {"a subdomain is not its parent",
         "https://example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "catalog.example.com"}},
         "http://p1:3128",
         "https_proxy"},
        {"letter case",
         "https://Catalog.EXAMPLE.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "example.COM"}},
         "direct",
         "no_proxy"},
        {"CIDR v4 inside",
         "https://10.1.2.3",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "10.0.0.0/8"}},
         "direct",
         "no_proxy"},
        {"CIDR v4 outside",
         "https://11.1.2.3",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "10.0.0.0/8"}},
         "http://p1:3128",
         "https_proxy"},
        {"CIDR v6 inside",
         "https://[fe80::1]",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "fe80::/10"}},
         "direct",
         "no_proxy"},
        {"IPv6 loopback without brackets",
         "https://[::1]:8443",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "::1"}},
         "direct",
         "no_proxy"},
        {"a host:port entry matches nothing",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "catalog.example.com:443"}},
         "http://p1:3128",
         "https_proxy"},
        {"blanks and commas",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", " localhost ,, 127.0.0.1\tcatalog.example.com "}},
         "direct",
         "no_proxy"},
        {"NO_PROXY when no_proxy is unset",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"NO_PROXY", "example.com"}},
         "direct",
         "NO_PROXY"},
        {"NO_PROXY when no_proxy is empty",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", ""}, {"NO_PROXY", "example.com"}},
         "direct",
         "NO_PROXY"},
        {"no_proxy hides NO_PROXY",
         "https://catalog.example.com",
         {{"https_proxy", "http://p1:3128"}, {"no_proxy", "other.org"}, {"NO_PROXY", "example.com"}},
         "http://p1:3128",
         "https_proxy"},
        {"no_proxy alone is no proxy", "https://catalog.example.com", {{"no_proxy", "other.org"}}, "direct", ""},
        {"an exempted target never parses the proxy URL",
         "https://catalog.example.com",
         {{"https_proxy", "socks5://p1:1080"}, {"no_proxy", "example.com"}},
         "direct",
         "no_proxy"},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        const Chosen chosen = choose(c.target, c.env);
        CHECK(chosen.route == c.route);
        CHECK(chosen.source == c.source);
    }
}

TEST_CASE("an explicit proxy ignores the environment", "[proxy]") {
    const Environment env{{"https_proxy", "http://env:3128"}, {"no_proxy", "*"}};
    const Chosen explicit_proxy = choose("https://catalog.example.com", env, Secret("http://explicit:8080"));
    CHECK(explicit_proxy.route == "http://explicit:8080");
    CHECK(explicit_proxy.source == "ClientOptions::proxy");

    const Chosen empty = choose("https://catalog.example.com", {{"https_proxy", "http://env:3128"}}, Secret(""));
    CHECK(empty.route == "direct");
    CHECK(empty.source == "ClientOptions::proxy");

    const Chosen off = choose("https://catalog.example.com", {{"https_proxy", "http://env:3128"}}, std::nullopt, false);
    CHECK(off.route == "direct");
    CHECK(off.source.empty());
}

TEST_CASE("choose_proxy names the source of an unusable proxy URL and hides its password", "[proxy]") {
    struct Case {
        Environment env;
        std::optional<Secret> option;
        std::string source;
    };
    const std::vector<Case> cases{
        {{{"https_proxy", "https://user:hunter2@p1:3128"}}, std::nullopt, "https_proxy"},
        {{{"ALL_PROXY", "socks5://user:hunter2@p1:1080"}}, std::nullopt, "ALL_PROXY"},
        {{}, Secret("http://user:hunter2@p1:99999"), "ClientOptions::proxy"},
    };
    for (const Case& c : cases) {
        ProxyChoice choice;
        choice.source = "untouched";
        Diagnostics diag;
        const error_code ec =
            choose_proxy(target("https://catalog.example.com"), c.option, true, lookup(c.env), choice, diag);
        INFO(diag.message());
        CHECK(ec == Error::invalid_url);
        CHECK(diag.message().starts_with(c.source + ": "));
        CHECK(diag.to_string().find("hunter2") == std::string::npos);
        CHECK(choice.source == "untouched");
    }
}

TEST_CASE("no_proxy_matches", "[proxy]") {
    struct Case {
        const char* no_proxy;
        const char* host;
        bool matches;
    };
    const std::vector<Case> cases{
        {"", "example.com", false},
        {"*", "anything.at.all", true},
        {"*", "::1", true},
        {"example.com", "example.com", true},
        {"example.com", "a.b.example.com", true},
        {"example.com", "notexample.com", false},
        {"example.com", "example.com.evil.org", false},
        {"example.com", "com", false},
        {".example.com", "example.com", true},
        {"..example.com", "a.example.com", false},
        {"*.example.com", "a.example.com", true},
        {"*.example.com", "example.com", true},
        {"example.com.", "example.com.", true},
        {".", "example.com", false},
        {"EXAMPLE.COM", "www.example.com", true},
        {"localhost", "localhost", true},
        {"localhost", "127.0.0.1", false},
        {"127.0.0.1", "127.0.0.1", true},
        {"127.0.0.1", "127.0.0.2", false},
        {"127.0.0.1", "localhost", false},
        {"10.0.0.0/8", "10.255.255.255", true},
        {"10.0.0.0/8", "11.0.0.0", false},
        {"192.168.1.0/24", "192.168.1.77", true},
        {"192.168.1.0/24", "192.168.2.1", false},
        {"192.168.1.128/25", "192.168.1.127", false},
        {"192.168.1.128/25", "192.168.1.200", true},
        {"0.0.0.0/0", "8.8.8.8", true},
        {"10.0.0.0/33", "10.0.0.1", false},
        {"10.0.0.0/", "10.0.0.1", false},
        {"10.0.0.0/x", "10.0.0.1", false},
        {"/8", "10.0.0.1", false},
        {"example.com/8", "example.com", false},
        {"10.0.0.0/8", "::ffff:10.0.0.1", false},
        {"::1", "::1", true},
        {"[::1]", "::1", true},
        {"::1", "::2", false},
        {"fe80::/10", "fe80::abcd", true},
        {"fe80::/10", "febf::1", true},
        {"fe80::/10", "fec0::1", false},
        {"2001:db8::/32", "2001:db8:1::5", true},
        {"2001:db8::/129", "2001:db8::", false},
        {"::/0", "2001:db8::1", true},
        {"::/0", "10.0.0.1", false},
        {"example.com:443", "example.com", false},
        {"[::1]:443", "::1", false},
        {"foo.org,example.com", "example.com", true},
        {"foo.org example.com", "example.com", true},
        {"foo.org\texample.com", "example.com", true},
        {" , ,example.com, ", "example.com", true},
        {"foo.org,,bar.org", "example.com", false},
    };
    for (const Case& c : cases) {
        INFO(c.no_proxy << " vs " << c.host);
        CHECK(no_proxy_matches(c.no_proxy, c.host) == c.matches);
    }
}

TEST_CASE("parse_proxy_url accepts http proxies", "[proxy]") {
    struct Case {
        const char* url;
        const char* host;
        bool host_is_ip;
        const char* port;
        const char* display;
        const char* authorization;
    };
    const std::vector<Case> cases{
        {"http://proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128", ""},
        {"http://proxy.corp:3128/", "proxy.corp", false, "3128", "http://proxy.corp:3128", ""},
        {"HTTP://proxy.corp", "proxy.corp", false, "1080", "http://proxy.corp:1080", ""},
        {"proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128", ""},
        {"proxy.corp", "proxy.corp", false, "1080", "http://proxy.corp:1080", ""},
        {"http://10.0.0.1:8080", "10.0.0.1", true, "8080", "http://10.0.0.1:8080", ""},
        {"http://[::1]:3128", "::1", true, "3128", "http://[::1]:3128", ""},
        {"[2001:db8::1]", "2001:db8::1", true, "1080", "http://[2001:db8::1]:1080", ""},
        {"http://user:pass@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128",
         "Basic dXNlcjpwYXNz"},
        {"user:pass@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128", "Basic dXNlcjpwYXNz"},
        {"http://user@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128", "Basic dXNlcjo="},
        {"http://user:@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128", "Basic dXNlcjo="},
        {"http://:pass@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128", "Basic OnBhc3M="},
        {"http://@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128", ""},
        {"http://us%40r:p%3Ass@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128",
         "Basic dXNAcjpwOnNz"},
        {"http://proxyuser:s3cr3t%20p%40ss@proxy.corp:3128", "proxy.corp", false, "3128", "http://proxy.corp:3128",
         "Basic cHJveHl1c2VyOnMzY3IzdCBwQHNz"},
        {"http://%C3%BC:pw@[::1]:3128", "::1", true, "3128", "http://[::1]:3128", "Basic w7w6cHc="},
    };
    for (const Case& c : cases) {
        INFO(c.url);
        ProxyEndpoint out;
        Diagnostics diag;
        REQUIRE_FALSE(parse_proxy_url(c.url, out, diag));
        CHECK(out.host == c.host);
        CHECK(out.host_is_ip == c.host_is_ip);
        CHECK(out.port == c.port);
        CHECK(out.display == c.display);
        CHECK(out.authorization.reveal() == c.authorization);
        CHECK(diag == Diagnostics{});
    }
}

TEST_CASE("parse_proxy_url rejects what it cannot use, without the password", "[proxy]") {
    struct Case {
        const char* url;
        const char* message_part;
    };
    const std::vector<Case> cases{
        {"https://user:hunter2@proxy.corp:3128", "https:// proxies"},
        {"socks5://user:hunter2@proxy.corp:1080", "not socks5://"},
        {"socks5h://proxy.corp:1080", "not socks5h://"},
        {"ftp://proxy.corp", "only http://"},
        {"", "no host"},
        {"http://", "no host"},
        {"http://user:hunter2@", "no host"},
        {"http://user:hunter2@:3128", "no host"},
        {"http://user:hunter2@proxy.corp:0", "port"},
        {"http://user:hunter2@proxy.corp:65536", "port"},
        {"http://user:hunter2@proxy.corp:", "port"},
        {"http://proxy.corp:31x8", "not a valid URL"},
        {"http://user:hunter2@proxy.corp:3128/path", "path"},
        {"http://user:hunter2@proxy.corp:3128?q=1", "query"},
        {"http://user:hunter2@proxy.corp:3128#f", "fragment"},
        {"http://user:hunter2%zz@proxy.corp:3128", "percent-encoding"},
        {"http://user:hunter2%2@proxy.corp:3128", "percent-encoding"},
        {"http://us%3Aer:hunter2@proxy.corp:3128", "contains ':'"},
        {"http://user:hunter2@[::1:3128", "not a valid URL"},
        {"http://user:hunter2@[v1.x]:3128", "IPvFuture"},
        {"http://user:hunter2@pro%78y.corp:3128", "percent-encoded"},
        {"http://user:hunter2@proxy%00.corp:3128", "percent-encoded"},
        {"http://user:hunter2@proxy corp:3128", "not a valid URL"},
        // A second '@': Boost.URL 1.81 and 1.82 read an empty host; later ones reject the URL.
        {"user:hunter2@@proxy.corp", BOOST_VERSION < 108300 ? "no host" : "not a valid URL"},
    };
    for (const Case& c : cases) {
        INFO(c.url);
        ProxyEndpoint out;
        out.host = "untouched";
        Diagnostics diag;
        CHECK(parse_proxy_url(c.url, out, diag) == Error::invalid_url);
        INFO(diag.message());
        CHECK(diag.message().find(c.message_part) != std::string::npos);
        CHECK(diag.to_string().find("hunter2") == std::string::npos);
        CHECK(out.host == "untouched");
    }
}

TEST_CASE("basic_authorization", "[proxy]") {
    CHECK(basic_authorization("", "").reveal() == "Basic Og==");
    CHECK(basic_authorization("Aladdin", "open sesame").reveal() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    CHECK(basic_authorization("ab", "c").reveal() == "Basic YWI6Yw==");
    CHECK(basic_authorization("ab", "cd").reveal() == "Basic YWI6Y2Q=");
}

TEST_CASE("connect_request: the exact CONNECT head", "[proxy]") {
    CHECK(connect_request(target("https://catalog.example.com"), proxy("http://p:3128"), "alation-auth").reveal() ==
          "CONNECT catalog.example.com:443 HTTP/1.1\r\nHost: catalog.example.com:443\r\n"
          "User-Agent: alation-auth\r\n\r\n");
    CHECK(
        connect_request(target("https://catalog.example.com:8443/alation"), proxy("http://user:pass@p:3128"), "etl/1.0")
            .reveal() ==
        "CONNECT catalog.example.com:8443 HTTP/1.1\r\nHost: catalog.example.com:8443\r\n"
        "Proxy-Authorization: Basic dXNlcjpwYXNz\r\nUser-Agent: etl/1.0\r\n\r\n");
    CHECK(connect_request(target("https://[2001:db8::1]"), proxy("http://p:3128"), "").reveal() ==
          "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n");
    CHECK(connect_request(target("https://10.0.0.7:9443"), proxy("http://p:3128"), "ua").reveal() ==
          "CONNECT 10.0.0.7:9443 HTTP/1.1\r\nHost: 10.0.0.7:9443\r\nUser-Agent: ua\r\n\r\n");
    // A User-Agent cannot inject a header.
    CHECK(connect_request(target("https://c.example"), proxy("http://p:3128"), "ua\r\nX-Evil: 1").reveal() ==
          "CONNECT c.example:443 HTTP/1.1\r\nHost: c.example:443\r\nUser-Agent: ua  X-Evil: 1\r\n\r\n");
}

namespace {

struct Parsed {
    std::size_t consumed = 0;
    error_code ec;
    bool done = false;
    unsigned status = 0;
    std::optional<std::uint64_t> content_length;
    std::string proxy_authenticate;
    std::string problem;

    friend bool operator==(const Parsed&, const Parsed&) = default;
};

// Feeds `bytes` cut at each of `cuts`, as the transport would feed its reads: each chunk after
// the parser has stopped is left to the caller.
Parsed parse(std::string_view bytes, const std::vector<std::size_t>& cuts) {
    ConnectResponseParser parser;
    Parsed out;
    std::size_t from = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        const std::size_t to = i < cuts.size() ? cuts[i] : bytes.size();
        const std::string_view chunk = bytes.substr(from, to - from);
        const std::size_t consumed = parser.feed(chunk, out.ec);
        out.consumed += consumed;
        if (parser.done() || parser.failed()) {
            CHECK(parser.feed("more", out.ec) == 0);
            break;
        }
        REQUIRE(consumed == chunk.size());
        from = to;
    }
    CHECK(parser.failed() == bool(out.ec));
    out.done = parser.done();
    out.status = parser.status();
    out.content_length = parser.content_length();
    out.proxy_authenticate = parser.proxy_authenticate();
    out.problem = parser.problem();
    return out;
}

// The same result for the bytes whole, cut once at every place, and fed one byte at a time.
Parsed parse_every_way(std::string_view bytes) {
    const Parsed whole = parse(bytes, {});
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
        INFO("cut at " << cut);
        CHECK(parse(bytes, {cut}) == whole);
    }
    std::vector<std::size_t> every_byte;
    for (std::size_t cut = 1; cut < bytes.size(); ++cut) every_byte.push_back(cut);
    CHECK(parse(bytes, every_byte) == whole);
    return whole;
}

}  // namespace

TEST_CASE("ConnectResponseParser reads the head and leaves the tunnel's bytes", "[proxy]") {
    struct Case {
        std::string head;
        unsigned status;
        std::optional<std::uint64_t> content_length;
        const char* proxy_authenticate;
    };
    const std::vector<Case> cases{
        {"HTTP/1.1 200 Connection established\r\n\r\n", 200, std::nullopt, ""},
        {"HTTP/1.0 200\r\n\r\n", 200, std::nullopt, ""},
        {"HTTP/1.1 200 OK\nVia: 1.1 squid\n\n", 200, std::nullopt, ""},
        {"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", 204, std::nullopt, ""},
        {"HTTP/1.1 200 OK\r\nContent-Length: nonsense\r\nTransfer-Encoding: chunked\r\n\r\n", 200, std::nullopt, ""},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 200, std::nullopt, ""},
        {"HTTP/1.1 102 Processing\r\nContent-Length: 1\r\n\r\nHTTP/1.1 403 Forbidden\r\n\r\n", 403, std::nullopt, ""},
        {"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n"
         "proxy-authenticate: Negotiate\r\nProxy-Authenticate: NTLM\r\nContent-Length: 12\r\n\r\n",
         407, 12, "Basic, Negotiate, NTLM"},
        {"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\nContent-Length: 5\r\nX-Empty:\r\n\r\n", 502, 5, ""},
        {"HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 502, std::nullopt, ""},
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n", 101, std::nullopt, ""},
    };
    const std::string tunnel = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 and the rest\r\n\r\n"s;
    for (const Case& c : cases) {
        INFO(c.head);
        const Parsed parsed = parse_every_way(c.head + tunnel);
        CHECK_FALSE(parsed.ec);
        CHECK(parsed.done);
        CHECK(parsed.consumed == c.head.size());
        CHECK(parsed.status == c.status);
        CHECK(parsed.content_length == c.content_length);
        CHECK(parsed.proxy_authenticate == c.proxy_authenticate);
    }
}

TEST_CASE("ConnectResponseParser waits for the end of the head", "[proxy]") {
    ConnectResponseParser parser;
    error_code ec;
    CHECK(parser.feed("HTTP/1.1 200 OK\r\n\r", ec) == 18);
    CHECK_FALSE(parser.done());
    CHECK(parser.feed("", ec) == 0);
    CHECK(parser.feed("\nTLS", ec) == 1);
    CHECK(parser.done());
    CHECK_FALSE(ec);
}

TEST_CASE("ConnectResponseParser rejects what is not HTTP", "[proxy]") {
    struct Case {
        std::string bytes;
        const char* problem_part;
    };
    const std::vector<Case> cases{
        {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "status line"},
        {"\x16\x03\x03\x00\x02\x02\x28\n"s, "status line"},
        {"\r\n", "status line"},
        {"HTTP/2 200\r\n\r\n", "status line"},
        {"HTTP/1.1 20\r\n\r\n", "status line"},
        {"HTTP/1.1 2000 OK\r\n\r\n", "status line"},
        {"HTTP/1.1 600 Odd\r\n\r\n", "status line"},
        {"HTTP/1.1 099 Odd\r\n\r\n", "status line"},
        {"http/1.1 200 OK\r\n\r\n", "status line"},
        {"HTTP/1.1  200 OK\r\n\r\n", "status line"},
        {"HTTP/1.1 200 OK\rX\r\n\r\n", "bare CR"},
        {"HTTP/1.1 200 OK\r\nVia: 1.1 a\r\n folded\r\n\r\n", "folded"},
        {"HTTP/1.1 200 OK\r\n\tfolded\r\n\r\n", "folded"},
        {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", "name and colon"},
        {"HTTP/1.1 200 OK\r\nName : value\r\n\r\n", "name and colon"},
        {"HTTP/1.1 200 OK\r\n: value\r\n\r\n", "name and colon"},
        {"HTTP/1.1 407 Auth\r\nContent-Length: twelve\r\n\r\n", "Content-Length"},
        {"HTTP/1.1 407 Auth\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
        {"HTTP/1.1 407 Auth\r\nContent-Length:\r\n\r\n", "Content-Length"},
        {"HTTP/1.1 502 Bad\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "Content-Length"},
        {"HTTP/1.1 502 Bad\r\nContent-Length: 99999999999999999999999\r\n\r\n", "Content-Length"},
        {"HTTP/1.1 200 OK\r\nX: " + std::string(ConnectResponseParser::max_head_size, 'a') + "\r\n\r\n", "8 KiB"},
        {"HTTP/1.1 100 Continue\r\n\r\n" + std::string(ConnectResponseParser::max_head_size, '\n'), "status line"},
        {std::string(ConnectResponseParser::max_head_size + 1, 'H'), "8 KiB"},
    };
    for (const Case& c : cases) {
        INFO(c.bytes.substr(0, 60));
        const Parsed parsed = parse_every_way(c.bytes);
        CHECK(parsed.ec == Error::proxy_error);
        CHECK_FALSE(parsed.done);
        CHECK(parsed.consumed <= ConnectResponseParser::max_head_size + 1);
        INFO(parsed.problem);
        CHECK(parsed.problem.find(c.problem_part) != std::string::npos);
        if (parsed.problem.find("8 KiB") == std::string::npos)
            CHECK(parsed.problem.starts_with("the proxy answered something that is not HTTP"));
    }
}

TEST_CASE("classify_connect_response", "[proxy]") {
    const ProxyEndpoint anonymous = proxy("http://proxy.corp:3128");
    const ProxyEndpoint with_credentials = proxy("http://user:hunter2@proxy.corp:3128");

    SECTION("any 2xx opens the tunnel and touches nothing") {
        for (const unsigned status : {200U, 201U, 204U, 299U}) {
            Diagnostics diag;
            CHECK_FALSE(classify_connect_response(with_credentials, status, "", "body", diag));
            CHECK(diag == Diagnostics{});
        }
    }
    SECTION("407 without credentials") {
        Diagnostics diag;
        CHECK(classify_connect_response(anonymous, 407, "Basic", "", diag) == Error::proxy_authentication_required);
        CHECK(diag.http_status() == 407);
        CHECK(diag.message() ==
              "the proxy http://proxy.corp:3128 requires credentials and the proxy URL has none (it asks for Basic)");
    }
    SECTION("407 with credentials, a scheme the library does not speak") {
        Diagnostics diag;
        CHECK(classify_connect_response(with_credentials, 407, "Negotiate, NTLM", "", diag) ==
              Error::proxy_authentication_required);
        CHECK(diag.message() ==
              "the proxy http://proxy.corp:3128 rejected the credentials of the proxy URL (it asks for Negotiate, "
              "NTLM; only Basic is supported)");
    }
    SECTION("407 with no Proxy-Authenticate") {
        Diagnostics diag;
        CHECK(classify_connect_response(with_credentials, 407, "", "", diag) == Error::proxy_authentication_required);
        CHECK(diag.message() == "the proxy http://proxy.corp:3128 rejected the credentials of the proxy URL");
    }
    SECTION("other refusals, with the body cleaned and credentials redacted") {
        struct Case {
            unsigned status;
            std::string body;
            std::string detail;
        };
        const std::vector<Case> cases{
            {403, "", ""},
            {502, "<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1></body></html>",
             "502 Bad Gateway"},
            {503, "{\"detail\": \"upstream down\"}", "upstream down"},
            {400, "echo: Basic dXNlcjpodW50ZXIy = user:hunter2", "echo: Basic [redacted] = user:[redacted]"},
            {101, "", ""},
            {304, "", ""},
        };
        for (const Case& c : cases) {
            INFO(c.status);
            Diagnostics diag;
            CHECK(classify_connect_response(with_credentials, c.status, "Basic", c.body, diag) == Error::proxy_error);
            CHECK(diag.http_status() == c.status);
            CHECK(diag.server_detail() == c.detail);
            CHECK(diag.message() ==
                  "the proxy http://proxy.corp:3128 refused to open a tunnel (HTTP " + std::to_string(c.status) + ")");
            CHECK(diag.to_string().find("dXNlcjpodW50ZXIy") == std::string::npos);
            CHECK(diag.to_string().find("hunter2") == std::string::npos);
        }
    }
}
