// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_OAUTH_IPP
#define ALATION_AUTH_DETAIL_IMPL_OAUTH_IPP

#include <alation/auth/detail/oauth.hpp>

#include <openssl/evp.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace alation::auth::detail {
namespace oauth_impl {

inline bool is_form_unreserved(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

}  // namespace oauth_impl

ALATION_AUTH_DECL std::size_t form_urlencoded_size(std::string_view s) noexcept {
    std::size_t n = 0;
    for (const char c : s) n += oauth_impl::is_form_unreserved(c) || c == ' ' ? 1 : 3;
    return n;
}

ALATION_AUTH_DECL void form_urlencode(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (oauth_impl::is_form_unreserved(c)) {
            out += c;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        }
    }
}

ALATION_AUTH_DECL Secret basic_client_authorization(std::string_view client_id, const Secret& client_secret) {
    const std::string_view secret = client_secret.reveal();
    std::string pair;
    pair.reserve(form_urlencoded_size(client_id) + 1 + form_urlencoded_size(secret));
    form_urlencode(pair, client_id);
    pair += ':';
    form_urlencode(pair, secret);
    constexpr std::string_view scheme = "Basic ";
    // EVP_EncodeBlock writes 4 characters per started 3 bytes and a terminating NUL.
    std::string header(scheme.size() + (pair.size() + 2) / 3 * 4 + 1, '\0');
    header.replace(0, scheme.size(), scheme);
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(header.data() + scheme.size()),
                                  reinterpret_cast<const unsigned char*>(pair.data()), static_cast<int>(pair.size()));
    Secret::wipe(pair);
    header.resize(scheme.size() + static_cast<std::size_t>(n));
    return Secret(std::move(header));
}

}  // namespace alation::auth::detail

#endif
