// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_PROXY_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_PROXY_IPP

#include <alation/auth/detail/proxy.hpp>
#include <alation/auth/testing/fake_proxy.hpp>
// The fake Alation's HTML error pages and reason phrases serve the proxy's answers too.
#include <alation/auth/testing/impl/fake_alation.ipp>

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/authority_view.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url_view.hpp>

#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace alation::auth::testing::detail {

// The proxy's own answer (an error page, 407 with its challenge), as bytes, announcing the close
// that follows it.
ALATION_AUTH_DECL std::string proxy_answer(unsigned status, const ProxyFault* fault) {
    Fault page;
    page.status = status;
    page.html = true;
    if (fault != nullptr) {
        page.body = fault->body;
        page.content_type = fault->content_type;
    }
    const Answer a = fault_answer(page);
    std::string s = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\nServer: fake-proxy\r\n";
    if (status == 407) s += "Proxy-Authenticate: Basic realm=\"fake-proxy\"\r\n";
    s += "Content-Type: " + a.content_type + "\r\nContent-Length: " + std::to_string(a.body.size()) +
         "\r\nConnection: close\r\n\r\n" + a.body;
    return s;
}

// Whether `header` (a Proxy-Authorization value) is Basic with `expected` (base64), the scheme
// matched case-insensitively as RFC 9110 §11.1 says.
inline bool basic_matches(std::string_view header, std::string_view expected) {
    const std::size_t space = header.find(' ');
    if (space == std::string_view::npos || !beast::iequals(header.substr(0, space), "basic")) return false;
    std::string_view credentials = header.substr(space + 1);
    while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
    return credentials == expected;
}

class ProxySessionBase {
public:
    virtual ~ProxySessionBase() = default;
    // Closes the connection and its upstream at once, from any thread.
    virtual void close() = 0;
};

struct InjectedProxyFault {
    ProxyFault fault;
    int remaining = 0;
};

class FakeProxyImpl : public std::enable_shared_from_this<FakeProxyImpl> {
public:
    ALATION_AUTH_DECL FakeProxyImpl(asio::any_io_executor executor, FakeProxyOptions options);

    ALATION_AUTH_DECL void start_accepting();
    ALATION_AUTH_DECL void stop();
    // Counts one request and takes the fault it gets, if any.
    ALATION_AUTH_DECL std::optional<ProxyFault> on_request(bool connect);
    ALATION_AUTH_DECL bool authorized(std::string_view proxy_authorization);
    ALATION_AUTH_DECL void record(std::string_view bytes);
    ALATION_AUTH_DECL void count_tunnel();

    const FakeProxyOptions& options() const noexcept { return options_; }

private:
    friend class testing::FakeProxy;

    void accept();
    void on_accept(error_code ec, tcp::socket socket);

    const FakeProxyOptions options_;
    const std::string expected_credentials_;
    unsigned short port_ = 0;

    mutable std::mutex mutex_;
    std::deque<InjectedProxyFault> faults_;
    std::string recorded_;
    std::size_t connections_accepted_ = 0;
    std::size_t connects_ = 0;
    std::size_t forwarded_ = 0;
    std::size_t tunnels_ = 0;
    std::size_t authentication_failures_ = 0;
    bool stopped_ = false;
    std::vector<std::weak_ptr<ProxySessionBase>> sessions_;

    asio::any_io_executor executor_;
    tcp::acceptor acceptor_;
};

// One client connection and its upstream connection. Every handler runs on the connection's strand.
// Outside a tunnel, requests are read with a parser fed by hand, so that every byte read can be
// recorded and none read past a CONNECT head is lost: the tunnel passes those on first.
class ProxySession final : public ProxySessionBase, public std::enable_shared_from_this<ProxySession> {
public:
    ProxySession(std::shared_ptr<FakeProxyImpl> proxy, tcp::socket socket)
        : proxy_(std::move(proxy)),
          client_(std::move(socket)),
          upstream_(client_.get_executor()),
          resolver_(client_.get_executor()),
          timer_(client_.get_executor()) {}

    void start() {
        error_code ignored;
        client_.socket().set_option(tcp::no_delay(true), ignored);
        read_request();
    }

    void close() override {
        asio::dispatch(client_.get_executor(), [self = shared_from_this()] { self->do_close(); });
    }

private:
    // What follows the writing of an answer.
    enum class After { read_next, close, tunnel };

    void read_request() {
        parser_.emplace();
        parser_->header_limit(16 * 1024);
        parser_->body_limit(1 << 20);
        parser_->eager(true);
        parse();
    }

    // Feeds the parser what is buffered (a keep-alive client may have sent the next request already).
    void parse() {
        auto& parser = *parser_;  // NOLINT(bugprone-unchecked-optional-access): read_request() emplaced it
        while (in_.size() > 0 && !parser.is_done()) {
            error_code ec;
            const std::size_t used = parser.put(in_.data(), ec);
            in_.consume(used);
            if (ec == http::error::need_more) break;
            if (ec) return answer(proxy_answer(400, nullptr), After::close);
            if (used == 0) break;
        }
        if (parser.is_done()) return on_request();
        read_more();
    }

    void read_more() {
        client_.expires_after(proxy_->options().idle_timeout);
        client_.async_read_some(in_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (ec || self->closed_) return self->do_close();
            self->in_.commit(n);
            const auto data = self->in_.data();
            self->proxy_->record({static_cast<const char*>(data.data()) + data.size() - n, n});
            self->parse();
        });
    }

    void on_request() {
        request_ = parser_->release();  // NOLINT(bugprone-unchecked-optional-access): parse() found it done
        const bool connect = request_.method() == http::verb::connect;
        keep_alive_ = request_.keep_alive();
        fault_ = proxy_->on_request(connect);
        if (fault_) {
            switch (fault_->kind) {
            case ProxyFault::Kind::respond: return answer(proxy_answer(fault_->status, &*fault_), After::close);
            case ProxyFault::Kind::reset: return reset();
            case ProxyFault::Kind::stall: return stay_silent();
            case ProxyFault::Kind::garbage: return answer("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", After::close);
            default: break;
            }
        }
        if (!proxy_->authorized(request_[http::field::proxy_authorization]))
            return answer(proxy_answer(407, nullptr), After::close);
        if (connect) return open_tunnel();
        forward();
    }

    // CONNECT host:port: connect to the target, answer 200, then pass bytes both ways.
    void open_tunnel() {
        const auto authority = boost::urls::parse_authority(request_.target());
        if (!authority || !authority->has_port() || authority->host_address().empty())
            return answer(proxy_answer(400, nullptr), After::close);
        connect_upstream(authority->host_address(), std::string(authority->port()), [this] {
            proxy_->count_tunnel();
            std::string head = "HTTP/1.1 200 Connection established\r\n";
            const ProxyFault::Kind kind = fault_ ? fault_->kind : ProxyFault::Kind::respond;
            if (kind == ProxyFault::Kind::established_with_content_length)
                head += "Content-Length: " + std::to_string(fault_->size) + "\r\n";
            if (kind == ProxyFault::Kind::established_chunked) head += "Transfer-Encoding: chunked\r\n";
            head += "\r\n";
            proxy_->record(head);
            if (kind == ProxyFault::Kind::established_then_garbage) head.append(fault_->size, 'g');
            write(std::move(head), After::tunnel);
        });
    }

    // An absolute-form request: sent on in origin form without the proxy's headers, its response
    // relayed. The upstream connection is kept for the next request to the same host and port.
    void forward() {
        const auto url = boost::urls::parse_absolute_uri(request_.target());
        if (!url || url->scheme() != "http" || url->host_address().empty())
            return answer(proxy_answer(400, nullptr), After::close);
        // Copied out before target() replaces the string `url` views.
        const std::string host = url->host_address();
        const std::string port = url->has_port() ? std::string(url->port()) : "80";
        const std::string origin = url->encoded_resource().empty() ? "/" : std::string(url->encoded_resource());
        request_.target(origin);
        request_.erase(http::field::proxy_authorization);
        request_.erase("Proxy-Connection");
        if (upstream_.socket().is_open() && upstream_host_ == host && upstream_port_ == port) return send_upstream();
        error_code ignored;
        upstream_.socket().close(ignored);
        connect_upstream(host, port, [this] { send_upstream(); });
    }

    void send_upstream() {
        upstream_.expires_after(proxy_->options().idle_timeout);
        http::async_write(upstream_, request_, [self = shared_from_this()](error_code ec, std::size_t) {
            if (self->closed_) return;
            if (ec) return self->answer(proxy_answer(502, nullptr), After::close);
            self->response_.emplace();
            self->response_->body_limit(16 << 20);
            http::async_read(self->upstream_, self->upstream_buffer_, *self->response_,
                             [self](error_code read_ec, std::size_t) { self->relay_response(read_ec); });
        });
    }

    void relay_response(error_code ec) {
        if (closed_) return;
        error_code ignored;
        if (ec) {
            upstream_.socket().close(ignored);
            return answer(proxy_answer(502, nullptr), After::close);
        }
        // NOLINTNEXTLINE(bugprone-unchecked-optional-access): send_upstream() emplaced it for this read
        const auto& response = response_->get();
        const bool keep_alive = keep_alive_ && response.keep_alive();
        if (!response.keep_alive()) upstream_.socket().close(ignored);
        std::ostringstream bytes;
        bytes << response;
        answer(bytes.str(), keep_alive ? After::read_next : After::close);
    }

    // Resolves and connects the upstream, then runs `then` (on this session); a 502 when the
    // target cannot be reached.
    template <class Then>
    void connect_upstream(std::string host, std::string port, Then then) {
        upstream_host_ = std::move(host);
        upstream_port_ = std::move(port);
        upstream_.expires_after(proxy_->options().idle_timeout);
        resolver_.async_resolve(
            upstream_host_, upstream_port_,
            [self = shared_from_this(), then](error_code ec, const tcp::resolver::results_type& results) {
                if (self->closed_) return;
                if (ec) return self->answer(proxy_answer(502, nullptr), After::close);
                self->upstream_.async_connect(results, [self, then](error_code connect_ec, const tcp::endpoint&) {
                    if (self->closed_) return;
                    if (connect_ec) return self->answer(proxy_answer(502, nullptr), After::close);
                    then();
                });
            });
    }

    // The proxy's answer outside a tunnel: recorded, then written.
    void answer(std::string bytes, After after) {
        proxy_->record(bytes);
        write(std::move(bytes), after);
    }

    void write(std::string bytes, After after) {
        out_ = std::move(bytes);
        written_ = 0;
        after_ = after;
        write_some();
    }

    // Writes out_ at once, or in the fault's pieces, its pace apart.
    void write_some() {
        if (written_ == out_.size()) return after_write();
        const std::size_t piece = fault_ ? fault_->piece_size : 0;
        const std::size_t n = piece == 0 ? out_.size() - written_ : std::min(piece, out_.size() - written_);
        client_.expires_after(proxy_->options().idle_timeout);
        asio::async_write(client_, asio::buffer(out_.data() + written_, n),
                          [self = shared_from_this(), piece](error_code ec, std::size_t written) {
                              if (ec || self->closed_) return self->do_close();
                              self->written_ += written;
                              if (piece == 0 || self->written_ == self->out_.size()) return self->write_some();
                              self->timer_.expires_after(self->fault_->pace);
                              self->timer_.async_wait([self](error_code wait_ec) {
                                  if (wait_ec || self->closed_) return;
                                  self->write_some();
                              });
                          });
    }

    void after_write() {
        switch (after_) {
        case After::tunnel: return start_tunnel();
        case After::close: return graceful_close();
        case After::read_next: return keep_alive_ ? read_request() : graceful_close();
        }
    }

    void start_tunnel() {
        client_.expires_never();
        upstream_.expires_never();
        // in_ holds whatever the client sent after the CONNECT head: it goes first.
        pump(client_, upstream_, in_);
        pump(upstream_, client_, upstream_buffer_);
    }

    // Passes bytes from `from` to `to` until `from` ends; its end half-closes `to`, and the tunnel
    // closes once both directions have ended.
    void pump(beast::tcp_stream& from, beast::tcp_stream& to, beast::flat_buffer& buffer) {
        if (buffer.size() > 0) {
            asio::async_write(to, buffer.data(),
                              [self = shared_from_this(), &from, &to, &buffer](error_code ec, std::size_t n) {
                                  if (ec || self->closed_) return self->do_close();
                                  buffer.consume(n);
                                  self->pump(from, to, buffer);
                              });
            return;
        }
        from.async_read_some(buffer.prepare(std::size_t{16} * 1024),
                             [self = shared_from_this(), &from, &to, &buffer](error_code ec, std::size_t n) {
                                 if (self->closed_) return;
                                 if (ec == asio::error::eof) {
                                     error_code ignored;
                                     to.socket().shutdown(tcp::socket::shutdown_send, ignored);
                                     if (++self->directions_ended_ == 2) self->do_close();
                                     return;
                                 }
                                 if (ec) return self->do_close();
                                 buffer.commit(n);
                                 self->pump(from, to, buffer);
                             });
    }

    // Reads and discards until the client closes or stop(): the request stays unanswered.
    void stay_silent() {
        client_.expires_never();
        client_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](error_code ec, std::size_t) {
            if (ec || self->closed_) return self->do_close();
            self->stay_silent();
        });
    }

    // FIN, then read until the client closes, so that unread input does not turn the close into a reset.
    void graceful_close() {
        error_code ignored;
        client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        client_.expires_after(std::chrono::seconds(1));
        drain();
    }

    void drain() {
        client_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](error_code ec, std::size_t) {
            if (ec || self->closed_) return self->do_close();
            self->drain();
        });
    }

    void reset() {
        error_code ignored;
        client_.socket().set_option(asio::socket_base::linger(true, 0), ignored);
        do_close();
    }

    void do_close() {
        closed_ = true;
        timer_.cancel();
        resolver_.cancel();
        client_.close();
        upstream_.close();
    }

    std::shared_ptr<FakeProxyImpl> proxy_;
    beast::tcp_stream client_;
    beast::tcp_stream upstream_;
    tcp::resolver resolver_;
    asio::steady_timer timer_;
    beast::flat_buffer in_;
    beast::flat_buffer upstream_buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
    std::optional<http::response_parser<http::string_body>> response_;
    std::optional<ProxyFault> fault_;
    std::string upstream_host_;
    std::string upstream_port_;
    std::string out_;
    std::size_t written_ = 0;
    After after_ = After::close;
    bool keep_alive_ = true;
    bool closed_ = false;
    int directions_ended_ = 0;
    std::array<char, 1024> discard_{};
};

ALATION_AUTH_DECL FakeProxyImpl::FakeProxyImpl(asio::any_io_executor executor, FakeProxyOptions options)
    : options_(std::move(options)),
      // "Basic " and the base64, of which the check compares the base64.
      expected_credentials_(
          options_.username.empty()
              ? std::string()
              : std::string(
                    auth::detail::basic_authorization(options_.username, options_.password).reveal().substr(6))),
      executor_(std::move(executor)),
      acceptor_(asio::make_strand(executor_)) {
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
}

ALATION_AUTH_DECL void FakeProxyImpl::start_accepting() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

ALATION_AUTH_DECL void FakeProxyImpl::accept() {
    acceptor_.async_accept(asio::make_strand(executor_), [self = shared_from_this()](error_code ec, tcp::socket s) {
        self->on_accept(ec, std::move(s));
    });
}

ALATION_AUTH_DECL void FakeProxyImpl::on_accept(error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (!ec) {
        auto session = std::make_shared<ProxySession>(shared_from_this(), std::move(socket));
        bool accepted = false;
        {
            std::lock_guard lock(mutex_);
            if (!stopped_) {
                accepted = true;
                ++connections_accepted_;
                std::erase_if(sessions_, [](const std::weak_ptr<ProxySessionBase>& w) { return w.expired(); });
                sessions_.push_back(session);
            }
        }
        if (accepted) session->start();
    }
    // Errors such as EMFILE are transient: keep accepting.
    accept();
}

ALATION_AUTH_DECL void FakeProxyImpl::stop() {
    std::vector<std::weak_ptr<ProxySessionBase>> sessions;
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

ALATION_AUTH_DECL std::optional<ProxyFault> FakeProxyImpl::on_request(bool connect) {
    std::lock_guard lock(mutex_);
    ++(connect ? connects_ : forwarded_);
    if (faults_.empty()) return std::nullopt;
    ProxyFault fault = faults_.front().fault;
    if (--faults_.front().remaining == 0) faults_.pop_front();
    return fault;
}

ALATION_AUTH_DECL bool FakeProxyImpl::authorized(std::string_view proxy_authorization) {
    if (expected_credentials_.empty() || basic_matches(proxy_authorization, expected_credentials_)) return true;
    std::lock_guard lock(mutex_);
    ++authentication_failures_;
    return false;
}

ALATION_AUTH_DECL void FakeProxyImpl::record(std::string_view bytes) {
    std::lock_guard lock(mutex_);
    recorded_.append(bytes);
}

ALATION_AUTH_DECL void FakeProxyImpl::count_tunnel() {
    std::lock_guard lock(mutex_);
    ++tunnels_;
}

}  // namespace alation::auth::testing::detail

namespace alation::auth::testing {

ALATION_AUTH_DECL FakeProxy::FakeProxy(boost::asio::any_io_executor executor, FakeProxyOptions options)
    : impl_(std::make_shared<detail::FakeProxyImpl>(std::move(executor), std::move(options))) {
    impl_->start_accepting();
}

ALATION_AUTH_DECL FakeProxy::~FakeProxy() {
    try {
        stop();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
        // stop() can only if a mutex cannot be locked.
    }
}

ALATION_AUTH_DECL void FakeProxy::stop() { impl_->stop(); }

ALATION_AUTH_DECL std::string FakeProxy::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port_); }

ALATION_AUTH_DECL std::string FakeProxy::url_with_credentials() const {
    const FakeProxyOptions& o = impl_->options_;
    if (o.username.empty()) return url();
    return "http://" + boost::urls::encode(o.username, boost::urls::unreserved_chars) + ":" +
           boost::urls::encode(o.password, boost::urls::unreserved_chars) +
           "@127.0.0.1:" + std::to_string(impl_->port_);
}

ALATION_AUTH_DECL unsigned short FakeProxy::port() const { return impl_->port_; }

ALATION_AUTH_DECL void FakeProxy::inject(ProxyFault fault, int times) {
    if (times < 1) throw std::invalid_argument("FakeProxy::inject: times must be at least 1");
    std::lock_guard lock(impl_->mutex_);
    impl_->faults_.push_back(detail::InjectedProxyFault{std::move(fault), times});
}

ALATION_AUTH_DECL void FakeProxy::clear_faults() {
    std::lock_guard lock(impl_->mutex_);
    impl_->faults_.clear();
}

ALATION_AUTH_DECL std::size_t FakeProxy::connections_accepted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->connections_accepted_;
}

ALATION_AUTH_DECL std::size_t FakeProxy::connects() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->connects_;
}

ALATION_AUTH_DECL std::size_t FakeProxy::forwarded_requests() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->forwarded_;
}

ALATION_AUTH_DECL std::size_t FakeProxy::tunnels() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->tunnels_;
}

ALATION_AUTH_DECL std::size_t FakeProxy::authentication_failures() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->authentication_failures_;
}

ALATION_AUTH_DECL std::string FakeProxy::recorded() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->recorded_;
}

}  // namespace alation::auth::testing

#endif
