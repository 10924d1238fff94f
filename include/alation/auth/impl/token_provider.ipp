// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_IMPL_TOKEN_PROVIDER_IPP
#define ALATION_AUTH_IMPL_TOKEN_PROVIDER_IPP

// TokenProvider's constructor from a TokenSource. Header-only, included where token_provider.hpp
// and token_source.hpp meet; the Client's constructors are in token_provider_client.ipp.

#include <alation/auth/detail/provider_impl.hpp>
#include <alation/auth/token_provider.hpp>
#include <alation/auth/token_source.hpp>

namespace alation::auth {

namespace token_provider_detail {

inline std::shared_ptr<detail::ProviderFront> start_provider(const boost::asio::any_io_executor& executor,
                                                             std::shared_ptr<TokenSource> source,
                                                             ProviderOptions options) {
    auto impl = std::make_shared<detail::ProviderImpl>(executor, std::move(source), std::move(options));
    impl->start();
    return impl;
}

}  // namespace token_provider_detail

ALATION_AUTH_DECL TokenProvider::TokenProvider(const boost::asio::any_io_executor& executor,
                                               std::shared_ptr<TokenSource> source, ProviderOptions options)
    : impl_(token_provider_detail::start_provider(executor, std::move(source), std::move(options))) {}

}  // namespace alation::auth

#endif
