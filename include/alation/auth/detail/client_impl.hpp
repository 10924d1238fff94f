// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_CLIENT_IMPL_HPP
#define ALATION_AUTH_DETAIL_CLIENT_IMPL_HPP

#include <alation/auth/client_options.hpp>
#include <alation/auth/detail/adapted_handler.hpp>
#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/detail/transport_types.hpp>
#include <alation/auth/detail/url.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>
#include <alation/auth/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace alation::auth::detail {

using ExchangeHandler = boost::asio::any_completion_handler<void(error_code, RawResponse)>;
using ConnectHandler = boost::asio::any_completion_handler<void(error_code)>;

class Connection;

/// The transport behind Client: URL, TLS context, a pool of kept-alive connections, and the
/// request/retry loop. Non-template, so that it is compiled once.
class ClientImpl : public std::enable_shared_from_this<ClientImpl> {
public:
    using executor_type = boost::asio::any_io_executor;

    /// Chooses the route: the proxy of ClientOptions::proxy or, when proxy_from_environment, of
    /// the process environment (detail::choose_proxy). Throws ErrorWithDiagnostics: invalid_url
    /// or insecure_url for the URL, invalid_url for a proxy URL that does not parse (never a
    /// direct connection instead), or the TLS library's error when ca_file or ca_dir cannot be
    /// loaded.
    ALATION_AUTH_DECL static std::shared_ptr<ClientImpl> create(executor_type executor, std::string_view base_url,
                                                                ClientOptions options);
    ALATION_AUTH_DECL ~ClientImpl();
    ClientImpl(const ClientImpl&) = delete;
    ClientImpl& operator=(const ClientImpl&) = delete;

    [[nodiscard]] executor_type get_executor() const noexcept { return executor_; }
    [[nodiscard]] const ClientOptions& options() const noexcept { return options_; }
    [[nodiscard]] const BaseUrl& base_url() const noexcept { return route_.target; }
    /// The target and the proxy (if any) every request goes through.
    [[nodiscard]] const Route& route() const noexcept { return route_; }
    [[nodiscard]] const std::shared_ptr<boost::asio::ssl::context>& ssl_context() const noexcept {
        return ssl_context_;
    }

    ALATION_AUTH_DECL void close_idle_connections();

    /// Sends `body` to `endpoint`, with retries, and completes with the 2xx body; any other
    /// outcome is an error described in `diag`, which must outlive the operation. Completes on
    /// the handler's associated executor (default: the client's), never inside this call;
    /// `handler_executor` is that executor (completion_executor_of), or empty to ask `handler`.
    /// Per-operation cancellation of any type ends it with operation_aborted.
    ALATION_AUTH_DECL void async_exchange(Endpoint endpoint, RequestBody body, Diagnostics& diag,
                                          executor_type handler_executor, ExchangeHandler handler);

    /// Connects `socket` to the target for the caller's own requests, by the route: directly, or
    /// through the proxy's CONNECT tunnel (for http targets too). No TLS, no retries; bounded by
    /// connect_timeout; `diag` must outlive the operation. Completes as async_exchange does.
    ALATION_AUTH_DECL void async_connect(boost::asio::ip::tcp::socket& socket, Diagnostics& diag,
                                         executor_type handler_executor, ConnectHandler handler);

private:
    // The request/retry coroutine (client_impl.ipp).
    friend class Exchange;

    // A kept-alive connection of this client's route, or null.
    ALATION_AUTH_DECL std::unique_ptr<Connection> take_idle_connection();
    ALATION_AUTH_DECL void return_connection(std::unique_ptr<Connection> connection);
    ALATION_AUTH_DECL std::unique_ptr<Connection> new_connection();
    // A uniform draw in [0, 1) for the backoff's jitter.
    ALATION_AUTH_DECL double random_draw();
    // The strand a call runs on, taken in turn from call_strands_.
    ALATION_AUTH_DECL const executor_type& next_call_strand() noexcept;

    ALATION_AUTH_DECL ClientImpl(executor_type executor, Route route, ClientOptions options);

    executor_type executor_;
    Route route_;
    ClientOptions options_;
    // The context TLS connections use: options_.ssl_context, or one of our own. Null for http.
    std::shared_ptr<boost::asio::ssl::context> ssl_context_;

    std::mutex pool_mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;

    std::mutex random_mutex_;
    std::mt19937_64 random_;

    // Made once: a strand made per call would cost two allocations. Calls that share one only
    // take turns on the CPU; their I/O still overlaps.
    std::vector<executor_type> call_strands_;
    std::atomic<std::size_t> next_strand_{0};
};

/// The executor `handler` completes on, as an any_io_executor, or empty when it cannot be one.
/// Taken here, where the handler's type is known: once type-erased, the handler reports it as an
/// any_completion_executor, which co_spawn would convert three times per call, each conversion
/// wrapping the any_io_executor in a new heap allocation.
template <class Handler>
boost::asio::any_io_executor completion_executor_of(const Handler& handler,
                                                    const boost::asio::any_io_executor& fallback) {
    using Executor = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
    if constexpr (std::is_convertible_v<Executor, boost::asio::any_io_executor>)
        return boost::asio::get_associated_executor(handler, fallback);
    else
        return {};
}

/// Turns the raw 2xx body into `Result` and completes the caller's handler with it.
template <class Result>
struct ParseResult {
    // The caller's Diagnostics, or this one when it gave none; heap-allocated so the address the
    // exchange writes to stays put while the handler moves.
    std::unique_ptr<Diagnostics> owned;
    Diagnostics* diag;
    Endpoint endpoint;

    template <class Handler>
    void operator()(Handler&& handler, error_code ec, RawResponse response) {
        Result result{};
        if (!ec) {
            ec = parse_result(endpoint, response.body.reveal(), result, *diag);
            if constexpr (std::is_base_of_v<TokenTimes, Result>) result.requested_at = response.requested_at;
        }
        // On error the caller gets an empty Result, never a half-parsed one.
        if (ec) result = Result{};
        response.body.clear();
        std::forward<Handler>(handler)(ec, std::move(result));
    }
};

/// Keeps a Diagnostics the caller did not give alive until the operation completes.
struct OwnDiagnostics {
    std::unique_ptr<Diagnostics> owned;

    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args) {
        std::forward<Handler>(handler)(std::forward<Args>(args)...);
    }
};

/// The initiation of Client::connect: `(handler, Diagnostics* or null, socket)`.
struct ConnectInitiation {
    std::shared_ptr<ClientImpl> impl;

    using executor_type = boost::asio::any_io_executor;
    [[nodiscard]] executor_type get_executor() const noexcept { return impl->get_executor(); }

    template <class Handler>
    void operator()(Handler&& handler, Diagnostics* diag, boost::asio::ip::tcp::socket* socket) const {
        diag = diagnostics_for(handler, diag);
        std::unique_ptr<Diagnostics> owned = diag ? nullptr : std::make_unique<Diagnostics>();
        Diagnostics& target = diag ? *diag : *owned;
        auto executor = completion_executor_of(handler, impl->get_executor());
        impl->async_connect(*socket, target, std::move(executor),
                            adapt_handler(std::forward<Handler>(handler), OwnDiagnostics{std::move(owned)}));
    }
};

/// The initiation behind every Client call: `(handler, Diagnostics* or null, endpoint, body)`.
template <class Result>
struct CallInitiation {
    std::shared_ptr<ClientImpl> impl;

    using executor_type = boost::asio::any_io_executor;
    [[nodiscard]] executor_type get_executor() const noexcept { return impl->get_executor(); }

    template <class Handler>
    void operator()(Handler&& handler, Diagnostics* diag, Endpoint endpoint, RequestBody&& body,
                    std::string_view problem) const {
        diag = diagnostics_for(handler, diag);
        std::unique_ptr<Diagnostics> owned = diag ? nullptr : std::make_unique<Diagnostics>();
        Diagnostics* target = diag ? diag : owned.get();
        auto parsing =
            adapt_handler(std::forward<Handler>(handler), ParseResult<Result>{std::move(owned), target, endpoint});
        if (!problem.empty()) {
            // A caller's mistake: no request, and the completion still never runs inline.
            target->clear();
            target->set_message(std::string(problem));
            auto executor = boost::asio::get_associated_executor(parsing, impl->get_executor());
            boost::asio::post(
                std::move(executor),
                boost::asio::append(std::move(parsing), make_error_code(Error::invalid_argument), RawResponse{}));
            return;
        }
        auto executor = completion_executor_of(parsing, impl->get_executor());
        impl->async_exchange(endpoint, std::move(body), *target, std::move(executor), std::move(parsing));
    }
};

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/client_impl.ipp>
#endif

#endif
