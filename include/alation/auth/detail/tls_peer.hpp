// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_TLS_PEER_HPP
#define ALATION_AUTH_DETAIL_TLS_PEER_HPP

// Who the peer of a TLS connection must be, for the Client's connections to the catalog and the
// Redis store's: one rule for both.

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <string>

namespace alation::auth::detail {

/// Sends `host` as SNI, unless it is an IP address: SNI names hosts, never addresses (RFC 6066).
inline bool send_server_name(SSL* ssl, const std::string& host, bool host_is_ip) {
    return host_is_ip || SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
}

/// Makes chain verification require the certificate to be `host`'s (one of its DNS names, or for
/// an address one of its IP addresses; no partial wildcards), so that a mismatch fails the
/// handshake as "certificate verify failed", like any other bad certificate.
inline bool expect_peer_name(SSL* ssl, const std::string& host, bool host_is_ip) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    return ok == 1;
}

}  // namespace alation::auth::detail

#endif
