// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_CLIENT_IMPL_IPP
#define ALATION_AUTH_DETAIL_IMPL_CLIENT_IMPL_IPP

#include <alation/auth/detail/backoff.hpp>
#include <alation/auth/detail/client_impl.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#if !defined(_WIN32)
#include <sys/socket.h>
#endif

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <variant>

namespace alation::auth::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

/// One kept-alive connection to the server, plain or TLS.
class Connection {
public:
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;

    Connection(const asio::any_io_executor& executor, asio::ssl::context* tls) : stream_(make_stream(executor, tls)) {}

    beast::tcp_stream& tcp() noexcept {
        if (auto* plain = std::get_if<beast::tcp_stream>(&stream_)) return *plain;
        return beast::get_lowest_layer(*tls());
    }
    TlsStream* tls() noexcept { return std::get_if<TlsStream>(&stream_); }

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
        socket.receive(asio::buffer(&byte, 1), asio::socket_base::message_peek, ec);
        error_code ignored;
        socket.non_blocking(false, ignored);
        return ec == asio::error::would_block;
#endif
    }

private:
    using Stream = std::variant<beast::tcp_stream, TlsStream>;

    static Stream make_stream(const asio::any_io_executor& executor, asio::ssl::context* tls) {
        if (tls) return Stream(std::in_place_type<TlsStream>, executor, *tls);
        return Stream(std::in_place_type<beast::tcp_stream>, executor);
    }

    Stream stream_;
};

/// What the exchange coroutine hands to co_spawn's completion.
struct ExchangeOutcome {
    error_code ec;
    RawResponse response;
};

/// co_spawn's completion handler: completes the caller's handler, on the caller's associated
/// executor, with the caller's allocator. The caller's cancellation slot is re-emitted here as
/// terminal cancellation, whatever its type: Beast's composed operations honour only terminal,
/// and for this operation every type means the same (end the call, drop the connection).
class ExchangeCompletion {
public:
    explicit ExchangeCompletion(ExchangeHandler handler) : handler_(std::move(handler)) {
        caller_slot_ = handler_.get_cancellation_slot();
        if (caller_slot_.is_connected()) {
            signal_ = std::make_unique<asio::cancellation_signal>();
            caller_slot_.assign([signal = signal_.get()](asio::cancellation_type type) {
                if (type != asio::cancellation_type::none) signal->emit(asio::cancellation_type::terminal);
            });
        }
    }
    ExchangeCompletion(ExchangeCompletion&&) = default;

    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
        return signal_ ? signal_->slot() : asio::cancellation_slot();
    }
    using allocator_type = ExchangeHandler::allocator_type;
    allocator_type get_allocator() const noexcept { return handler_.get_allocator(); }
    const ExchangeHandler& handler() const noexcept { return handler_; }

    void operator()(const std::exception_ptr& ex, ExchangeOutcome outcome) {
        // Detach from the caller's slot before the caller may reuse it.
        if (caller_slot_.is_connected()) caller_slot_.clear();
        if (ex) std::rethrow_exception(ex);
        std::move(handler_)(outcome.ec, std::move(outcome.response));
    }

private:
    ExchangeHandler handler_;
    asio::cancellation_slot caller_slot_;
    std::unique_ptr<asio::cancellation_signal> signal_;
};

}  // namespace alation::auth::detail

template <class Candidate>
struct boost::asio::associated_executor<alation::auth::detail::ExchangeCompletion, Candidate> {
    using type = boost::asio::associated_executor_t<alation::auth::detail::ExchangeHandler, Candidate>;
    static type get(const alation::auth::detail::ExchangeCompletion& h, const Candidate& c = Candidate()) noexcept {
        return boost::asio::get_associated_executor(h.handler(), c);
    }
};

namespace alation::auth::detail {

namespace client_detail {

inline bool is_json_content_type(std::string_view value) {
    auto end = value.find(';');
    std::string_view media = value.substr(0, end);
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
    auto iequals = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    };
    // application/json, or a structured +json type such as application/problem+json.
    return iequals(media, "application/json") || (media.size() > 5 && iequals(media.substr(media.size() - 5), "+json"));
}

// Overwrites the bytes a flat_buffer ever held (a response body holds tokens).
inline void wipe(beast::flat_buffer& buffer) {
    buffer.clear();
    auto storage = buffer.prepare(buffer.capacity());
    OPENSSL_cleanse(storage.data(), storage.size());
}

// Removes the secret we sent from anything the server may have echoed into diag.
inline void redact_diagnostics(Diagnostics& diag, std::string_view secret) {
    auto scrub = [secret](const std::string& in) {
        std::string out = in;
        redact(out, secret);
        return out;
    };
    diag.set_server_detail(scrub(diag.server_detail()));
    diag.set_server_code(scrub(diag.server_code()));
    diag.set_field(scrub(diag.field()));
    diag.set_message(scrub(diag.message()));
}

inline error_code normalize(error_code ec) {
    if (ec == beast::error::timeout) return Error::timeout;
    return ec;
}

// The connection broke before the server said anything: what happens when the server closed an
// idle kept-alive connection just as we reused it.
inline bool is_stale_connection_error(error_code ec) {
    return ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

}  // namespace client_detail

/// One call: attempts, each on a pooled or new connection, with the backoff between them.
class Exchange {
public:
    Exchange(std::shared_ptr<ClientImpl> client, Endpoint endpoint, RequestBody body, Diagnostics& diag)
        : client_(std::move(client)), endpoint_(endpoint), body_(std::move(body)), diag_(diag) {}

    asio::awaitable<ExchangeOutcome> run() {
        ExchangeOutcome outcome;
        try {
            co_await asio::this_coro::throw_if_cancelled(false);
            cancellation_ = co_await asio::this_coro::cancellation_state;
            outcome = co_await retry_loop();
        } catch (const boost::system::system_error& e) {
            outcome.ec = e.code();
        }
        if (outcome.ec && cancelled()) outcome.ec = asio::error::operation_aborted;
        if (outcome.ec) outcome.response = {};
        client_detail::redact_diagnostics(diag_, body_.secret.reveal());
        co_return outcome;
    }

private:
    struct Attempt {
        error_code ec;
        // A connection was made, so the request may have reached the server.
        bool reached_server = false;
        RawResponse response;
    };

    bool cancelled() const { return cancellation_.cancelled() != asio::cancellation_type::none; }

    asio::awaitable<ExchangeOutcome> retry_loop() {
        const RetryPolicy& policy = client_->options().retry;
        const auto start = SteadyClock::now();
        asio::steady_timer timer(client_->get_executor());
        for (int attempt = 0;; ++attempt) {
            diag_.clear();
            Attempt result = co_await attempt_once();
            if (!result.ec || cancelled()) co_return ExchangeOutcome{result.ec, std::move(result.response)};
            if (attempt + 1 >= policy.max_attempts ||
                !is_retryable(endpoint_, result.ec, diag_.http_status(), result.reached_server))
                co_return ExchangeOutcome{result.ec, {}};
            auto delay = backoff_delay(policy, attempt, client_->random_draw(), diag_.retry_after());
            if (!delay || SteadyClock::now() - start + *delay >= policy.total_budget)
                co_return ExchangeOutcome{result.ec, {}};
            timer.expires_after(*delay);
            auto [wait_ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (wait_ec) co_return ExchangeOutcome{wait_ec, {}};
        }
    }

    // One attempt. A reused connection the server had closed is replaced once by a fresh one,
    // without counting as an attempt (never for createRefreshToken: its request may have been
    // acted on).
    asio::awaitable<Attempt> attempt_once() {
        Attempt result;
        std::unique_ptr<Connection> connection = client_->take_idle_connection();
        const bool reused = connection != nullptr;
        if (!connection) {
            connection = client_->new_connection();
            result.ec = co_await connect(*connection);
            if (result.ec) co_return result;
        }
        result.reached_server = true;
        bool stale = false;
        bool keep_alive = false;
        result.ec = co_await send_and_receive(*connection, result.response, stale, keep_alive);
        if (result.ec && reused && stale && endpoint_ != Endpoint::create_refresh_token && !cancelled()) {
            diag_.clear();
            connection = client_->new_connection();
            result.ec = co_await connect(*connection);
            if (result.ec) co_return result;
            result.ec = co_await send_and_receive(*connection, result.response, stale, keep_alive);
        }
        if (keep_alive && !cancelled()) client_->return_connection(std::move(connection));
        co_return result;
    }

    // Resolves, connects and (for https) handshakes, all within connect_timeout.
    asio::awaitable<error_code> connect(Connection& connection) {
        using namespace asio::experimental::awaitable_operators;
        const BaseUrl& url = client_->base_url();
        const auto deadline = SteadyClock::now() + client_->options().connect_timeout;

        asio::ip::tcp::resolver resolver(client_->get_executor());
        asio::steady_timer timer(client_->get_executor(), deadline);
        auto resolved = co_await (resolver.async_resolve(url.host, url.port, asio::as_tuple(asio::use_awaitable)) ||
                                  timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (resolved.index() == 1) {
            diag_.set_message("resolving the host timed out");
            co_return cancelled() ? error_code(asio::error::operation_aborted) : error_code(Error::timeout);
        }
        auto [resolve_ec, endpoints] = std::get<0>(std::move(resolved));
        if (resolve_ec) {
            diag_.set_message("cannot resolve the host");
            co_return resolve_ec;
        }

        beast::tcp_stream& tcp = connection.tcp();
        tcp.expires_at(deadline);
        auto [connect_ec, endpoint] = co_await tcp.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
        if (connect_ec) {
            diag_.set_message("cannot connect to the server");
            co_return client_detail::normalize(connect_ec);
        }
        // No TCP_NODELAY: each request goes out in one write (Beast sends header and body
        // together; beast::ssl_stream coalesces them into one TLS record), so Nagle never holds
        // any of it back, and on loopback TCP_NODELAY doubled the client's CPU per TLS call
        // (BENCHMARKS.md).

        if (auto* tls = connection.tls()) {
            if (error_code ec = configure_tls(*tls)) {
                diag_.set_message("cannot configure the TLS connection");
                co_return ec;
            }
            auto [handshake_ec] =
                co_await tls->async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
            if (handshake_ec) {
                diag_.set_message("TLS handshake failed");
                co_return client_detail::normalize(handshake_ec);
            }
        }
        tcp.expires_never();
        co_return error_code{};
    }

    error_code configure_tls(Connection::TlsStream& tls) {
        const BaseUrl& url = client_->base_url();
        SSL* ssl = tls.native_handle();
        auto openssl_error = [] {
            return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        };
        // SNI names hosts, never addresses (RFC 6066).
        if (!url.host_is_ip && SSL_set_tlsext_host_name(ssl, url.host.c_str()) != 1) return openssl_error();
        if (client_->options().verify_peer) {
            SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
            // OpenSSL checks the name during chain verification, so a mismatch fails the
            // handshake as "certificate verify failed" like any other bad certificate.
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            const int ok = url.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                                          : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), url.host.size());
            if (ok != 1) return openssl_error();
        } else {
            SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
        }
        return {};
    }

    // Writes the request and reads the response within request_timeout. Sets `stale` when the
    // connection failed before any byte of a response, `keep_alive` when it can be reused.
    asio::awaitable<error_code> send_and_receive(Connection& connection, RawResponse& response, bool& stale,
                                                 bool& keep_alive) {
        const ClientOptions& options = client_->options();
        const BaseUrl& url = client_->base_url();
        stale = false;
        keep_alive = false;

        http::request<http::string_body> request{http::verb::post, url.path_prefix + std::string(path(endpoint_)), 11};
        request.set(http::field::host, url.host_header);
        request.set(http::field::user_agent, options.user_agent);
        request.set(http::field::content_type, body_.content_type);
        request.set(http::field::accept, "application/json");
        if (!body_.authorization.empty()) request.set(http::field::authorization, body_.authorization.reveal());
        request.body().assign(body_.json.reveal());
        request.prepare_payload();

        connection.tcp().expires_after(options.request_timeout);
        response.requested_at = SteadyClock::now();
        auto [write_ec, written] = co_await connection.visit(
            [&](auto& stream) { return http::async_write(stream, request, asio::as_tuple(asio::use_awaitable)); });
        Secret::wipe(request.body());
        if (auto it = request.find(http::field::authorization); it != request.end()) {
            // The header holds client credentials; Beast frees its fields without wiping them.
            const auto value = it->value();
            OPENSSL_cleanse(const_cast<char*>(value.data()), value.size());
        }
        if (write_ec) {
            stale = client_detail::is_stale_connection_error(write_ec);
            diag_.set_message("sending the request failed");
            co_return client_detail::normalize(write_ec);
        }

        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        const std::size_t limit = options.max_response_size;
        parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limit, UINT32_MAX)));
        parser.body_limit(limit);
        auto [header_ec, header_size] = co_await connection.visit([&](auto& stream) {
            return http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        });
        error_code ec = header_ec;
        if (!ec) {
            // Header and body together stay within the limit.
            const std::size_t body_room = header_size < limit ? limit - header_size : 0;
            if (auto length = parser.content_length(); length && *length > body_room) {
                ec = http::error::body_limit;
            } else {
                parser.body_limit(body_room);
                if (length) parser.get().body().reserve(static_cast<std::size_t>(*length));
                auto [body_ec, body_size] = co_await connection.visit([&](auto& stream) {
                    return http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
                });
                ec = body_ec;
            }
        }
        client_detail::wipe(buffer);
        if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow) {
            diag_.set_message("the response exceeds max_response_size (" + std::to_string(limit) + " bytes)");
            co_return Error::response_too_large;
        }
        if (ec) {
            stale = !parser.got_some() && client_detail::is_stale_connection_error(ec);
            diag_.set_message("reading the response failed");
            co_return client_detail::normalize(ec);
        }
        connection.tcp().expires_never();

        http::response<http::string_body> message = parser.release();
        keep_alive = message.keep_alive();
        const unsigned status = message.result_int();
        diag_.set_http_status(status);
        if (status < 200 || status > 299) {
            ec = classify_error_response(endpoint_, status, message.body(), message[http::field::retry_after],
                                         std::chrono::system_clock::now(), diag_, body_.secret.reveal());
            Secret::wipe(message.body());
            co_return ec;
        }
        if (auto type = message[http::field::content_type];
            !type.empty() && !client_detail::is_json_content_type(type)) {
            Secret::wipe(message.body());
            diag_.set_field("Content-Type");
            diag_.set_message("expected application/json");
            co_return Error::malformed_response;
        }
        response.body = Secret(std::move(message.body()));
        co_return error_code{};
    }

    std::shared_ptr<ClientImpl> client_;
    Endpoint endpoint_;
    RequestBody body_;
    Diagnostics& diag_;
    asio::cancellation_state cancellation_;
};

ALATION_AUTH_DECL std::shared_ptr<ClientImpl> ClientImpl::create(executor_type executor, std::string_view base_url,
                                                                 ClientOptions options) {
    Diagnostics diag;
    BaseUrl url;
    if (error_code ec = parse_base_url(base_url, options.allow_insecure_http, url, diag))
        throw ErrorWithDiagnostics(ec, std::move(diag));
    return std::shared_ptr<ClientImpl>(new ClientImpl(std::move(executor), std::move(url), std::move(options)));
}

ALATION_AUTH_DECL ClientImpl::ClientImpl(executor_type executor, BaseUrl url, ClientOptions options)
    : executor_(std::move(executor)), url_(std::move(url)), options_(std::move(options)) {
    {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device()};
        random_.seed(seed);
    }
    if (!url_.tls) return;
    if (options_.ssl_context) {
        ssl_context_ = options_.ssl_context;
        return;
    }
    ssl_context_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ssl_context_->native_handle(), TLS1_2_VERSION);
    auto load = [](std::string_view what, auto&& step) {
        try {
            step();
        } catch (const boost::system::system_error& e) {
            Diagnostics diag;
            diag.set_message(std::string(what));
            throw ErrorWithDiagnostics(e.code(), std::move(diag));
        }
    };
    load("cannot load the system's trusted CAs", [&] { ssl_context_->set_default_verify_paths(); });
    if (!options_.ca_file.empty())
        load("cannot load ClientOptions::ca_file " + options_.ca_file,
             [&] { ssl_context_->load_verify_file(options_.ca_file); });
    if (!options_.ca_dir.empty())
        load("cannot use ClientOptions::ca_dir " + options_.ca_dir,
             [&] { ssl_context_->add_verify_path(options_.ca_dir); });
}

ALATION_AUTH_DECL ClientImpl::~ClientImpl() = default;

ALATION_AUTH_DECL void ClientImpl::close_idle_connections() {
    std::vector<std::unique_ptr<Connection>> closing;
    {
        std::lock_guard lock(pool_mutex_);
        closing.swap(idle_);
    }
    // Destroying them, outside the lock, closes them.
}

ALATION_AUTH_DECL std::unique_ptr<Connection> ClientImpl::take_idle_connection() {
    for (;;) {
        std::unique_ptr<Connection> connection;
        {
            std::lock_guard lock(pool_mutex_);
            if (idle_.empty()) return nullptr;
            connection = std::move(idle_.back());
            idle_.pop_back();
        }
        if (connection->usable_when_idle()) return connection;
    }
}

ALATION_AUTH_DECL void ClientImpl::return_connection(std::unique_ptr<Connection> connection) {
    // Enough for bursts of concurrent calls; more would only hold sockets open on the server.
    constexpr std::size_t max_idle = 16;
    std::lock_guard lock(pool_mutex_);
    if (idle_.size() < max_idle) idle_.push_back(std::move(connection));
}

ALATION_AUTH_DECL std::unique_ptr<Connection> ClientImpl::new_connection() {
    return std::make_unique<Connection>(executor_, ssl_context_.get());
}

ALATION_AUTH_DECL double ClientImpl::random_draw() {
    std::lock_guard lock(random_mutex_);
    const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    // Some standard libraries can return the upper bound.
    return std::min(draw, std::nextafter(1.0, 0.0));
}

ALATION_AUTH_DECL void ClientImpl::async_exchange(Endpoint endpoint, RequestBody body, Diagnostics& diag,
                                                  ExchangeHandler handler) {
    auto exchange = std::make_shared<Exchange>(shared_from_this(), endpoint, std::move(body), diag);
    // A strand: the caller's cancellation is delivered through it, so it never races the
    // coroutine on a multi-threaded executor. A strand over the concrete io_context executor fits
    // in any_io_executor's small buffer; one over the type-erased executor would be allocated
    // anew at each of the dozen copies a call makes.
    const auto* io = executor_.target<asio::io_context::executor_type>();
    asio::any_io_executor strand = io ? asio::any_io_executor(asio::make_strand(*io)) : asio::make_strand(executor_);
    asio::co_spawn(
        strand, [exchange]() -> asio::awaitable<ExchangeOutcome> { co_return co_await exchange->run(); },
        ExchangeCompletion(std::move(handler)));
}

}  // namespace alation::auth::detail

#endif
