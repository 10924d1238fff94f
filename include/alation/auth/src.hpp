// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_SRC_HPP
#define ALATION_AUTH_SRC_HPP

// Include in exactly one translation unit of a program built with
// ALATION_AUTH_SEPARATE_COMPILATION (see detail/config.hpp). It compiles the library and nothing
// else: the fake server and the certificate generator, which production code does not need, are
// in <alation/auth/testing/src.hpp>.
#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#error "Define ALATION_AUTH_SEPARATE_COMPILATION to use <alation/auth/src.hpp>"
#endif

#include <alation/auth/detail/impl/backoff.ipp>
#include <alation/auth/detail/impl/client_impl.ipp>
#include <alation/auth/detail/impl/fleet.ipp>
#include <alation/auth/detail/impl/oauth.ipp>
#include <alation/auth/detail/impl/oauth_token_source.ipp>
#include <alation/auth/detail/impl/protocol.ipp>
#include <alation/auth/detail/impl/provider_impl.ipp>
#include <alation/auth/detail/impl/proxy.ipp>
#include <alation/auth/detail/impl/refresh_token_source.ipp>
#include <alation/auth/detail/impl/retry_fsm.ipp>
#include <alation/auth/detail/impl/timestamp.ipp>
#include <alation/auth/detail/impl/url.ipp>
#include <alation/auth/impl/credentials.ipp>
#include <alation/auth/impl/token_provider.ipp>
#include <alation/auth/impl/token_provider_client.ipp>
#include <alation/auth/impl/token_store.ipp>

#endif
