// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_CERTIFICATES_HPP
#define ALATION_AUTH_TESTING_CERTIFICATES_HPP

#include <alation/auth/detail/config.hpp>

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace alation::auth::testing {

/// Which certificate a TLS FakeAlation presents.
enum class CertificateKind {
    /// Signed by the test CA, SAN DNS:localhost and IP:127.0.0.1, valid from an hour ago for a day.
    valid,
    /// Signed by the test CA, right names, but notAfter is a day in the past.
    expired,
    /// Signed by the test CA, valid now, but only for DNS:other.invalid.
    wrong_host,
    /// Right names and dates, but self-signed: the test CA did not sign it.
    self_signed_untrusted,
};

/// A PEM certificate and its PEM (PKCS#8) private key.
struct CertificateAndKey {
    std::string certificate_pem;
    std::string private_key_pem;
};

/// A test CA and one server certificate of each CertificateKind, generated at run time with
/// OpenSSL 3 (EC P-256 keys, SHA-256 signatures), so no key or certificate is ever checked in
/// or expires in the repository.
class TestCertificates {
public:
    /// Generates a fresh CA and the four server certificates. Throws std::runtime_error when
    /// OpenSSL fails.
    ALATION_AUTH_DECL TestCertificates();

    /// One set per process, made on first use (thread-safe): key generation is cheap, but
    /// every FakeAlation of a test run may as well trust the same CA.
    ALATION_AUTH_DECL static const TestCertificates& shared();

    /// The CA every certificate but self_signed_untrusted is signed by (basicConstraints CA:TRUE).
    [[nodiscard]] const std::string& ca_certificate_pem() const noexcept { return ca_.certificate_pem; }
    [[nodiscard]] const CertificateAndKey& ca() const noexcept { return ca_; }
    [[nodiscard]] ALATION_AUTH_DECL const CertificateAndKey& server(CertificateKind kind) const noexcept;

    /// A TLS 1.2+ server context presenting the certificate of `kind`.
    [[nodiscard]] ALATION_AUTH_DECL std::shared_ptr<boost::asio::ssl::context> server_context(
        CertificateKind kind) const;

private:
    CertificateAndKey ca_;
    CertificateAndKey valid_;
    CertificateAndKey expired_;
    CertificateAndKey wrong_host_;
    CertificateAndKey self_signed_;
};

}  // namespace alation::auth::testing

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/testing/impl/certificates.ipp>
#endif

#endif
