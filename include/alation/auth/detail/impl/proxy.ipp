// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_PROXY_IPP
#define ALATION_AUTH_DETAIL_IMPL_PROXY_IPP

#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/detail/proxy.hpp>

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <initializer_list>

namespace alation::auth::detail {

namespace proxy_detail {

inline error_code fail(Diagnostics& diag, std::string why) {
    diag.set_message(std::move(why));
    return Error::invalid_url;
}

inline char lower(char c) noexcept { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

inline bool iends_with(std::string_view text, std::string_view suffix) noexcept {
    return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

inline bool icontains(std::string_view text, std::string_view part) noexcept {
    for (std::size_t at = 0; at + part.size() <= text.size(); ++at)
        if (iequals(text.substr(at, part.size()), part)) return true;
    return false;
}

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// RFC 9110 §5.6.2: the characters of a header name or an auth-scheme.
inline bool is_tchar(char c) noexcept {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
inline bool is_token(std::string_view s) noexcept { return !s.empty() && std::ranges::all_of(s, is_tchar); }

// Whether `url` starts with `scheme://` (RFC 3986 §3.1 scheme characters): curl's test for a
// proxy URL that names its scheme.
inline bool has_scheme(std::string_view url) noexcept {
    const std::size_t end = url.find("://");
    if (end == std::string_view::npos || end == 0 || std::isalpha(static_cast<unsigned char>(url[0])) == 0)
        return false;
    return std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(end), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
    });
}

inline bool has_bad_percent_encoding(std::string_view text) noexcept {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') continue;
        if (i + 2 >= text.size() || std::isxdigit(static_cast<unsigned char>(text[i + 1])) == 0 ||
            std::isxdigit(static_cast<unsigned char>(text[i + 2])) == 0)
            return true;
        i += 2;
    }
    return false;
}

// Decodes percent-encoding that Boost.URL has already validated, into a buffer of the exact
// size, so that no unwiped copy of a credential is left by a reallocation.
inline Secret percent_decode(std::string_view encoded) {
    const auto escapes = static_cast<std::size_t>(std::count(encoded.begin(), encoded.end(), '%'));
    std::string out;
    out.reserve(encoded.size() - 2 * escapes);
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] == '%') {
            unsigned value = 0;
            std::from_chars(encoded.data() + i + 1, encoded.data() + i + 3, value, 16);
            out.push_back(static_cast<char>(value));
            i += 2;
        } else {
            out.push_back(encoded[i]);
        }
    }
    return Secret(std::move(out));
}

inline std::string_view trim(std::string_view s, std::string_view blanks) noexcept {
    const std::size_t first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

// An IP address as its bytes (4 or 16), for prefix comparison.
struct IpBytes {
    std::array<unsigned char, 16> bytes{};
    unsigned bits = 0;  // 32 or 128
};

inline std::optional<IpBytes> parse_ip(std::string_view text) noexcept {
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    IpBytes ip;
    if (auto v4 = boost::urls::parse_ipv4_address(text)) {
        std::ranges::copy(v4->to_bytes(), ip.bytes.begin());
        ip.bits = 32;
        return ip;
    }
    if (auto v6 = boost::urls::parse_ipv6_address(text)) {
        std::ranges::copy(v6->to_bytes(), ip.bytes.begin());
        ip.bits = 128;
        return ip;
    }
    return std::nullopt;
}

inline bool same_prefix(const IpBytes& a, const IpBytes& b, unsigned bits) noexcept {
    for (std::size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
        const unsigned mask = bits >= 8 ? 0xffU : (0xffU << (8 - bits)) & 0xffU;
        if ((a.bytes[i] & mask) != (b.bytes[i] & mask)) return false;
    }
    return true;
}

// One no_proxy entry against the target (`host` without a trailing dot; `ip` when it is one).
inline bool entry_matches(std::string_view entry, std::string_view host, const std::optional<IpBytes>& ip) noexcept {
    std::string_view address = entry;
    std::optional<unsigned> prefix_bits;
    if (const std::size_t slash = entry.find('/'); slash != std::string_view::npos) {
        address = entry.substr(0, slash);
        const std::string_view digits = entry.substr(slash + 1);
        unsigned bits = 0;
        const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        if (digits.empty() || err != std::errc{} || end != digits.data() + digits.size()) return false;
        prefix_bits = bits;
    }
    if (const auto network = parse_ip(address)) {
        const unsigned bits = prefix_bits.value_or(network->bits);
        return ip && ip->bits == network->bits && bits <= network->bits && same_prefix(*ip, *network, bits);
    }
    // A name: not a CIDR, not host:port.
    if (prefix_bits || entry.find(':') != std::string_view::npos || ip) return false;
    if (entry.starts_with("*.")) entry.remove_prefix(1);
    if (entry.starts_with('.')) entry.remove_prefix(1);
    if (entry.ends_with('.')) entry.remove_suffix(1);
    if (entry.empty()) return false;
    if (host.size() == entry.size()) return iequals(host, entry);
    return host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' && iends_with(host, entry);
}

// The inverse of basic_authorization's encoding, for redaction.
inline Secret base64_decode(std::string_view encoded) {
    std::string out(3 * (encoded.size() / 4) + 1, '\0');
    const int size =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
    // EVP_DecodeBlock counts the zero bytes that the padding stands for: drop them.
    std::size_t length = size > 0 ? static_cast<std::size_t>(size) : 0;
    for (std::size_t i = 1; i <= 2 && i <= encoded.size() && encoded[encoded.size() - i] == '=' && length > 0; ++i)
        --length;
    out.resize(length);
    return Secret(std::move(out));
}

}  // namespace proxy_detail

ALATION_AUTH_DECL Secret basic_authorization(std::string_view user, std::string_view password) {
    std::string joined;
    joined.reserve(user.size() + 1 + password.size());
    joined.append(user).append(":").append(password);
    const Secret credentials(std::move(joined));

    constexpr std::string_view scheme = "Basic ";
    const std::size_t encoded_size = 4 * ((credentials.size() + 2) / 3);
    std::string out;
    // resize() leaves room for the NUL that EVP_EncodeBlock writes after the last character.
    out.resize(scheme.size() + encoded_size);
    std::ranges::copy(scheme, out.begin());
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + scheme.size()),
                    reinterpret_cast<const unsigned char*>(credentials.reveal().data()),
                    static_cast<int>(credentials.size()));
    return Secret(std::move(out));
}

ALATION_AUTH_DECL error_code parse_proxy_url(std::string_view url, ProxyEndpoint& out, Diagnostics& diag) {
    using proxy_detail::fail;
    // A scheme-less URL is http, as for curl; the prefixed copy may hold a password.
    Secret prefixed;
    if (!proxy_detail::has_scheme(url)) {
        std::string text;
        text.reserve(url.size() + 7);
        text.append("http://").append(url);
        prefixed = Secret(std::move(text));
        url = prefixed.reveal();
    }
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        return fail(diag, proxy_detail::has_bad_percent_encoding(url) ? "the proxy URL has bad percent-encoding"
                                                                      : "the proxy URL is not a valid URL");
    const boost::urls::url_view& u = *parsed;

    if (u.scheme_id() == boost::urls::scheme::https)
        return fail(diag,
                    "https:// proxies (TLS to the proxy) are not supported; use the proxy's http:// URL (the "
                    "connection to the catalog stays TLS inside the tunnel)");
    if (u.scheme_id() != boost::urls::scheme::http) {
        constexpr std::size_t longest_scheme_shown = 16;
        std::string why = "only http:// proxies are supported";
        if (u.scheme().size() <= longest_scheme_shown) why.append(", not ").append(u.scheme()).append("://");
        return fail(diag, std::move(why));
    }
    if (!u.has_authority() || u.encoded_host().empty()) return fail(diag, "the proxy URL has no host");
    // A decoded host could hold any byte, a NUL or a blank included: a proxy's name never needs that.
    if (std::string_view(u.encoded_host()).find('%') != std::string_view::npos)
        return fail(diag, "the proxy's host must not be percent-encoded");
    if (u.host_type() == boost::urls::host_type::ipvfuture)
        return fail(diag, "IPvFuture proxy hosts are not supported");
    if (u.has_port() && !is_valid_port(u.port()))
        return fail(diag, "the proxy's port must be a number from 1 to 65535");
    if (!u.encoded_path().empty() && u.encoded_path() != "/")
        // Boost.URL 1.81 takes `host:31x8` as port 31 and path "x8": that is no URL at all.
        return fail(diag, u.encoded_path().starts_with('/') ? "the proxy URL must not have a path"
                                                            : "the proxy URL is not a valid URL");
    if (u.has_query()) return fail(diag, "the proxy URL must not have a query");
    if (u.has_fragment()) return fail(diag, "the proxy URL must not have a fragment");

    ProxyEndpoint result;
    if (u.has_userinfo() && !u.encoded_userinfo().empty()) {
        const Secret user = proxy_detail::percent_decode(u.encoded_user());
        const Secret password = proxy_detail::percent_decode(u.encoded_password());
        if (user.reveal().find(':') != std::string_view::npos)
            return fail(diag, "the proxy user name contains ':', which Basic authentication cannot carry");
        result.authorization = basic_authorization(user.reveal(), password.reveal());
    }
    result.host = u.host_address();
    result.host_is_ip = u.host_type() == boost::urls::host_type::ipv4 || u.host_type() == boost::urls::host_type::ipv6;
    result.port = u.has_port() ? std::string(u.port()) : std::string(default_proxy_port);
    result.display.append("http://").append(u.encoded_host()).append(":").append(result.port);
    out = std::move(result);
    return {};
}

ALATION_AUTH_DECL std::string_view process_environment(const char* name) noexcept {
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once, when a Client is made
    return value != nullptr ? std::string_view(value) : std::string_view();
}

ALATION_AUTH_DECL bool no_proxy_matches(std::string_view no_proxy, std::string_view host) {
    constexpr std::string_view blanks = " \t";
    no_proxy = proxy_detail::trim(no_proxy, blanks);
    if (no_proxy == "*") return true;
    if (host.ends_with('.')) host.remove_suffix(1);
    const auto ip = proxy_detail::parse_ip(host);
    while (!no_proxy.empty()) {
        const std::size_t end = no_proxy.find_first_of(", \t");
        const std::string_view entry = no_proxy.substr(0, end);
        if (!entry.empty() && proxy_detail::entry_matches(entry, host, ip)) return true;
        no_proxy.remove_prefix(end == std::string_view::npos ? no_proxy.size() : end + 1);
    }
    return false;
}

ALATION_AUTH_DECL error_code choose_proxy(const BaseUrl& target, const std::optional<Secret>& proxy_option,
                                          bool from_environment, const EnvironmentLookup& environment, ProxyChoice& out,
                                          Diagnostics& diag) {
    ProxyChoice choice;
    std::string_view url;
    if (proxy_option) {
        choice.source = "ClientOptions::proxy";
        url = proxy_option->reveal();
    } else if (from_environment) {
        // The first variable that is set and not empty, of those that apply to the target.
        const auto first_set = [&environment](std::initializer_list<const char*> names, std::string_view& value) {
            for (const char* name : names) {
                value = environment(name);
                if (!value.empty()) return std::string_view(name);
            }
            return std::string_view();
        };
        choice.source = target.tls ? first_set({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}, url)
                                   : first_set({"http_proxy", "all_proxy", "ALL_PROXY"}, url);
        std::string_view no_proxy;
        const std::string_view no_proxy_source = first_set({"no_proxy", "NO_PROXY"}, no_proxy);
        if (!url.empty() && no_proxy_matches(no_proxy, target.host)) {
            choice.source = no_proxy_source;
            url = {};
        }
    }
    if (!url.empty()) {
        ProxyEndpoint proxy;
        if (const error_code ec = parse_proxy_url(url, proxy, diag)) {
            diag.set_message(std::string(choice.source) + ": " + diag.message());
            return ec;
        }
        choice.proxy = std::move(proxy);
    }
    out = std::move(choice);
    return {};
}

ALATION_AUTH_DECL Secret connect_request(const BaseUrl& target, const ProxyEndpoint& proxy,
                                         std::string_view user_agent) {
    const bool brackets = target.host.find(':') != std::string::npos;
    std::string authority;
    authority.append(brackets ? "[" : "").append(target.host).append(brackets ? "]:" : ":").append(target.port);

    constexpr std::string_view proxy_authorization = "Proxy-Authorization: ";
    constexpr std::string_view user_agent_name = "User-Agent: ";
    std::string request;
    // Reserved exactly, so that appending the credentials never reallocates and leaves a copy.
    request.reserve(8 + authority.size() + 11 + 6 + authority.size() + 2 +
                    (proxy.authorization.empty() ? 0 : proxy_authorization.size() + proxy.authorization.size() + 2) +
                    (user_agent.empty() ? 0 : user_agent_name.size() + user_agent.size() + 2) + 2);
    request.append("CONNECT ").append(authority).append(" HTTP/1.1\r\n");
    request.append("Host: ").append(authority).append("\r\n");
    if (!proxy.authorization.empty())
        request.append(proxy_authorization).append(proxy.authorization.reveal()).append("\r\n");
    if (!user_agent.empty()) {
        const std::size_t start = request.size() + user_agent_name.size();
        request.append(user_agent_name).append(user_agent).append("\r\n");
        // A control character would end the header early and inject another: blank it out.
        std::replace_if(
            request.begin() + static_cast<std::ptrdiff_t>(start), request.end() - 2,
            [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0 && c != '\t'; }, ' ');
    }
    request.append("\r\n");
    return Secret(std::move(request));
}

ALATION_AUTH_DECL std::size_t ConnectResponseParser::fail(std::size_t consumed, error_code& ec, std::string_view why) {
    state_ = State::failed;
    problem_ = why;
    ec = Error::proxy_error;
    return consumed;
}

ALATION_AUTH_DECL std::size_t ConnectResponseParser::feed(std::string_view bytes, error_code& ec) {
    if (state_ == State::done || state_ == State::failed) return 0;
    for (std::size_t i = 0; i < bytes.size();) {
        const char c = bytes[i++];
        if (++head_size_ > max_head_size) return fail(i, ec, "the proxy's answer to CONNECT has a head over 8 KiB");
        if (c != '\n') {
            line_.push_back(c);
            continue;
        }
        std::string_view line = line_;
        if (line.ends_with('\r')) line.remove_suffix(1);
        const bool ok = finish_line(line);
        line_.clear();
        if (!ok) return fail(i, ec, problem_);
        if (state_ == State::done) return i;
    }
    return bytes.size();
}

ALATION_AUTH_DECL bool ConnectResponseParser::finish_line(std::string_view line) {
    if (line.find('\r') != std::string_view::npos) {
        problem_ = "the proxy answered something that is not HTTP (a bare CR in its head)";
        return false;
    }
    if (state_ == State::status_line) return status_line(line);
    if (line.empty()) return end_of_head();
    return header_line(line);
}

ALATION_AUTH_DECL bool ConnectResponseParser::status_line(std::string_view line) {
    using proxy_detail::is_digit;
    // HTTP/1.x SP 3DIGIT [SP reason]; curl also accepts a missing reason.
    const bool ok = line.size() >= 12 && line.starts_with("HTTP/1.") && is_digit(line[7]) && line[8] == ' ' &&
                    line[9] >= '1' && line[9] <= '5' && is_digit(line[10]) && is_digit(line[11]) &&
                    (line.size() == 12 || line[12] == ' ');
    if (!ok) {
        problem_ = "the proxy answered something that is not HTTP (no HTTP/1.x status line)";
        return false;
    }
    status_ = static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    state_ = State::header_line;
    return true;
}

ALATION_AUTH_DECL bool ConnectResponseParser::header_line(std::string_view line) {
    using proxy_detail::iequals;
    if (line.front() == ' ' || line.front() == '\t') {
        problem_ = "the proxy answered something that is not HTTP (a folded header line)";
        return false;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !proxy_detail::is_token(line.substr(0, colon))) {
        problem_ = "the proxy answered something that is not HTTP (a header line without a name and colon)";
        return false;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = proxy_detail::trim(line.substr(colon + 1), " \t");
    // The body of a 1xx or 2xx answer is not read: its framing headers do not matter.
    const bool refusal = status_ >= 300;
    if (refusal && iequals(name, "Content-Length")) {
        std::uint64_t length = 0;
        const auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), length);
        if (value.empty() || err != std::errc{} || end != value.data() + value.size() ||
            (content_length_ && *content_length_ != length)) {
            problem_ = "the proxy answered something that is not HTTP (an unusable Content-Length)";
            return false;
        }
        content_length_ = length;
    } else if (refusal && iequals(name, "Transfer-Encoding")) {
        transfer_encoding_ = true;
    } else if (iequals(name, "Proxy-Authenticate")) {
        // Only the scheme of each challenge: its parameters (realm, ...) are the proxy's words.
        const std::string_view scheme = value.substr(0, value.find_first_of(" ,"));
        constexpr std::size_t max_schemes_text = 128;
        if (proxy_detail::is_token(scheme) && proxy_authenticate_.size() + scheme.size() + 2 <= max_schemes_text)
            proxy_authenticate_.append(proxy_authenticate_.empty() ? "" : ", ").append(scheme);
    }
    return true;
}

ALATION_AUTH_DECL bool ConnectResponseParser::end_of_head() {
    if (status_ < 200 && status_ != 101) {
        // An interim answer: the final one follows.
        state_ = State::status_line;
        status_ = 0;
        content_length_.reset();
        transfer_encoding_ = false;
        proxy_authenticate_.clear();
        return true;
    }
    if (transfer_encoding_) content_length_.reset();  // RFC 9112 §6.3: it overrides Content-Length
    state_ = State::done;
    return true;
}

ALATION_AUTH_DECL error_code classify_connect_response(const ProxyEndpoint& proxy, unsigned status,
                                                       std::string_view proxy_authenticate, std::string_view body,
                                                       Diagnostics& diag) {
    if (status >= 200 && status < 300) return {};
    // A proxy may echo the credentials it was sent, encoded or decoded: remove both.
    std::string_view encoded = proxy.authorization.reveal();
    encoded.remove_prefix(std::min(encoded.size(), std::string_view("Basic ").size()));
    const Secret decoded = proxy_detail::base64_decode(encoded);
    const std::string_view password = decoded.reveal().substr(std::min(decoded.size(), decoded.reveal().find(':') + 1));
    std::string cleaned(body);
    redact(cleaned, password);
    ServerError server = parse_error_body(cleaned, encoded);
    Secret::wipe(cleaned);
    diag.set_http_status(status);
    diag.set_server_detail(std::move(server.detail));
    diag.set_server_code(std::move(server.code));

    std::string message = "the proxy " + proxy.display;
    // A 401 to CONNECT is the proxy's too (the target has seen nothing): tinyproxy 1.11 answers
    // wrong credentials with 401 and WWW-Authenticate, and 407 only when there are none.
    if (status != 407 && status != 401) {
        diag.set_message(message + " refused to open a tunnel (HTTP " + std::to_string(status) + ")");
        return Error::proxy_error;
    }
    message += proxy.authorization.empty() ? " requires credentials and the proxy URL has none"
                                           : " rejected the credentials of the proxy URL";
    if (!proxy_authenticate.empty()) {
        message.append(" (it asks for ").append(proxy_authenticate);
        const bool offers_basic = proxy_detail::icontains(proxy_authenticate, "Basic");
        if (!offers_basic) message.append("; only Basic is supported");
        message.append(")");
    }
    diag.set_message(std::move(message));
    return Error::proxy_authentication_required;
}

}  // namespace alation::auth::detail

#endif
