// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_SECRET_HPP
#define ALATION_AUTH_SECRET_HPP

#include <openssl/crypto.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace alation::auth {

/// Owns a secret string: a password, a refresh token or an access token.
///
/// The value is reachable only through reveal(); streaming a Secret prints a redacted form such
/// as `Secret(43 chars)`. The buffer is wiped with OPENSSL_cleanse when the Secret is destroyed,
/// assigned over or moved from, so the library leaves no copy of the value in memory it frees.
class Secret {
public:
    /// An empty secret.
    Secret() = default;
    /// Copies `value`; wiping the caller's copy is the caller's business.
    explicit Secret(std::string_view value) : value_(value) {}
    explicit Secret(const char* value) : value_(value) {}
    // Takes the caller's string and wipes what stays behind in it (a short string's bytes are
    // copied, not moved), so the only copy left is ours.
    explicit Secret(std::string&& value) noexcept : value_(std::move(value)) { wipe(value); }

    Secret(const Secret& other) = default;
    Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.clear(); }
    Secret& operator=(const Secret& other) {
        if (this != &other) assign(other.value_);
        return *this;
    }
    Secret& operator=(Secret&& other) noexcept {
        if (this != &other) {
            // The string's move may hand our old buffer to `other`: wipe it first.
            wipe(value_);
            value_ = std::move(other.value_);
            other.clear();
        }
        return *this;
    }
    ~Secret() { wipe(value_); }

    /// The secret itself. Do not log it.
    [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
    /// The length, in bytes; printing it reveals nothing useful.
    [[nodiscard]] std::size_t size() const noexcept { return value_.size(); }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

    /// Wipes and empties the value.
    void clear() noexcept {
        wipe(value_);
        value_.clear();
    }

    /// Constant-time comparison, so that comparing tokens leaks nothing through timing.
    friend bool operator==(const Secret& a, const Secret& b) noexcept {
        return a.size() == b.size() && CRYPTO_memcmp(a.value_.data(), b.value_.data(), a.size()) == 0;
    }

    friend std::ostream& operator<<(std::ostream& os, const Secret& s) {
        return os << "Secret(" << s.size() << " chars)";
    }

    /// Overwrites every byte of the string's buffer, including spare capacity.
    static void wipe(std::string& s) noexcept {
        if (s.capacity() != 0) OPENSSL_cleanse(s.data(), s.capacity());
    }

private:
    void assign(std::string_view v) {
        // Assigning may reallocate and free the old buffer: wipe it first.
        wipe(value_);
        value_.assign(v.data(), v.size());
    }

    std::string value_;
};

}  // namespace alation::auth

#endif
