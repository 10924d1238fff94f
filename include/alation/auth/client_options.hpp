// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_CLIENT_OPTIONS_HPP
#define ALATION_AUTH_CLIENT_OPTIONS_HPP

#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

// Declared, not included: only a program that brings its own context (ClientOptions::ssl_context)
// needs Asio's TLS headers, and it includes them itself.
namespace boost::asio::ssl {
class context;
}

namespace alation::auth {

/// When and how the Client retries a failed call. The backoff is exponential with full jitter:
/// before retry n (0-based) it waits a random time in [0, min(max_backoff, initial_backoff * 2^n)],
/// or the server's Retry-After when that is longer (capped by max_retry_after).
///
/// Retried: network errors, timeouts, 429, 502, 503, 504. Never retried: 400, 401, 403, 404 and
/// every other status (bad credentials must fail fast, not lock an account). createRefreshToken
/// is retried only when the request provably never reached the server (the connection could not
/// be made), since a retried create can leave an orphan refresh token.
///
/// Through a proxy: a proxy that cannot be reached, resets or stalls is a network error or a
/// timeout like the server's own (retried); a 502, 503 or 504 answer to CONNECT
/// (Error::proxy_error: the proxy cannot reach the catalog) is retried like the server's 502/503/504;
/// a 407 (Error::proxy_authentication_required) and every other refusal of the proxy never are.
/// A failed CONNECT never reached the server, so createRefreshToken is retried after one too.
///
/// A kept-alive connection that the server closed while it was idle is replaced once by a new
/// one without counting as an attempt (never for createRefreshToken).
struct RetryPolicy {
    /// Attempts in all, the first included. 1 disables retries.
    int max_attempts = 4;
    /// The ceiling of the first wait; it doubles with each retry up to max_backoff.
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{10'000};
    /// The longest Retry-After honoured; a longer one ends the retries with the error.
    std::chrono::milliseconds max_retry_after{30'000};
    /// No retry starts once this much time has passed since the call began.
    std::chrono::milliseconds total_budget{60'000};

    /// A policy that never retries.
    static RetryPolicy none() {
        RetryPolicy p;
        p.max_attempts = 1;
        return p;
    }
};

/// How a Client connects. The defaults are safe: TLS 1.2 or later with peer and host-name
/// verification against the system trust store.
struct ClientOptions {
    /// A PEM bundle of extra trusted CAs, e.g. a corporate TLS-interception CA. Used together with
    /// the system trust store.
    std::string ca_file;
    /// A directory of hashed CA certificates (c_rehash layout), also used with the system store.
    std::string ca_dir;
    /// A caller-configured context; when set, ca_file, ca_dir and the system store are not
    /// touched, and the caller is responsible for what it trusts. Shared, so it outlives the Client.
    std::shared_ptr<boost::asio::ssl::context> ssl_context;
    /// Verify the server's certificate chain and host name. Turn off only for testing.
    bool verify_peer = true;

    /// Bounds each connection's set-up: name resolution, TCP connect, a proxy's CONNECT exchange
    /// and the TLS handshake.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Bounds each attempt, from sending the request to the last byte of the response.
    std::chrono::milliseconds request_timeout{30'000};
    /// Responses larger than this (header and body) fail with Error::response_too_large; reading
    /// stops at the limit.
    std::size_t max_response_size = std::size_t{64} * 1024;
    /// The User-Agent header of every request.
    std::string user_agent = "alation-auth";
    /// Allow plain http to hosts other than loopback. The password would cross the network in clear.
    bool allow_insecure_http = false;

    /// A forward proxy, `http://[user:password@]host[:port]` (a Secret: its userinfo may hold a
    /// password; the port is 1080 when absent, as for curl; other schemes are Error::invalid_url).
    /// https targets go through a CONNECT tunnel, http targets as absolute-form requests. When
    /// set, it wins and the environment is not read, not even no_proxy; set but empty means
    /// "no proxy". docs/tls-and-proxies.md has the rules.
    std::optional<Secret> proxy;
    /// When `proxy` is not set, take it from the environment as curl does: https_proxy,
    /// HTTPS_PROXY (http_proxy for http targets), then all_proxy, ALL_PROXY; no_proxy, NO_PROXY.
    bool proxy_from_environment = true;

    /// How create_oauth_token and introspect_oauth_token present the OAuth client's id and
    /// secret. HTTP Basic by default: RFC 6749 (2.3.1) requires every server to support it, and it
    /// keeps the secret out of request bodies that proxies or servers might log; choose
    /// client_secret_post for a server that accepts the credentials only in the form body.
    OAuthClientAuthentication oauth_client_authentication = OAuthClientAuthentication::client_secret_basic;

    /// Retries of each call; RetryPolicy::none() turns them off.
    RetryPolicy retry;
};

}  // namespace alation::auth

#endif
