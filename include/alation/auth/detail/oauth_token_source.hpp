// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_OAUTH_TOKEN_SOURCE_HPP
#define ALATION_AUTH_DETAIL_OAUTH_TOKEN_SOURCE_HPP

#include <alation/auth/client.hpp>
#include <alation/auth/detail/fleet.hpp>
#include <alation/auth/token_source.hpp>

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
    ALATION_AUTH_DECL OAuthTokenSource(Client client, OAuthClientCredentials credentials,
                                       const ProviderOptions& options = {});

    ALATION_AUTH_DECL void async_mint(Diagnostics& diag, MintHandler handler) override;

private:
    ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, AccessToken>> shared(Diagnostics& diag);

    Client client_;
    boost::asio::strand<Client::executor_type> strand_;
    OAuthClientCredentials credentials_;
    BoundedStore store_;
    // On the strand: the last JWT handed out, which a sibling's must differ from.
    Secret last_access_token_;
};

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/oauth_token_source.ipp>
#endif

#endif
