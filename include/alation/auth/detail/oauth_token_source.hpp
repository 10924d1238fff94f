// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_OAUTH_TOKEN_SOURCE_HPP
#define ALATION_AUTH_DETAIL_OAUTH_TOKEN_SOURCE_HPP

#include <alation/auth/client.hpp>
#include <alation/auth/token_source.hpp>

#include <boost/asio/bind_executor.hpp>

#include <utility>

namespace alation::auth::detail {

/// Mints JWTs with OAuth 2.0 client credentials (the client credentials grant). There is no
/// long-lived credential to renew: the client id and secret are valid until an administrator
/// changes them, which the server answers with invalid_client (Error::invalid_client_credentials,
/// final like a rejected refresh token).
class OAuthTokenSource final : public TokenSource {
public:
    OAuthTokenSource(Client client, OAuthClientCredentials credentials)
        : client_(std::move(client)), credentials_(std::move(credentials)) {}

    void async_mint(Diagnostics& diag, MintHandler handler) override {
        // The Client completes on the handler's executor, which must be a real one.
        client_.create_oauth_token(credentials_, diag,
                                   boost::asio::bind_executor(client_.get_executor(), std::move(handler)));
    }

private:
    Client client_;
    OAuthClientCredentials credentials_;
};

}  // namespace alation::auth::detail

#endif
