// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TOKEN_STORE_HPP
#define ALATION_AUTH_TOKEN_STORE_HPP

#include <alation/auth/detail/config.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/token.hpp>

#include <boost/asio/any_completion_handler.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace boost::asio {
class thread_pool;  // NOLINT(readability-identifier-naming): Asio's name
}  // namespace boost::asio

namespace alation::auth {

/// Where TokenProviders keep what outlives one process, and how the replicas of a fleet that
/// share one identity coordinate: the current refresh token (so that a restart, or a sibling,
/// picks up the one a regeneration made), a lease that lets exactly one replica regenerate it,
/// and optionally the current access token, so that a fleet mints about one per lifetime.
///
/// Every operation is asynchronous, for a store on the network. `identity` names the
/// credential the entry belongs to ("user:<user_id>" for a refresh token, "oauth:<client_id>"
/// for OAuth client credentials); a store that holds one identity may ignore it.
///
/// Handlers may be completed inside the call or later, from any thread, exactly once; the
/// provider takes the result where it needs it and waits at most
/// ProviderOptions::store_timeout for each (a late result is dropped). A store should bound
/// its own operations too, and close what it has open when they time out. Implementations must
/// be safe to call from several threads.
class TokenStore {
public:
    using LoadHandler = boost::asio::any_completion_handler<void(error_code, std::optional<RefreshToken>)>;
    /// Completes with whether the swap (or the lease) took place.
    using ExchangeHandler = boost::asio::any_completion_handler<void(error_code, bool)>;
    using DoneHandler = boost::asio::any_completion_handler<void(error_code)>;
    using AccessTokenHandler = boost::asio::any_completion_handler<void(error_code, std::optional<AccessToken>)>;

    TokenStore() = default;
    TokenStore(const TokenStore&) = delete;
    TokenStore& operator=(const TokenStore&) = delete;
    virtual ~TokenStore() = default;

    /// The refresh token stored for `identity`, or nullopt when there is none yet (not an error).
    virtual void async_load(std::string_view identity, LoadHandler handler) = 0;

    /// Stores `desired` for `identity` if the stored token's value is `expected`, or if nothing
    /// is stored; completes with whether it did. Atomic: after a crash at any instant the store
    /// holds either the old or the new token.
    virtual void async_compare_and_swap(std::string_view identity, const Secret& expected, const RefreshToken& desired,
                                        ExchangeHandler handler) = 0;

    /// Takes the lease `name` of `identity` for `owner` until `ttl` has passed, unless another
    /// owner holds it; completes with whether `owner` holds it now. A lease bounds work that one
    /// replica of a fleet should do for all (regenerating the refresh token, minting a shared
    /// access token): when its holder dies, it expires. The default grants every request: right
    /// for a store that one provider uses alone.
    virtual void async_acquire_lease(std::string_view identity, std::string_view name, std::string_view owner,
                                     std::chrono::milliseconds ttl, ExchangeHandler handler);
    /// Ends the lease `name` if `owner` holds it; else does nothing.
    virtual void async_release_lease(std::string_view identity, std::string_view name, std::string_view owner,
                                     DoneHandler handler);

    /// Whether the store can share access tokens (async_load_access_token and
    /// async_store_access_token), for ProviderOptions::share_access_tokens.
    [[nodiscard]] virtual bool shares_access_tokens() const noexcept { return false; }
    /// The access token last stored for `identity` while it has not expired, else nullopt. Its
    /// times are on the clock of the replica that stored it (created_at: when it asked for it).
    virtual void async_load_access_token(std::string_view identity, AccessTokenHandler handler);
    /// Replaces the shared access token of `identity`; the store may drop it at its expires_at.
    virtual void async_store_access_token(std::string_view identity, const AccessToken& token, DoneHandler handler);
};

/// A store in memory, shared by the providers of one process: every operation, leases and
/// access-token sharing included, for tests and for programs that persist the token elsewhere
/// themselves. Completes each handler inside the call.
class InMemoryTokenStore final : public TokenStore {
public:
    /// Empty: loads give nullopt until the first swap.
    InMemoryTokenStore() = default;
    /// Holds `initial` (for every identity) from the start.
    explicit InMemoryTokenStore(RefreshToken initial) : initial_(std::move(initial)) {}

    ALATION_AUTH_DECL void async_load(std::string_view identity, LoadHandler handler) override;
    ALATION_AUTH_DECL void async_compare_and_swap(std::string_view identity, const Secret& expected,
                                                  const RefreshToken& desired, ExchangeHandler handler) override;
    ALATION_AUTH_DECL void async_acquire_lease(std::string_view identity, std::string_view name, std::string_view owner,
                                               std::chrono::milliseconds ttl, ExchangeHandler handler) override;
    ALATION_AUTH_DECL void async_release_lease(std::string_view identity, std::string_view name, std::string_view owner,
                                               DoneHandler handler) override;
    [[nodiscard]] bool shares_access_tokens() const noexcept override { return true; }
    ALATION_AUTH_DECL void async_load_access_token(std::string_view identity, AccessTokenHandler handler) override;
    ALATION_AUTH_DECL void async_store_access_token(std::string_view identity, const AccessToken& token,
                                                    DoneHandler handler) override;

    /// The refresh token stored for `identity` now (for tests and diagnostics).
    [[nodiscard]] ALATION_AUTH_DECL std::optional<RefreshToken> stored(std::string_view identity) const;

private:
    struct Lease {
        std::string owner;
        SteadyClock::time_point until;
    };
    mutable std::mutex mutex_;
    std::optional<RefreshToken> initial_;
    std::map<std::string, RefreshToken, std::less<>> refresh_tokens_;
    std::map<std::string, AccessToken, std::less<>> access_tokens_;
    std::map<std::string, Lease, std::less<>> leases_;
};

/// One JSON file holding one refresh token (the identity is not part of it: give each identity
/// its own file), in the shape of the server's createRefreshToken answer: {"refresh_token",
/// "user_id","name","created_at","token_expires_at","token_status","last_used_at"?}.
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
/// The asynchronous operations run load() and save() on a thread of the store's own (started
/// on first use), so that a slow disk never stalls an io_context. The compare-and-swap is atomic
/// among the threads of one process, not among processes: the file has no lease either (the
/// default grants every request), so coordinating a fleet takes a RedisTokenStore. Two
/// processes saving to one file each leave a complete file, the last rename winning.
class FileTokenStore final : public TokenStore {
public:
    /// Touches nothing yet; the directory must exist and be writable for save().
    ALATION_AUTH_DECL explicit FileTokenStore(std::filesystem::path path);
    ALATION_AUTH_DECL ~FileTokenStore() override;

    /// The file given to the constructor.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    /// The stored token, synchronously; nullopt when there is no file.
    ALATION_AUTH_DECL std::optional<RefreshToken> load(error_code& ec);
    /// Replaces the stored token, synchronously and atomically.
    ALATION_AUTH_DECL void save(const RefreshToken& token, error_code& ec);

    ALATION_AUTH_DECL void async_load(std::string_view identity, LoadHandler handler) override;
    ALATION_AUTH_DECL void async_compare_and_swap(std::string_view identity, const Secret& expected,
                                                  const RefreshToken& desired, ExchangeHandler handler) override;

private:
    // Runs `work` on the store's thread.
    ALATION_AUTH_DECL void run_off_thread(std::function<void()> work);

    std::filesystem::path path_;
    std::mutex mutex_;
    std::once_flag thread_started_;
    std::unique_ptr<boost::asio::thread_pool> thread_;
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
