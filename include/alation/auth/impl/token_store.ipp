// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_IMPL_TOKEN_STORE_IPP
#define ALATION_AUTH_IMPL_TOKEN_STORE_IPP

#include <alation/auth/detail/posix_file.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/token_store.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>
#include <utility>

namespace alation::auth {
namespace detail {
namespace token_file {

// A stored token is a few hundred bytes; anything much larger is not one, and is not read whole.
constexpr std::size_t max_size = std::size_t{64} * 1024;

}  // namespace token_file

ALATION_AUTH_DECL std::string format_token_file(const RefreshToken& token) {
    std::string out;
    // Room for everything up front: the buffer holding the token is never reallocated and left
    // behind unwiped. 256 covers the keys, the user id, three timestamps and the status.
    out.reserve(256 + json_string_size(token.value.reveal()) + json_string_size(token.name));
    out += "{\"refresh_token\":";
    append_json_string(out, token.value.reveal());
    out += ",\"user_id\":";
    out += std::to_string(token.user_id);
    out += ",\"name\":";
    append_json_string(out, token.name);
    out += ",\"created_at\":";
    append_json_string(out, format_timestamp(token.created_at));
    out += ",\"token_expires_at\":";
    append_json_string(out, format_timestamp(token.expires_at));
    out += ",\"token_status\":";
    append_json_string(out, to_string(token.status));
    if (token.last_used_at) {
        out += ",\"last_used_at\":";
        append_json_string(out, format_timestamp(*token.last_used_at));
    }
    out += "}\n";
    return out;
}

ALATION_AUTH_DECL std::optional<RefreshToken> parse_token_file(std::string_view contents, Diagnostics& diag,
                                                               error_code& ec) {
    RefreshToken token;
    ec = parse_result(Endpoint::create_refresh_token, contents, token, diag);
    // An expired or revoked token is still the stored one: the provider decides what to do with it.
    if (ec == Error::refresh_token_expired_or_revoked) {
        diag.clear();
        ec.clear();
    }
    if (ec) {
        ec = Error::malformed_token_file;
        return std::nullopt;
    }
    return token;
}

ALATION_AUTH_DECL std::filesystem::path write_temp_file(const std::filesystem::path& target, std::string_view contents,
                                                        error_code& ec) {
    // A name no other writer picks: the target's name, the pid and a random suffix. O_EXCL makes
    // a collision (or an attacker's file or link planted under that name) an error, not a write
    // through it; then another name is tried.
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::filesystem::path temp;
    int fd = -1;
    for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
        char suffix[48];
        std::snprintf(suffix, sizeof suffix, ".tmp.%ld.%016llx", static_cast<long>(::getpid()),
                      static_cast<unsigned long long>(rng()));
        temp = target;
        temp += suffix;
        fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        ec = last_error();
        return {};
    }
    Fd file(fd);
    auto fail = [&] {
        ec = last_error();
        ::unlink(temp.c_str());
        return std::filesystem::path{};
    };
    // The umask can only remove bits, but an inherited default ACL could add some: make sure.
    if (::fchmod(file.get(), S_IRUSR | S_IWUSR) != 0) return fail();
    for (std::size_t done = 0; done < contents.size();) {
        const ssize_t n = ::write(file.get(), contents.data() + done, contents.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail();
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(file.get()) != 0 || !file.close()) return fail();
    ec.clear();
    return temp;
}

ALATION_AUTH_DECL void commit_temp_file(const std::filesystem::path& temp, const std::filesystem::path& target,
                                        error_code& ec) {
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        ec = last_error();
        ::unlink(temp.c_str());
        return;
    }
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
        ec = last_error();
        return;
    }
    ec.clear();
}

ALATION_AUTH_DECL void remove_abandoned_temp_files(const std::filesystem::path& target,
                                                   std::filesystem::file_time_type older_than) noexcept {
    try {
        const std::string prefix = target.filename().string() + ".tmp.";
        const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
        std::error_code ec;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::filesystem::path& candidate = it->path();
            if (!candidate.filename().string().starts_with(prefix)) continue;
            struct stat st = {};
            // lstat: a link planted under such a name is not ours to follow or remove.
            if (::lstat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) continue;
            std::error_code time_ec;
            const auto modified = std::filesystem::last_write_time(candidate, time_ec);
            if (!time_ec && modified < older_than) ::unlink(candidate.c_str());
        }
    } catch (...) {  // NOLINT(bugprone-empty-catch): cleanup is best effort
        // Out of memory building a name: the leftovers wait for the next save.
    }
}

}  // namespace detail

// The defaults of TokenStore: a store used by one provider alone needs no lease, and shares
// no access token.
ALATION_AUTH_DECL void TokenStore::async_acquire_lease(std::string_view /*identity*/, std::string_view /*name*/,
                                                       std::string_view /*owner*/, std::chrono::milliseconds /*ttl*/,
                                                       ExchangeHandler handler) {
    std::move(handler)(error_code{}, true);
}

ALATION_AUTH_DECL void TokenStore::async_release_lease(std::string_view /*identity*/, std::string_view /*name*/,
                                                       std::string_view /*owner*/, DoneHandler handler) {
    std::move(handler)(error_code{});
}

ALATION_AUTH_DECL void TokenStore::async_load_access_token(std::string_view /*identity*/, AccessTokenHandler handler) {
    std::move(handler)(make_error_code(boost::asio::error::operation_not_supported), std::nullopt);
}

ALATION_AUTH_DECL void TokenStore::async_store_access_token(std::string_view /*identity*/, const AccessToken& /*token*/,
                                                            DoneHandler handler) {
    std::move(handler)(make_error_code(boost::asio::error::operation_not_supported));
}

ALATION_AUTH_DECL void InMemoryTokenStore::async_load(std::string_view identity, LoadHandler handler) {
    std::move(handler)(error_code{}, stored(identity));
}

ALATION_AUTH_DECL std::optional<RefreshToken> InMemoryTokenStore::stored(std::string_view identity) const {
    std::lock_guard lock(mutex_);
    if (const auto it = refresh_tokens_.find(identity); it != refresh_tokens_.end()) return it->second;
    return initial_;
}

ALATION_AUTH_DECL void InMemoryTokenStore::async_compare_and_swap(std::string_view identity, const Secret& expected,
                                                                  const RefreshToken& desired,
                                                                  ExchangeHandler handler) {
    bool swapped = false;
    {
        std::lock_guard lock(mutex_);
        auto it = refresh_tokens_.find(identity);
        const RefreshToken* current = it != refresh_tokens_.end() ? &it->second : initial_ ? &*initial_ : nullptr;
        if (!current || current->value == expected) {
            refresh_tokens_.insert_or_assign(std::string(identity), desired);
            swapped = true;
        }
    }
    std::move(handler)(error_code{}, swapped);
}

ALATION_AUTH_DECL void InMemoryTokenStore::async_acquire_lease(std::string_view identity, std::string_view name,
                                                               std::string_view owner, std::chrono::milliseconds ttl,
                                                               ExchangeHandler handler) {
    std::string key(identity);
    key += '/';
    key += name;
    const auto now = SteadyClock::now();
    bool acquired = false;
    {
        std::lock_guard lock(mutex_);
        auto [it, inserted] = leases_.try_emplace(std::move(key));
        if (inserted || it->second.owner == owner || it->second.until <= now) {
            it->second = Lease{std::string(owner), now + ttl};
            acquired = true;
        }
    }
    std::move(handler)(error_code{}, acquired);
}

ALATION_AUTH_DECL void InMemoryTokenStore::async_release_lease(std::string_view identity, std::string_view name,
                                                               std::string_view owner, DoneHandler handler) {
    std::string key(identity);
    key += '/';
    key += name;
    {
        std::lock_guard lock(mutex_);
        if (auto it = leases_.find(key); it != leases_.end() && it->second.owner == owner) leases_.erase(it);
    }
    std::move(handler)(error_code{});
}

ALATION_AUTH_DECL void InMemoryTokenStore::async_load_access_token(std::string_view identity,
                                                                   AccessTokenHandler handler) {
    std::optional<AccessToken> token;
    {
        std::lock_guard lock(mutex_);
        if (auto it = access_tokens_.find(identity); it != access_tokens_.end()) {
            if (it->second.expires_at > std::chrono::system_clock::now())
                token = it->second;
            else
                access_tokens_.erase(it);
        }
    }
    std::move(handler)(error_code{}, std::move(token));
}

ALATION_AUTH_DECL void InMemoryTokenStore::async_store_access_token(std::string_view identity, const AccessToken& token,
                                                                    DoneHandler handler) {
    {
        std::lock_guard lock(mutex_);
        access_tokens_.insert_or_assign(std::string(identity), token);
    }
    std::move(handler)(error_code{});
}

// Out of line, as is the destructor: the store's thread pool is a complete type only here.
ALATION_AUTH_DECL FileTokenStore::FileTokenStore(std::filesystem::path path) : path_(std::move(path)) {}

ALATION_AUTH_DECL FileTokenStore::~FileTokenStore() {
    // Finishes the operations queued: each holds `this`.
    if (thread_) thread_->join();
}

ALATION_AUTH_DECL void FileTokenStore::run_off_thread(std::function<void()> work) {
    std::call_once(thread_started_, [this] { thread_ = std::make_unique<boost::asio::thread_pool>(1); });
    boost::asio::post(*thread_, std::move(work));
}

ALATION_AUTH_DECL void FileTokenStore::async_load(std::string_view /*identity*/, LoadHandler handler) {
    run_off_thread([this, handler = std::make_shared<LoadHandler>(std::move(handler))]() mutable {
        error_code ec;
        auto token = load(ec);
        std::move (*handler)(ec, std::move(token));
    });
}

ALATION_AUTH_DECL void FileTokenStore::async_compare_and_swap(std::string_view /*identity*/, const Secret& expected,
                                                              const RefreshToken& desired, ExchangeHandler handler) {
    run_off_thread([this, expected, desired, handler = std::make_shared<ExchangeHandler>(std::move(handler))] {
        // Atomic among the store's operations: they all run on its one thread.
        error_code ec;
        const auto current = load(ec);
        // A file that cannot be read is not "nothing stored": overwriting it could lose a token.
        if (ec) return std::move(*handler)(ec, false);
        if (current && !(current->value == expected)) return std::move(*handler)(error_code{}, false);
        save(desired, ec);
        std::move (*handler)(ec, !ec);
    });
}

ALATION_AUTH_DECL std::optional<RefreshToken> FileTokenStore::load(error_code& ec) {
    std::lock_guard lock(mutex_);
    // O_NOFOLLOW: a symbolic link is refused (ELOOP) rather than followed to a file someone else
    // chose. O_NONBLOCK: opening a FIFO planted here must not hang; fstat then refuses it.
    detail::Fd file(::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (file.get() < 0) {
        const int err = errno;
        if (err == ENOENT) {
            ec.clear();
        } else if (err == ELOOP) {
            ec = Error::insecure_token_file;
        } else {
            ec = {err, boost::system::system_category()};
        }
        return std::nullopt;
    }
    struct stat st = {};
    if (::fstat(file.get(), &st) != 0) {
        ec = detail::last_error();
        return std::nullopt;
    }
    constexpr mode_t shared_bits = S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH;
    if (!S_ISREG(st.st_mode) || (st.st_mode & shared_bits) != 0 || st.st_uid != ::geteuid()) {
        ec = Error::insecure_token_file;
        return std::nullopt;
    }
    if (std::cmp_greater(st.st_size, detail::token_file::max_size)) {
        ec = Error::malformed_token_file;
        return std::nullopt;
    }

    std::string contents;
    std::optional<RefreshToken> token;
    if (!detail::read_bounded(file.get(), detail::token_file::max_size, contents, ec)) {
        if (!ec) ec = Error::malformed_token_file;
    } else {
        Diagnostics diag;
        token = detail::parse_token_file(contents, diag, ec);
    }
    Secret::wipe(contents);
    return token;
}

ALATION_AUTH_DECL void FileTokenStore::save(const RefreshToken& token, error_code& ec) {
    std::string contents = detail::format_token_file(token);
    std::lock_guard lock(mutex_);
    detail::remove_abandoned_temp_files(
        path_, std::filesystem::file_time_type::clock::now() - detail::abandoned_temp_file_age);
    const std::filesystem::path temp = detail::write_temp_file(path_, contents, ec);
    Secret::wipe(contents);
    if (!ec) detail::commit_temp_file(temp, path_, ec);
}

}  // namespace alation::auth

#endif
