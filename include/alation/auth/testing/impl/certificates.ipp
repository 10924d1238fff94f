// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_CERTIFICATES_IPP
#define ALATION_AUTH_TESTING_IMPL_CERTIFICATES_IPP

#include <alation/auth/testing/certificates.hpp>

#include <boost/asio/buffer.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace alation::auth::testing {
namespace cert_detail {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509* p) const noexcept { X509_free(p); }
};
struct BioFree {
    void operator()(BIO* p) const noexcept { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;

inline void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test certificate generation failed: ") + what);
}

inline Pkey make_key() {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    check(key != nullptr, "EVP_PKEY_Q_keygen");
    return key;
}

struct Validity {
    long not_before_seconds;  // relative to now
    long not_after_seconds;
};

// One X.509 v3 certificate. `issuer`/`issuer_key` null: self-signed.
inline Cert make_certificate(EVP_PKEY* key, const char* common_name, Validity validity, const char* basic_constraints,
                             const char* key_usage, const char* extended_key_usage, const char* subject_alt_name,
                             X509* issuer, EVP_PKEY* issuer_key) {
    Cert cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
    // A random positive 63-bit serial: certificates of different runs never share one.
    unsigned char serial_bytes[8];
    check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "RAND_bytes");
    std::uint64_t serial = 0;
    for (unsigned char b : serial_bytes) serial = (serial << 8) | b;
    check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), (serial >> 1) | 1) == 1, "serial");
    check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), validity.not_before_seconds) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity.not_after_seconds) != nullptr, "notAfter");
    check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("alation-auth tests"), -1, -1, 0) == 1,
          "subject O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1,
                                     -1, 0) == 1,
          "subject CN");
    X509* signer = issuer ? issuer : cert.get();
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "X509_set_issuer_name");

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, signer, cert.get(), nullptr, nullptr, 0);
    auto add = [&](int nid, const char* value) {
        if (value == nullptr) return;
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        check(ext != nullptr, "X509V3_EXT_conf_nid");
        const int added = X509_add_ext(cert.get(), ext, -1);
        X509_EXTENSION_free(ext);
        check(added == 1, "X509_add_ext");
    };
    add(NID_basic_constraints, basic_constraints);
    add(NID_key_usage, key_usage);
    add(NID_ext_key_usage, extended_key_usage);
    add(NID_subject_alt_name, subject_alt_name);
    add(NID_subject_key_identifier, "hash");
    // The authority key identifier of a self-signed certificate is its own subject key id,
    // which exists only once the line above ran.
    add(NID_authority_key_identifier, "keyid:always");

    check(X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

inline std::string to_pem(X509* cert) {
    Bio bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(n)};
}

inline std::string to_pem(EVP_PKEY* key) {
    Bio bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(n)};
}

constexpr long hour = 3600;
constexpr long day = 24 * hour;
constexpr const char* server_usage = "critical,digitalSignature";
constexpr const char* server_eku = "serverAuth";
constexpr const char* localhost_names = "DNS:localhost,IP:127.0.0.1";

}  // namespace cert_detail

ALATION_AUTH_DECL TestCertificates::TestCertificates() {
    using namespace cert_detail;
    const Pkey ca_key = make_key();
    const Cert ca = make_certificate(ca_key.get(), "alation-auth test CA", {-hour, 2 * day}, "critical,CA:TRUE",
                                     "critical,keyCertSign,cRLSign", nullptr, nullptr, nullptr, nullptr);
    ca_ = {to_pem(ca.get()), to_pem(ca_key.get())};

    auto leaf = [&](Validity validity, const char* names, bool self_signed) {
        const Pkey key = make_key();
        const Cert cert =
            make_certificate(key.get(), "localhost", validity, "critical,CA:FALSE", server_usage, server_eku, names,
                             self_signed ? nullptr : ca.get(), self_signed ? nullptr : ca_key.get());
        return CertificateAndKey{to_pem(cert.get()), to_pem(key.get())};
    };
    valid_ = leaf({-hour, day}, localhost_names, false);
    expired_ = leaf({-2 * day, -day}, localhost_names, false);
    wrong_host_ = leaf({-hour, day}, "DNS:other.invalid", false);
    self_signed_ = leaf({-hour, day}, localhost_names, true);
}

ALATION_AUTH_DECL const TestCertificates& TestCertificates::shared() {
    static const TestCertificates certificates;
    return certificates;
}

ALATION_AUTH_DECL const CertificateAndKey& TestCertificates::server(CertificateKind kind) const noexcept {
    switch (kind) {
    case CertificateKind::valid: break;
    case CertificateKind::expired: return expired_;
    case CertificateKind::wrong_host: return wrong_host_;
    case CertificateKind::self_signed_untrusted: return self_signed_;
    }
    return valid_;
}

ALATION_AUTH_DECL std::shared_ptr<boost::asio::ssl::context> TestCertificates::server_context(
    CertificateKind kind) const {
    namespace ssl = boost::asio::ssl;
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    const CertificateAndKey& pair = server(kind);
    context->use_certificate_chain(boost::asio::buffer(pair.certificate_pem));
    context->use_private_key(boost::asio::buffer(pair.private_key_pem), ssl::context::pem);
    return context;
}

}  // namespace alation::auth::testing

#endif
