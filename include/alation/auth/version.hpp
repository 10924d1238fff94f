// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_VERSION_HPP
#define ALATION_AUTH_VERSION_HPP

// Kept in step with project(VERSION) in CMakeLists.txt; a test checks that they agree.
#define ALATION_AUTH_VERSION_MAJOR 0
#define ALATION_AUTH_VERSION_MINOR 1
#define ALATION_AUTH_VERSION_PATCH 0
#define ALATION_AUTH_VERSION_STRING "0.1.0"

#endif
