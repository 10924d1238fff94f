// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_IMPL_CREDENTIALS_IPP
#define ALATION_AUTH_IMPL_CREDENTIALS_IPP

#include <alation/auth/credentials.hpp>
#include <alation/auth/detail/posix_file.hpp>

#include <boost/system/system_category.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <utility>
#include <vector>

namespace alation::auth {
namespace detail {
namespace mounted_file {

// A Kubernetes Secret holds at most 1 MiB in all; a token or client secret is under 1 KiB. A
// larger file is not a credential, and is not read whole.
constexpr std::size_t max_size = std::size_t{64} * 1024;

// Root's files are the kubelet's; our own are what a non-Kubernetes deployment writes.
inline bool trusted_owner(uid_t uid) noexcept { return uid == 0 || uid == ::geteuid(); }

// A group-readable file may be read only by members of its group: they must be us.
inline bool one_of_our_groups(gid_t gid) {
    if (gid == ::getegid()) return true;
    const int count = ::getgroups(0, nullptr);
    if (count <= 0) return false;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    const int got = ::getgroups(count, groups.data());
    return got > 0 && std::find(groups.begin(), groups.begin() + got, gid) != groups.begin() + got;
}

// The path with every symbolic link resolved, or nullopt with `ec` set.
inline std::optional<std::filesystem::path> real_path(const std::filesystem::path& p, error_code& ec) {
    char* resolved = ::realpath(p.c_str(), nullptr);
    if (resolved == nullptr) {
        ec = last_error();
        return std::nullopt;
    }
    std::filesystem::path out(resolved);
    std::free(resolved);  // NOLINT(cppcoreguidelines-no-malloc): realpath's buffer is malloc'ed
    return out;
}

// Whether `path` lies below `root`, both resolved: the directory itself does not count.
inline bool strictly_inside(const std::filesystem::path& root, const std::filesystem::path& path) {
    std::string prefix = root.native();
    if (prefix.empty() || prefix.back() != '/') prefix += '/';
    return path.native().size() > prefix.size() && path.native().starts_with(prefix);
}

// What makes an opened file's status unacceptable, or empty; with the error to report.
inline std::string_view status_fault(const struct stat& st, bool allow_world_readable, error_code& ec) {
    ec = Error::insecure_token_file;
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (!trusted_owner(st.st_uid)) return "owned by a user other than root or this process's";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return "writable by group or others";
    const bool everyone_reads = (st.st_mode & S_IROTH) != 0;
    if (everyone_reads && !allow_world_readable)
        return "readable by every user (see MountedSecret::allow_world_readable)";
    // Where everyone may read, the group reading adds nothing: Kubernetes' default, root:root 0644
    // read by a non-root user, passes with allow_world_readable.
    if (!everyone_reads && (st.st_mode & S_IRGRP) != 0 && !one_of_our_groups(st.st_gid))
        return "readable by a group this process is not in";
    ec = Error::malformed_token_file;
    if (std::cmp_greater(st.st_size, max_size)) return "larger than 64 KiB";
    ec.clear();
    return {};
}

}  // namespace mounted_file

ALATION_AUTH_DECL std::string_view check_credential(std::string& value, bool trim_newline) {
    if (trim_newline && !value.empty() && value.back() == '\n') {
        value.pop_back();
        if (!value.empty() && value.back() == '\r') value.pop_back();
    }
    if (value.empty()) return "empty";
    const bool has_control =
        std::ranges::any_of(value, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
    if (has_control) return "holds a control character (a line break, a tab or a NUL)";
    if (value.front() == ' ' || value.back() == ' ') return "begins or ends with a space";
    return {};
}

ALATION_AUTH_DECL std::optional<std::int64_t> parse_user_id(std::string_view text) noexcept {
    // Digits only: from_chars would take a '-' (and "-0").
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    std::int64_t id = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), id);
    // Alation's ids start at 1; the Client refuses 0 too, later and less clearly.
    if (err != std::errc{} || end != text.data() + text.size() || id == 0) return std::nullopt;
    return id;
}

ALATION_AUTH_DECL Secret read_mounted_value(const MountedSecret& mount, std::string_view key, Diagnostics& diag,
                                            error_code& ec, std::filesystem::path* target_out) {
    const std::filesystem::path entry = mount.directory / key;
    auto fail = [&](error_code code, std::string_view message) {
        ec = code;
        diag.set_field(entry.string());
        diag.set_message(std::string(message));
        return Secret{};
    };
    if (key.empty() || key == "." || key == ".." || key.find_first_of(std::string_view("/\0", 2)) != key.npos)
        return fail(Error::invalid_argument, "the key is not the name of a file in the mount");

    error_code sys;
    const auto root = mounted_file::real_path(mount.directory, sys);
    if (!root) return fail(sys, "cannot resolve the mount directory");

    // The kubelet removes the previous `..data` directory right after swapping the link to the
    // new one: a file resolved just before the swap may be gone when opened. Resolving again
    // finds the new one; more than two swaps in that instant are not worth waiting for.
    for (int attempt = 0;; ++attempt) {
        const bool may_retry = attempt < 2;
        struct stat link = {};
        if (::lstat(entry.c_str(), &link) != 0) return fail(last_error(), "cannot find the key");
        if (!mounted_file::trusted_owner(link.st_uid))
            return fail(Error::insecure_token_file, "the entry is owned by a user other than root or this process's");
        const auto target = mounted_file::real_path(entry, sys);
        if (!target) {
            if (sys == boost::system::errc::no_such_file_or_directory && may_retry) continue;
            return fail(sys, "cannot resolve the key's symbolic links");
        }
        if (!mounted_file::strictly_inside(*root, *target))
            return fail(Error::insecure_token_file, "a symbolic link leads out of the mount directory");

        // Between realpath and open only a writer inside the mount can change where the path
        // leads: root (the kubelet) or us, whom the owner checks trust anyway.
        // O_NOFOLLOW: the resolved path has no link left, so a link here was planted since.
        // O_NONBLOCK: opening a FIFO must not hang; fstat then refuses it.
        Fd file(::open(target->c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        if (file.get() < 0) {
            const int err = errno;
            if (err == ENOENT && may_retry) continue;
            if (err == ELOOP) return fail(Error::insecure_token_file, "the file was replaced by a symbolic link");
            return fail({err, boost::system::system_category()}, "cannot open the file");
        }
        struct stat st = {};
        if (::fstat(file.get(), &st) != 0) return fail(last_error(), "cannot read the file's status");
        if (const auto fault = mounted_file::status_fault(st, mount.allow_world_readable, sys); !fault.empty())
            return fail(sys, fault);

        std::string contents;
        std::string_view fault;
        if (!read_bounded(file.get(), mounted_file::max_size, contents, sys)) {
            fault = sys ? "cannot read the file" : "larger than 64 KiB";
            if (!sys) sys = Error::malformed_token_file;
        } else {
            fault = check_credential(contents, true);
            if (!fault.empty()) sys = Error::malformed_token_file;
        }
        // Copied, not moved: the buffer is as large as the limit, and is wiped here.
        Secret value{std::string_view(contents)};
        Secret::wipe(contents);
        if (!fault.empty()) return fail(sys, fault);
        if (target_out != nullptr) *target_out = *target;
        ec.clear();
        return value;
    }
}

ALATION_AUTH_DECL bool read_mounted_pair(const MountedSecret& mount, std::string_view first_key,
                                         std::string_view second_key, Secret& first, Secret& second, Diagnostics& diag,
                                         error_code& ec, const std::function<void()>& between_reads) {
    for (int attempt = 0;; ++attempt) {
        std::filesystem::path first_target;
        first = read_mounted_value(mount, first_key, diag, ec, &first_target);
        if (ec) return false;
        if (between_reads) between_reads();
        second = read_mounted_value(mount, second_key, diag, ec);
        if (ec) return false;
        // The kubelet writes each version in a directory of its own name, so a swap since the
        // first read moves the first key's target: read both again, lest they come from two
        // versions. Three swaps in a row are not worth waiting out: the last pair read is kept.
        error_code ignored;
        const auto first_now = mounted_file::real_path(mount.directory / first_key, ignored);
        if ((first_now && *first_now == first_target) || attempt == 2) return true;
    }
}

// Reads two variables that go together into `first` and `second`. False with `ec` clear when
// neither is set.
inline bool read_variable_pair(const std::string& first_name, const std::string& second_name, Secret& first,
                               Secret& second, Diagnostics& diag, error_code& ec) {
    ec.clear();
    auto get = [](const std::string& name) -> std::string_view {
        const char* value = std::getenv(name.c_str());
        return value == nullptr ? std::string_view{} : std::string_view(value);
    };
    auto fail = [&](const std::string& name, std::string message) {
        ec = Error::invalid_argument;
        diag.set_field(name);
        diag.set_message(std::move(message));
        return false;
    };
    const std::string_view first_value = get(first_name);
    const std::string_view second_value = get(second_name);
    if (first_value.empty() && second_value.empty()) return false;
    if (first_value.empty()) return fail(first_name, "not set, but " + second_name + " is");
    if (second_value.empty()) return fail(second_name, "not set, but " + first_name + " is");
    auto take = [&](const std::string& name, std::string_view text, Secret& out) {
        std::string value(text);
        const std::string_view fault = check_credential(value, false);
        out = Secret(std::move(value));
        return fault.empty() || fail(name, std::string(fault));
    };
    return take(first_name, first_value, first) && take(second_name, second_value, second);
}

// Runs `load(diag, ec)` and throws what it reports.
template <class Load>
auto value_or_throw(Load load) {
    Diagnostics diag;
    error_code ec;
    auto out = load(diag, ec);
    if (ec) throw ErrorWithDiagnostics(ec, std::move(diag));
    return out;
}

}  // namespace detail

ALATION_AUTH_DECL RefreshTokenCredentials refresh_token_from_mount(const MountedSecret& mount, Diagnostics& diag,
                                                                   error_code& ec) {
    diag.clear();
    Secret value;
    Secret user_id;
    if (!detail::read_mounted_pair(mount, mount.refresh_token_key, mount.user_id_key, value, user_id, diag, ec))
        return {};
    const auto id = detail::parse_user_id(user_id.reveal());
    if (!id) {
        ec = Error::malformed_token_file;
        diag.set_field((mount.directory / mount.user_id_key).string());
        diag.set_message("not a positive decimal integer");
        return {};
    }
    return {std::move(value), *id};
}

ALATION_AUTH_DECL RefreshTokenCredentials refresh_token_from_mount(const MountedSecret& mount) {
    return detail::value_or_throw(
        [&](Diagnostics& diag, error_code& ec) { return refresh_token_from_mount(mount, diag, ec); });
}

ALATION_AUTH_DECL std::optional<RefreshTokenCredentials> refresh_token_from_environment(
    const CredentialVariables& names, Diagnostics& diag, error_code& ec) {
    diag.clear();
    RefreshTokenCredentials out;
    Secret user_id;
    if (!detail::read_variable_pair(names.refresh_token, names.user_id, out.value, user_id, diag, ec)) return {};
    const auto id = detail::parse_user_id(user_id.reveal());
    if (!id) {
        ec = Error::invalid_argument;
        diag.set_field(names.user_id);
        diag.set_message("not a positive decimal integer");
        return {};
    }
    out.user_id = *id;
    return out;
}

ALATION_AUTH_DECL std::optional<RefreshTokenCredentials> refresh_token_from_environment(
    const CredentialVariables& names) {
    return detail::value_or_throw(
        [&](Diagnostics& diag, error_code& ec) { return refresh_token_from_environment(names, diag, ec); });
}

ALATION_AUTH_DECL OAuthClientCredentials client_credentials_from_mount(const MountedSecret& mount, Diagnostics& diag,
                                                                       error_code& ec) {
    diag.clear();
    Secret client_id;
    Secret client_secret;
    if (!detail::read_mounted_pair(mount, mount.client_id_key, mount.client_secret_key, client_id, client_secret, diag,
                                   ec))
        return {};
    return {std::string(client_id.reveal()), std::move(client_secret)};
}

ALATION_AUTH_DECL OAuthClientCredentials client_credentials_from_mount(const MountedSecret& mount) {
    return detail::value_or_throw(
        [&](Diagnostics& diag, error_code& ec) { return client_credentials_from_mount(mount, diag, ec); });
}

ALATION_AUTH_DECL std::optional<OAuthClientCredentials> client_credentials_from_environment(
    const CredentialVariables& names, Diagnostics& diag, error_code& ec) {
    diag.clear();
    Secret client_id;
    OAuthClientCredentials out;
    if (!detail::read_variable_pair(names.client_id, names.client_secret, client_id, out.client_secret, diag, ec))
        return {};
    out.client_id = client_id.reveal();
    return out;
}

ALATION_AUTH_DECL std::optional<OAuthClientCredentials> client_credentials_from_environment(
    const CredentialVariables& names) {
    return detail::value_or_throw(
        [&](Diagnostics& diag, error_code& ec) { return client_credentials_from_environment(names, diag, ec); });
}

}  // namespace alation::auth

#endif
