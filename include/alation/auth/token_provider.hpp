// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TOKEN_PROVIDER_HPP
#define ALATION_AUTH_TOKEN_PROVIDER_HPP

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/provider_front.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>
#include <alation/auth/with_diagnostics.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

#include <openssl/crypto.h>

// This header declares what it can instead of including it, so that a file that only puts tokens
// on requests does not parse the Client, the token sources or Asio's TLS, in either mode. The
// constructors are compiled with the rest of the library (impl/token_provider*.ipp); header-only,
// they are defined where what they take is known: in a file that also includes client.hpp (those
// from a Client) or token_source.hpp (the one from a TokenSource), in either order.
namespace alation::auth {

class Client;       // client.hpp
class TokenSource;  // token_source.hpp

namespace http = boost::beast::http;

/// The name of the header that carries the API access token.
inline constexpr std::string_view token_header = "TOKEN";

/// Puts `value` on `request` in `header`.
template <class Body, class Fields>
void set_token_header(http::request<Body, Fields>& request, const Secret& value, TokenHeader header) {
    if (header == TokenHeader::token) return (void)request.set(token_header, value.reveal());
    std::string bearer = "Bearer ";
    bearer += value.reveal();
    request.set(http::field::authorization, bearer);
    OPENSSL_cleanse(bearer.data(), bearer.size());
}

/// Keeps a valid API access token for a service and puts it on outgoing requests.
///
/// Its tokens come from a TokenSource: a refresh token (createAPIAccessToken), OAuth client
/// credentials (the client credentials grant), or a program's own; every guarantee below holds
/// for each. It mints the first token as soon as it is constructed, then refreshes each token in the
/// background once its remaining life falls below the refresh margin (RefreshPolicy), while
/// callers keep getting the current one: requests never carry an expired token and, past the
/// first, never wait on a refresh. However many callers ask at once, at most one mint (or
/// other request of the source) is in flight. A token's local expiry is measured from when its
/// request was sent plus the lifetime the server granted; the local wall clock is never compared
/// with the server's.
///
/// Thread safety: all member functions may be called concurrently from any thread. The state
/// lives on a strand of the Client's executor; no lock is held while user code runs.
///
/// Asynchronous functions take any completion token and default to
/// `with_diagnostics(asio::deferred)` like the Client's; each has an overload taking
/// `Diagnostics&`, filled in on failure and required to outlive the operation. token() and
/// authorize() complete on the handler's associated executor (the Client's executor when it has
/// none), send() on the handler's or else the stream's; never inside the initiating call, with
/// one exception: a coroutine that awaits token() or authorize() with the default token
/// (`co_await provider.authorize(req)`) while a token is usable is resumed at once, on its own
/// thread, without a round through the scheduler (it has suspended already; every 33rd such
/// resumption in a row goes through the scheduler, so that a loop of awaits unwinds its stack).
/// Per-operation cancellation of token() and authorize() (any type) completes that one
/// operation with `asio::error::operation_aborted` and leaves the shared refresh running for the
/// others; send() honours terminal cancellation only (see send()).
///
/// Errors of token(), authorize() and send() while waiting for a token: the error of the
/// failed mint (any Client error, e.g. Error::server_error, Error::timeout, a transport code);
/// Error::invalid_refresh_token or Error::refresh_token_expired_or_revoked once the server has
/// rejected the refresh token (Error::invalid_client_credentials, the OAuth client's), which is
/// final for this provider unless its
/// ProviderOptions::token_store holds a different token for the same user (each such call
/// looks again); Error::provider_stopped;
/// `operation_aborted`. A caller that finds no usable token while the provider backs off after
/// a failed mint gets that failure at once instead of waiting out the backoff.
///
/// Destroying the provider, or stop(), completes every waiting operation with
/// Error::provider_stopped and cancels the refresh in flight; nothing is left running. The
/// provider may be destroyed while operations are pending: they hold its shared state.
class TokenProvider {
public:
    /// The strand the provider's state lives on. Completion handlers do not run on it unless
    /// they are bound to it.
    using executor_type = boost::asio::strand<boost::asio::any_io_executor>;

    /// Starts minting (after RefreshPolicy::first_mint_jitter), on a strand of the Client's
    /// executor. `client` is a handle: copies share the connection pool. With
    /// options.token_store, the stored token is loaded before the first request and preferred
    /// when it is the same user's and expires later (see ProviderOptions::token_store).
    /// Throws std::invalid_argument when options.share_access_tokens is set without a store
    /// that shares access tokens.
    ALATION_AUTH_DECL TokenProvider(const Client& client, RefreshToken refresh_token, ProviderOptions options = {});

    /// For a refresh token known only by its value: its expiry is learnt from
    /// validateRefreshToken when RefreshPolicy::regenerate_refresh_token is on. A stored token
    /// for the same user_id, if any, is preferred to it.
    ALATION_AUTH_DECL TokenProvider(const Client& client, Secret refresh_token, std::int64_t user_id,
                                    ProviderOptions options = {});

    /// Over OAuth 2.0 client credentials: JWTs from Client::create_oauth_token, refreshed like
    /// any access token. A refused client (Error::invalid_client_credentials) is final, never
    /// retried in a loop. RefreshPolicy::regenerate_refresh_token does not apply; token_store
    /// serves only to share JWTs (ProviderOptions::share_access_tokens).
    ALATION_AUTH_DECL TokenProvider(const Client& client, OAuthClientCredentials credentials,
                                    const ProviderOptions& options = {});

    /// Over any token source, e.g. a program's own; starts minting at once on a strand of
    /// `executor`. RefreshPolicy::regenerate_refresh_token applies when the source is renewable();
    /// ProviderOptions::token_store is the source's business, not read here. A source serves
    /// one provider.
    ALATION_AUTH_DECL TokenProvider(const boost::asio::any_io_executor& executor, std::shared_ptr<TokenSource> source,
                                    ProviderOptions options = {});

    TokenProvider(const TokenProvider&) = delete;
    TokenProvider& operator=(const TokenProvider&) = delete;

    /// Stops the provider as stop() does.
    ~TokenProvider() { impl_->stop(); }

    /// The provider's strand (see executor_type).
    [[nodiscard]] executor_type get_executor() const { return impl_->get_executor(); }

    /// Sets the token header (ProviderOptions::header) from the cached token if it is usable
    /// now, without suspending: no I/O, only a short internal lock, never user code. Returns
    /// false when there is none (a mint is then normally under way already): use authorize(),
    /// which waits for it. Past the refresh margin it returns true and asks for the background
    /// refresh.
    template <class Body, class Fields>
    bool try_authorize(http::request<Body, Fields>& request) {
        return try_authorize(request, impl_->options().header);
    }
    /// As above, in `header` for this request.
    template <class Body, class Fields>
    bool try_authorize(http::request<Body, Fields>& request, TokenHeader header) {
        const auto token = impl_->usable_token(impl_->now());
        if (!token) return false;
        set_token_header(request, token->token.value, header);
        return true;
    }

    /// Sets the token header (ProviderOptions::header), waiting for a token only when none is usable.
    /// Signature: `void(error_code)`. `request` must stay alive until completion; on failure
    /// the header is left as it was. Errors: see the class comment.
    template <class Body, class Fields, class CompletionToken = DefaultCompletionToken>
    auto authorize(http::request<Body, Fields>& request, CompletionToken&& token = {}) {
        return authorize(request, impl_->options().header, std::forward<CompletionToken>(token));
    }
    template <class Body, class Fields, class CompletionToken = DefaultCompletionToken>
    auto authorize(http::request<Body, Fields>& request, Diagnostics& diag, CompletionToken&& token = {}) {
        return authorize(request, impl_->options().header, diag, std::forward<CompletionToken>(token));
    }
    /// As above, in `header` for this request.
    template <class Body, class Fields, class CompletionToken = DefaultCompletionToken>
    auto authorize(http::request<Body, Fields>& request, TokenHeader header, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(
            AuthorizeInitiation{impl_}, token, static_cast<Diagnostics*>(nullptr), &request, header);
    }
    template <class Body, class Fields, class CompletionToken = DefaultCompletionToken>
    auto authorize(http::request<Body, Fields>& request, TokenHeader header, Diagnostics& diag,
                   CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(AuthorizeInitiation{impl_}, token, &diag,
                                                                              &request, header);
    }

    /// The current valid access token, waiting only when none is usable. Signature:
    /// `void(error_code, AccessToken)`; on failure the AccessToken is empty. The token is a
    /// copy: keep it no longer than the request it is for, and report a rejection with
    /// invalidate(). Errors: see the class comment.
    template <class CompletionToken = DefaultCompletionToken>
    auto token(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, AccessToken)>(
            TokenInitiation{impl_}, token, static_cast<Diagnostics*>(nullptr));
    }
    template <class CompletionToken = DefaultCompletionToken>
    auto token(Diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, AccessToken)>(TokenInitiation{impl_},
                                                                                           token, &diag);
    }

    /// The server rejected the token `rejected` (401/403): drop it if it is still the current
    /// one and mint a new one. A report about an older token changes nothing, so a burst of
    /// rejections from requests in flight costs one mint. Callable from any thread; returns at
    /// once. Callers that find no usable token meanwhile wait for the new one.
    void invalidate(const Secret& rejected) { impl_->invalidate(rejected); }

    /// Authorizes `request`, writes it to `stream` and reads the response into `response`. On
    /// 401 it invalidates the token it used and tries once more with a new one, on the same
    /// stream; the second response is the one delivered, whatever its status. On 403 it does the
    /// same only while the token used is not known good: a token is known good once a response
    /// to it was 2xx, or once it was the new token of such a retry and got 403 too (so the 403
    /// meant "not allowed"). A service calling a forbidden endpoint thus pays at most one extra
    /// mint and request per token lifetime, not one per request.
    /// Signature: `void(error_code)`; an HTTP error status is not an error_code, look at
    /// `response`. The stream, request, buffer and response must stay alive until completion;
    /// the caller keeps `stream` free of other writes and reads meanwhile. Errors: those of the
    /// class comment while waiting for a token, and the stream's own from the write or read.
    /// Cancellation: terminal only (partial and total are ignored, as async_compose filters
    /// them); a cancelled write or read leaves the stream unusable: close it.
    template <class Stream, class ReqBody, class Fields, class DynamicBuffer, class ResBody, class ResFields,
              class CompletionToken = DefaultCompletionToken>
    auto send(Stream& stream, http::request<ReqBody, Fields>& request, DynamicBuffer& buffer,
              http::response<ResBody, ResFields>& response, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(
            SendInitiation{impl_}, token, static_cast<Diagnostics*>(nullptr), &stream, &request, &buffer, &response);
    }
    template <class Stream, class ReqBody, class Fields, class DynamicBuffer, class ResBody, class ResFields,
              class CompletionToken = DefaultCompletionToken>
    auto send(Stream& stream, http::request<ReqBody, Fields>& request, DynamicBuffer& buffer,
              http::response<ResBody, ResFields>& response, Diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(SendInitiation{impl_}, token, &diag,
                                                                              &stream, &request, &buffer, &response);
    }

    /// The refresh token in use: the one given, the stored one adopted at construction, or the
    /// last one regenerated. A copy; callable from any thread. Empty for other token sources.
    [[nodiscard]] RefreshToken refresh_token() const {
        return refresh_source_ ? refresh_source_->refresh_token() : RefreshToken{};
    }

    /// Completes every waiting operation with Error::provider_stopped, cancels the refresh in
    /// flight and stops refreshing. Later requests fail with Error::provider_stopped. Returns
    /// at once (the work is posted to the strand); idempotent.
    void stop() { impl_->stop(); }

private:
    using Impl = detail::ProviderFront;

    ALATION_AUTH_DECL TokenProvider(const Client& client, RefreshToken refresh_token, bool expiry_known,
                                    ProviderOptions options);

    struct AuthorizeInitiation {
        std::shared_ptr<Impl> impl;
        // The I/O executor Asio's composed tokens need (asio::cancel_after puts its timer on it).
        using executor_type = TokenProvider::executor_type;
        executor_type get_executor() const { return impl->get_executor(); }

        template <class Handler, class Request>
        void operator()(Handler&& handler, Diagnostics* diag, Request* request, TokenHeader header) const {
            if (const auto token = impl->usable_token(impl->now())) {
                set_token_header(*request, token->token.value, header);
                impl->complete_usable(std::forward<Handler>(handler), error_code{});
                return;
            }
            diag = detail::diagnostics_for(handler, diag);
            impl->async_wait(
                detail::adapt_handler(std::forward<Handler>(handler),
                                      [request, header](auto&& h, error_code ec, const Impl::TokenPtr& token) {
                                          if (!ec) set_token_header(*request, token->token.value, header);
                                          std::forward<decltype(h)>(h)(ec);
                                      }),
                diag);
        }
    };

    struct TokenInitiation {
        std::shared_ptr<Impl> impl;
        using executor_type = TokenProvider::executor_type;
        executor_type get_executor() const { return impl->get_executor(); }

        template <class Handler>
        void operator()(Handler&& handler, Diagnostics* diag) const {
            if (const auto token = impl->usable_token(impl->now())) {
                impl->complete_usable(std::forward<Handler>(handler), error_code{}, token->token);
                return;
            }
            diag = detail::diagnostics_for(handler, diag);
            impl->async_wait(detail::adapt_handler(std::forward<Handler>(handler),
                                                   [](auto&& h, error_code ec, const Impl::TokenPtr& token) {
                                                       std::forward<decltype(h)>(h)(
                                                           ec, token ? token->token : AccessToken{});
                                                   }),
                             diag);
        }
    };

    template <class Stream, class Request, class DynamicBuffer, class Response>
    struct SendOp;

    struct SendInitiation {
        std::shared_ptr<Impl> impl;
        using executor_type = TokenProvider::executor_type;
        executor_type get_executor() const { return impl->get_executor(); }

        // Unlike the other initiations, send() makes the diagnostics its Throwing adapter would
        // read only when it waits for a token, and hands them over as it completes: most sends
        // find a usable token and make none.
        template <class Handler, class Stream, class Request, class DynamicBuffer, class Response>
        void operator()(Handler&& handler, Diagnostics* diag, Stream* stream, Request* request, DynamicBuffer* buffer,
                        Response* response) const {
            const bool make_diagnostics = !diag && detail::throws_diagnostics(handler);
            auto adopting = detail::adapt_handler(std::forward<Handler>(handler),
                                                  [](auto&& h, error_code ec, std::unique_ptr<Diagnostics> made) {
                                                      detail::adopt_diagnostics(h, std::move(made));
                                                      std::forward<decltype(h)>(h)(ec);
                                                  });
            boost::asio::async_compose<decltype(adopting), void(error_code, std::unique_ptr<Diagnostics>)>(
                SendOp<Stream, Request, DynamicBuffer, Response>(impl, *stream, *request, *buffer, *response, diag,
                                                                 make_diagnostics),
                adopting, *stream);
        }
    };

    template <class Stream, class Request, class DynamicBuffer, class Response>
    struct SendOp : boost::asio::coroutine {
        SendOp(std::shared_ptr<Impl> impl, Stream& stream, Request& request, DynamicBuffer& buffer, Response& response,
               Diagnostics* diag, bool make_diagnostics)
            : impl(std::move(impl)),
              stream(stream),
              request(request),
              buffer(buffer),
              response(response),
              diag(diag),
              make_diagnostics(make_diagnostics) {}

        std::shared_ptr<Impl> impl;
        Stream& stream;
        Request& request;
        DynamicBuffer& buffer;
        Response& response;
        Diagnostics* diag;  // the caller's, or `made`'s
        std::unique_ptr<Diagnostics> made;
        Impl::TokenPtr used;
        bool make_diagnostics;  // before a wait, for the handler's Throwing adapter
        bool retried = false;

        template <class Self>
        void operator()(Self& self) {
            step(self, {});
        }
        template <class Self>
        void operator()(Self& self, error_code ec, Impl::TokenPtr token) {
            used = std::move(token);
            step(self, ec);
        }
        template <class Self>
        void operator()(Self& self, error_code ec, std::size_t) {
            step(self, ec);
        }

        template <class Self>
        void step(Self& self, error_code ec) {
            BOOST_ASIO_CORO_REENTER(*this) {
                for (;;) {
                    used = impl->usable_token_owned(impl->now());
                    if (!used) {
                        if (make_diagnostics && !made) {
                            made = std::make_unique<Diagnostics>();
                            diag = made.get();
                        }
                        BOOST_ASIO_CORO_YIELD impl->async_wait(Impl::WaitHandler(std::move(self)), diag);
                        if (ec) return self.complete(ec, std::move(made));
                    }
                    set_token_header(request, used->token.value, impl->options().header);
                    BOOST_ASIO_CORO_YIELD http::async_write(stream, request, std::move(self));
                    if (ec) return self.complete(ec, std::move(made));
                    BOOST_ASIO_CORO_YIELD http::async_read(stream, buffer, response, std::move(self));
                    if (ec) return self.complete(ec, std::move(made));
                    const auto after =
                        detail::after_response(response.result_int(), retried, used->known_good.is_set());
                    if (after.vouch) used->known_good.set();
                    if (!after.retry) return self.complete({}, std::move(made));
                    impl->invalidate(used->token.value);
                    retried = true;
                    response = {};
                }
            }
        }
    };

    // Set for a provider over a refresh token, for refresh_token().
    std::shared_ptr<const detail::RefreshTokenHolder> refresh_source_;
    std::shared_ptr<Impl> impl_;
};

}  // namespace alation::auth

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#ifdef ALATION_AUTH_TOKEN_SOURCE_HPP
#include <alation/auth/impl/token_provider.ipp>
#endif
#ifdef ALATION_AUTH_CLIENT_HPP
#include <alation/auth/impl/token_provider_client.ipp>
#endif
#endif

#endif
