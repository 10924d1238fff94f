// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_OAUTH_TOKEN_SOURCE_HPP
#define ALATION_AUTH_DETAIL_OAUTH_TOKEN_SOURCE_HPP

#include <alation/auth/client.hpp>
#include <alation/auth/detail/fleet.hpp>
#include <alation/auth/token_source.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <utility>

namespace alation::auth::detail {

/// Mints JWTs with OAuth 2.0 client credentials (the client credentials grant). There is no
/// long-lived credential to renew: the client id and secret are valid until an administrator
/// changes them, which the server answers with invalid_client (Error::invalid_client_credentials,
/// final like a rejected refresh token). With ProviderOptions::share_access_tokens, the replicas
/// of a fleet share JWTs through the TokenStore, under the identity "oauth:<client_id>".
class OAuthTokenSource final : public TokenSource, public std::enable_shared_from_this<OAuthTokenSource> {
public:
    OAuthTokenSource(Client client, OAuthClientCredentials credentials, const ProviderOptions& options = {})
        : client_(std::move(client)),
          strand_(boost::asio::make_strand(client_.get_executor())),
          credentials_(std::move(credentials)),
          store_(options.share_access_tokens
                     ? BoundedStore(options.token_store, "oauth:" + credentials_.client_id, options)
                     : BoundedStore()) {}

    void async_mint(Diagnostics& diag, MintHandler handler) override {
        // The Client completes on the handler's executor, which must be a real one.
        if (!store_)
            return client_.create_oauth_token(credentials_, diag,
                                              boost::asio::bind_executor(client_.get_executor(), std::move(handler)));
        spawn_outcome(strand_, shared(diag), std::move(handler));
    }

private:
    boost::asio::awaitable<std::tuple<error_code, AccessToken>> shared(Diagnostics& diag) {
        auto self = shared_from_this();
        const auto failed = store_failure_reporter(*this);
        co_return co_await shared_mint(store_, last_access_token_, failed, [this, &diag] {
            return client_.create_oauth_token(credentials_, diag, boost::asio::as_tuple(boost::asio::use_awaitable));
        });
    }

    Client client_;
    boost::asio::strand<Client::executor_type> strand_;
    OAuthClientCredentials credentials_;
    BoundedStore store_;
    // On the strand: the last JWT handed out, which a sibling's must differ from.
    Secret last_access_token_;
};

}  // namespace alation::auth::detail

#endif
