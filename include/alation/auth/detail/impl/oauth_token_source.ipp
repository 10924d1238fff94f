// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_OAUTH_TOKEN_SOURCE_IPP
#define ALATION_AUTH_DETAIL_IMPL_OAUTH_TOKEN_SOURCE_IPP

#include <alation/auth/detail/oauth_token_source.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/use_awaitable.hpp>

// Compiled once (separate compilation), these coroutines keep lambdas in their frames, which
// GCC flags for a header's non-inline function although only this TU defines them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif

namespace alation::auth::detail {

ALATION_AUTH_DECL OAuthTokenSource::OAuthTokenSource(Client client, OAuthClientCredentials credentials,
                                                     const ProviderOptions& options)
    : client_(std::move(client)),
      strand_(boost::asio::make_strand(client_.get_executor())),
      credentials_(std::move(credentials)),
      store_(options.share_access_tokens ? BoundedStore(options.token_store, "oauth:" + credentials_.client_id, options)
                                         : BoundedStore()) {}

ALATION_AUTH_DECL void OAuthTokenSource::async_mint(Diagnostics& diag, MintHandler handler) {
    // The Client completes on the handler's executor, which must be a real one.
    if (!store_)
        return client_.create_oauth_token(credentials_, diag,
                                          boost::asio::bind_executor(client_.get_executor(), std::move(handler)));
    spawn_outcome(strand_, shared(diag), std::move(handler));
}

ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, AccessToken>> OAuthTokenSource::shared(
    Diagnostics& diag) {
    auto self = shared_from_this();
    // Named, not temporaries in the co_await: GCC 12 destroys such a temporary twice.
    auto failed = store_failure_reporter(*this);
    MintOperation mint = [this, &diag] {
        return client_.create_oauth_token(credentials_, diag, boost::asio::as_tuple(boost::asio::use_awaitable));
    };
    co_return co_await shared_mint(store_, last_access_token_, std::move(failed), std::move(mint));
}

}  // namespace alation::auth::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
