// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_CONFIG_HPP
#define ALATION_AUTH_DETAIL_CONFIG_HPP

// Header-only by default. Defining ALATION_AUTH_SEPARATE_COMPILATION in every translation unit
// and including <alation/auth/src.hpp> in exactly one compiles the non-template code once, as
// Asio and Beast offer; it saves build time in projects with many translation units.
#ifdef ALATION_AUTH_SEPARATE_COMPILATION
#define ALATION_AUTH_DECL
#else
#define ALATION_AUTH_DECL inline
#endif

#endif
