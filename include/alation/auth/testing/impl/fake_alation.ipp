// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_ALATION_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_ALATION_IPP

#include <alation/auth/detail/oauth.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/testing/fake_alation.hpp>
// src.hpp lists only this file: it brings the certificates and the OAuth helpers with it.
#include <alation/auth/testing/impl/certificates.ipp>
#include <alation/auth/testing/impl/fake_oauth.ipp>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

namespace alation::auth::testing::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

// The server's clock: system_clock shifted by options.server_clock_offset.
using ServerTime = std::chrono::system_clock::time_point;

using auth::detail::Endpoint;

// The fake's own protected endpoint (not a token endpoint: the client never calls it).
inline constexpr std::string_view path_protected = "/integration/v2/table/";

// The token API endpoint (JSON bodies) at `path`, if any.
inline std::optional<Endpoint> token_api_endpoint(std::string_view path) noexcept {
    for (const Endpoint e :
         {Endpoint::create_refresh_token, Endpoint::validate_refresh_token, Endpoint::regenerate_refresh_token,
          Endpoint::create_access_token, Endpoint::validate_access_token, Endpoint::revoke_access_tokens})
        if (path == auth::detail::path(e)) return e;
    return std::nullopt;
}

// The OAuth endpoint (form bodies) at `path`, if any: the token endpoint also without its slash.
inline std::optional<Endpoint> oauth_endpoint(std::string_view path) noexcept {
    const std::string_view token = auth::detail::path(Endpoint::oauth_token);
    if (path == token || path == token.substr(0, token.size() - 1)) return Endpoint::oauth_token;
    if (path == auth::detail::path(Endpoint::oauth_introspect)) return Endpoint::oauth_introspect;
    return std::nullopt;
}

inline constexpr std::size_t refresh_token_chars = 80;
inline constexpr std::size_t access_token_chars = 48;

struct UserRecord {
    std::int64_t id = 0;
    std::string username;
    std::string password;
    bool sso = false;
};

struct RefreshRecord {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string name;
    ServerTime created_at;
    ServerTime expires_at;
    bool revoked = false;
    std::optional<ServerTime> last_used_at;
};

struct AccessRecord {
    std::int64_t user_id = 0;
    std::string refresh_token;
    ServerTime created_at;
    ServerTime expires_at;
    bool revoked = false;
    // Mint order, for max_live_access_tokens (two mints may share a created_at).
    std::uint64_t serial = 0;
};

struct OAuthClientRecord {
    std::string secret;
    std::chrono::seconds lifetime{0};
};

// A JWT the fake issued. Its claims are made from this record, so introspection repeats them.
struct OAuthTokenRecord {
    std::string client_id;
    std::string jti;
    ServerTime created_at;
    std::chrono::seconds lifetime{0};
    // created_at + lifetime, or earlier after expire_oauth_token.
    ServerTime expires_at;
    // By max_live_access_tokens only: no revoke endpoint for OAuth tokens is documented.
    bool revoked = false;
    std::uint64_t serial = 0;
};

// Revokes the oldest live tokens that `owned` selects beyond `limit` of them (0: no limit).
template <class Tokens, class Owned>
void revoke_beyond(Tokens& tokens, std::size_t limit, ServerTime now, Owned owned) {
    if (limit == 0) return;
    std::vector<typename Tokens::mapped_type*> live;
    for (auto& entry : tokens) {
        auto& r = entry.second;
        if (owned(r) && !r.revoked && now < r.expires_at) live.push_back(&r);
    }
    if (live.size() <= limit) return;
    const auto oldest_end = live.begin() + static_cast<std::ptrdiff_t>(live.size() - limit);
    std::nth_element(live.begin(), oldest_end, live.end(),
                     [](const auto* a, const auto* b) { return a->serial < b->serial; });
    for (auto it = live.begin(); it != oldest_end; ++it) (*it)->revoked = true;
}

// One HTTP answer, before it is put on the wire.
struct Answer {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::optional<std::string> retry_after;
    std::string allow;
    std::string www_authenticate;
};

// How an answer reaches the client (Fault::Kind, once the server has decided what to answer).
enum class Delivery { normal, reset_before, reset_during, truncated, silent, drip, close_after };

struct Plan {
    Answer answer;
    Delivery delivery = Delivery::normal;
    std::chrono::milliseconds delay{0};
};

ALATION_AUTH_DECL std::string format_timestamp(ServerTime t, TimestampStyle style) {
    using namespace std::chrono;
    const minutes offset = style == TimestampStyle::offset_negative ? minutes(-5 * 60) : minutes(0);
    const auto local = time_point_cast<nanoseconds>(t) + offset;
    const auto day = floor<days>(local);
    const year_month_day ymd{day};
    const hh_mm_ss<nanoseconds> time{local - day};
    const long long ns = time.subseconds().count();
    char buffer[64];
    int n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                          static_cast<int>(time.seconds().count()));
    const auto rest = static_cast<std::size_t>(sizeof buffer - static_cast<std::size_t>(n));
    switch (style) {
    case TimestampStyle::milliseconds: n += std::snprintf(buffer + n, rest, ".%03lldZ", ns / 1'000'000); break;
    case TimestampStyle::microseconds: n += std::snprintf(buffer + n, rest, ".%06lldZ", ns / 1'000); break;
    case TimestampStyle::nanoseconds: n += std::snprintf(buffer + n, rest, ".%09lldZ", ns); break;
    case TimestampStyle::no_fraction: n += std::snprintf(buffer + n, rest, "Z"); break;
    case TimestampStyle::offset_utc: n += std::snprintf(buffer + n, rest, ".%06lld+00:00", ns / 1'000); break;
    case TimestampStyle::offset_negative: n += std::snprintf(buffer + n, rest, ".%06lld-05:00", ns / 1'000); break;
    }
    return {buffer, static_cast<std::size_t>(n)};
}

ALATION_AUTH_DECL std::string status_text(std::string_view upper, StatusCase letter_case) {
    std::string out(upper);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const bool lower = letter_case == StatusCase::lower || (letter_case == StatusCase::capitalized && i > 0);
        if (lower) out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
    return out;
}

// Opaque URL-safe token of `chars` characters: one random byte per character, whose low six
// bits pick from 64 symbols (256 is a multiple of 64, so every symbol is equally likely).
ALATION_AUTH_DECL std::string random_token(std::size_t chars) {
    static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out(chars, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(chars)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    for (char& c : out) c = alphabet[static_cast<unsigned char>(c) & 63u];
    return out;
}

ALATION_AUTH_DECL Answer json_error(unsigned status, std::string detail, std::string code) {
    Answer a;
    a.status = status;
    a.body = json::serialize(json::object{{"detail", std::move(detail)}, {"code", std::move(code)}});
    return a;
}

// OAuth's error shape (RFC 6749 §5.2), optionally with Alation's `code` as well.
ALATION_AUTH_DECL Answer oauth_error(unsigned status, std::string_view error, std::string description,
                                     bool with_code = false) {
    json::object o{{"error", error}, {"error_description", std::move(description)}};
    if (with_code) o["code"] = std::to_string(status * 1000);
    Answer a;
    a.status = status;
    a.body = json::serialize(o);
    return a;
}

inline std::string reason(unsigned status) {
    return std::string(http::obsolete_reason(static_cast<http::status>(status)));
}

// The answer a Fault of kind `respond` gives.
ALATION_AUTH_DECL Answer fault_answer(const Fault& fault) {
    Answer a;
    a.status = fault.status;
    if (!fault.body.empty()) {
        a.body = fault.body;
        if (fault.html) a.content_type = "text/html";
    } else if (fault.html) {
        const std::string title = std::to_string(fault.status) + " " + reason(fault.status);
        a.content_type = "text/html";
        a.body = "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
                 "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    } else {
        a = json_error(fault.status, reason(fault.status) + ".", std::to_string(fault.status * 1000));
    }
    if (!fault.content_type.empty()) a.content_type = fault.content_type;
    a.retry_after = fault.retry_after;
    return a;
}

// The bytes of a response; `header_size` is where the body starts.
struct Wire {
    std::string bytes;
    std::size_t header_size = 0;
};

ALATION_AUTH_DECL Wire serialize(const Answer& a, bool announce_close) {
    Wire w;
    std::string& s = w.bytes;
    s = "HTTP/1.1 " + std::to_string(a.status) + " " + reason(a.status) + "\r\nServer: fake-alation\r\n";
    s += "Content-Type: " + a.content_type + "\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\n";
    if (a.retry_after) s += "Retry-After: " + *a.retry_after + "\r\n";
    if (!a.allow.empty()) s += "Allow: " + a.allow + "\r\n";
    if (!a.www_authenticate.empty()) s += "WWW-Authenticate: " + a.www_authenticate + "\r\n";
    if (announce_close) s += "Connection: close\r\n";
    s += "\r\n";
    w.header_size = s.size();
    s += a.body;
    return w;
}

// Reads the required, non-blank string `key`; on failure returns the 400 to send.
inline std::optional<Answer> get_string(const json::object& body, std::string_view key, std::string& out) {
    const json::value* v = body.if_contains(key);
    if (v == nullptr || v->is_null()) return json_error(400, std::string(key) + ": This field is required.", "400002");
    if (!v->is_string()) return json_error(400, std::string(key) + ": Not a valid string.", "400003");
    if (v->as_string().empty()) return json_error(400, std::string(key) + ": This field may not be blank.", "400004");
    out = std::string(v->as_string());
    return std::nullopt;
}

inline std::optional<Answer> get_user_id(const json::object& body, bool accept_string, std::int64_t& out) {
    const json::value* v = body.if_contains("user_id");
    if (v == nullptr || v->is_null()) return json_error(400, "user_id: This field is required.", "400002");
    if (v->is_int64()) {
        out = v->get_int64();
        return std::nullopt;
    }
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        out = static_cast<std::int64_t>(v->get_uint64());
        return std::nullopt;
    }
    if (accept_string && v->is_string()) {
        const json::string& s = v->get_string();
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return std::nullopt;
    }
    return json_error(400, "user_id: A valid integer is required.", "400003");
}

class SessionBase {
public:
    virtual ~SessionBase() = default;
    virtual void start() = 0;
    // Closes the connection at once, from any thread.
    virtual void close() = 0;
};

struct InjectedFault {
    std::string path;
    Fault fault;
    int remaining = 0;
};

class FakeAlationImpl : public std::enable_shared_from_this<FakeAlationImpl> {
public:
    ALATION_AUTH_DECL FakeAlationImpl(asio::any_io_executor executor, FakeAlationOptions options);

    ALATION_AUTH_DECL void start_accepting();
    ALATION_AUTH_DECL void stop();
    // Decides the answer to one request. Locks the state; does no I/O.
    ALATION_AUTH_DECL Plan handle(http::verb method, std::string_view target, std::string_view content_type,
                                  std::string_view token_header, std::string_view authorization, std::string_view body);

    ServerTime now() const { return std::chrono::system_clock::now() + options_.server_clock_offset; }
    const FakeAlationOptions& options() const noexcept { return options_; }

private:
    // The public FakeAlation is the state's other user.
    friend class testing::FakeAlation;

    // Used under mutex_, also by FakeAlation's members.
    ALATION_AUTH_DECL RefreshRecord& new_refresh_token(std::int64_t user_id, std::string name,
                                                       std::chrono::milliseconds lifetime, std::string& value);
    ALATION_AUTH_DECL AccessRecord& new_access_token(const std::string& refresh_token, std::int64_t user_id,
                                                     std::chrono::milliseconds lifetime, std::string& value);
    ALATION_AUTH_DECL RefreshRecord& refresh_record(const Secret& token);
    ALATION_AUTH_DECL AccessRecord& access_record(const Secret& token);
    ALATION_AUTH_DECL std::string new_oauth_token(const std::string& client_id, std::chrono::seconds lifetime);

    const FakeAlationOptions options_;
    const std::shared_ptr<asio::ssl::context> ssl_context_;
    unsigned short port_ = 0;

    mutable std::mutex mutex_;
    std::chrono::milliseconds access_token_lifetime_;
    std::map<std::string, UserRecord, std::less<>> users_;
    std::unordered_map<std::string, RefreshRecord> refresh_tokens_;
    std::unordered_map<std::string, AccessRecord> access_tokens_;
    std::map<std::string, OAuthClientRecord, std::less<>> oauth_clients_;
    std::unordered_map<std::string, OAuthTokenRecord> oauth_tokens_;
    JwtKey jwt_key_{};
    std::int64_t next_user_id_ = 1;
    std::int64_t next_refresh_id_ = 1;
    std::deque<InjectedFault> faults_;
    std::map<std::string, std::size_t, std::less<>> requests_;
    std::size_t access_tokens_minted_ = 0;
    std::size_t refresh_tokens_created_ = 0;
    std::size_t connections_accepted_ = 0;
    std::size_t oauth_tokens_minted_ = 0;
    std::uint64_t next_serial_ = 0;
    std::size_t protected_accepted_ = 0;
    std::size_t protected_rejected_ = 0;
    std::size_t protected_rejected_expired_ = 0;
    bool stopped_ = false;
    std::vector<std::weak_ptr<SessionBase>> sessions_;

    void accept();
    void on_accept(error_code ec, tcp::socket socket);

    std::optional<Fault> take_fault(std::string_view path);
    Answer dispatch(Endpoint endpoint, const json::object& body);
    Answer protected_endpoint(std::string_view token_header);
    Answer oauth_dispatch(Endpoint endpoint, std::string_view content_type, std::string_view authorization,
                          std::string_view body);
    // Who the request authenticates as (RFC 6749 §2.3.1: HTTP Basic or the body, not both); the
    // error answer when it cannot.
    std::optional<Answer> authenticate_client(const FormParameters& form, std::string_view authorization,
                                              std::string& client_id) const;
    json::object oauth_claims(const OAuthTokenRecord& r) const;
    // Finds the refresh token named by the body; an error answer when it is missing or unknown.
    std::optional<Answer> find_refresh(const json::object& body, std::string& value, RefreshRecord*& record);
    std::string refresh_status(const RefreshRecord& r) const;
    std::string access_status(const AccessRecord& r) const;
    json::object refresh_json(const std::string& value, const RefreshRecord& r) const;
    json::object access_json(const std::string& value, const AccessRecord& r) const;

    asio::any_io_executor executor_;
    tcp::acceptor acceptor_;
};

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
        parser_.emplace();
        parser_->body_limit(server_->options().max_request_body);
        parser_->header_limit(16 * 1024);
        tcp_layer().expires_after(server_->options().idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
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
        auto& request = parser_->get();
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
    : options_(options),
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

ALATION_AUTH_DECL std::optional<Fault> FakeAlationImpl::take_fault(std::string_view path) {
    const auto it =
        std::find_if(faults_.begin(), faults_.end(), [&](const InjectedFault& f) { return f.path == path; });
    if (it == faults_.end()) return std::nullopt;
    Fault fault = it->fault;
    if (--it->remaining == 0) faults_.erase(it);
    return fault;
}

ALATION_AUTH_DECL Plan FakeAlationImpl::handle(http::verb method, std::string_view target,
                                               std::string_view content_type, std::string_view token_header,
                                               std::string_view authorization, std::string_view body) {
    const std::string_view path = target.substr(0, target.find('?'));
    std::lock_guard lock(mutex_);
    if (auto it = requests_.find(path); it != requests_.end()) {
        ++it->second;
    } else {
        requests_.emplace(std::string(path), 1);
    }

    Plan plan;
    const std::optional<Fault> fault = take_fault(path);
    if (fault) {
        plan.delay = fault->delay;
        switch (fault->kind) {
        case Fault::Kind::respond: plan.answer = fault_answer(*fault); return plan;
        case Fault::Kind::reset_before_response: plan.delivery = Delivery::reset_before; return plan;
        case Fault::Kind::never_answer: plan.delivery = Delivery::silent; return plan;
        case Fault::Kind::reset_during_response: plan.delivery = Delivery::reset_during; break;
        case Fault::Kind::truncated_body: plan.delivery = Delivery::truncated; break;
        case Fault::Kind::drip: plan.delivery = Delivery::drip; break;
        case Fault::Kind::close_after_response: plan.delivery = Delivery::close_after; break;
        case Fault::Kind::oversized_body: break;
        }
    }

    const auto not_allowed = [&](std::string allow) {
        Answer a = json_error(405, "Method \"" + std::string(http::to_string(method)) + "\" not allowed.", "405000");
        a.allow = std::move(allow);
        return a;
    };
    const std::optional<Endpoint> token_api = token_api_endpoint(path);
    const std::optional<Endpoint> oauth = oauth_endpoint(path);
    if (path == path_protected) {
        plan.answer = method == http::verb::get ? protected_endpoint(token_header) : not_allowed("GET");
    } else if (oauth) {
        plan.answer = method == http::verb::post ? oauth_dispatch(*oauth, content_type, authorization, body)
                                                 : not_allowed("POST");
    } else if (token_api) {
        if (method != http::verb::post) {
            plan.answer = not_allowed("POST");
        } else if (!auth::detail::is_json_content_type(content_type)) {
            plan.answer = json_error(400, "Content-Type must be application/json.", "400000");
        } else {
            error_code ec;
            const json::value parsed = json::parse(body, ec);
            if (ec) {
                plan.answer = json_error(400, "JSON parse error.", "400001");
            } else if (!parsed.is_object()) {
                plan.answer = json_error(400, "Invalid data. Expected a dictionary.", "400001");
            } else {
                plan.answer = dispatch(*token_api, parsed.get_object());
            }
        }
    } else {
        plan.answer = json_error(404, "Not found.", "404000");
    }

    if (fault && fault->kind == Fault::Kind::oversized_body && plan.answer.body.size() < fault->size) {
        // Trailing whitespace keeps the JSON valid: only the size is wrong.
        plan.answer.body.resize(fault->size, ' ');
    }
    return plan;
}

ALATION_AUTH_DECL Answer FakeAlationImpl::protected_endpoint(std::string_view token_header) {
    if (token_header.empty()) {
        ++protected_rejected_;
        return json_error(403, "Authentication credentials were not provided.", "403000");
    }
    if (token_header.find('.') != std::string_view::npos) {
        // A JWT: opaque access tokens have no dot.
        const auto it = oauth_tokens_.find(std::string(token_header));
        const bool expired = it != oauth_tokens_.end() && !it->second.revoked && now() >= it->second.expires_at;
        if (it == oauth_tokens_.end() || it->second.revoked || expired) {
            ++protected_rejected_;
            if (expired) ++protected_rejected_expired_;
            Answer a;
            a.status = 401;
            a.body = json::serialize(json::object{{"detail", "Authentication failed: invalid bearer token."}});
            return a;
        }
        ++protected_accepted_;
        Answer a;
        a.body = "[]";
        return a;
    }
    const auto it = access_tokens_.find(std::string(token_header));
    const bool expired = it != access_tokens_.end() && !it->second.revoked && now() >= it->second.expires_at;
    if (it == access_tokens_.end() || it->second.revoked || expired) {
        ++protected_rejected_;
        if (expired) ++protected_rejected_expired_;
        const unsigned status = options_.protected_rejection_status;
        return json_error(status, "Invalid or expired API access token.", std::to_string(status * 1000));
    }
    ++protected_accepted_;
    Answer a;
    a.body = "[]";
    return a;
}

ALATION_AUTH_DECL std::optional<Answer> FakeAlationImpl::find_refresh(const json::object& body, std::string& value,
                                                                      RefreshRecord*& record) {
    std::int64_t user_id = 0;
    if (auto error = get_string(body, "refresh_token", value)) return error;
    if (auto error = get_user_id(body, options_.accept_user_id_as_string, user_id)) return error;
    const auto it = refresh_tokens_.find(value);
    if (it == refresh_tokens_.end() || it->second.user_id != user_id)
        return json_error(401, "Refresh token provided is invalid.", "401000");
    record = &it->second;
    return std::nullopt;
}

ALATION_AUTH_DECL std::string FakeAlationImpl::refresh_status(const RefreshRecord& r) const {
    return status_text(r.revoked ? "REVOKED" : now() >= r.expires_at ? "EXPIRED" : "ACTIVE", options_.status_case);
}

ALATION_AUTH_DECL std::string FakeAlationImpl::access_status(const AccessRecord& r) const {
    return status_text(r.revoked ? "REVOKED" : now() >= r.expires_at ? "EXPIRED" : "ACTIVE", options_.status_case);
}

ALATION_AUTH_DECL json::object FakeAlationImpl::refresh_json(const std::string& value, const RefreshRecord& r) const {
    return json::object{{"refresh_token", value},
                        {"user_id", r.user_id},
                        {"created_at", format_timestamp(r.created_at, options_.timestamps)},
                        {"name", r.name},
                        {"token_expires_at", format_timestamp(r.expires_at, options_.timestamps)},
                        {"token_status", refresh_status(r)}};
}

ALATION_AUTH_DECL json::object FakeAlationImpl::access_json(const std::string& value, const AccessRecord& r) const {
    return json::object{{"api_access_token", value},
                        {"user_id", r.user_id},
                        {"created_at", format_timestamp(r.created_at, options_.timestamps)},
                        {"token_expires_at", format_timestamp(r.expires_at, options_.timestamps)},
                        {"token_status", access_status(r)}};
}

ALATION_AUTH_DECL Answer FakeAlationImpl::dispatch(Endpoint endpoint, const json::object& body) {
    Answer ok;
    Answer expired_or_revoked = json_error(401, "Refresh token provided is expired or revoked.", "401000");

    if (endpoint == Endpoint::create_refresh_token) {
        std::string username, password, name;
        if (auto error = get_string(body, "username", username)) return *error;
        if (auto error = get_string(body, "password", password)) return *error;
        if (auto error = get_string(body, "name", name)) return *error;
        const auto user = users_.find(username);
        const bool password_matches = user != users_.end() && user->second.password == password;
        Secret::wipe(password);
        if (user != users_.end() && user->second.sso) {
            // SSO users have no password Alation could check.
            const unsigned status = options_.sso_rejection_status;
            return json_error(status, "Users who sign in with SSO must create refresh tokens in the Alation UI.",
                              std::to_string(status * 1000));
        }
        if (!password_matches) return json_error(401, "Invalid username or password.", "401000");
        std::string value;
        const RefreshRecord& r = new_refresh_token(user->second.id, name, options_.refresh_token_lifetime, value);
        ++refresh_tokens_created_;
        ok.body = json::serialize(refresh_json(value, r));
        return ok;
    }

    if (endpoint == Endpoint::validate_access_token) {
        std::string value;
        std::int64_t user_id = 0;
        if (auto error = get_string(body, "api_access_token", value)) return *error;
        if (auto error = get_user_id(body, options_.accept_user_id_as_string, user_id)) return *error;
        const auto it = access_tokens_.find(value);
        if (it == access_tokens_.end() || it->second.user_id != user_id)
            return json_error(401, "API Access Token provided is invalid.", "401000");
        ok.body = json::serialize(access_json(value, it->second));
        return ok;
    }

    // The other endpoints take {"refresh_token","user_id"}.
    std::string value;
    RefreshRecord* record = nullptr;
    if (auto error = find_refresh(body, value, record)) return *error;
    const bool usable = !record->revoked && now() < record->expires_at;

    if (endpoint == Endpoint::validate_refresh_token) {
        if (!usable && !options_.expired_refresh_validates_as_200) return expired_or_revoked;
        json::object o = refresh_json(value, *record);
        o["last_used_at"] = record->last_used_at
                                ? json::value(format_timestamp(*record->last_used_at, options_.timestamps))
                                : json::value(nullptr);
        ok.body = json::serialize(o);
        return ok;
    }
    if (!usable) return expired_or_revoked;

    if (endpoint == Endpoint::regenerate_refresh_token) {
        const std::int64_t user_id = record->user_id;
        const std::string name = record->name;
        record->revoked = true;
        std::string new_value;
        const RefreshRecord& r = new_refresh_token(user_id, name, options_.refresh_token_lifetime, new_value);
        ++refresh_tokens_created_;
        ok.body = json::serialize(refresh_json(new_value, r));
        return ok;
    }
    if (endpoint == Endpoint::create_access_token) {
        record->last_used_at = now();
        const std::int64_t user_id = record->user_id;
        std::string access_value;
        const AccessRecord& a = new_access_token(value, user_id, access_token_lifetime_, access_value);
        ++access_tokens_minted_;
        ok.body = json::serialize(access_json(access_value, a));
        return ok;
    }
    // revokeAPIAccessTokens
    for (auto& [token, access] : access_tokens_)
        if (access.refresh_token == value) access.revoked = true;
    ok.body = json::serialize(json::object{{"detail", "Revoked active access tokens for refresh token: '" +
                                                          record->name + "' with id: " + std::to_string(record->id)}});
    return ok;
}

ALATION_AUTH_DECL std::optional<Answer> FakeAlationImpl::authenticate_client(const FormParameters& form,
                                                                             std::string_view authorization,
                                                                             std::string& client_id) const {
    const bool basic = !authorization.empty();
    const auto invalid_client = [&](std::string description) {
        Answer a = oauth_error(401, "invalid_client", std::move(description), options_.oauth_invalid_client_code);
        // RFC 6749 §5.2: a client that tried Basic is told the scheme.
        if (basic) a.www_authenticate = R"(Basic realm="oauth")";
        return a;
    };
    const std::string* body_id = form.find("client_id");
    const std::string* body_secret = form.find("client_secret");
    if (!basic) {
        if (body_id == nullptr || body_secret == nullptr) return invalid_client("Client authentication failed.");
        client_id = *body_id;
        const auto it = oauth_clients_.find(client_id);
        if (it == oauth_clients_.end() || it->second.secret != *body_secret)
            return invalid_client("Client authentication failed.");
        return std::nullopt;
    }
    std::string secret;
    const bool decoded = parse_basic_credentials(authorization, client_id, secret);
    const auto it = oauth_clients_.find(client_id);
    const bool matches = decoded && it != oauth_clients_.end() && it->second.secret == secret;
    Secret::wipe(secret);
    if (!decoded) return invalid_client("Malformed HTTP Basic client credentials.");
    if (body_secret != nullptr || (body_id != nullptr && *body_id != client_id))
        return oauth_error(400, "invalid_request",
                           "Client credentials must be sent one way: HTTP Basic or the body, not both.");
    if (!matches) return invalid_client("Client authentication failed.");
    return std::nullopt;
}

ALATION_AUTH_DECL json::object FakeAlationImpl::oauth_claims(const OAuthTokenRecord& r) const {
    const std::int64_t iat = std::chrono::floor<std::chrono::seconds>(r.created_at).time_since_epoch().count();
    return json::object{{"iat", iat},
                        {"exp", iat + r.lifetime.count()},
                        {"sub", r.client_id},
                        {"client_id", r.client_id},
                        {"jti", r.jti}};
}

ALATION_AUTH_DECL Answer FakeAlationImpl::oauth_dispatch(Endpoint endpoint, std::string_view content_type,
                                                         std::string_view authorization, std::string_view body) {
    if (!auth::detail::is_media_type(content_type, auth::detail::form_media_type))
        return oauth_error(400, "invalid_request",
                           "Content-Type must be " + std::string(auth::detail::form_media_type) + ".");
    FormParameters form;
    if (std::string problem = form.parse(body); !problem.empty())
        return oauth_error(400, "invalid_request", std::move(problem));
    const std::string_view required = endpoint == Endpoint::oauth_token ? "grant_type" : "token";
    const std::string* value = form.find(required);
    if (value == nullptr)
        return oauth_error(400, "invalid_request", "Missing parameter " + std::string(required) + ".");
    if (endpoint == Endpoint::oauth_token && *value != "client_credentials")
        return oauth_error(400, "unsupported_grant_type", "Grant type " + *value + " is not supported.");
    std::string client_id;
    if (auto refused = authenticate_client(form, authorization, client_id)) return *refused;

    Answer ok;
    if (endpoint == Endpoint::oauth_introspect) {
        const auto it = oauth_tokens_.find(*value);
        const bool active = it != oauth_tokens_.end() && it->second.client_id == client_id && !it->second.revoked &&
                            now() < it->second.expires_at;
        json::object o{{"active", active}};
        if (active) {
            for (auto& [key, claim] : oauth_claims(it->second)) o[key] = claim;
            o["token_type"] = "Bearer";
            if (!options_.oauth_scope.empty()) o["scope"] = options_.oauth_scope;
        }
        ok.body = json::serialize(o);
        return ok;
    }
    const std::chrono::seconds lifetime = oauth_clients_.at(client_id).lifetime;
    const std::string jwt = new_oauth_token(client_id, lifetime);
    ++oauth_tokens_minted_;
    json::object o{{"access_token", jwt}, {"token_type", "Bearer"}};
    if (options_.oauth_expires_in) o["expires_in"] = lifetime.count();
    if (!options_.oauth_scope.empty()) o["scope"] = options_.oauth_scope;
    if (options_.oauth_created_at)
        o["created_at"] = format_timestamp(oauth_tokens_.at(jwt).created_at, options_.timestamps);
    ok.body = json::serialize(o);
    return ok;
}

ALATION_AUTH_DECL std::string FakeAlationImpl::new_oauth_token(const std::string& client_id,
                                                               std::chrono::seconds lifetime) {
    OAuthTokenRecord r;
    r.client_id = client_id;
    r.jti = random_token(22);
    r.created_at = now();
    r.lifetime = lifetime;
    r.expires_at = r.created_at + lifetime;
    r.serial = next_serial_++;
    std::string jwt = sign_jwt(json::serialize(oauth_claims(r)), jwt_key_);
    oauth_tokens_.insert_or_assign(jwt, std::move(r));
    revoke_beyond(oauth_tokens_, options_.max_live_access_tokens, now(),
                  [&](const OAuthTokenRecord& t) { return t.client_id == client_id; });
    return jwt;
}

ALATION_AUTH_DECL RefreshRecord& FakeAlationImpl::new_refresh_token(std::int64_t user_id, std::string name,
                                                                    std::chrono::milliseconds lifetime,
                                                                    std::string& value) {
    RefreshRecord r;
    r.id = next_refresh_id_++;
    r.user_id = user_id;
    r.name = std::move(name);
    r.created_at = now();
    r.expires_at = r.created_at + lifetime;
    value = random_token(refresh_token_chars);
    return refresh_tokens_.insert_or_assign(value, std::move(r)).first->second;
}

ALATION_AUTH_DECL AccessRecord& FakeAlationImpl::new_access_token(const std::string& refresh_token,
                                                                  std::int64_t user_id,
                                                                  std::chrono::milliseconds lifetime,
                                                                  std::string& value) {
    AccessRecord a;
    a.user_id = user_id;
    a.refresh_token = refresh_token;
    a.created_at = now();
    a.expires_at = a.created_at + lifetime;
    a.serial = next_serial_++;
    value = random_token(access_token_chars);
    AccessRecord& record = access_tokens_.insert_or_assign(value, std::move(a)).first->second;
    revoke_beyond(access_tokens_, options_.max_live_access_tokens, now(),
                  [&](const AccessRecord& t) { return t.refresh_token == refresh_token; });
    return record;
}

ALATION_AUTH_DECL RefreshRecord& FakeAlationImpl::refresh_record(const Secret& token) {
    const auto it = refresh_tokens_.find(std::string(token.reveal()));
    if (it == refresh_tokens_.end()) throw std::invalid_argument("FakeAlation: unknown refresh token");
    return it->second;
}

ALATION_AUTH_DECL AccessRecord& FakeAlationImpl::access_record(const Secret& token) {
    const auto it = access_tokens_.find(std::string(token.reveal()));
    if (it == access_tokens_.end()) throw std::invalid_argument("FakeAlation: unknown access token");
    return it->second;
}

inline Timestamp to_timestamp(ServerTime t) { return std::chrono::floor<std::chrono::microseconds>(t); }

inline TokenStatus token_status(bool revoked, bool expired) {
    return revoked ? TokenStatus::revoked : expired ? TokenStatus::expired : TokenStatus::active;
}

}  // namespace alation::auth::testing::detail

namespace alation::auth::testing {

ALATION_AUTH_DECL FakeAlation::FakeAlation(boost::asio::any_io_executor executor, FakeAlationOptions options)
    : impl_(std::make_shared<detail::FakeAlationImpl>(std::move(executor), options)) {
    impl_->start_accepting();
}

ALATION_AUTH_DECL FakeAlation::~FakeAlation() {
    try {
        stop();
    } catch (...) {
        // A destructor must not throw; stop() can only if a mutex cannot be locked.
    }
}

ALATION_AUTH_DECL void FakeAlation::stop() { impl_->stop(); }

ALATION_AUTH_DECL std::string FakeAlation::base_url() const {
    return (impl_->options_.tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(impl_->port_);
}

ALATION_AUTH_DECL unsigned short FakeAlation::port() const { return impl_->port_; }

ALATION_AUTH_DECL const std::string& FakeAlation::ca_certificate_pem() const {
    return TestCertificates::shared().ca_certificate_pem();
}

ALATION_AUTH_DECL std::string FakeAlation::write_ca_file(const std::filesystem::path& dir) const {
    const std::filesystem::path path = dir / ("fake-alation-ca-" + std::to_string(impl_->port_) + ".pem");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << ca_certificate_pem();
    out.close();
    if (!out) throw std::runtime_error("FakeAlation: cannot write " + path.string());
    return path.string();
}

ALATION_AUTH_DECL std::int64_t FakeAlation::add_user(std::string username, std::string password, bool sso) {
    std::lock_guard lock(impl_->mutex_);
    if (impl_->users_.count(username) != 0) throw std::invalid_argument("FakeAlation: user exists: " + username);
    const std::int64_t id = impl_->next_user_id_++;
    impl_->users_.emplace(username, detail::UserRecord{id, username, std::move(password), sso});
    return id;
}

ALATION_AUTH_DECL RefreshToken FakeAlation::issue_refresh_token(std::int64_t user_id, std::string name,
                                                                std::optional<std::chrono::milliseconds> lifetime) {
    std::lock_guard lock(impl_->mutex_);
    const bool known = std::any_of(impl_->users_.begin(), impl_->users_.end(),
                                   [&](const auto& entry) { return entry.second.id == user_id; });
    if (!known) throw std::invalid_argument("FakeAlation: unknown user_id " + std::to_string(user_id));
    std::string value;
    const detail::RefreshRecord& r = impl_->new_refresh_token(
        user_id, std::move(name), lifetime.value_or(impl_->options_.refresh_token_lifetime), value);
    RefreshToken token;
    token.requested_at = SteadyClock::now();
    token.created_at = detail::to_timestamp(r.created_at);
    token.expires_at = detail::to_timestamp(r.expires_at);
    token.value = Secret(std::move(value));
    token.user_id = r.user_id;
    token.name = r.name;
    token.status = TokenStatus::active;
    return token;
}

ALATION_AUTH_DECL AccessToken FakeAlation::issue_access_token(const Secret& refresh_token,
                                                              std::optional<std::chrono::milliseconds> lifetime) {
    std::lock_guard lock(impl_->mutex_);
    const detail::RefreshRecord& r = impl_->refresh_record(refresh_token);
    std::string value;
    const detail::AccessRecord& a = impl_->new_access_token(std::string(refresh_token.reveal()), r.user_id,
                                                            lifetime.value_or(impl_->access_token_lifetime_), value);
    AccessToken token;
    token.requested_at = SteadyClock::now();
    token.created_at = detail::to_timestamp(a.created_at);
    token.expires_at = detail::to_timestamp(a.expires_at);
    token.value = Secret(std::move(value));
    token.user_id = a.user_id;
    token.status = detail::token_status(false, impl_->now() >= a.expires_at);
    return token;
}

ALATION_AUTH_DECL void FakeAlation::revoke_refresh_token(const Secret& refresh_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->refresh_record(refresh_token).revoked = true;
}

ALATION_AUTH_DECL void FakeAlation::expire_refresh_token(const Secret& refresh_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->refresh_record(refresh_token).expires_at = impl_->now();
}

ALATION_AUTH_DECL void FakeAlation::revoke_access_token(const Secret& access_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->access_record(access_token).revoked = true;
}

ALATION_AUTH_DECL void FakeAlation::expire_access_token(const Secret& access_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->access_record(access_token).expires_at = impl_->now();
}

ALATION_AUTH_DECL void FakeAlation::set_access_token_lifetime(std::chrono::milliseconds lifetime) {
    std::lock_guard lock(impl_->mutex_);
    impl_->access_token_lifetime_ = lifetime;
}

ALATION_AUTH_DECL void FakeAlation::add_oauth_client(std::string client_id, std::string client_secret,
                                                     std::chrono::seconds lifetime) {
    if (client_id.empty() || client_secret.empty())
        throw std::invalid_argument("FakeAlation::add_oauth_client: empty client id or secret");
    if (lifetime.count() <= 0) throw std::invalid_argument("FakeAlation::add_oauth_client: lifetime must be positive");
    std::lock_guard lock(impl_->mutex_);
    if (impl_->oauth_clients_.count(client_id) != 0)
        throw std::invalid_argument("FakeAlation: OAuth client exists: " + client_id);
    impl_->oauth_clients_.emplace(std::move(client_id), detail::OAuthClientRecord{std::move(client_secret), lifetime});
}

ALATION_AUTH_DECL Secret FakeAlation::issue_oauth_token(std::string_view client_id,
                                                        std::optional<std::chrono::seconds> lifetime) {
    std::lock_guard lock(impl_->mutex_);
    const auto it = impl_->oauth_clients_.find(client_id);
    if (it == impl_->oauth_clients_.end())
        throw std::invalid_argument("FakeAlation: unknown OAuth client " + std::string(client_id));
    return Secret(impl_->new_oauth_token(it->first, lifetime.value_or(it->second.lifetime)));
}

ALATION_AUTH_DECL void FakeAlation::expire_oauth_token(const Secret& jwt) {
    std::lock_guard lock(impl_->mutex_);
    const auto it = impl_->oauth_tokens_.find(std::string(jwt.reveal()));
    if (it == impl_->oauth_tokens_.end()) throw std::invalid_argument("FakeAlation: unknown OAuth token");
    it->second.expires_at = impl_->now();
}

ALATION_AUTH_DECL void FakeAlation::inject(std::string path, Fault fault, int times) {
    if (times < 1) throw std::invalid_argument("FakeAlation::inject: times must be at least 1");
    std::lock_guard lock(impl_->mutex_);
    impl_->faults_.push_back(detail::InjectedFault{std::move(path), std::move(fault), times});
}

ALATION_AUTH_DECL void FakeAlation::clear_faults() {
    std::lock_guard lock(impl_->mutex_);
    impl_->faults_.clear();
}

ALATION_AUTH_DECL std::size_t FakeAlation::request_count(std::string_view path) const {
    std::lock_guard lock(impl_->mutex_);
    const auto it = impl_->requests_.find(path);
    return it == impl_->requests_.end() ? 0 : it->second;
}

ALATION_AUTH_DECL std::size_t FakeAlation::access_tokens_minted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->access_tokens_minted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::refresh_tokens_created() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->refresh_tokens_created_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::connections_accepted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->connections_accepted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::oauth_tokens_minted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->oauth_tokens_minted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::protected_accepted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->protected_accepted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::protected_rejected() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->protected_rejected_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::protected_rejected_expired() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->protected_rejected_expired_;
}

}  // namespace alation::auth::testing

#endif
