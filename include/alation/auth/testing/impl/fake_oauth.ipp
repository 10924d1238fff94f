// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_OAUTH_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_OAUTH_IPP

// The server's side of OAuth 2.0 client credentials, without I/O: reading form bodies and HTTP
// Basic client credentials (the inverse of what detail/oauth.hpp writes), and signing JWTs.
// Included by fake_alation.ipp.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/secret.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace alation::auth::testing::detail {

// The value of one hex digit, or -1.
inline int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes one form-urlencoded name or value into `out` ('+' is a blank, %XX a byte) and returns
// true; false for a % not followed by two hex digits.
ALATION_AUTH_DECL bool form_decode(std::string_view text, std::string& out) {
    out.clear();
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] != '%') {
            out += text[i];
        } else {
            const int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
            const int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
            if (high < 0 || low < 0) return false;
            out += static_cast<char>(high * 16 + low);
            i += 2;
        }
    }
    return true;
}

// A form-urlencoded body's parameters. A value may be a client secret: all are wiped.
class FormParameters {
public:
    FormParameters() = default;
    FormParameters(const FormParameters&) = delete;
    FormParameters& operator=(const FormParameters&) = delete;
    ~FormParameters() {
        for (auto& [name, value] : values_) Secret::wipe(value);
    }

    // Reads `body`; returns what is wrong with it for an invalid_request, or an empty string.
    std::string parse(std::string_view body) {
        while (!body.empty()) {
            const std::string_view pair = body.substr(0, body.find('&'));
            body.remove_prefix(std::min(body.size(), pair.size() + 1));
            if (pair.empty()) continue;
            const std::size_t equals = pair.find('=');
            std::string name;
            if (!form_decode(pair.substr(0, equals), name)) return "Malformed %-escape in a parameter name.";
            auto [it, inserted] = values_.try_emplace(name);
            if (!inserted) return "Parameter " + name + " is repeated.";
            const std::string_view value = equals == std::string_view::npos ? "" : pair.substr(equals + 1);
            if (!form_decode(value, it->second)) return "Malformed %-escape in " + name + ".";
        }
        return {};
    }

    // The parameter's value; null when absent or empty (RFC 6749 §3.2: an empty one counts as omitted).
    const std::string* find(std::string_view name) const {
        const auto it = values_.find(name);
        return it == values_.end() || it->second.empty() ? nullptr : &it->second;
    }

private:
    std::map<std::string, std::string, std::less<>> values_;
};

inline bool starts_with_ignoring_case(std::string_view text, std::string_view lower_prefix) noexcept {
    if (text.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i)
        if (static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))) != lower_prefix[i]) return false;
    return true;
}

// Reads `Authorization: Basic base64(form_urlencode(id) ":" form_urlencode(secret))` (RFC 6749
// §2.3.1) into `id` and `secret`; false when the header is anything else.
ALATION_AUTH_DECL bool parse_basic_credentials(std::string_view header, std::string& id, std::string& secret) {
    constexpr std::string_view scheme = "basic ";
    if (!starts_with_ignoring_case(header, scheme)) return false;
    std::string_view encoded = header.substr(scheme.size());
    while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
    while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
    if (encoded.empty() || encoded.size() % 4 != 0) return false;
    std::string decoded(encoded.size() / 4 * 3, '\0');
    const int n =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                        reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
    bool ok = n >= 0;
    if (ok) {
        // EVP_DecodeBlock counts the bytes that padding stands for.
        const std::size_t padding = encoded.ends_with("==") ? 2 : encoded.ends_with('=') ? 1 : 0;
        const std::string_view plain = std::string_view(decoded).substr(0, static_cast<std::size_t>(n) - padding);
        const std::size_t colon = plain.find(':');
        ok = colon != std::string_view::npos && form_decode(plain.substr(0, colon), id) &&
             form_decode(plain.substr(colon + 1), secret);
    }
    Secret::wipe(decoded);
    return ok;
}

// RFC 4648 §5 base64url without padding, as JWTs use it.
ALATION_AUTH_DECL std::string base64url(std::string_view bytes) {
    std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return out;
}

using JwtKey = std::array<unsigned char, 32>;

// header.payload.signature: `payload` (JSON text) signed HS256 with `key`.
ALATION_AUTH_DECL std::string sign_jwt(std::string_view payload, const JwtKey& key) {
    std::string token = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(payload);
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac.data(), &mac_size) == nullptr)
        throw std::runtime_error("HMAC-SHA256 failed");
    token += '.';
    token += base64url({reinterpret_cast<const char*>(mac.data()), mac_size});
    return token;
}

}  // namespace alation::auth::testing::detail

#endif
