// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_POSIX_FILE_HPP
#define ALATION_AUTH_DETAIL_POSIX_FILE_HPP

// What the token store and the credential loaders share to read small secret files safely.
#include <alation/auth/error.hpp>
#include <alation/auth/secret.hpp>

#include <boost/system/system_category.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>
#include <utility>

namespace alation::auth::detail {

/// errno as an error_code in the system category.
inline error_code last_error() noexcept { return {errno, boost::system::system_category()}; }

/// Closes a descriptor on every path out of a function.
class Fd {
public:
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    // close() reports the deferred write errors of some file systems (NFS), so saves check it.
    bool close() noexcept { return ::close(std::exchange(fd_, -1)) == 0; }

private:
    int fd_;
};

/// Reads the whole of `fd` into `out` when it holds at most `max_size` bytes. Returns false with
/// `ec` clear when it holds more (the rest is not read), false with `ec` set on a read error.
/// `out` may hold secret bytes whatever the outcome: the caller wipes it.
inline bool read_bounded(int fd, std::size_t max_size, std::string& out, error_code& ec) {
    // One byte more than the limit, so a file that grew since an fstat is caught, not truncated;
    // and the buffer is never reallocated, which would leave a copy behind unwiped.
    out.assign(max_size + 1, '\0');
    std::size_t size = 0;
    while (size < out.size()) {
        const ssize_t n = ::read(fd, out.data() + size, out.size() - size);
        if (n < 0) {
            if (errno == EINTR) continue;
            ec = last_error();
            return false;
        }
        if (n == 0) break;
        size += static_cast<std::size_t>(n);
    }
    ec.clear();
    if (size > max_size) return false;
    out.resize(size);
    return true;
}

}  // namespace alation::auth::detail

#endif
