// The one translation unit that compiles alation-auth (and its fake) when the consumer is built
// with ALATION_AUTH_SEPARATE_COMPILATION.
#include <alation/auth/src.hpp>
#include <alation/auth/testing/src.hpp>
