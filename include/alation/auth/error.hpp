// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_ERROR_HPP
#define ALATION_AUTH_ERROR_HPP

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

namespace alation::auth {

using boost::system::error_code;

/// Errors reported by alation-auth, in alation::auth::error_category().
///
/// Transport failures (connection refused, reset, TLS errors) keep their own Asio, Beast or
/// OpenSSL codes; operation_aborted is Asio's. These values say what the server or the library
/// decided. The server's own words are in Diagnostics, never in the message.
enum class Error {
    /// createRefreshToken refused the username or password (401), or the user must sign in by SSO.
    invalid_credentials = 1,
    /// The refresh token or the user_id given with it is not known to the server (401).
    invalid_refresh_token,
    /// The refresh token has expired or was revoked (401, or 200 with that token_status).
    refresh_token_expired_or_revoked,
    /// validateAPIAccessToken does not know the access token (401).
    invalid_access_token,
    /// The access token has expired or was revoked (200 with that token_status).
    access_token_expired_or_revoked,
    /// A protected API rejected the TOKEN header (401 or 403 outside the token endpoints).
    unauthorized,
    /// The server rejected the request as malformed (400).
    bad_request,
    /// The server or a proxy asked us to slow down (429). Diagnostics has the Retry-After.
    rate_limited,
    /// The server or a proxy failed or is unavailable (500, 502, 503, 504).
    server_error,
    /// Any other HTTP status.
    unexpected_status,
    /// A 200 whose body is not the JSON the contract promises. Diagnostics names the field.
    malformed_response,
    /// The response is larger than ClientOptions::max_response_size.
    response_too_large,
    /// The base URL is not a usable http(s) URL.
    invalid_url,
    /// Plain http to a host that is not loopback, without ClientOptions::allow_insecure_http.
    insecure_url,
    /// A connect or request timeout elapsed.
    timeout,
    /// A caller's argument is unusable (an empty token, a negative user_id, ...).
    invalid_argument,
    /// A token file is readable by other users, or not a regular file of ours; or a credentials
    /// file (credentials.hpp) fails the checks of MountedSecret. It is not loaded.
    insecure_token_file,
    /// A token file's contents are not a stored refresh token, or a credentials file's are not a
    /// usable value. Diagnostics says which.
    malformed_token_file,
    /// The TokenProvider was stopped or destroyed while the operation waited.
    provider_stopped,
    /// The proxy refused the request for want of (valid) Proxy-Authorization (407). Never retried.
    proxy_authentication_required,
    /// The proxy refused to open a tunnel (a non-2xx answer to CONNECT other than 407).
    /// Diagnostics has the proxy's status and the start of its body.
    proxy_error,
    /// The OAuth token endpoint refused the client id or secret (`invalid_client`). Never retried.
    invalid_client_credentials,
    /// A TokenStore on the network (Redis) could not be reached, or its connection broke.
    token_store_unavailable,
    /// A TokenStore's server refused a command: wrong password or ACL, read-only replica, out of
    /// memory. Diagnostics has the server's error line.
    token_store_error,
    /// Another replica holds the lease to regenerate the refresh token: this one adopts the
    /// result from the TokenStore instead, and looks again after a backoff.
    regeneration_in_progress,
};

/// The category of Error: name "alation.auth", and a fixed message per value that never holds
/// the server's words or a secret.
class ErrorCategory final : public boost::system::error_category {
public:
    constexpr ErrorCategory() noexcept : boost::system::error_category(0x616c6174696f6e31ULL) {}
    const char* name() const noexcept override { return "alation.auth"; }
    std::string message(int ev) const override { return message(ev, nullptr, 0); }
    const char* message(int ev, char*, std::size_t) const noexcept override {
        switch (static_cast<Error>(ev)) {
        case Error::invalid_credentials: return "invalid username or password";
        case Error::invalid_refresh_token: return "the refresh token is invalid";
        case Error::refresh_token_expired_or_revoked: return "the refresh token is expired or revoked";
        case Error::invalid_access_token: return "the API access token is invalid";
        case Error::access_token_expired_or_revoked: return "the API access token is expired or revoked";
        case Error::unauthorized: return "the server rejected the API access token";
        case Error::bad_request: return "the server rejected the request as malformed";
        case Error::rate_limited: return "rate limited by the server";
        case Error::server_error: return "the server is failing or unavailable";
        case Error::unexpected_status: return "unexpected HTTP status";
        case Error::malformed_response: return "malformed response from the server";
        case Error::response_too_large: return "response larger than the configured limit";
        case Error::invalid_url: return "invalid base URL";
        case Error::insecure_url: return "refusing plain http to a host that is not loopback";
        case Error::timeout: return "the operation timed out";
        case Error::invalid_argument: return "invalid argument";
        case Error::insecure_token_file: return "the token or credentials file failed a security check";
        case Error::malformed_token_file: return "the token or credentials file does not hold a usable value";
        case Error::provider_stopped: return "the token provider was stopped";
        case Error::proxy_authentication_required: return "the proxy requires authentication";
        case Error::proxy_error: return "the proxy refused to open a tunnel";
        case Error::invalid_client_credentials: return "invalid OAuth client id or secret";
        case Error::token_store_unavailable: return "the token store is unreachable";
        case Error::token_store_error: return "the token store refused the command";
        case Error::regeneration_in_progress: return "another replica is regenerating the refresh token";
        }
        return "unknown alation.auth error";
    }
};

/// The category of alation::auth::Error.
inline const boost::system::error_category& error_category() noexcept {
    static constexpr ErrorCategory category;
    return category;
}

/// Makes Error convertible to error_code, so `ec == Error::timeout` works.
inline error_code make_error_code(Error e) noexcept { return {static_cast<int>(e), error_category()}; }

/// What the server said, and where a response went wrong, for one failed operation.
///
/// Never holds a secret: the client removes any credential it sent from the server's text
/// before storing it, and bounds its length.
class Diagnostics {
public:
    /// The HTTP status of the response, or 0 when there was none.
    [[nodiscard]] unsigned http_status() const noexcept { return http_status_; }
    /// The server's `detail` sentence, or the start of a non-JSON body (an HTML error page).
    [[nodiscard]] const std::string& server_detail() const noexcept { return server_detail_; }
    /// The server's six-digit `code`, when it sent one; on the OAuth endpoints its `error`
    /// (`invalid_client`, `invalid_request`, `unsupported_grant_type`, ...), whose
    /// `error_description` is then server_detail().
    [[nodiscard]] const std::string& server_code() const noexcept { return server_code_; }
    /// For malformed_response: the JSON field that was missing or wrong.
    [[nodiscard]] const std::string& field() const noexcept { return field_; }
    /// What the library found wrong, in words (e.g. "expected a string").
    [[nodiscard]] const std::string& message() const noexcept { return message_; }
    /// The server's Retry-After, when it sent a usable one.
    [[nodiscard]] std::optional<std::chrono::seconds> retry_after() const noexcept { return retry_after_; }

    /// Empties every field; operations do this before they fill one in.
    void clear() { *this = Diagnostics{}; }

    // Filled in by the library's operations; public so that a custom TokenStore or a test can
    // report in the same terms. Never pass a secret.
    void set_http_status(unsigned s) noexcept { http_status_ = s; }
    void set_server_detail(std::string s) { server_detail_ = std::move(s); }
    void set_server_code(std::string s) { server_code_ = std::move(s); }
    void set_field(std::string s) { field_ = std::move(s); }
    void set_message(std::string s) { message_ = std::move(s); }
    void set_retry_after(std::optional<std::chrono::seconds> s) noexcept { retry_after_ = s; }

    /// One line for logs: status, server code and detail, field and message, whichever are set.
    [[nodiscard]] std::string to_string() const {
        std::string out;
        auto add = [&out](std::string_view label, std::string_view value) {
            if (value.empty()) return;
            if (!out.empty()) out += ", ";
            out.append(label).append(value);
        };
        if (http_status_ != 0) add("HTTP ", std::to_string(http_status_));
        add("code ", server_code_);
        add("detail: ", server_detail_);
        add("field ", field_);
        add("", message_);
        if (retry_after_) add("retry after ", std::to_string(retry_after_->count()) + " s");
        return out;
    }

    friend std::ostream& operator<<(std::ostream& os, const Diagnostics& d) { return os << d.to_string(); }

    friend bool operator==(const Diagnostics&, const Diagnostics&) = default;

private:
    unsigned http_status_ = 0;
    std::string server_detail_;
    std::string server_code_;
    std::string field_;
    std::string message_;
    std::optional<std::chrono::seconds> retry_after_;
};

/// What a defaulted completion token throws: the error code and the diagnostics.
/// what() is the error code's message only; the server's words are in diagnostics().
class ErrorWithDiagnostics : public boost::system::system_error {
public:
    /// `diag` should come from the operation that failed with `ec`.
    ErrorWithDiagnostics(error_code ec, Diagnostics diag)
        : boost::system::system_error(ec), diagnostics_(std::move(diag)) {}
    [[nodiscard]] const Diagnostics& diagnostics() const noexcept { return diagnostics_; }

private:
    Diagnostics diagnostics_;
};

}  // namespace alation::auth

template <>
struct boost::system::is_error_code_enum<alation::auth::Error> : std::true_type {};

#endif
