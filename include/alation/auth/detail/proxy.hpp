// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_PROXY_HPP
#define ALATION_AUTH_DETAIL_PROXY_HPP

// Forward proxies without I/O: which proxy (if any) a target goes through, the proxy's URL, the
// CONNECT request, the proxy's answer to it, and what that answer means. The transport only
// moves the bytes these functions produce and consume. docs/tls-and-proxies.md ("Proxies")
// states the rules for users.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/url.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace alation::auth::detail {

/// The port of a proxy URL that names none: 1080, as curl.
inline constexpr std::string_view default_proxy_port = "1080";

/// A forward proxy, from a URL `[http://][user[:password]@]host[:port][/]`.
struct ProxyEndpoint {
    /// The host to resolve: a name, or an IP address without the brackets of an IPv6 literal.
    std::string host;
    bool host_is_ip = false;
    /// The port's digits; default_proxy_port when the URL has none.
    std::string port;
    /// The proxy for messages, without userinfo: `http://proxy.corp:3128`, `http://[::1]:1080`.
    std::string display;
    /// The Proxy-Authorization value, `Basic base64(user ":" password)` of the percent-decoded
    /// userinfo; empty when the URL has no credentials.
    Secret authorization;
};

/// Parses a proxy URL. A URL without `://` is taken as http:// (as curl does). Only http://
/// proxies are supported: https://, socks5:// and any other scheme are Error::invalid_url, never
/// a direct connection. So are an empty host, a port outside 1..65535, a path other than "/",
/// a query, a fragment, bad percent-encoding and a user name holding ':'. On failure
/// diag.message() says what is wrong and never contains the URL's userinfo; `out` is untouched.
ALATION_AUTH_DECL error_code parse_proxy_url(std::string_view url, ProxyEndpoint& out, Diagnostics& diag);

/// `Basic ` followed by the base64 of `user:password` (RFC 7617), built so that no unwiped copy of
/// the credentials is left behind.
ALATION_AUTH_DECL Secret basic_authorization(std::string_view user, std::string_view password);

/// Reads one environment variable: its value, or an empty view when it is unset. Injected so
/// that tests need no setenv.
using EnvironmentLookup = std::function<std::string_view(const char* name)>;

/// The process environment, through std::getenv.
ALATION_AUTH_DECL std::string_view process_environment(const char* name) noexcept;

/// Whether a no_proxy value exempts `host` (a name, or an IP address without brackets) from the
/// proxy, with curl's rules: entries separated by commas and blanks; a value that is only `*`
/// exempts every host; one leading `.` (or `*.`) and one trailing `.` of an entry are ignored, and
/// a name entry matches that name and its subdomains at a label boundary, in any letter case; an
/// IP entry (IPv6 with or without brackets) matches that address, or with `/bits` its network;
/// no DNS look-up; an entry with a port matches nothing.
ALATION_AUTH_DECL bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

/// The proxy a Client uses for its target, and where it came from.
struct ProxyChoice {
    /// Empty: connect directly.
    std::optional<ProxyEndpoint> proxy;
    /// For messages: "ClientOptions::proxy" or the variable that named the proxy ("https_proxy",
    /// ...), or the variable that exempted the target ("no_proxy", "NO_PROXY"); empty when no
    /// proxy was configured at all.
    std::string_view source;
};

/// Chooses the proxy for `target`. An explicit `proxy_option` wins and the environment is not
/// read at all (not even no_proxy; curl differs here); set but empty, it means "no proxy".
/// Otherwise, when `from_environment`: no_proxy, else NO_PROXY, may exempt the target; then for
/// https targets https_proxy, HTTPS_PROXY, for http targets http_proxy only (the httpoxy rule),
/// then all_proxy, ALL_PROXY. An empty variable counts as unset. A proxy URL that does not parse
/// is Error::invalid_url, diag.message() naming its source.
ALATION_AUTH_DECL error_code choose_proxy(const BaseUrl& target, const std::optional<Secret>& proxy_option,
                                          bool from_environment, const EnvironmentLookup& environment, ProxyChoice& out,
                                          Diagnostics& diag);

/// The whole CONNECT request head for `target` (always with its port, an IPv6 address in
/// brackets), with the proxy's Proxy-Authorization when it has credentials:
/// `CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n[Proxy-Authorization: ...\r\n]User-Agent: ...\r\n\r\n`.
ALATION_AUTH_DECL Secret connect_request(const BaseUrl& target, const ProxyEndpoint& proxy,
                                         std::string_view user_agent);

/// The head of a proxy's answer to CONNECT, parsed as it arrives, in chunks of any size.
///
/// feed() consumes bytes only up to and including the blank line that ends the final head and
/// says how many it took: what follows belongs to the tunnel (TLS) or, for a refusal, to the
/// body. Interim 1xx heads (other than 101) are skipped. Line ends may be CRLF or a bare LF, as
/// curl accepts. A status line that is not `HTTP/1.x NNN`, a folded header line (obs-fold), a
/// header line without a valid name and colon, a bare CR, a head longer than max_head_size, or
/// (for a refusal) an unusable Content-Length fail with Error::proxy_error and a message starting
/// "the proxy answered something that is not HTTP" (or saying the head is too long).
class ConnectResponseParser {
public:
    /// The most bytes of head accepted, interim heads included.
    static constexpr std::size_t max_head_size = std::size_t{8} * 1024;

    /// Consumes a prefix of `bytes` and returns its length. After an error, or once done(),
    /// consumes nothing. `ec` is set on failure and left alone otherwise.
    ALATION_AUTH_DECL std::size_t feed(std::string_view bytes, error_code& ec);

    /// The final head has been read.
    [[nodiscard]] bool done() const noexcept { return state_ == State::done; }
    /// The head was unusable; problem() says why.
    [[nodiscard]] bool failed() const noexcept { return state_ == State::failed; }
    /// Why feed() failed, for Diagnostics (never the proxy's bytes).
    [[nodiscard]] std::string_view problem() const noexcept { return problem_; }

    /// The final status, once done().
    [[nodiscard]] unsigned status() const noexcept { return status_; }
    /// For a non-2xx answer: the body's Content-Length, or nullopt when it has none or uses a
    /// Transfer-Encoding (then the body runs to the connection's end). Always nullopt for a 2xx,
    /// whose Content-Length and Transfer-Encoding RFC 9110 §9.3.6 says to ignore.
    [[nodiscard]] std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
    /// The auth-schemes of the answer's Proxy-Authenticate headers ("Basic", "Negotiate, NTLM"),
    /// bounded, for the message of a 407.
    [[nodiscard]] const std::string& proxy_authenticate() const noexcept { return proxy_authenticate_; }

private:
    enum class State { status_line, header_line, done, failed };

    std::size_t fail(std::size_t consumed, error_code& ec, std::string_view why);
    bool finish_line(std::string_view line);
    bool status_line(std::string_view line);
    bool header_line(std::string_view line);
    bool end_of_head();

    State state_ = State::status_line;
    std::string line_;
    std::size_t head_size_ = 0;
    unsigned status_ = 0;
    std::optional<std::uint64_t> content_length_;
    bool transfer_encoding_ = false;
    std::string proxy_authenticate_;
    std::string_view problem_;
};

/// What a finished CONNECT answer means: {} for any 2xx (the tunnel is open); 407 (or 401,
/// which tinyproxy sends for wrong credentials) Error::proxy_authentication_required; any other
/// status Error::proxy_error. For a failure diag gets the status, the cleaned start of `body`
/// (parse_error_body, with the proxy's credentials redacted) and a message naming the proxy by
/// its display form, saying for a 407 whether credentials were sent and which schemes the proxy
/// asked for (`proxy_authenticate`).
ALATION_AUTH_DECL error_code classify_connect_response(const ProxyEndpoint& proxy, unsigned status,
                                                       std::string_view proxy_authenticate, std::string_view body,
                                                       Diagnostics& diag);

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/proxy.ipp>
#endif

#endif
