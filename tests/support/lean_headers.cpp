// Keeps the public headers lean under separate compilation (BENCHMARKS.md section 5): a file that
// only puts tokens on requests parses neither the Client, the token sources and stores, nor
// Boost.JSON, Boost.URL or Asio's TLS, and the Client's header parses no TLS either. The build
// fails here when one of them creeps back in.
#include <alation/auth/token_provider.hpp>

#if defined(ALATION_AUTH_CLIENT_HPP) || defined(ALATION_AUTH_TOKEN_SOURCE_HPP) || \
    defined(ALATION_AUTH_TOKEN_STORE_HPP) || defined(ALATION_AUTH_DETAIL_PROVIDER_MACHINE_HPP)
#error "token_provider.hpp includes the Client, a token source or store, or the provider's machine"
#endif
#if defined(BOOST_JSON_VALUE_HPP) || defined(BOOST_URL_URL_VIEW_HPP) || defined(BOOST_ASIO_STEADY_TIMER_HPP)
#error "token_provider.hpp includes Boost.JSON, Boost.URL or Asio's timers"
#endif

#include <alation/auth/client.hpp>

#if defined(BOOST_ASIO_SSL_CONTEXT_HPP) || defined(BOOST_JSON_VALUE_HPP) || defined(BOOST_URL_URL_VIEW_HPP)
#error "client.hpp includes Asio's TLS, Boost.JSON or Boost.URL"
#endif
