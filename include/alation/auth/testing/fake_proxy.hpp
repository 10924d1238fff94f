// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_FAKE_PROXY_HPP
#define ALATION_AUTH_TESTING_FAKE_PROXY_HPP

#include <alation/auth/detail/config.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace alation::auth::testing {

struct FakeProxyOptions {
    /// When `username` is not empty, every request must carry `Proxy-Authorization: Basic` with
    /// these credentials, or gets 407 with `Proxy-Authenticate: Basic realm="fake-proxy"`.
    std::string username;
    std::string password;
    /// The port to listen on (127.0.0.1); 0 picks a free one.
    unsigned short port = 0;
    /// A connection that sends nothing for this long outside a tunnel is closed; so is a target
    /// that does not accept within it. Tunnels themselves never time out.
    std::chrono::milliseconds idle_timeout{30'000};
};

/// What the proxy does instead of its normal answer to one request (CONNECT or forwarded).
///
/// `respond`, `reset`, `stall` and `garbage` replace the request: the target is never contacted.
/// The `established_*` kinds open the tunnel, with a 200 head a client must cope with.
struct ProxyFault {
    enum class Kind {
        /// `status` with `body` (empty: an HTML error page, as proxies send), then close. 407 adds
        /// `Proxy-Authenticate`. Examples: 403 (a policy refuses the target), 502 (target unreachable).
        respond,
        /// Read the request, then close with a TCP reset (SO_LINGER 0) instead of answering.
        reset,
        /// Read the request, then keep the connection open and silent until stop() or the client
        /// closes it.
        stall,
        /// Answer bytes that are not HTTP (an SSH banner), then close.
        garbage,
        /// A 200 whose head says `Content-Length: size`, followed by no body: the client must
        /// ignore the header (RFC 9110 §9.3.6) and start TLS.
        established_with_content_length,
        /// A 200 whose head says `Transfer-Encoding: chunked`, which the client must ignore too.
        established_chunked,
        /// A 200 followed, in the same write, by `size` bytes that are not TLS, then the tunnel. A
        /// real proxy cannot produce them (they would be the target's first bytes): a client that
        /// hands them to TLS fails the handshake; one that drops them would wrongly succeed.
        established_then_garbage,
    };
    Kind kind = Kind::respond;
    unsigned status = 502;
    /// For `respond`: the body, instead of the HTML error page.
    std::string body;
    /// For `respond`: overrides the Content-Type (text/html).
    std::string content_type;
    /// Writes the answer's head (and body) in pieces of this many bytes, `pace` apart, so the
    /// client receives it over many reads; 0 writes it at once. Applies to every kind that answers.
    std::size_t piece_size = 0;
    std::chrono::milliseconds pace{1};
    /// The Content-Length of established_with_content_length; the garbage of established_then_garbage.
    std::size_t size = 64;
};

namespace detail {
class FakeProxyImpl;
}

/// An HTTP/1.1 forward proxy for tests, on 127.0.0.1: it tunnels `CONNECT host:port` to the target
/// and forwards absolute-form `http://` requests (keep-alive on both sides), optionally requires
/// Basic credentials, counts what it sees, records every byte it sees outside tunnels (so a test
/// can assert that no secret crossed it in clear), and injects ProxyFaults.
///
/// Thread-safe like FakeAlation: it may serve on a multi-threaded executor (each connection has
/// its own strand), and every member function may be called from any thread while it serves.
class FakeProxy {
public:
    /// Listens on 127.0.0.1 (options.port, 0 for any free one) at once and serves on `executor`.
    ALATION_AUTH_DECL explicit FakeProxy(boost::asio::any_io_executor executor, FakeProxyOptions options = {});
    /// Stops (see stop()). Pending operations keep the internals alive until they complete.
    ALATION_AUTH_DECL ~FakeProxy();
    FakeProxy(const FakeProxy&) = delete;
    FakeProxy& operator=(const FakeProxy&) = delete;

    /// Closes the acceptor and every connection (tunnels and stalled ones included). Idempotent.
    /// The closing runs on the executor, so it takes effect when the executor next runs.
    ALATION_AUTH_DECL void stop();

    /// "http://127.0.0.1:PORT", without credentials.
    [[nodiscard]] ALATION_AUTH_DECL std::string url() const;
    /// "http://USERNAME:PASSWORD@127.0.0.1:PORT" with the options' credentials percent-encoded
    /// (url() when there are none): what ClientOptions::proxy takes.
    [[nodiscard]] ALATION_AUTH_DECL std::string url_with_credentials() const;
    [[nodiscard]] ALATION_AUTH_DECL unsigned short port() const;

    /// The next `times` requests (CONNECT or forwarded, on any connection) get `fault` instead of
    /// the normal answer, in FIFO order. Faults come before the credential check.
    ALATION_AUTH_DECL void inject(ProxyFault fault, int times = 1);
    ALATION_AUTH_DECL void clear_faults();

    [[nodiscard]] ALATION_AUTH_DECL std::size_t connections_accepted() const;
    /// CONNECT requests received, whatever their outcome.
    [[nodiscard]] ALATION_AUTH_DECL std::size_t connects() const;
    /// Absolute-form requests received, whatever their outcome.
    [[nodiscard]] ALATION_AUTH_DECL std::size_t forwarded_requests() const;
    /// Tunnels opened (a 2xx sent to a CONNECT).
    [[nodiscard]] ALATION_AUTH_DECL std::size_t tunnels() const;
    /// 407 answers sent for missing or wrong credentials.
    [[nodiscard]] ALATION_AUTH_DECL std::size_t authentication_failures() const;

    /// Every byte the proxy received from clients and sent to them outside tunnels, in order per
    /// connection: request heads and bodies, the proxy's own answers, forwarded responses.
    [[nodiscard]] ALATION_AUTH_DECL std::string recorded() const;

private:
    std::shared_ptr<detail::FakeProxyImpl> impl_;
};

}  // namespace alation::auth::testing

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/testing/impl/fake_proxy.ipp>
#endif

#endif
