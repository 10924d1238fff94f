// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_SRC_HPP
#define ALATION_AUTH_TESTING_SRC_HPP

// The test doubles of alation::auth::testing (the fake Alation, the fake proxy and the certificate generator),
// compiled once: include in exactly one translation unit of a test program built with
// ALATION_AUTH_SEPARATE_COMPILATION, next to <alation/auth/src.hpp>.
#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#error "Define ALATION_AUTH_SEPARATE_COMPILATION to use <alation/auth/testing/src.hpp>"
#endif

#include <alation/auth/testing/impl/certificates.ipp>
#include <alation/auth/testing/impl/fake_alation.ipp>
#include <alation/auth/testing/impl/fake_proxy.ipp>

#endif
