// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_CONNECT_HPP
#define ALATION_AUTH_DETAIL_CONNECT_HPP

// Connection establishment as one layer: resolve -> TCP -> optional proxy CONNECT -> optional
// TLS, all within connect_timeout, cancelled with the operation. A proxy is a step here, not
// branches through the exchange. Private to the library: included by client_impl.ipp only.

#include <alation/auth/client_options.hpp>
#include <alation/auth/detail/proxy.hpp>
#include <alation/auth/detail/tls_peer.hpp>
#include <alation/auth/detail/transport.hpp>
#include <alation/auth/detail/transport_types.hpp>
#include <alation/auth/detail/url.hpp>
#include <alation/auth/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#if !defined(_WIN32)
#include <sys/socket.h>
#endif

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace alation::auth::detail {

/// One kept-alive connection to the server (or, through a proxy, to the proxy, tunnelled for
/// https), plain or TLS.
class Connection {
public:
    using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

    Connection(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls, std::string route_key)
        : stream_(make_stream(executor, tls)), route_key_(std::move(route_key)) {}

    boost::beast::tcp_stream& tcp() noexcept {
        if (auto* plain = std::get_if<boost::beast::tcp_stream>(&stream_)) return *plain;
        return boost::beast::get_lowest_layer(*tls());
    }
    TlsStream* tls() noexcept { return std::get_if<TlsStream>(&stream_); }
    /// Kept between requests: one allocation per connection, not one per call.
    ResponseBuffer& read_buffer() noexcept { return read_buffer_; }
    [[nodiscard]] const std::string& route_key() const noexcept { return route_key_; }

    template <class F>
    decltype(auto) visit(F&& f) {
        return std::visit(std::forward<F>(f), stream_);
    }

    /// Whether an idle connection can carry a request: the server has not closed it and sent
    /// nothing unasked. A non-blocking peek: EOF or any pending byte (a late error page, a TLS
    /// alert) means no.
    bool usable_when_idle() noexcept {
        auto& socket = tcp().socket();
#if defined(MSG_DONTWAIT)
        // One system call; switching the socket to non-blocking and back would cost two more.
        char byte;
        const auto received = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
#else
        error_code ec;
        socket.non_blocking(true, ec);
        if (ec) return false;
        char byte;
        socket.receive(boost::asio::buffer(&byte, 1), boost::asio::socket_base::message_peek, ec);
        error_code ignored;
        socket.non_blocking(false, ignored);
        return ec == boost::asio::error::would_block;
#endif
    }

private:
    using Stream = std::variant<boost::beast::tcp_stream, TlsStream>;

    static Stream make_stream(const boost::asio::any_io_executor& executor, boost::asio::ssl::context* tls) {
        if (tls) return Stream(std::in_place_type<TlsStream>, executor, *tls);
        return Stream(std::in_place_type<boost::beast::tcp_stream>, executor);
    }

    Stream stream_;
    ResponseBuffer read_buffer_;
    std::string route_key_;
};

/// SNI and certificate verification for the target host (never the proxy's).
inline error_code configure_tls(Connection::TlsStream& tls, const BaseUrl& target, bool verify_peer) {
    SSL* ssl = tls.native_handle();
    auto openssl_error = [] {
        return error_code(static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category());
    };
    if (!send_server_name(ssl, target.host, target.host_is_ip)) return openssl_error();
    if (verify_peer) {
        SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
        if (!expect_peer_name(ssl, target.host, target.host_is_ip)) return openssl_error();
    } else {
        SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
    }
    return {};
}

/// When a connection through a proxy opens a CONNECT tunnel.
enum class Tunnel {
    /// For https targets; http goes as absolute-form requests to the proxy (the Client's own).
    for_https,
    /// Always: a caller's own connection (Client::connect), whose requests are not absolute-form.
    always,
};

/// Makes `connection` ready to carry requests on `route`: resolves and connects to the target,
/// or to the proxy; through a proxy to an https target, opens the CONNECT tunnel; for https,
/// the TLS handshake with the target. All within options.connect_timeout (Error::timeout when it
/// runs out); the coroutine's cancellation ends it with operation_aborted. diag.message() says
/// which step failed, naming a proxy by its display form.
inline boost::asio::awaitable<error_code> async_establish(Connection& connection, const Route& route,
                                                          const ClientOptions& options, Diagnostics& diag,
                                                          Tunnel tunnel = Tunnel::for_https) {
    namespace asio = boost::asio;
    using namespace asio::experimental::awaitable_operators;
    using transport_detail::normalize;
    const auto deadline = SteadyClock::now() + options.connect_timeout;
    const auto executor = co_await asio::this_coro::executor;
    const auto cancellation = co_await asio::this_coro::cancellation_state;
    const std::string peer = route.proxy ? "the proxy " + route.proxy->display : std::string("the server");
    const std::string& host = route.proxy ? route.proxy->host : route.target.host;
    const std::string& port = route.proxy ? route.proxy->port : route.target.port;

    asio::ip::tcp::resolver resolver(executor);
    asio::steady_timer timer(executor, deadline);
    auto resolved = co_await (resolver.async_resolve(host, port, asio::as_tuple(asio::use_awaitable)) ||
                              timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (resolved.index() == 1) {
        diag.set_message(route.proxy ? "resolving " + peer + " timed out" : "resolving the host timed out");
        co_return cancellation.cancelled() != asio::cancellation_type::none ? error_code(asio::error::operation_aborted)
                                                                            : error_code(Error::timeout);
    }
    auto [resolve_ec, endpoints] = std::get<0>(std::move(resolved));
    if (resolve_ec) {
        diag.set_message(route.proxy ? "cannot resolve " + peer : "cannot resolve the host");
        co_return resolve_ec;
    }

    boost::beast::tcp_stream& tcp = connection.tcp();
    tcp.expires_at(deadline);
    auto [connect_ec, endpoint] = co_await tcp.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    if (connect_ec) {
        diag.set_message("cannot connect to " + peer);
        co_return normalize(connect_ec);
    }
    // No TCP_NODELAY: each request goes out in one write (Beast sends header and body
    // together; beast::ssl_stream coalesces them into one TLS record), so Nagle never holds
    // any of it back, and on loopback TCP_NODELAY doubled the client's CPU per TLS call
    // (BENCHMARKS.md).

    if (route.proxy && (tunnel == Tunnel::always || route.tunnelled())) {
        // Only the CONNECT head crosses to the proxy in clear; the request, its credentials
        // and tokens go inside the TLS session with the target.
        if (error_code ec = co_await async_open_tunnel(tcp, route.target, *route.proxy, options.user_agent, diag))
            co_return ec;
    }

    if (auto* tls = connection.tls()) {
        if (error_code ec = configure_tls(*tls, route.target, options.verify_peer)) {
            diag.set_message("cannot configure the TLS connection");
            co_return ec;
        }
        auto [handshake_ec] =
            co_await tls->async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
        if (handshake_ec) {
            diag.set_message(route.proxy ? "TLS handshake failed (through " + peer + ")" : "TLS handshake failed");
            co_return normalize(handshake_ec);
        }
    }
    tcp.expires_never();
    co_return error_code{};
}

}  // namespace alation::auth::detail

#endif
