// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_CLIENT_IMPL_IPP
#define ALATION_AUTH_DETAIL_IMPL_CLIENT_IMPL_IPP

#include <alation/auth/detail/client_impl.hpp>
#include <alation/auth/detail/connect.hpp>
#include <alation/auth/detail/proxy.hpp>
#include <alation/auth/detail/retry_fsm.hpp>
#include <alation/auth/detail/transport.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory_resource>
#include <string>

namespace alation::auth::detail {

namespace asio = boost::asio;

/// What a spawned coroutine (an exchange, a connect) hands to co_spawn's completion.
template <class Value>
struct Outcome {
    error_code ec;
    Value value;
};
using ExchangeOutcome = Outcome<RawResponse>;
/// The Value of an operation whose handler takes the error code alone.
struct NoValue {};

/// co_spawn's completion handler: completes the caller's handler, on the caller's associated
/// executor, with the caller's allocator. That executor is given as an any_io_executor
/// (completion_executor_of), which co_spawn copies without allocating; when the caller's executor
/// cannot be one, co_spawn completes this on the call's strand and this dispatches the handler to
/// its own executor. The caller's cancellation slot is re-emitted here as
/// terminal cancellation, whatever its type: Beast's composed operations honour only terminal,
/// and for these operations every type means the same (end the call, drop the connection).
///
/// The re-emission goes through the call's strand and a signal the handler shares: co_spawn's
/// cancellation handler (Asio 1.81) dispatches to the strand with a raw pointer into the
/// signal's slot, so a cancellation from another thread must reach the strand before it, and
/// must find nothing once the call has completed and its handler is gone.
template <class Value>
class SpawnCompletion {
public:
    using Handler = asio::any_completion_handler<
        std::conditional_t<std::is_same_v<Value, NoValue>, void(error_code), void(error_code, Value)>>;

    SpawnCompletion(Handler handler, asio::any_io_executor handler_executor, const asio::any_io_executor& call_strand)
        : handler_(std::move(handler)), handler_executor_(std::move(handler_executor)) {
        caller_slot_ = handler_.get_cancellation_slot();
        if (caller_slot_.is_connected()) {
            signal_ = std::make_shared<asio::cancellation_signal>();
            caller_slot_.assign([call_strand, weak = std::weak_ptr(signal_)](asio::cancellation_type type) {
                if (type == asio::cancellation_type::none) return;
                asio::post(call_strand, [weak] {
                    if (auto signal = weak.lock()) signal->emit(asio::cancellation_type::terminal);
                });
            });
        }
    }
    SpawnCompletion(SpawnCompletion&&) noexcept = default;

    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
        return signal_ ? signal_->slot() : asio::cancellation_slot();
    }
    using allocator_type = typename Handler::allocator_type;
    allocator_type get_allocator() const noexcept { return handler_.get_allocator(); }
    /// The handler's executor, or empty when co_spawn must complete on the candidate (the strand).
    const asio::any_io_executor& handler_executor() const noexcept { return handler_executor_; }

    void operator()(const std::exception_ptr& ex, Outcome<Value> outcome) {
        // Detach from the caller's slot before the caller may reuse it.
        if (caller_slot_.is_connected()) caller_slot_.clear();
        if (ex) std::rethrow_exception(ex);
        if (handler_executor_) {
            complete(std::move(handler_), std::move(outcome));
        } else {
            // On the strand: the handler's own executor is not an any_io_executor.
            auto executor = asio::get_associated_executor(handler_);
            asio::dispatch(executor, [handler = std::move(handler_), outcome = std::move(outcome)]() mutable {
                complete(std::move(handler), std::move(outcome));
            });
        }
    }

private:
    static void complete(Handler handler, Outcome<Value> outcome) {
        if constexpr (std::is_same_v<Value, NoValue>)
            std::move(handler)(outcome.ec);
        else
            std::move(handler)(outcome.ec, std::move(outcome.value));
    }

    Handler handler_;
    asio::any_io_executor handler_executor_;
    asio::cancellation_slot caller_slot_;
    std::shared_ptr<asio::cancellation_signal> signal_;
};

}  // namespace alation::auth::detail

template <class Value, class Candidate>
struct boost::asio::associated_executor<alation::auth::detail::SpawnCompletion<Value>, Candidate> {
    using type = boost::asio::any_io_executor;
    static type get(const alation::auth::detail::SpawnCompletion<Value>& h, const Candidate& c = Candidate()) noexcept {
        if (h.handler_executor()) return h.handler_executor();
        return c;
    }
};

namespace alation::auth::detail {

namespace client_detail {

// A strand for a call: the caller's cancellation is delivered through it, so it never races
// the coroutine on a multi-threaded executor. A strand over the concrete io_context executor fits
// in any_io_executor's small buffer; one over the type-erased executor would be allocated anew at
// each of the dozen copies a call makes.
inline asio::any_io_executor make_call_strand(const asio::any_io_executor& executor) {
    const auto* io = executor.target<asio::io_context::executor_type>();
    return io ? asio::any_io_executor(asio::make_strand(*io)) : asio::make_strand(executor);
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

}  // namespace client_detail

/// One call: attempts, each on a pooled or new connection, with the backoff between them. It
/// lives in the frame of its coroutine, run(), which is the only one a call spawns: each nested
/// coroutine would cost a frame that Asio's recycling allocator (two blocks per thread) cannot
/// serve, and a separate heap Exchange another allocation.
class Exchange {
public:
    Exchange(std::shared_ptr<ClientImpl> client, Endpoint endpoint, RequestBody body, Diagnostics& diag)
        : client_(std::move(client)), endpoint_(endpoint), body_(std::move(body)), diag_(diag) {}

    /// Executes what the RetryFsm decides, and completes with the outcome of the call.
    static asio::awaitable<ExchangeOutcome> run(Exchange self) {
        ExchangeOutcome outcome;
        try {
            co_await asio::this_coro::throw_if_cancelled(false);
            self.cancellation_ = co_await asio::this_coro::cancellation_state;
            const ClientOptions& options = self.client_->options();
            const Route& route = self.client_->route();
            RetryFsm fsm(self.endpoint_, options.retry);
            asio::steady_timer timer(self.client_->get_executor());
            RawResponse response;
            RetryAction action = fsm.start(SteadyClock::now());
            while (action.kind != RetryAction::Kind::complete) {
                if (action.kind == RetryAction::Kind::wait) {
                    timer.expires_after(action.delay);
                    auto [wait_ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
                    action = fsm.on_wait_done(wait_ec);
                    continue;
                }
                // One attempt, on a pooled connection unless the last one went stale.
                self.diag_.clear();
                Attempt attempt;
                std::unique_ptr<Connection> connection =
                    action.kind == RetryAction::Kind::attempt ? self.client_->take_idle_connection() : nullptr;
                const bool reused = connection != nullptr;
                if (!connection) {
                    connection = self.client_->new_connection();
                    attempt.ec = co_await async_establish(*connection, route, options, self.diag_);
                }
                if (!attempt.ec) {
                    attempt.reached_server = true;
                    // The request's header fields, in this frame unless they outgrow it.
                    std::array<char, 1024> header_storage;
                    std::pmr::monotonic_buffer_resource header_memory(header_storage.data(), header_storage.size());
                    auto request = make_request(route.target, route.http_proxy(), self.endpoint_, self.body_,
                                                options.user_agent, header_memory);
                    ExchangeFlags flags;
                    connection->tcp().expires_after(options.request_timeout);
                    attempt.ec = co_await connection->visit([&](auto& stream) {
                        return async_send_request(stream, request, route.http_proxy(), connection->read_buffer(),
                                                  self.endpoint_, options.max_response_size, self.body_.secret.reveal(),
                                                  self.diag_, attempt.response, flags);
                    });
                    attempt.stale_reused_connection = attempt.ec && reused && flags.stale;
                    if (flags.keep_alive && !self.cancelled()) {
                        connection->tcp().expires_never();
                        self.client_->return_connection(std::move(connection));
                    }
                }
                action = self.on_attempt(fsm, attempt, response);
            }
            outcome.ec = action.ec;
            if (!outcome.ec) outcome.value = std::move(response);
        } catch (const boost::system::system_error& e) {
            outcome.ec = e.code();
        }
        if (outcome.ec && self.cancelled()) outcome.ec = asio::error::operation_aborted;
        if (outcome.ec) outcome.value = {};
        client_detail::redact_diagnostics(self.diag_, self.body_.secret.reveal());
        co_return outcome;
    }

private:
    struct Attempt {
        error_code ec;
        // A connection was made, so the request may have reached the server.
        bool reached_server = false;
        // A pooled connection broke before any byte of a response.
        bool stale_reused_connection = false;
        RawResponse response;
    };

    bool cancelled() const { return cancellation_.cancelled() != asio::cancellation_type::none; }

    // Reports an attempt to the RetryFsm, keeping a successful attempt's response.
    RetryAction on_attempt(RetryFsm& fsm, Attempt& attempt, RawResponse& response) {
        const AttemptOutcome outcome{
            attempt.ec,          diag_.http_status(), attempt.reached_server, attempt.stale_reused_connection,
            diag_.retry_after(), cancelled()};
        if (!attempt.ec) response = std::move(attempt.response);
        // The jitter's draw takes a lock: only failures need one.
        return fsm.on_attempt(outcome, SteadyClock::now(), attempt.ec ? client_->random_draw() : 0.0);
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
    ProxyChoice choice;
    if (error_code ec =
            choose_proxy(url, options.proxy, options.proxy_from_environment, process_environment, choice, diag))
        throw ErrorWithDiagnostics(ec, std::move(diag));
    return std::shared_ptr<ClientImpl>(
        new ClientImpl(std::move(executor), Route::make(std::move(url), std::move(choice.proxy)), std::move(options)));
}

ALATION_AUTH_DECL ClientImpl::ClientImpl(executor_type executor, Route route, ClientOptions options)
    : executor_(std::move(executor)), route_(std::move(route)), options_(std::move(options)) {
    // Enough for the calls of a busy thread pool to rarely wait for each other.
    constexpr std::size_t call_strand_count = 16;
    call_strands_.reserve(call_strand_count);
    for (std::size_t i = 0; i < call_strand_count; ++i)
        call_strands_.push_back(client_detail::make_call_strand(executor_));
    {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device()};
        random_.seed(seed);
    }
    if (!route_.target.tls) return;
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
        if (connection->route_key() == route_.key && connection->usable_when_idle()) return connection;
    }
}

ALATION_AUTH_DECL void ClientImpl::return_connection(std::unique_ptr<Connection> connection) {
    // Enough for bursts of concurrent calls; more would only hold sockets open on the server.
    constexpr std::size_t max_idle = 16;
    std::lock_guard lock(pool_mutex_);
    if (idle_.size() < max_idle) idle_.push_back(std::move(connection));
}

ALATION_AUTH_DECL std::unique_ptr<Connection> ClientImpl::new_connection() {
    return std::make_unique<Connection>(executor_, ssl_context_.get(), route_.key);
}

ALATION_AUTH_DECL double ClientImpl::random_draw() {
    std::lock_guard lock(random_mutex_);
    const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    // Some standard libraries can return the upper bound.
    return std::min(draw, std::nextafter(1.0, 0.0));
}

ALATION_AUTH_DECL const ClientImpl::executor_type& ClientImpl::next_call_strand() noexcept {
    return call_strands_[next_strand_.fetch_add(1, std::memory_order_relaxed) % call_strands_.size()];
}

ALATION_AUTH_DECL void ClientImpl::async_exchange(Endpoint endpoint, RequestBody body, Diagnostics& diag,
                                                  executor_type handler_executor, ExchangeHandler handler) {
    const auto& strand = next_call_strand();
    asio::co_spawn(strand, Exchange::run(Exchange(shared_from_this(), endpoint, std::move(body), diag)),
                   SpawnCompletion<RawResponse>(std::move(handler), std::move(handler_executor), strand));
}

ALATION_AUTH_DECL void ClientImpl::async_connect(asio::ip::tcp::socket& socket, Diagnostics& diag,
                                                 executor_type handler_executor, ConnectHandler handler) {
    auto run = [self = shared_from_this(), &socket, &diag]() -> asio::awaitable<Outcome<NoValue>> {
        co_await asio::this_coro::throw_if_cancelled(false);
        const auto cancellation = co_await asio::this_coro::cancellation_state;
        diag.clear();
        // No TLS here (the caller's stream does it for the target), and a tunnel through any
        // proxy, http targets included: the caller's requests are its own, not absolute-form.
        Connection connection(socket.get_executor(), nullptr, self->route_.key);
        Outcome<NoValue> outcome;
        try {
            outcome.ec = co_await async_establish(connection, self->route_, self->options_, diag, Tunnel::always);
        } catch (const boost::system::system_error& e) {
            outcome.ec = e.code();
        }
        if (!outcome.ec) socket = connection.tcp().release_socket();
        if (outcome.ec && cancellation.cancelled() != asio::cancellation_type::none)
            outcome.ec = asio::error::operation_aborted;
        co_return outcome;
    };
    const auto strand = client_detail::make_call_strand(socket.get_executor());
    asio::co_spawn(strand, std::move(run),
                   SpawnCompletion<NoValue>(std::move(handler), std::move(handler_executor), strand));
}

}  // namespace alation::auth::detail

#endif
