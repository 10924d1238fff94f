// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_REDIS_TOKEN_STORE_HPP
#define ALATION_AUTH_REDIS_TOKEN_STORE_HPP

// The Redis token store: an optional component (CMake target alation::auth_redis, which links
// hiredis), not included by <alation/auth.hpp>, header-only in every build mode.

#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/detail/redis_connection.hpp>
#include <alation/auth/token_store.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace alation::auth {

/// TLS to Redis, as managed Redis services require. Needs hiredis 1.0 or later with its
/// hiredis_ssl library (Debian 13: libhiredis-dev), which ALATION_AUTH_HAS_HIREDIS_SSL tells at
/// compile time; without it (Debian 12's hiredis 0.14) RedisTokenStore::create refuses these
/// options. The server's certificate chain and its name are always verified.
struct RedisTlsOptions {
    /// A PEM bundle of the CAs trusted to sign the server's certificate. With ca_dir, the only
    /// CAs trusted; when both are empty, the system's trust store.
    std::string ca_file;
    /// A directory of hashed CA certificates (c_rehash layout).
    std::string ca_dir;
    /// A client certificate (PEM, intermediates after it) and its unencrypted PEM private key, for
    /// a server that asks for one (`tls-auth-clients yes`). Both or neither.
    std::string certificate_file;
    std::string private_key_file;
    /// The name the server's certificate must hold, sent as SNI too. Empty: `host` (an IP address
    /// is checked against the certificate's IP addresses, and sends no SNI).
    std::string server_name;
};

namespace detail {

/// The shared access token as stored: JSON with the fields of the server's createAPIAccessToken
/// answer, and the OAuth scope. Holds the token's value: wipe it with Secret::wipe.
inline std::string format_shared_access_token(const AccessToken& token) {
    std::string out;
    // Reserved up front so the buffer holding the token is never reallocated and left unwiped.
    out.reserve(256 + json_string_size(token.value.reveal()) + json_string_size(token.scope));
    out += "{\"api_access_token\":";
    append_json_string(out, token.value.reveal());
    out += ",\"user_id\":";
    out += std::to_string(token.user_id);
    out += ",\"created_at\":";
    append_json_string(out, format_timestamp(token.created_at));
    out += ",\"token_expires_at\":";
    append_json_string(out, format_timestamp(token.expires_at));
    out += ",\"token_status\":";
    append_json_string(out, to_string(token.status));
    out += ",\"scope\":";
    append_json_string(out, token.scope);
    out += "}";
    return out;
}

/// Parses what format_shared_access_token made: Error::malformed_token_file (never the contents)
/// when it is not that.
inline std::optional<AccessToken> parse_shared_access_token(std::string_view contents, error_code& ec) {
    AccessToken token;
    Diagnostics ignored;
    ec = parse_result(Endpoint::create_access_token, contents, token, ignored);
    if (ec) {
        ec = Error::malformed_token_file;
        return std::nullopt;
    }
    // parse_result reads the server's fields; the scope is ours. The parse lives in `arena`,
    // wiped afterwards: the JSON holds the token.
    unsigned char arena[2048];
    unsigned char scratch[256];
    {
        boost::json::monotonic_resource resource(arena, sizeof arena);
        boost::json::parse_options options;
        options.max_depth = 4;
        boost::json::parser parser(&resource, options, scratch, sizeof scratch);
        parser.reset(&resource);
        parser.write(contents.data(), contents.size(), ec);
        const boost::json::value value = ec ? boost::json::value() : parser.release();
        const auto* object = value.if_object();
        const auto* scope = object != nullptr ? object->if_contains("scope") : nullptr;
        if (!ec && (scope == nullptr || !scope->is_string())) ec = Error::malformed_token_file;
        if (!ec) token.scope.assign(scope->get_string().data(), scope->get_string().size());
    }
    OPENSSL_cleanse(arena, sizeof arena);
    OPENSSL_cleanse(scratch, sizeof scratch);
    if (ec) {
        ec = Error::malformed_token_file;
        return std::nullopt;
    }
    return token;
}

/// The client context for `options`: peer verification on, TLS 1.2 or later. Throws
/// ErrorWithDiagnostics (OpenSSL's error; Diagnostics names the option and the file) when a file
/// does not load, std::invalid_argument when the options do not fit together or this build's
/// hiredis has no TLS.
inline std::shared_ptr<SSL_CTX> make_redis_tls_context([[maybe_unused]] const RedisTlsOptions& options) {
#if ALATION_AUTH_HAS_HIREDIS_SSL
    auto check = [](bool ok, std::string what) {
        if (ok) return;
        const error_code ec(static_cast<int>(::ERR_get_error()), boost::asio::error::get_ssl_category());
        ::ERR_clear_error();
        Diagnostics diag;
        diag.set_message(std::move(what));
        throw ErrorWithDiagnostics(ec, std::move(diag));
    };
    if (options.certificate_file.empty() != options.private_key_file.empty())
        throw std::invalid_argument("RedisTlsOptions: certificate_file and private_key_file go together");
    std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    check(context != nullptr, "cannot create a TLS context for Redis");
    SSL_CTX* ctx = context.get();
    check(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1, "cannot require TLS 1.2 for Redis");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // An encrypted key fails instead of prompting on the terminal.
    SSL_CTX_set_default_passwd_cb(ctx, [](char*, int, int, void*) { return 0; });
    if (options.ca_file.empty() && options.ca_dir.empty())
        check(SSL_CTX_set_default_verify_paths(ctx) == 1, "cannot load the system's trusted CAs");
    if (!options.ca_file.empty())
        check(SSL_CTX_load_verify_file(ctx, options.ca_file.c_str()) == 1,
              "cannot load RedisTlsOptions::ca_file " + options.ca_file);
    if (!options.ca_dir.empty())
        check(SSL_CTX_load_verify_dir(ctx, options.ca_dir.c_str()) == 1,
              "cannot use RedisTlsOptions::ca_dir " + options.ca_dir);
    if (!options.certificate_file.empty()) {
        check(SSL_CTX_use_certificate_chain_file(ctx, options.certificate_file.c_str()) == 1,
              "cannot load RedisTlsOptions::certificate_file " + options.certificate_file);
        // OpenSSL also checks that the key is the certificate's.
        check(SSL_CTX_use_PrivateKey_file(ctx, options.private_key_file.c_str(), SSL_FILETYPE_PEM) == 1,
              "cannot use RedisTlsOptions::private_key_file " + options.private_key_file +
                  " as the key of certificate_file");
    }
    return context;
#else
    throw std::invalid_argument(
        "RedisTokenStoreOptions::tls: this build's hiredis (" + std::to_string(HIREDIS_MAJOR) + "." +
        std::to_string(HIREDIS_MINOR) +
        ") has no TLS; TLS to Redis needs hiredis 1.0 or later with hiredis_ssl (Debian 13: libhiredis-dev)");
#endif
}

}  // namespace detail

/// Where the Redis server is and how to talk to it.
struct RedisTokenStoreOptions {
    /// An IP address, or a name resolved with Asio's asynchronous resolver (never blocking).
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    /// The ACL user (Redis 6+); empty: AUTH with the password alone.
    std::string username;
    /// Empty: no AUTH.
    Secret password;
    /// SELECTed on connect when not 0.
    int database = 0;
    /// Every key starts with it, then the identity: "alation-auth:user:42:refresh_token".
    std::string key_prefix = "alation-auth:";
    /// Bounds resolving, connecting and the AUTH and SELECT of a new connection.
    std::chrono::milliseconds connect_timeout{2000};
    /// Bounds each command; when it elapses the connection is dropped, and the next command opens
    /// a new one.
    std::chrono::milliseconds command_timeout{2000};
    /// Set: TLS (point `port` at the server's `tls-port`). connect_timeout bounds the handshake too.
    std::optional<RedisTlsOptions> tls;
};

/// A TokenStore in Redis, which the replicas of a fleet share: the refresh token of each
/// identity, the leases that let one replica work for all, and the access token they may share.
///
/// Keys, all under `key_prefix + identity`:
/// - `:refresh_token`, a hash: `value` (the token) and `record` (it with its times, user and
///   status, in FileTokenStore's JSON). The compare-and-swap is one EVAL of a Lua script, so it is
///   atomic on the server.
/// - `:lease:<name>`, the owner, with the lease's ttl as its expiry (SET NX PX; renewed by the
///   owner taking it again).
/// - `:access_token`, the shared access token as JSON, expiring with the token.
///
/// One connection (hiredis, driven by Asio on a strand of the executor; no threads), opened on
/// the first operation and again after any failure. A failed connect or a broken connection is
/// Error::token_store_unavailable, an elapsed connect_timeout or command_timeout is Error::timeout
/// (and drops the connection, which cannot be trusted after a lost reply), a Redis error reply
/// (NOAUTH, WRONGPASS, READONLY, OOM...) or a reply that is not Redis's is
/// Error::token_store_error; a stored record that does not parse is Error::malformed_token_file.
/// None of them holds a value, a token or the password, and nothing a reply says is kept. The
/// store does not back off: the provider does.
///
/// Handlers complete on their associated executor (by default the executor given to create),
/// never inside the call that started them; per-operation cancellation is not supported (close()
/// aborts everything). Safe to call from any thread.
///
/// TLS with RedisTokenStoreOptions::tls, where hiredis has it (ALATION_AUTH_HAS_HIREDIS_SSL): a
/// failed handshake (an untrusted certificate, the wrong name, a client certificate missing or
/// refused) is Error::token_store_unavailable, like a refused connect.
///
/// Limits: a host name connects to its first resolved address.
/// The store wipes every string of its own that held a value, but hiredis frees its output and
/// input buffers (the command it wrote, the reply it read) without wiping them.
class RedisTokenStore final : public TokenStore, public std::enable_shared_from_this<RedisTokenStore> {
public:
    /// Connects to nothing yet; with TLS, loads its files. Throws ErrorWithDiagnostics (naming the
    /// option and the file) when one does not load, std::invalid_argument for a certificate without
    /// its key, or when options.tls is set but this build's hiredis has no TLS
    /// (ALATION_AUTH_HAS_HIREDIS_SSL is 0).
    static std::shared_ptr<RedisTokenStore> create(boost::asio::any_io_executor executor,
                                                   RedisTokenStoreOptions options) {
        return std::shared_ptr<RedisTokenStore>(new RedisTokenStore(std::move(executor), std::move(options)));
    }

    /// Pending operations complete with operation_aborted.
    ~RedisTokenStore() override {
        try {
            connection_->close();
        } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory; the commands end at their timeouts
        }
    }

    void async_load(std::string_view identity, LoadHandler handler) override {
        run(RedisArgs::of("HGET", key(identity, "refresh_token"), "record"), RedisReply::string | RedisReply::nil,
            std::move(handler), [](error_code ec, const RedisReply& reply, LoadHandler& h) {
                if (ec || reply.kind == RedisReply::nil) return std::move(h)(ec, std::nullopt);
                Diagnostics ignored;
                auto token = detail::parse_token_file(reply.text, ignored, ec);
                if (ec) token.reset();
                std::move(h)(ec, std::move(token));
            });
    }

    void async_compare_and_swap(std::string_view identity, const Secret& expected, const RefreshToken& desired,
                                ExchangeHandler handler) override {
        // Values travel only as arguments, never inside the script.
        static constexpr std::string_view script =
            "local current = redis.call('HGET', KEYS[1], 'value')\n"
            "if current == false or current == ARGV[1] then\n"
            "  redis.call('HSET', KEYS[1], 'value', ARGV[2], 'record', ARGV[3])\n"
            "  return 1\n"
            "end\n"
            "return 0\n";
        run(RedisArgs::of("EVAL", script, "1", key(identity, "refresh_token"), expected.reveal(),
                          desired.value.reveal(), detail::format_token_file(desired)),
            RedisReply::integer, std::move(handler), &complete_exchange);
    }

    void async_acquire_lease(std::string_view identity, std::string_view name, std::string_view owner,
                             std::chrono::milliseconds ttl, ExchangeHandler handler) override {
        // Taken when free; renewed (re-entrant) when `owner` holds it already.
        static constexpr std::string_view script =
            "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end\n"
            "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
            "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
            "  return 1\n"
            "end\n"
            "return 0\n";
        // Redis refuses an expiry of 0: the shortest lease it keeps is 1 ms.
        const auto ttl_ms = std::max<std::chrono::milliseconds::rep>(ttl.count(), 1);
        run(RedisArgs::of("EVAL", script, "1", lease_key(identity, name), owner, std::to_string(ttl_ms)),
            RedisReply::integer, std::move(handler), &complete_exchange);
    }

    void async_release_lease(std::string_view identity, std::string_view name, std::string_view owner,
                             DoneHandler handler) override {
        static constexpr std::string_view script =
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
            "return 0\n";
        run(RedisArgs::of("EVAL", script, "1", lease_key(identity, name), owner), RedisReply::integer,
            std::move(handler), [](error_code ec, const RedisReply&, DoneHandler& h) { std::move(h)(ec); });
    }

    [[nodiscard]] bool shares_access_tokens() const noexcept override { return true; }

    void async_load_access_token(std::string_view identity, AccessTokenHandler handler) override {
        run(RedisArgs::of("GET", key(identity, "access_token")), RedisReply::string | RedisReply::nil,
            std::move(handler), [](error_code ec, const RedisReply& reply, AccessTokenHandler& h) {
                if (ec || reply.kind == RedisReply::nil) return std::move(h)(ec, std::nullopt);
                auto token = detail::parse_shared_access_token(reply.text, ec);
                // Redis drops it at its expiry; this covers the clocks of replicas that disagree.
                if (token && token->expires_at <= std::chrono::system_clock::now()) token.reset();
                std::move(h)(ec, std::move(token));
            });
    }

    /// Skipped (completing without error) when the token has expired already.
    void async_store_access_token(std::string_view identity, const AccessToken& token, DoneHandler handler) override {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(token.expires_at - std::chrono::system_clock::now());
        if (left.count() <= 0) {
            boost::asio::post(executor_, boost::asio::append(std::move(handler), error_code{}));
            return;
        }
        run(RedisArgs::of("SET", key(identity, "access_token"), detail::format_shared_access_token(token), "PX",
                          std::to_string(left.count())),
            RedisReply::status, std::move(handler),
            [](error_code ec, const RedisReply&, DoneHandler& h) { std::move(h)(ec); });
    }

    /// Closes the connection; pending operations complete with operation_aborted. A later
    /// operation connects again.
    void close() { connection_->close(); }

    /// How many commands it sent, AUTH and SELECT included (the fleet benchmark's "store calls
    /// per replica").
    [[nodiscard]] std::uint64_t commands_sent() const noexcept { return connection_->commands_sent(); }

private:
    using RedisArgs = detail::RedisArgs;
    using RedisReply = detail::RedisReply;

    RedisTokenStore(boost::asio::any_io_executor executor, RedisTokenStoreOptions options)
        : executor_(executor), key_prefix_(std::move(options.key_prefix)) {
        detail::RedisConnectionOptions connection;
        connection.host = std::move(options.host);
        connection.port = options.port;
        connection.username = std::move(options.username);
        connection.password = std::move(options.password);
        connection.database = options.database;
        connection.connect_timeout = options.connect_timeout;
        connection.command_timeout = options.command_timeout;
        if (options.tls)
            connection.tls = detail::RedisTls{.context = detail::make_redis_tls_context(*options.tls),
                                              .server_name = std::move(options.tls->server_name)};
        connection_ = detail::RedisConnection::create(std::move(executor), std::move(connection));
    }

    std::string key(std::string_view identity, std::string_view suffix) const {
        std::string k = key_prefix_;
        k.append(identity).append(":").append(suffix);
        return k;
    }
    std::string lease_key(std::string_view identity, std::string_view name) const {
        return key(identity, "lease:").append(name);
    }

    static void complete_exchange(error_code ec, const RedisReply& reply, ExchangeHandler& h) {
        std::move(h)(ec, !ec && reply.number == 1);
    }

    // Sends the command; `complete(ec, reply, handler)` runs on the handler's associated executor.
    template <class Handler, class Complete>
    void run(RedisArgs args, unsigned accepted, Handler handler, Complete complete) {
        auto executor = boost::asio::get_associated_executor(handler, executor_);
        connection_->async_command(
            std::move(args), accepted,
            boost::asio::bind_executor(
                std::move(executor), [handler = std::move(handler), complete](error_code ec, RedisReply reply) mutable {
                    complete(ec, reply, handler);
                }));
    }

    boost::asio::any_io_executor executor_;
    std::string key_prefix_;
    std::shared_ptr<detail::RedisConnection> connection_;
};

}  // namespace alation::auth

#endif
