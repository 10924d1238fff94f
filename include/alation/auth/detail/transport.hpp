// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_TRANSPORT_HPP
#define ALATION_AUTH_DETAIL_TRANSPORT_HPP

// The steps of the transport that move bytes on an established stream, templated on the stream
// so that tests run them over Beast's in-memory test::stream with injected failures: the proxy's
// CONNECT tunnel and one request/response exchange. Deadlines belong to the caller (it sets them
// on the lowest layer, a beast::tcp_stream); every decision about the bytes is in protocol.hpp
// and proxy.hpp. Private to the library: included by client_impl.ipp and the tests only.

#include <alation/auth/client_options.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/detail/proxy.hpp>
#include <alation/auth/detail/transport_types.hpp>
#include <alation/auth/detail/url.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/optional/optional.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>

namespace alation::auth::detail {

/// An allocator that overwrites memory before it frees it, for buffers that hold secrets and are
/// reallocated as they grow: `Base` (std::allocator) frees the old storage as it was.
template <class T, class Base = std::allocator<T>>
struct WipingAllocator : Base {
    using value_type = T;
    // std::allocator_traits looks for these names; std::allocator's own rebind (gone in C++20)
    // would drop the wiping.
    // NOLINTBEGIN(readability-identifier-naming)
    template <class U>
    struct rebind {
        using other = WipingAllocator<U, typename std::allocator_traits<Base>::template rebind_alloc<U>>;
    };
    // NOLINTEND(readability-identifier-naming)

    WipingAllocator() = default;
    template <class U, class OtherBase>
    WipingAllocator(const WipingAllocator<U, OtherBase>& other) noexcept : Base(other.base()) {}

    [[nodiscard]] const Base& base() const noexcept { return *this; }

    void deallocate(T* p, std::size_t n) noexcept {
        OPENSSL_cleanse(p, n * sizeof(T));
        std::allocator_traits<Base>::deallocate(static_cast<Base&>(*this), p, n);
    }

    friend bool operator==(const WipingAllocator& a, const WipingAllocator& b) noexcept { return a.base() == b.base(); }
};

/// A connection's read buffer: it holds responses, tokens among them, and grows to fit them.
using ResponseBuffer = boost::beast::basic_flat_buffer<WipingAllocator<char>>;

/// Beast's string body, except that a body that outgrows its string (one sent chunked, with no
/// Content-Length to reserve for) moves to larger storage and wipes the old before it is freed;
/// Beast's resizes the string in place, which frees the old storage as it was. Not a string over
/// WipingAllocator: the body stays a std::string, which moves into a Secret without a copy.
template <class String>
struct BasicSecretStringBody {
    using value_type = String;

    class reader {  // NOLINT(readability-identifier-naming): Beast's Body concept names it
    public:
        template <bool IsRequest, class Fields>
        reader(boost::beast::http::header<IsRequest, Fields>& /*header*/, value_type& body) : body_(body) {}

        void init(const boost::optional<std::uint64_t>& length, error_code& ec) {
            ec = {};
            if (!length) return;
            if (*length > body_.max_size()) {
                ec = boost::beast::http::error::buffer_overflow;
                return;
            }
            reserve(static_cast<std::size_t>(*length));
        }

        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
            const std::size_t extra = boost::beast::buffer_bytes(buffers);
            const std::size_t size = body_.size();
            if (extra > body_.max_size() - size) {
                ec = boost::beast::http::error::buffer_overflow;
                return 0;
            }
            if (size + extra > body_.capacity()) reserve(std::max(size + extra, 2 * body_.capacity()));
            body_.resize(size + extra);  // within its capacity: no reallocation
            ec = {};
            return boost::asio::buffer_copy(boost::asio::buffer(body_.data() + size, extra), buffers);
        }

        void finish(error_code& ec) { ec = {}; }

    private:
        void reserve(std::size_t capacity) {
            if (capacity <= body_.capacity()) return;
            value_type larger(body_.get_allocator());
            larger.reserve(capacity);
            larger.assign(body_.data(), body_.size());
            OPENSSL_cleanse(body_.data(), body_.capacity());
            body_.swap(larger);
        }

        value_type& body_;
    };
};
using SecretStringBody = BasicSecretStringBody<std::string>;

namespace transport_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

// Overwrites the first `held` bytes of a flat_buffer's storage (a response body holds tokens),
// keeping the storage for the next response. Since its last clear(), a flat_buffer has held no
// byte further into its storage than the number of bytes committed to it (it only ever moves
// its data towards the front).
inline void wipe(ResponseBuffer& buffer, std::size_t held) {
    buffer.clear();
    auto storage = buffer.prepare(std::min(held, buffer.capacity()));
    OPENSSL_cleanse(storage.data(), storage.size());
}

// Beast frees its fields without wiping them; these hold credentials.
template <class Request>
void wipe_field(Request& request, http::field name) {
    if (auto it = request.find(name); it != request.end()) {
        const auto value = it->value();
        OPENSSL_cleanse(const_cast<char*>(value.data()), value.size());
    }
}

inline error_code normalize(error_code ec) {
    if (ec == beast::error::timeout) return Error::timeout;
    return ec;
}

}  // namespace transport_detail

/// The connection broke before the peer said anything: what happens when the server closed an
/// idle kept-alive connection just as we reused it.
inline bool is_stale_connection_error(error_code ec) {
    namespace asio = boost::asio;
    return ec == asio::error::eof || ec == boost::beast::http::error::end_of_stream ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::ssl::error::stream_truncated;
}

/// The most bytes of a refusing proxy's body read for Diagnostics: enough to get past the head
/// of an HTML error page to its text.
inline constexpr std::size_t max_proxy_body_excerpt = 4096;

/// Opens a CONNECT tunnel to `target` through `proxy` on `stream`, connected to the proxy.
/// Reads the proxy's answer one byte at a time, as curl does, so that not a byte past its head is
/// taken from the stream: bytes that arrive with a 2xx belong to the tunnel (the TLS handshake).
/// Completes with {} when the tunnel is open; with Error::proxy_authentication_required (407) or
/// Error::proxy_error (another status, or an answer that is not HTTP) and diag filled by
/// classify_connect_response; or with the stream's error (eof when the proxy closed before it
/// answered, Error::timeout for the caller's deadline). Messages name the proxy by its display
/// form, never with its credentials.
template <class Stream>
boost::asio::awaitable<error_code> async_open_tunnel(Stream& stream, const BaseUrl& target, const ProxyEndpoint& proxy,
                                                     std::string_view user_agent, Diagnostics& diag) {
    namespace asio = boost::asio;
    using transport_detail::normalize;
    {
        const Secret request = connect_request(target, proxy, user_agent);
        auto [write_ec, written] =
            co_await asio::async_write(stream, asio::buffer(request.reveal()), asio::as_tuple(asio::use_awaitable));
        if (write_ec) {
            diag.set_message("sending CONNECT to the proxy " + proxy.display + " failed");
            co_return normalize(write_ec);
        }
    }

    ConnectResponseParser parser;
    char byte = 0;
    while (!parser.done()) {
        auto [read_ec, got] =
            co_await stream.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable));
        if (read_ec) {
            diag.set_message(read_ec == asio::error::eof
                                 ? "the proxy " + proxy.display + " closed the connection before answering CONNECT"
                                 : "reading the answer of the proxy " + proxy.display + " to CONNECT failed");
            co_return normalize(read_ec);
        }
        error_code ec;
        parser.feed(std::string_view(&byte, got), ec);
        if (ec) {
            diag.set_message(std::string(parser.problem()) + " (proxy " + proxy.display + ")");
            co_return ec;
        }
    }
    if (parser.status() >= 200 && parser.status() <= 299) co_return error_code{};

    // A refusal: a bounded start of its body for Diagnostics. Without a Content-Length the body
    // runs to the connection's end; whatever arrived before an error or the deadline will do.
    const std::size_t wanted = static_cast<std::size_t>(
        std::min<std::uint64_t>(parser.content_length().value_or(max_proxy_body_excerpt), max_proxy_body_excerpt));
    std::string body(wanted, '\0');
    std::size_t received = 0;
    while (received < wanted) {
        auto [read_ec, got] = co_await stream.async_read_some(asio::buffer(body.data() + received, wanted - received),
                                                              asio::as_tuple(asio::use_awaitable));
        received += got;
        if (read_ec) break;
    }
    body.resize(received);
    co_return classify_connect_response(proxy, parser.status(), parser.proxy_authenticate(), body, diag);
}

/// A request as the Client sends it: its body is a view of the RequestBody's JSON, so there is no
/// copy of it to allocate or wipe, and its header fields live in a memory resource of the
/// caller's (the exchange's arena), not in one heap block per field.
using OutgoingRequest =
    boost::beast::http::request<boost::beast::http::span_body<const char>,
                                boost::beast::http::basic_fields<std::pmr::polymorphic_allocator<char>>>;

/// A request to `target`'s `endpoint`, its header allocated from `memory`. Through a proxy to an
/// http target (`http_proxy` not null), the absolute-form request target and the proxy's
/// Proxy-Authorization; through a tunnel, or directly, the origin form. The credentials are
/// copied into the header; `body` must outlive the request. Send it with async_send_request,
/// which wipes the credentials.
inline OutgoingRequest make_request(const BaseUrl& target, const ProxyEndpoint* http_proxy, Endpoint endpoint,
                                    const RequestBody& body, std::string_view user_agent,
                                    std::pmr::memory_resource& memory) {
    namespace http = boost::beast::http;
    std::pmr::string request_target(&memory);
    if (http_proxy) {
        request_target = "http://";
        request_target += target.host_header;
    }
    request_target += target.path_prefix;
    request_target += path(endpoint);
    const std::string_view json = body.json.reveal();
    OutgoingRequest request(http::verb::post, request_target, 11,
                            boost::beast::span<const char>(json.data(), json.size()),
                            std::pmr::polymorphic_allocator<char>(&memory));
    request.set(http::field::host, target.host_header);
    request.set(http::field::user_agent, user_agent);
    request.set(http::field::content_type, body.content_type);
    request.set(http::field::accept, "application/json");
    if (!body.authorization.empty()) request.set(http::field::authorization, body.authorization.reveal());
    if (http_proxy && !http_proxy->authorization.empty())
        request.set(http::field::proxy_authorization, http_proxy->authorization.reveal());
    request.prepare_payload();
    return request;
}

/// What async_send_request learnt about the connection.
struct ExchangeFlags {
    /// The connection failed before any byte of a response (see is_stale_connection_error).
    bool stale = false;
    /// The response allows the connection to carry another request.
    bool keep_alive = false;
};

/// Writes `request`, wiping its credential headers once written, and reads the
/// response, header and body together within `max_response_size`. A 2xx with a JSON (or no)
/// Content-Type completes with {} and its body in `response`; a non-2xx is classified by
/// classify_error_response (the server's words in diag, `secret` redacted), except a 407 from
/// `http_proxy` (the proxy of an http target, or null), which is classify_connect_response's
/// Error::proxy_authentication_required; a non-JSON 2xx is
/// Error::malformed_response; an oversize response Error::response_too_large; a broken stream
/// its error (Error::timeout for the caller's deadline), with `flags.stale` set when nothing of
/// a response had arrived. `buffer` is the connection's read buffer, kept between requests so
/// that its storage is not allocated anew for each; it is left empty and wiped, and bytes past
/// the response (which no server sends unasked) end the connection's reuse.
template <class Stream>
boost::asio::awaitable<error_code> async_send_request(Stream& stream, OutgoingRequest& request,
                                                      const ProxyEndpoint* http_proxy, ResponseBuffer& buffer,
                                                      Endpoint endpoint, std::size_t max_response_size,
                                                      std::string_view secret, Diagnostics& diag, RawResponse& response,
                                                      ExchangeFlags& flags) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace http = boost::beast::http;
    using transport_detail::normalize;
    flags = ExchangeFlags{};

    response.requested_at = SteadyClock::now();
    auto [write_ec, written] = co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
    transport_detail::wipe_field(request, http::field::authorization);
    transport_detail::wipe_field(request, http::field::proxy_authorization);
    if (write_ec) {
        flags.stale = is_stale_connection_error(write_ec);
        diag.set_message("sending the request failed");
        co_return normalize(write_ec);
    }

    buffer.clear();
    http::response_parser<SecretStringBody> parser;
    const std::size_t limit = max_response_size;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limit, UINT32_MAX)));
    parser.body_limit(limit);
    auto [header_ec, header_size] =
        co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    error_code ec = header_ec;
    std::size_t body_size = 0;
    if (!ec) {
        // Header and body together stay within the limit.
        const std::size_t body_room = header_size < limit ? limit - header_size : 0;
        if (auto length = parser.content_length(); length && *length > body_room) {
            ec = http::error::body_limit;
        } else {
            parser.body_limit(body_room);
            auto [body_ec, body_read] =
                co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            ec = body_ec;
            body_size = body_read;
        }
    }
    const std::size_t leftover = buffer.size();
    // What was committed to the buffer: the bytes parsed and those past the response. After a
    // failed read that count is unknown: the whole storage.
    transport_detail::wipe(buffer, ec ? buffer.capacity() : header_size + body_size + leftover);
    if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow) {
        Secret::wipe(parser.get().body());
        diag.set_message("the response exceeds max_response_size (" + std::to_string(limit) + " bytes)");
        co_return Error::response_too_large;
    }
    if (ec) {
        Secret::wipe(parser.get().body());
        flags.stale = !parser.got_some() && is_stale_connection_error(ec);
        diag.set_message("reading the response failed");
        co_return normalize(ec);
    }

    http::response<SecretStringBody> message = parser.release();
    flags.keep_alive = message.keep_alive() && leftover == 0;
    const unsigned status = message.result_int();
    diag.set_http_status(status);
    if (status == 407 && http_proxy) {
        // The proxy itself refused the request: the same error as a 407 to CONNECT.
        ec = classify_connect_response(*http_proxy, status, message[http::field::proxy_authenticate], message.body(),
                                       diag);
        Secret::wipe(message.body());
        co_return ec;
    }
    if (status < 200 || status > 299) {
        ec = classify_error_response(endpoint, status, message.body(), message[http::field::retry_after],
                                     std::chrono::system_clock::now(), diag, secret);
        Secret::wipe(message.body());
        co_return ec;
    }
    if (auto type = message[http::field::content_type]; !type.empty() && !is_json_content_type(type)) {
        Secret::wipe(message.body());
        diag.set_field("Content-Type");
        diag.set_message("expected application/json");
        co_return Error::malformed_response;
    }
    response.body = Secret(std::move(message.body()));
    co_return error_code{};
}

}  // namespace alation::auth::detail

#endif
