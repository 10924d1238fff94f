// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_SESSION_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_SESSION_IPP

// The fake's I/O: the acceptor and one Session per connection (plain or TLS), which reads a
// request, asks FakeAlationImpl::handle for the Plan and executes it. Part of fake_alation.ipp.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/testing/certificates.hpp>
#include <alation/auth/testing/impl/fake_server.ipp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace alation::auth::testing::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

// One connection. Every handler runs on the connection's strand; the server's state is only
// reached through FakeAlationImpl::handle, which takes the lock for the duration of the call.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
public:
    static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

    Session(std::shared_ptr<FakeAlationImpl> server, Stream stream)
        : server_(std::move(server)), stream_(std::move(stream)), timer_(stream_.get_executor()) {}

    void start() override {
        if constexpr (tls) {
            tcp_layer().expires_after(server_->options().idle_timeout);
            stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
                if (ec || self->closed_) return self->do_close();
                self->read_request();
            });
        } else {
            read_request();
        }
    }

    void close() override {
        asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->do_close(); });
    }

private:
    beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

    void read_request() {
        auto& parser = parser_.emplace();
        parser.body_limit(server_->options().max_request_body);
        parser.header_limit(16 * 1024);
        tcp_layer().expires_after(server_->options().idle_timeout);
        http::async_read(stream_, buffer_, parser,
                         [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(error_code ec) {
        if (closed_) return;
        if (ec == http::error::body_limit || ec == http::error::header_limit) {
            keep_alive_ = false;
            const bool body = ec == http::error::body_limit;
            plan_ = Plan{json_error(body ? 413 : 431, body ? "Request body too large." : "Request header too large.",
                                    body ? "413000" : "431000")};
            return deliver();
        }
        if (ec) {
            // A malformed request gets a 400; otherwise the client left, went idle or the transport
            // failed, and there is no one to answer.
            const bool malformed = ec.category() == make_error_code(http::error::bad_target).category() &&
                                   ec != http::error::end_of_stream && ec != http::error::partial_message;
            if (!malformed) return do_close();
            keep_alive_ = false;
            plan_ = Plan{json_error(400, "Malformed HTTP request.", "400000")};
            return deliver();
        }
        auto& request = parser_->get();  // NOLINT(bugprone-unchecked-optional-access): read_request() emplaced it
        keep_alive_ = request.keep_alive();
        plan_ = server_->handle(request.method(), request.target(), request[http::field::content_type],
                                request["TOKEN"], request[http::field::authorization], request.body());
        // The body may hold a password, a client secret or a token; Authorization a client secret.
        Secret::wipe(request.body());
        for (auto& field : request) {
            // Beast owns these bytes, which are not const: overwritten in place, not copied.
            if (field.name() == http::field::authorization)
                OPENSSL_cleanse(const_cast<char*>(field.value().data()), field.value().size());
        }
        if (plan_.delay.count() > 0 && plan_.delivery != Delivery::drip) {
            timer_.expires_after(plan_.delay);
            timer_.async_wait([self = this->shared_from_this()](error_code wait_ec) {
                if (wait_ec || self->closed_) return;
                self->deliver();
            });
            return;
        }
        deliver();
    }

    void deliver() {
        switch (plan_.delivery) {
        case Delivery::reset_before: return reset();
        case Delivery::silent: return stay_silent();
        default: break;
        }
        wire_ = serialize(plan_.answer, !keep_alive_);
        written_ = 0;
        const std::size_t body_size = wire_.bytes.size() - wire_.header_size;
        const bool partial = plan_.delivery == Delivery::truncated || plan_.delivery == Delivery::reset_during;
        write_until(partial ? wire_.header_size + body_size / 2 : wire_.bytes.size());
    }

    // Writes wire_ up to `end`: at once, or one byte per delay when dripping.
    void write_until(std::size_t end) {
        if (written_ == end) return after_write();
        const bool drip = plan_.delivery == Delivery::drip;
        const std::size_t n = drip ? 1 : end - written_;
        tcp_layer().expires_after(server_->options().idle_timeout);
        asio::async_write(stream_, asio::buffer(wire_.bytes.data() + written_, n),
                          [self = this->shared_from_this(), end, drip](error_code ec, std::size_t written) {
                              if (ec || self->closed_) return self->do_close();
                              self->written_ += written;
                              if (!drip || self->written_ == end) return self->write_until(end);
                              self->timer_.expires_after(self->plan_.delay);
                              self->timer_.async_wait([self, end](error_code wait_ec) {
                                  if (wait_ec || self->closed_) return;
                                  self->write_until(end);
                              });
                          });
    }

    void after_write() {
        switch (plan_.delivery) {
        case Delivery::reset_during: return reset();
        case Delivery::truncated:
        case Delivery::close_after: return graceful_close();
        default: return keep_alive_ ? read_request() : graceful_close();
        }
    }

    // Reads and discards until the client closes or stop(): the connection stays open, unanswered.
    void stay_silent() {
        tcp_layer().expires_never();
        stream_.async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](error_code ec, std::size_t) {
            if (ec || self->closed_) return self->do_close();
            self->stay_silent();
        });
    }

    // Ends the connection cleanly (TLS close_notify, TCP FIN), then waits briefly for the client to
    // close its side, so that unread input does not turn our close into a reset.
    void graceful_close() {
        tcp_layer().expires_after(std::chrono::seconds(1));
        if constexpr (tls) {
            stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->do_close(); });
        } else {
            error_code ignored;
            tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
            drain();
        }
    }

    void drain() {
        tcp_layer().async_read_some(asio::buffer(discard_),
                                    [self = this->shared_from_this()](error_code ec, std::size_t) {
                                        if (ec || self->closed_) return self->do_close();
                                        self->drain();
                                    });
    }

    // SO_LINGER 0: close() sends a TCP reset instead of a FIN.
    void reset() {
        error_code ignored;
        tcp_layer().socket().set_option(asio::socket_base::linger(true, 0), ignored);
        do_close();
    }

    void do_close() {
        closed_ = true;
        timer_.cancel();
        tcp_layer().close();
    }

    std::shared_ptr<FakeAlationImpl> server_;
    Stream stream_;
    asio::steady_timer timer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Plan plan_;
    Wire wire_;
    std::size_t written_ = 0;
    bool keep_alive_ = true;
    bool closed_ = false;
    std::array<char, 1024> discard_{};
};

ALATION_AUTH_DECL FakeAlationImpl::FakeAlationImpl(asio::any_io_executor executor, FakeAlationOptions options)
    : options_(std::move(options)),
      ssl_context_(options_.tls ? TestCertificates::shared().server_context(options_.certificate) : nullptr),
      access_token_lifetime_(options_.access_token_lifetime),
      executor_(std::move(executor)),
      acceptor_(asio::make_strand(executor_)) {
    if (RAND_bytes(jwt_key_.data(), static_cast<int>(jwt_key_.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
}

ALATION_AUTH_DECL void FakeAlationImpl::start_accepting() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

ALATION_AUTH_DECL void FakeAlationImpl::accept() {
    acceptor_.async_accept(asio::make_strand(executor_), [self = shared_from_this()](error_code ec, tcp::socket s) {
        self->on_accept(ec, std::move(s));
    });
}

ALATION_AUTH_DECL void FakeAlationImpl::on_accept(error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (!ec) {
        std::shared_ptr<SessionBase> session;
        if (ssl_context_) {
            using TlsStream = beast::ssl_stream<beast::tcp_stream>;
            session = std::make_shared<Session<TlsStream>>(
                shared_from_this(), TlsStream(beast::tcp_stream(std::move(socket)), *ssl_context_));
        } else {
            session =
                std::make_shared<Session<beast::tcp_stream>>(shared_from_this(), beast::tcp_stream(std::move(socket)));
        }
        bool accepted = false;
        {
            std::lock_guard lock(mutex_);
            if (!stopped_) {
                accepted = true;
                ++connections_accepted_;
                std::erase_if(sessions_, [](const std::weak_ptr<SessionBase>& w) { return w.expired(); });
                sessions_.push_back(session);
            }
        }
        if (!accepted) return;
        session->start();
    }
    // Errors such as EMFILE are transient: keep accepting.
    accept();
}

ALATION_AUTH_DECL void FakeAlationImpl::stop() {
    std::vector<std::weak_ptr<SessionBase>> sessions;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return;
        stopped_ = true;
        sessions.swap(sessions_);
    }
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
        error_code ignored;
        self->acceptor_.close(ignored);
    });
    for (auto& weak : sessions)
        if (auto session = weak.lock()) session->close();
}

}  // namespace alation::auth::testing::detail

#endif
