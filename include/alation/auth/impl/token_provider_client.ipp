// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_IMPL_TOKEN_PROVIDER_CLIENT_IPP
#define ALATION_AUTH_IMPL_TOKEN_PROVIDER_CLIENT_IPP

// TokenProvider's constructors from a Client. Header-only, included where token_provider.hpp and
// client.hpp meet, so that a file that only uses a provider does not compile the Client.

#include <alation/auth/client.hpp>
#include <alation/auth/detail/oauth_token_source.hpp>
#include <alation/auth/detail/refresh_token_source.hpp>
#include <alation/auth/impl/token_provider.ipp>
#include <alation/auth/token_provider.hpp>
#include <alation/auth/token_store.hpp>

#include <stdexcept>

namespace alation::auth {

namespace token_provider_detail {

// Returns `options` so that a constructor's initializers can check them; a temporary would dangle.
inline const ProviderOptions& checked(ProviderOptions&&) = delete;
inline const ProviderOptions& checked(const ProviderOptions& options) {
    if (options.share_access_tokens && !(options.token_store && options.token_store->shares_access_tokens()))
        throw std::invalid_argument("share_access_tokens needs a token_store that shares access tokens");
    return options;
}

inline RefreshToken make_refresh_token(Secret value, std::int64_t user_id) {
    RefreshToken token;
    token.value = std::move(value);
    token.user_id = user_id;
    return token;
}

}  // namespace token_provider_detail

ALATION_AUTH_DECL TokenProvider::TokenProvider(const Client& client, RefreshToken refresh_token,
                                               ProviderOptions options)
    : TokenProvider(client, std::move(refresh_token), true, std::move(options)) {}

ALATION_AUTH_DECL TokenProvider::TokenProvider(const Client& client, Secret refresh_token, std::int64_t user_id,
                                               ProviderOptions options)
    : TokenProvider(client, token_provider_detail::make_refresh_token(std::move(refresh_token), user_id), false,
                    std::move(options)) {}

ALATION_AUTH_DECL TokenProvider::TokenProvider(const Client& client, OAuthClientCredentials credentials,
                                               const ProviderOptions& options)
    : TokenProvider(client.get_executor(),
                    std::make_shared<detail::OAuthTokenSource>(client, std::move(credentials),
                                                               token_provider_detail::checked(options)),
                    options) {}

ALATION_AUTH_DECL TokenProvider::TokenProvider(const Client& client, RefreshToken refresh_token, bool expiry_known,
                                               ProviderOptions options) {
    auto source = std::make_shared<detail::RefreshTokenSource>(client, std::move(refresh_token), expiry_known,
                                                               token_provider_detail::checked(options));
    impl_ = token_provider_detail::start_provider(client.get_executor(), source, std::move(options));
    refresh_source_ = std::move(source);
}

}  // namespace alation::auth

#endif
