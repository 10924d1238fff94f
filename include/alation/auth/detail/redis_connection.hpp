// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_REDIS_CONNECTION_HPP
#define ALATION_AUTH_DETAIL_REDIS_CONNECTION_HPP

#include <alation/auth/detail/tls_peer.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <hiredis/async.h>

// TLS needs hiredis_ssl, a library of its own beside hiredis 1.0 and later (0.14 has no TLS).
// CMake's alation::hiredis defines this to whether it found and links the library; without CMake
// the header decides.
#ifndef ALATION_AUTH_HAS_HIREDIS_SSL
#if HIREDIS_MAJOR >= 1 && __has_include(<hiredis/hiredis_ssl.h>)
#define ALATION_AUTH_HAS_HIREDIS_SSL 1
#else
#define ALATION_AUTH_HAS_HIREDIS_SSL 0
#endif
#endif
#if ALATION_AUTH_HAS_HIREDIS_SSL
#include <hiredis/hiredis_ssl.h>
#endif

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace alation::auth::detail {

/// A connection's TLS: the context (trust and client certificate, loaded once by the store; it
/// verifies the peer) and the name the server's certificate must hold.
struct RedisTls {
    std::shared_ptr<SSL_CTX> context;
    /// Empty: the host.
    std::string server_name;
};

/// Where and how to reach Redis (RedisTokenStoreOptions without what only the store uses).
struct RedisConnectionOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string username;
    Secret password;
    int database = 0;
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds command_timeout{2000};
    /// Only with ALATION_AUTH_HAS_HIREDIS_SSL (RedisTokenStore refuses it otherwise).
    std::optional<RedisTls> tls;
};

/// One Redis reply, copied out of hiredis's. Its text may be a stored secret: wiped when destroyed.
struct RedisReply {
    /// Bits, so a command can name the kinds it accepts.
    enum Kind : unsigned { nil = 1, status = 2, integer = 4, string = 8 };
    Kind kind = nil;
    /// A status or a string.
    std::string text;
    long long number = 0;

    RedisReply() = default;
    RedisReply(RedisReply&& other) noexcept : kind(other.kind), text(std::move(other.text)), number(other.number) {
        Secret::wipe(other.text);
    }
    RedisReply& operator=(RedisReply&& other) noexcept {
        Secret::wipe(text);
        kind = other.kind;
        text = std::move(other.text);
        number = other.number;
        Secret::wipe(other.text);
        return *this;
    }
    RedisReply(const RedisReply&) = delete;
    RedisReply& operator=(const RedisReply&) = delete;
    ~RedisReply() { Secret::wipe(text); }
};

/// A command's arguments, wiped when destroyed (they may hold secrets), even when the command
/// never runs.
class RedisArgs {
public:
    RedisArgs(std::vector<std::string> items) : items_(std::move(items)) {}  // NOLINT: implicit by design

    /// Each part constructed in place: no copy of a secret is left behind, as the copies an
    /// initializer list makes would be.
    template <class... Parts>
    static RedisArgs of(Parts&&... parts) {
        std::vector<std::string> items;
        items.reserve(sizeof...(parts));
        (items.emplace_back(std::forward<Parts>(parts)), ...);
        return {std::move(items)};
    }
    RedisArgs(RedisArgs&&) noexcept = default;
    RedisArgs& operator=(RedisArgs&&) = delete;
    RedisArgs(const RedisArgs&) = delete;
    RedisArgs& operator=(const RedisArgs&) = delete;
    ~RedisArgs() { wipe(); }

    [[nodiscard]] const std::vector<std::string>& items() const noexcept { return items_; }
    void wipe() noexcept {
        for (auto& item : items_) Secret::wipe(item);
    }

private:
    std::vector<std::string> items_;
};

/// One connection to Redis through asynchronous hiredis, driven by Asio: hiredis encodes commands
/// and parses replies, an Asio stream_descriptor waits on its socket (hiredis owns the fd, so the
/// descriptor is released, never closed). No threads; all state lives on one strand of the
/// executor, and the public functions may be called from any thread.
///
/// It connects on the first command (resolving a host name with Asio's asynchronous resolver),
/// with TLS when configured (hiredis_ssl does the handshake inside its reads and writes), sends
/// AUTH and SELECT as configured, and pipelines commands. A failed connect or TLS handshake (an
/// untrusted certificate, the wrong name, a client certificate refused), a broken connection, or a
/// timeout (connect_timeout for the connect, its handshake and its AUTH/SELECT, command_timeout
/// for each command) completes every pending command with Error::token_store_unavailable or
/// Error::timeout and frees the context; the next command connects again, without backoff (the
/// caller backs off). An error reply (NOAUTH, WRONGPASS, READONLY, OOM...) is
/// Error::token_store_error and keeps the connection, except for AUTH and SELECT; a reply of a
/// kind the command does not accept, or bytes that are not RESP, are Error::token_store_error and
/// drop the connection, which cannot be trusted after them. Nothing a reply says is kept.
///
/// Handlers complete through asio::post on their associated executor (by default the executor
/// given to create), never inside the call that started them.
class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
public:
    using ReplyHandler = boost::asio::any_completion_handler<void(error_code, RedisReply)>;

    static std::shared_ptr<RedisConnection> create(boost::asio::any_io_executor executor,
                                                   RedisConnectionOptions options) {
        return std::shared_ptr<RedisConnection>(new RedisConnection(std::move(executor), std::move(options)));
    }

    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    ~RedisConnection() {
        // Every pending command holds a reference to us (its timer's handler), so none is left.
        if (context_ != nullptr) free_context();
    }

    /// Sends `args` as one command in argv form (no value is ever formatted into a command
    /// string) and completes with its reply, which must be one of the `accepted` kinds (a
    /// RedisReply::Kind mask). `args` may hold secrets: they are wiped once handed to hiredis.
    void async_command(RedisArgs args, unsigned accepted, ReplyHandler handler) {
        boost::asio::dispatch(strand_, [self = shared_from_this(), args = std::move(args), accepted,
                                        handler = std::move(handler)]() mutable {
            self->start_command(std::move(args), accepted, std::move(handler));
        });
    }

    /// Closes the connection; pending commands complete with operation_aborted. A later command
    /// connects again.
    void close() {
        boost::asio::dispatch(strand_,
                              [self = shared_from_this()] { self->reset(boost::asio::error::operation_aborted); });
    }

    /// Commands handed to hiredis, AUTH and SELECT included.
    [[nodiscard]] std::uint64_t commands_sent() const noexcept { return commands_sent_.load(); }

private:
    using Strand = boost::asio::strand<boost::asio::any_io_executor>;
    // privdata of the AUTH and SELECT a connect sends; commands have ids from 1.
    static constexpr std::uint64_t setup_id = 0;

    enum class Phase { idle, resolving, connecting, ready };

    struct Pending {
        Pending(RedisArgs a, unsigned kinds, ReplyHandler h, boost::asio::steady_timer t)
            : args(std::move(a)), accepted(kinds), handler(std::move(h)), timer(std::move(t)) {}

        RedisArgs args;  // until handed to hiredis
        unsigned accepted;
        ReplyHandler handler;
        boost::asio::steady_timer timer;
    };

    RedisConnection(boost::asio::any_io_executor executor, RedisConnectionOptions options)
        : executor_(std::move(executor)),
          strand_(boost::asio::make_strand(executor_)),
          options_(std::move(options)),
          resolver_(strand_),
          connect_timer_(strand_),
          socket_(strand_) {}

    void start_command(RedisArgs args, unsigned accepted, ReplyHandler handler) {
        const std::uint64_t id = next_id_++;
        auto& pending = pending_
                            .emplace(std::piecewise_construct, std::forward_as_tuple(id),
                                     std::forward_as_tuple(std::move(args), accepted, std::move(handler),
                                                           boost::asio::steady_timer(strand_)))
                            .first->second;
        pending.timer.expires_after(options_.command_timeout);
        pending.timer.async_wait([self = shared_from_this(), id](error_code ec) {
            // A lost reply leaves the connection out of step: drop it with everything on it.
            if (!ec && self->pending_.count(id) != 0) self->reset(Error::timeout);
        });
        if (context_ != nullptr) return send(id);
        waiting_.push_back(id);
        // A connect that fails at once completes the command and clears waiting_.
        if (phase_ == Phase::idle) connect();
    }

    void connect() {
        phase_ = Phase::resolving;
        const std::uint64_t attempt = ++attempt_;
        connect_timer_.expires_after(options_.connect_timeout);
        connect_timer_.async_wait([self = shared_from_this(), attempt](error_code ec) {
            if (!ec && attempt == self->attempt_ && self->phase_ != Phase::ready) self->reset(Error::timeout);
        });
        error_code ec;
        const auto address = boost::asio::ip::make_address(options_.host, ec);
        if (!ec) return open_context(address.to_string());
        resolver_.async_resolve(options_.host, std::to_string(options_.port),
                                [self = shared_from_this(), attempt](error_code ec, const auto& results) {
                                    if (attempt != self->attempt_) return;
                                    if (ec || results.empty()) return self->reset(Error::token_store_unavailable);
                                    self->open_context(results.begin()->endpoint().address().to_string());
                                });
    }

    void open_context(const std::string& ip) {
        redisAsyncContext* context = redisAsyncConnect(ip.c_str(), options_.port);
        if (context == nullptr) return reset(Error::token_store_unavailable);
        SSL* ssl = nullptr;
        const bool opened = context->err == 0 && start_tls(*context, ssl);
        error_code ec;
        if (opened) socket_.assign(context->c.fd, ec);
        if (!opened || ec) {
            redisAsyncFree(context);
            return reset(Error::token_store_unavailable);
        }
        context_ = context;
        ssl_ = ssl;
        ++generation_;
        phase_ = Phase::connecting;
        context->data = this;
        context->ev.data = this;
        context->ev.addRead = [](void* self) {
            auto* connection = static_cast<RedisConnection*>(self);
            connection->want(connection->reading_);
        };
        context->ev.delRead = [](void* self) { static_cast<RedisConnection*>(self)->reading_.wanted = false; };
        context->ev.addWrite = [](void* self) {
            auto* connection = static_cast<RedisConnection*>(self);
            connection->want(connection->writing_);
        };
        context->ev.delWrite = [](void* self) { static_cast<RedisConnection*>(self)->writing_.wanted = false; };
        context->ev.cleanup = [](void* self) { static_cast<RedisConnection*>(self)->on_context_freed(); };

        if (!options_.password.empty()) {
            send_raw(options_.username.empty() ? RedisArgs::of("AUTH", options_.password.reveal())
                                               : RedisArgs::of("AUTH", options_.username, options_.password.reveal()),
                     setup_id);
            ++setup_pending_;
        }
        if (options_.database != 0) {
            send_raw(RedisArgs::of("SELECT", std::to_string(options_.database)), setup_id);
            ++setup_pending_;
        }
        for (const std::uint64_t id : std::exchange(waiting_, {})) send(id);
    }

    // With TLS configured: gives hiredis an SSL object that checks the server's certificate for
    // the name (a host name, also sent as SNI, or an address); hiredis owns it from then on. False
    // when that fails.
    bool start_tls(redisAsyncContext& context, SSL*& ssl) {
        if (!options_.tls) return true;
#if ALATION_AUTH_HAS_HIREDIS_SSL
        SSL* s = SSL_new(options_.tls->context.get());
        if (s == nullptr) return false;
        // The host as configured, not the address it resolved to.
        const std::string& name = options_.tls->server_name.empty() ? options_.host : options_.tls->server_name;
        error_code not_ip;
        boost::asio::ip::make_address(name, not_ip);
        const bool is_ip = !not_ip;
        const bool named = send_server_name(s, name, is_ip) && expect_peer_name(s, name, is_ip);
        if (!named || redisInitiateSSL(&context.c, s) != REDIS_OK) {
            SSL_free(s);
            return false;
        }
        ssl = s;
        return true;
#else
        static_cast<void>(context);
        static_cast<void>(ssl);
        return false;  // RedisTokenStore refuses TLS options before it comes to this
#endif
    }

    // Whether the TCP connect and, with TLS, the handshake are done.
    bool connected() const {
        if ((context_->c.flags & REDIS_CONNECTED) == 0) return false;
        return ssl_ == nullptr || SSL_is_init_finished(ssl_) == 1;
    }

    void ready() {
        phase_ = Phase::ready;
        connect_timer_.cancel();
    }

    void send(std::uint64_t id) {
        auto& pending = pending_.at(id);
        const bool sent = send_raw(pending.args, id);
        if (!sent) complete(id, Error::token_store_unavailable, {});
    }

    // Hands `args` to hiredis (which copies them into its output buffer) and wipes them.
    bool send_raw(RedisArgs& args, std::uint64_t id) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        for (const auto& a : args.items()) {
            argv.push_back(a.data());
            lengths.push_back(a.size());
        }
        // privdata carries the command's id, never a pointer: a reply to a command that timed out
        // finds nothing instead of freed memory.
        void* privdata = reinterpret_cast<void*>(id);  // NOLINT(performance-no-int-to-ptr)
        const int rc = redisAsyncCommandArgv(context_, &RedisConnection::on_reply, privdata,
                                             static_cast<int>(argv.size()), argv.data(), lengths.data());
        args.wipe();
        if (rc != REDIS_OK) return false;
        ++commands_sent_;
        return true;
    }
    bool send_raw(RedisArgs&& args, std::uint64_t id) { return send_raw(args, id); }

    static void on_reply(redisAsyncContext* context, void* reply, void* privdata) {
        auto* self = static_cast<RedisConnection*>(context->data);
        if (self == nullptr) return;  // we freed the context and already completed its commands
        const auto id = reinterpret_cast<std::uintptr_t>(privdata);
        const auto* r = static_cast<const redisReply*>(reply);
        if (r == nullptr) {
            // hiredis is freeing the context after an I/O or protocol error (or a failed connect):
            // every command fails; on_context_freed follows.
            self->fail_all(context->err == REDIS_ERR_PROTOCOL ? Error::token_store_error
                                                              : Error::token_store_unavailable);
            return;
        }
        // hiredis 0.14 aborts the process on a reply that no command awaits: a server that answers
        // more than it was asked is dropped before hiredis reads on.
        if (answers_unasked(*context)) return self->reset(Error::token_store_error);
        if (id == setup_id) return self->on_setup_reply(*r);
        if (self->pending_.count(id) == 0) return;  // it timed out
        if (r->type == REDIS_REPLY_ERROR) return self->complete(id, Error::token_store_error, {});
        RedisReply copy;
        switch (r->type) {
        case REDIS_REPLY_NIL: copy.kind = RedisReply::nil; break;
        case REDIS_REPLY_STATUS: copy.kind = RedisReply::status; break;
        case REDIS_REPLY_INTEGER: copy.kind = RedisReply::integer; break;
        case REDIS_REPLY_STRING: copy.kind = RedisReply::string; break;
        default: return self->reset(Error::token_store_error);  // an array: no command of ours answers one
        }
        if ((copy.kind & self->pending_.at(id).accepted) == 0) return self->reset(Error::token_store_error);
        if (copy.kind == RedisReply::status || copy.kind == RedisReply::string) copy.text.assign(r->str, r->len);
        copy.number = r->integer;
        self->complete(id, {}, std::move(copy));
    }

    // Whether bytes are left to parse (hiredis has already taken the callback of the reply being
    // handled) while no command awaits a reply.
    static bool answers_unasked(const redisAsyncContext& context) {
        return context.replies.head == nullptr && context.c.reader->pos < context.c.reader->len;
    }

    // Whether the server sent bytes while no command awaits a reply, other than what hiredis
    // handles (the end of the connection, or an error reply before it, as Redis sends when it
    // refuses a client).
    bool sent_unasked() const {
        if (context_->replies.head != nullptr || (context_->c.flags & REDIS_CONNECTED) == 0) return false;
        char first = 0;
        // Over TLS the socket holds records: peek at what they decrypt to.
        if (ssl_ != nullptr) return SSL_peek(ssl_, &first, 1) == 1 && first != '-';
        return ::recv(context_->c.fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && first != '-';
    }

    void on_setup_reply(const redisReply& reply) {
        // AUTH or SELECT refused (or a server that does not speak Redis): the connection is useless.
        if (reply.type != REDIS_REPLY_STATUS) return reset(Error::token_store_error);
        if (--setup_pending_ == 0) ready();
    }

    struct Interest {
        bool wanted = false;
        bool waiting = false;
    };

    void want(Interest& interest) {
        interest.wanted = true;
        if (interest.waiting) return;
        interest.waiting = true;
        const bool read = &interest == &reading_;
        socket_.async_wait(
            read ? boost::asio::posix::stream_descriptor::wait_read : boost::asio::posix::stream_descriptor::wait_write,
            [weak = weak_from_this(), generation = generation_, read](error_code ec) {
                if (auto self = weak.lock()) self->on_ready(generation, read, ec);
            });
    }

    void on_ready(std::uint64_t generation, bool read, error_code ec) {
        if (generation != generation_ || context_ == nullptr) return;  // a context freed since
        Interest& interest = read ? reading_ : writing_;
        interest.waiting = false;
        if (ec) return reset(Error::token_store_unavailable);
        if (!interest.wanted) return;
        // hiredis_ssl calls SSL_get_error without clearing the thread's OpenSSL error queue first:
        // an error left there by an earlier failure would fail this connection too.
        if (ssl_ != nullptr) ERR_clear_error();
        // Either may free the context (and call on_context_freed) before returning.
        if (read && sent_unasked())
            return reset(Error::token_store_error);
        else if (read)
            redisAsyncHandleRead(context_);
        else
            redisAsyncHandleWrite(context_);
        if (generation != generation_ || context_ == nullptr) return;
        // Connected once the TCP connect, the TLS handshake and the replies to AUTH and SELECT are
        // done (the last reply to AUTH or SELECT sees to it in on_setup_reply).
        if (phase_ == Phase::connecting && setup_pending_ == 0 && connected()) ready();
        if (interest.wanted) want(interest);
    }

    // hiredis is freeing the context (cleanup hook): forget it and its socket.
    void on_context_freed() {
        context_ = nullptr;
        ssl_ = nullptr;
        release_socket();
        phase_ = Phase::idle;
        setup_pending_ = 0;
        ++attempt_;
        connect_timer_.cancel();
    }

    void release_socket() {
        ++generation_;
        reading_ = {};
        writing_ = {};
        // Cancels our waits; hiredis closes the fd.
        if (socket_.is_open()) socket_.release();
    }

    // Frees the context ourselves, after its commands were completed. Inside a hiredis callback
    // hiredis defers the free until the callback returns.
    void free_context() {
        redisAsyncContext* context = std::exchange(context_, nullptr);
        ssl_ = nullptr;
        context->data = nullptr;
        context->ev = {};
        release_socket();
        redisAsyncFree(context);
    }

    // Completes every command with `ec` and drops the connection or the connect in progress.
    void reset(error_code ec) {
        fail_all(ec);
        ++attempt_;
        resolver_.cancel();
        connect_timer_.cancel();
        if (context_ != nullptr) free_context();
        phase_ = Phase::idle;
        setup_pending_ = 0;
    }

    void fail_all(error_code ec) {
        waiting_.clear();
        while (!pending_.empty()) complete(pending_.begin()->first, ec, {});
    }

    void complete(std::uint64_t id, error_code ec, RedisReply reply) {
        auto node = pending_.extract(id);
        if (node.empty()) return;
        Pending& pending = node.mapped();
        pending.timer.cancel();
        boost::asio::post(executor_, boost::asio::append(std::move(pending.handler), ec, std::move(reply)));
    }

    boost::asio::any_io_executor executor_;
    Strand strand_;
    RedisConnectionOptions options_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::posix::stream_descriptor socket_;

    // Everything below is touched on the strand only (commands_sent_ is read from anywhere).
    redisAsyncContext* context_ = nullptr;
    SSL* ssl_ = nullptr;  // with TLS, context_'s (hiredis frees it)
    Phase phase_ = Phase::idle;
    std::uint64_t attempt_ = 0;     // tells a stale resolve or connect timeout from the current one
    std::uint64_t generation_ = 0;  // tells a wait on a freed context's socket from the current one
    int setup_pending_ = 0;         // AUTH and SELECT replies still to come
    Interest reading_;
    Interest writing_;
    std::uint64_t next_id_ = setup_id + 1;
    std::map<std::uint64_t, Pending> pending_;
    std::vector<std::uint64_t> waiting_;  // commands waiting for the context while resolving
    std::atomic<std::uint64_t> commands_sent_{0};
};

}  // namespace alation::auth::detail

#endif
