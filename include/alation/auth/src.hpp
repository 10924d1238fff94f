// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_SRC_HPP
#define ALATION_AUTH_SRC_HPP

// Include in exactly one translation unit of a program built with
// ALATION_AUTH_SEPARATE_COMPILATION (see detail/config.hpp).
#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#error "Define ALATION_AUTH_SEPARATE_COMPILATION to use <alation/auth/src.hpp>"
#endif

#include <alation/auth/detail/impl/backoff.ipp>
#include <alation/auth/detail/impl/client_impl.ipp>
#include <alation/auth/detail/impl/oauth.ipp>
#include <alation/auth/detail/impl/protocol.ipp>
#include <alation/auth/detail/impl/timestamp.ipp>
#include <alation/auth/detail/impl/url.ipp>
#include <alation/auth/impl/token_store.ipp>
#include <alation/auth/testing/impl/fake_alation.ipp>

#endif
