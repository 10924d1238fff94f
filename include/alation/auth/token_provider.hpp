// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TOKEN_PROVIDER_HPP
#define ALATION_AUTH_TOKEN_PROVIDER_HPP

#include <alation/auth/client.hpp>
#include <alation/auth/detail/provider_impl.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/with_diagnostics.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

namespace alation::auth {

namespace http = boost::beast::http;

/// The name of the header that carries the API access token.
inline constexpr std::string_view token_header = "TOKEN";

/// Keeps a valid API access token for a service and puts it on outgoing requests.
///
/// It mints the first token as soon as it is constructed, then refreshes each token in the
/// background once its remaining life falls below the refresh margin (RefreshPolicy), while
/// callers keep getting the current one: requests never carry an expired token and, past the
/// first, never wait on a refresh. However many callers ask at once, at most one
/// createAPIAccessToken request is in flight. A token's local expiry is measured from when its
/// request was sent plus the lifetime the server granted; the local wall clock is never compared
/// with the server's.
///
/// Thread safety: all member functions may be called concurrently from any thread. The state
/// lives on a strand of the Client's executor; no lock is held while user code runs.
///
/// Asynchronous functions take any completion token and default to
/// `with_diagnostics(asio::deferred)` like the Client's; they complete on the handler's
/// associated executor (the Client's executor when it has none), never inside the initiating
/// call. Per-operation cancellation (any type) completes that one operation with
/// `asio::error::operation_aborted` and leaves the shared refresh running for the others.
///
/// Destroying the provider, or stop(), completes every waiting operation with
/// Error::provider_stopped and cancels the refresh in flight; nothing is left running.
class TokenProvider {
public:
    using executor_type = boost::asio::strand<boost::asio::any_io_executor>;

    /// Starts minting at once. `client` is a handle: copies share the connection pool.
    TokenProvider(Client client, RefreshToken refresh_token, ProviderOptions options = {})
        : TokenProvider(std::move(client), std::move(refresh_token), true, std::move(options)) {}

    /// For a refresh token known only by its value: its expiry is learnt from
    /// validateRefreshToken when RefreshPolicy::regenerate_refresh_token is on.
    TokenProvider(Client client, Secret refresh_token, std::int64_t user_id, ProviderOptions options = {})
        : TokenProvider(std::move(client), make_refresh_token(std::move(refresh_token), user_id), false,
                        std::move(options)) {}

    TokenProvider(const TokenProvider&) = delete;
    TokenProvider& operator=(const TokenProvider&) = delete;

    ~TokenProvider() { impl_->stop(); }

    [[nodiscard]] executor_type get_executor() const { return impl_->get_executor(); }

    /// Sets the TOKEN header from the cached token if it is usable now, without suspending.
    /// Returns false, and starts a refresh, when there is none: then use authorize().
    template <class Body, class Fields>
    bool try_authorize(http::request<Body, Fields>& request) {
        const auto token = impl_->usable_token(impl_->now());
        if (!token) return false;
        request.set(token_header, token->token.value.reveal());
        return true;
    }

    /// Sets the TOKEN header, waiting for a token only when none is usable.
    /// Signature: `void(error_code)`. `request` must stay alive until completion.
    template <class Body, class Fields, class CompletionToken = DefaultCompletionToken>
    auto authorize(http::request<Body, Fields>& request, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(
            AuthorizeInitiation{impl_}, token, static_cast<Diagnostics*>(nullptr), &request);
    }
    template <class Body, class Fields, class CompletionToken = DefaultCompletionToken>
    auto authorize(http::request<Body, Fields>& request, Diagnostics& diag, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(AuthorizeInitiation{impl_}, token,
                                                                              &diag, &request);
    }

    /// The current valid access token. Signature: `void(error_code, AccessToken)`.
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
    /// rejections from requests in flight costs one mint.
    void invalidate(const Secret& rejected) { impl_->invalidate(rejected); }

    /// Authorizes `request`, writes it to `stream` and reads the response into `response`; on
    /// 401 or 403 it invalidates the token it used and tries once more with a new one.
    /// Signature: `void(error_code)`. The stream, request, buffer and response must stay alive
    /// until completion; the caller keeps `stream` free of other writes and reads meanwhile.
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

    /// The refresh token in use: the one given, or the last one regenerated.
    [[nodiscard]] RefreshToken refresh_token() const { return impl_->refresh_token(); }

    /// Completes every waiting operation with Error::provider_stopped, cancels the refresh in
    /// flight and stops refreshing. Later requests fail with Error::provider_stopped.
    void stop() { impl_->stop(); }

private:
    using Impl = detail::ProviderImpl;

    TokenProvider(Client client, RefreshToken refresh_token, bool expiry_known, ProviderOptions options) {
        if (options.token_store) adopt_stored_token(*options.token_store, refresh_token, expiry_known);
        const bool validate_first = !expiry_known && options.refresh.regenerate_refresh_token;
        impl_ = std::make_shared<Impl>(std::move(client), std::move(refresh_token), expiry_known, std::move(options));
        impl_->start(validate_first);
    }

    static RefreshToken make_refresh_token(Secret value, std::int64_t user_id) {
        RefreshToken token;
        token.value = std::move(value);
        token.user_id = user_id;
        return token;
    }

    // A restart picks up the refresh token a previous run regenerated.
    static void adopt_stored_token(TokenStore& store, RefreshToken& token, bool& expiry_known) {
        error_code ec;
        auto stored = store.load(ec);
        if (ec || !stored || stored->user_id != token.user_id) return;
        if (expiry_known && stored->expires_at <= token.expires_at) return;
        token = std::move(*stored);
        expiry_known = true;
    }

    struct AuthorizeInitiation {
        std::shared_ptr<Impl> impl;

        template <class Handler, class Request>
        void operator()(Handler&& handler, Diagnostics* diag, Request* request) const {
            if (const auto token = impl->usable_token(impl->now())) {
                request->set(token_header, token->token.value.reveal());
                impl->post_completion(std::forward<Handler>(handler), error_code{});
                return;
            }
            impl->async_wait(detail::adapt_handler(std::forward<Handler>(handler),
                                                   [request](auto&& h, error_code ec, Impl::TokenPtr token) {
                                                       if (!ec) request->set(token_header, token->token.value.reveal());
                                                       std::move(h)(ec);
                                                   }),
                             diag);
        }
    };

    struct TokenInitiation {
        std::shared_ptr<Impl> impl;

        template <class Handler>
        void operator()(Handler&& handler, Diagnostics* diag) const {
            if (const auto token = impl->usable_token(impl->now())) {
                impl->post_completion(std::forward<Handler>(handler), error_code{}, token->token);
                return;
            }
            impl->async_wait(detail::adapt_handler(std::forward<Handler>(handler),
                                                   [](auto&& h, error_code ec, Impl::TokenPtr token) {
                                                       std::move(h)(ec, token ? token->token : AccessToken{});
                                                   }),
                             diag);
        }
    };

    template <class Stream, class Request, class DynamicBuffer, class Response>
    struct SendOp;

    struct SendInitiation {
        std::shared_ptr<Impl> impl;

        template <class Handler, class Stream, class Request, class DynamicBuffer, class Response>
        void operator()(Handler&& handler, Diagnostics* diag, Stream* stream, Request* request, DynamicBuffer* buffer,
                        Response* response) const {
            boost::asio::async_compose<Handler, void(error_code)>(
                SendOp<Stream, Request, DynamicBuffer, Response>{{}, impl, *stream, *request, *buffer, *response, diag},
                handler, *stream);
        }
    };

    template <class Stream, class Request, class DynamicBuffer, class Response>
    struct SendOp : boost::asio::coroutine {
        std::shared_ptr<Impl> impl;
        Stream& stream;
        Request& request;
        DynamicBuffer& buffer;
        Response& response;
        Diagnostics* diag = nullptr;
        Impl::TokenPtr used;
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
                    used = impl->usable_token(impl->now());
                    if (!used) {
                        BOOST_ASIO_CORO_YIELD impl->async_wait(Impl::WaitHandler(std::move(self)), diag);
                        if (ec) return self.complete(ec);
                    }
                    request.set(token_header, used->token.value.reveal());
                    BOOST_ASIO_CORO_YIELD http::async_write(stream, request, std::move(self));
                    if (ec) return self.complete(ec);
                    BOOST_ASIO_CORO_YIELD http::async_read(stream, buffer, response, std::move(self));
                    if (ec) return self.complete(ec);
                    const auto status = response.result();
                    if (retried || (status != http::status::unauthorized && status != http::status::forbidden))
                        return self.complete({});
                    impl->invalidate(used->token.value);
                    retried = true;
                    response = {};
                }
            }
        }
    };

    std::shared_ptr<Impl> impl_;
};

}  // namespace alation::auth

#endif
