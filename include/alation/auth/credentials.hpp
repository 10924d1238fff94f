// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_CREDENTIALS_HPP
#define ALATION_AUTH_CREDENTIALS_HPP

#include <alation/auth/detail/config.hpp>
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>
#include <alation/auth/token.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

// Loading credentials from where deployments keep them: a mounted Kubernetes Secret (or any
// directory of one-value files) and environment variables. Synchronous start-up work: the loaders
// block on the file system, read only, and never write or cache anything. What they load goes to a
// TokenProvider or a Client; the refresh tokens a provider regenerates go to its TokenStore.

namespace alation::auth {

/// A refresh token as deployments keep it: its value and its owner, without the dates the server
/// reported when it was made. Hand it to `TokenProvider(client, std::move(c.value), c.user_id)`,
/// which learns the expiry from the server when it needs it.
struct RefreshTokenCredentials {
    Secret value;
    /// The token's owner.
    std::int64_t user_id = 0;
};

/// A directory holding one file per value, as Kubernetes mounts a Secret volume: each key is a
/// symbolic link `key -> ..data/key`, and `..data` a link to a timestamped directory that the
/// kubelet replaces atomically when the Secret changes. Plain files in a plain directory work too.
///
/// The loaders below only read it, every time they are called, so a call after the kubelet swapped
/// `..data` gives the new values; the two values a loader reads come from one version, even when
/// the swap lands between them. Each value must pass these checks, or it is not loaded:
/// - the key names a file of the directory (a key holding `/` or naming `.`/`..` is refused);
/// - symbolic links are followed only while they stay inside the directory: one leading out of it
///   is Error::insecure_token_file (the kubelet's links never do);
/// - the entry and the file it leads to are owned by root or by the process's effective user, and
///   the file is a regular file that neither group nor others may write (insecure_token_file);
/// - a file every user may read is refused unless `allow_world_readable` is set (see there);
///   else a group-readable file belongs to one of the process's groups (Kubernetes' `fsGroup`);
/// - at most 64 KiB; one trailing newline (`\n` or `\r\n`, as `kubectl create secret
///   --from-file` often leaves) is dropped; then the value must be non-empty, hold no control
///   character, and not begin or end with a space (Error::malformed_token_file).
/// A missing directory or key keeps its system code (no_such_file_or_directory). Diagnostics name
/// the file and what is wrong with it, never its contents.
struct MountedSecret {
    /// The mount point, e.g. "/var/run/secrets/alation".
    std::filesystem::path directory;
    /// The keys read by refresh_token_from_mount.
    std::string refresh_token_key = "refresh_token";
    std::string user_id_key = "user_id";
    /// The keys read by client_credentials_from_mount.
    std::string client_id_key = "client_id";
    std::string client_secret_key = "client_secret";

    /// Also accept files every user of the machine may read: Kubernetes' default mode, 0644.
    /// Off by default, because a process cannot tell a pod-private tmpfs, where "others" are at
    /// most the pod's other containers, from a directory the whole machine can list. Prefer
    /// `defaultMode: 0440` with an `fsGroup` (or 0400 when the process runs as root); turn this on
    /// only for a mount you know is private to the pod.
    bool allow_world_readable = false;
};

/// Reads a refresh token and its user id from `mount` (see MountedSecret). The user id must be a
/// positive decimal integer. On failure returns empty credentials, `ec` set and the file at
/// fault in `diag.field()`.
ALATION_AUTH_DECL RefreshTokenCredentials refresh_token_from_mount(const MountedSecret& mount, Diagnostics& diag,
                                                                   error_code& ec);

/// As above; throws ErrorWithDiagnostics on failure.
ALATION_AUTH_DECL RefreshTokenCredentials refresh_token_from_mount(const MountedSecret& mount);

/// Reads OAuth client credentials from `mount` (see MountedSecret). On failure returns empty
/// credentials, `ec` set and the file at fault in `diag.field()`.
ALATION_AUTH_DECL OAuthClientCredentials client_credentials_from_mount(const MountedSecret& mount, Diagnostics& diag,
                                                                       error_code& ec);

/// As above; throws ErrorWithDiagnostics on failure.
ALATION_AUTH_DECL OAuthClientCredentials client_credentials_from_mount(const MountedSecret& mount);

/// The names of the environment variables that hold credentials.
struct CredentialVariables {
    std::string refresh_token = "ALATION_REFRESH_TOKEN";
    std::string user_id = "ALATION_USER_ID";
    std::string client_id = "ALATION_CLIENT_ID";
    std::string client_secret = "ALATION_CLIENT_SECRET";
};

/// Reads a refresh token and its user id from the environment, as the `alation-token` tool does.
///
/// Returns nullopt, with `ec` clear, when neither variable is set: the caller may then look
/// elsewhere. A variable set to the empty string counts as unset. One set without the other, or a
/// value that fails the checks of MountedSecret (no trailing newline is dropped here), is
/// Error::invalid_argument with the variable's name in `diag.field()`, never its value.
///
/// The value is copied into a Secret, which is wiped; the environment's own copy cannot be wiped
/// (other code may hold pointers into it), so unset the variable after loading it if that matters.
/// Not thread-safe with respect to setenv/unsetenv in other threads, like getenv.
ALATION_AUTH_DECL std::optional<RefreshTokenCredentials> refresh_token_from_environment(
    const CredentialVariables& names, Diagnostics& diag, error_code& ec);

/// As above; throws ErrorWithDiagnostics on failure.
ALATION_AUTH_DECL std::optional<RefreshTokenCredentials> refresh_token_from_environment(
    const CredentialVariables& names = {});

/// Reads OAuth client credentials from the environment, as refresh_token_from_environment reads
/// a refresh token: nullopt when neither variable is set, Error::invalid_argument naming the
/// variable when one is missing or a value is unusable.
ALATION_AUTH_DECL std::optional<OAuthClientCredentials> client_credentials_from_environment(
    const CredentialVariables& names, Diagnostics& diag, error_code& ec);

/// As above; throws ErrorWithDiagnostics on failure.
ALATION_AUTH_DECL std::optional<OAuthClientCredentials> client_credentials_from_environment(
    const CredentialVariables& names = {});

namespace detail {

/// Checks a credential's text as MountedSecret describes, after dropping one trailing newline when
/// `trim_newline`. Returns what is wrong, in words without the value, or an empty view when it is
/// usable.
ALATION_AUTH_DECL std::string_view check_credential(std::string& value, bool trim_newline);

/// Parses a user id: a positive decimal integer, nothing else.
ALATION_AUTH_DECL std::optional<std::int64_t> parse_user_id(std::string_view text) noexcept;

/// Reads the value of `key` in `mount` with every check of MountedSecret. Sets `target`, when
/// given, to the file the key led to.
ALATION_AUTH_DECL Secret read_mounted_value(const MountedSecret& mount, std::string_view key, Diagnostics& diag,
                                            error_code& ec, std::filesystem::path* target = nullptr);

/// Reads two keys of `mount` from one version of the Secret: when the kubelet swapped `..data`
/// after the first was read, both are read again (twice at most). `between_reads` runs after the
/// first read, for a test to swap there. False with `ec` set on failure.
ALATION_AUTH_DECL bool read_mounted_pair(const MountedSecret& mount, std::string_view first_key,
                                         std::string_view second_key, Secret& first, Secret& second, Diagnostics& diag,
                                         error_code& ec, const std::function<void()>& between_reads = {});

}  // namespace detail
}  // namespace alation::auth

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/impl/credentials.ipp>
#endif

#endif
