// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TOKEN_STORE_HPP
#define ALATION_AUTH_TOKEN_STORE_HPP

#include <alation/auth/detail/config.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/token.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace alation::auth {

/// Where a TokenProvider keeps the refresh token it regenerates, so a restart picks it up.
///
/// Implementations must be safe to call from several threads; the provider never calls them
/// while holding a lock of its own.
class TokenStore {
public:
    virtual ~TokenStore() = default;
    /// The stored refresh token, or nullopt when there is none yet (not an error).
    virtual std::optional<RefreshToken> load(error_code& ec) = 0;
    /// Replaces the stored token. Must be atomic: after a crash at any instant the store holds
    /// either the old or the new token.
    virtual void save(const RefreshToken& token, error_code& ec) = 0;
};

/// A store in memory, for tests and for programs that persist the token elsewhere themselves.
class InMemoryTokenStore final : public TokenStore {
public:
    /// Empty: load() gives nullopt until the first save().
    InMemoryTokenStore() = default;
    /// Holds `initial` from the start.
    explicit InMemoryTokenStore(RefreshToken initial) : token_(std::move(initial)) {}

    std::optional<RefreshToken> load(error_code& ec) override {
        ec.clear();
        std::lock_guard lock(mutex_);
        return token_;
    }
    void save(const RefreshToken& token, error_code& ec) override {
        ec.clear();
        std::lock_guard lock(mutex_);
        token_ = token;
    }

private:
    std::mutex mutex_;
    std::optional<RefreshToken> token_;
};

/// One JSON file holding the refresh token, in the shape of the server's createRefreshToken
/// answer: {"refresh_token","user_id","name","created_at","token_expires_at","token_status",
/// "last_used_at"?}.
///
/// save() writes atomically: a temporary file in the same directory, created with mode 0600,
/// written, fsync'ed, renamed over the target, then the directory fsync'ed; a crash leaves the
/// old file or the new one, and possibly a stray temporary file that load() never reads and the
/// next save() removes once it is older than detail::abandoned_temp_file_age (10 minutes).
///
/// load() refuses with Error::insecure_token_file a path that is a symbolic link, not a regular
/// file, owned by another user, or readable or writable by group or others; contents that are not
/// a stored token fail with Error::malformed_token_file; a missing file is nullopt. Other
/// failures keep their system error codes. The token's value never appears in an error.
///
/// Safe for concurrent use by threads of one process; two processes saving to one file each
/// leave a complete file, the last rename winning.
class FileTokenStore final : public TokenStore {
public:
    /// Touches nothing yet; the directory must exist and be writable for save().
    explicit FileTokenStore(std::filesystem::path path) : path_(std::move(path)) {}

    /// The file given to the constructor.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    ALATION_AUTH_DECL std::optional<RefreshToken> load(error_code& ec) override;
    ALATION_AUTH_DECL void save(const RefreshToken& token, error_code& ec) override;

private:
    std::filesystem::path path_;
    std::mutex mutex_;
};

namespace detail {

/// The file's contents for `token`: JSON, the server's field names, timestamps in RFC 3339.
/// Holds the token's value: wipe it with Secret::wipe.
ALATION_AUTH_DECL std::string format_token_file(const RefreshToken& token);

/// Parses a token file's contents; Error::malformed_token_file when they are not a stored token,
/// with the field at fault in `diag`.
ALATION_AUTH_DECL std::optional<RefreshToken> parse_token_file(std::string_view contents, Diagnostics& diag,
                                                               error_code& ec);

/// The first half of an atomic save, separate so a test can stop between the halves as a crash
/// would: creates a new file next to `target` (mode 0600, O_EXCL, O_NOFOLLOW, unique name),
/// writes `contents` and fsyncs it. Returns its path; on failure removes it and returns {}.
ALATION_AUTH_DECL std::filesystem::path write_temp_file(const std::filesystem::path& target, std::string_view contents,
                                                        error_code& ec);

/// The second half: renames `temp` over `target`, then fsyncs the directory so the rename
/// survives a power loss. On failure removes `temp`.
ALATION_AUTH_DECL void commit_temp_file(const std::filesystem::path& temp, const std::filesystem::path& target,
                                        error_code& ec);

/// How old a temporary file next to the token file must be before a save removes it as left
/// behind by a crash. A save writes and renames its file within moments; the margin covers a
/// replica on a shared volume that stalls mid-save, whose rename then fails cleanly (ENOENT)
/// instead of installing a token.
inline constexpr std::chrono::minutes abandoned_temp_file_age{10};

/// Removes the temporary files of `target` (its name, ".tmp.", a pid and a suffix, as
/// write_temp_file makes them) that are regular files of ours last modified before `older_than`.
/// Links, other users' files and other names are left alone; errors are ignored (the save that
/// calls this does not depend on it).
ALATION_AUTH_DECL void remove_abandoned_temp_files(const std::filesystem::path& target,
                                                   std::filesystem::file_time_type older_than) noexcept;

}  // namespace detail
}  // namespace alation::auth

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/impl/token_store.ipp>
#endif

#endif
