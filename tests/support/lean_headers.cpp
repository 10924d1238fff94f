// Keeps the public headers lean (BENCHMARKS.md section 5), in both modes: compiled with separate
// compilation (alation_auth_compiled) and header-only (unit_tests). A file that only puts tokens on
// requests parses neither the Client, the token sources and stores, the provider's machinery, nor
// Boost.JSON, Boost.URL or Asio's TLS, so that header-only it does not compile the library either.
// With separate compilation, the Client's header parses no TLS. Header-only, a file with a program's
// own TokenSource compiles the provider but not the Client. The build fails here when one of them
// creeps back in.
#include <alation/auth/token_provider.hpp>

#if defined(ALATION_AUTH_CLIENT_HPP) || defined(ALATION_AUTH_TOKEN_SOURCE_HPP) ||                 \
    defined(ALATION_AUTH_TOKEN_STORE_HPP) || defined(ALATION_AUTH_DETAIL_PROVIDER_MACHINE_HPP) || \
    defined(ALATION_AUTH_DETAIL_PROVIDER_IMPL_HPP)
#error "token_provider.hpp includes the Client, a token source or store, or the provider's machinery"
#endif
#if defined(BOOST_JSON_VALUE_HPP) || defined(BOOST_URL_URL_VIEW_HPP) || defined(BOOST_ASIO_STEADY_TIMER_HPP)
#error "token_provider.hpp includes Boost.JSON, Boost.URL or Asio's timers"
#endif

#ifdef ALATION_AUTH_SEPARATE_COMPILATION

#include <alation/auth/client.hpp>

#if defined(BOOST_ASIO_SSL_CONTEXT_HPP) || defined(BOOST_JSON_VALUE_HPP) || defined(BOOST_URL_URL_VIEW_HPP)
#error "client.hpp includes Asio's TLS, Boost.JSON or Boost.URL"
#endif

#else

#include <alation/auth/token_source.hpp>

#if defined(ALATION_AUTH_CLIENT_HPP) || defined(BOOST_ASIO_SSL_CONTEXT_HPP)
#error "header-only, TokenProvider's constructor from a TokenSource compiles the Client"
#endif

namespace lean_headers {

// Uses that constructor, so that the build fails ("inline function used but never defined", an
// error under -Werror, else at link time) if token_source.hpp did not bring its definition.
std::unique_ptr<alation::auth::TokenProvider> provider_over(const boost::asio::any_io_executor& executor,
                                                            std::shared_ptr<alation::auth::TokenSource> source) {
    return std::make_unique<alation::auth::TokenProvider>(executor, std::move(source));
}

}  // namespace lean_headers

#endif
