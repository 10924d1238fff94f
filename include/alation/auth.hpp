// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_HPP
#define ALATION_AUTH_HPP

// The whole public API of alation-auth. The fake Alation server for tests is separate:
// <alation/auth/testing/fake_alation.hpp>.
#include <alation/auth/client.hpp>
#include <alation/auth/client_options.hpp>
#include <alation/auth/credentials.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>
#include <alation/auth/token_provider.hpp>
#include <alation/auth/token_source.hpp>
#include <alation/auth/token_store.hpp>
#include <alation/auth/version.hpp>
#include <alation/auth/with_diagnostics.hpp>

#endif
