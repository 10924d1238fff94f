// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// What the fixtures that run a real server (tinyproxy, redis-server) share: a temporary directory,
// a free loopback port, spawning the server with its output in a log file, waiting until it
// accepts, and stopping it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace alation::auth::test {

/// A new directory under the temporary directory, named after `name`, this process and a counter.
inline std::filesystem::path make_fixture_dir(std::string_view name) {
    static int counter = 0;
    auto dir = std::filesystem::temp_directory_path() /
               ("alation-" + std::string(name) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    return dir;
}

/// A loopback port free now (another process may take it before the server binds it: retry).
inline std::uint16_t free_loopback_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address_v4("127.0.0.1"), 0});
    return a.local_endpoint().port();
}

/// A server process started from `args` (args[0] is looked up in PATH), stdout and stderr
/// appended to `log`, until stop().
class ServerProcess {
public:
    ServerProcess() = default;
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    ~ServerProcess() { stop(); }

    /// Throws std::runtime_error naming `package` when the binary cannot be run.
    void start(std::vector<std::string> args, const std::filesystem::path& log, std::string_view package) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0)
            throw std::runtime_error("cannot run " + args[0] + " (" + std::strerror(rc) +
                                     "): install it with scripts/install-deps.sh (Debian package " +
                                     std::string(package) + ")");
        pid_ = pid;
    }

    /// Polls until `port` accepts (readiness, not timing: the bound is only a safety net), or the
    /// process exits (its port was taken, or its config was refused); false, and stopped, then.
    bool wait_until_accepting(std::uint16_t port) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                return false;
            }
            boost::asio::io_context io;
            boost::asio::ip::tcp::socket s(io);
            boost::system::error_code ec;
            s.connect({boost::asio::ip::make_address_v4("127.0.0.1"), port}, ec);
            if (!ec) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop();
        return false;
    }

    [[nodiscard]] bool running() const { return pid_ > 0; }

    /// Sends `signal` (SIGSTOP, SIGCONT...) if it runs.
    void signal(int signal) const {
        if (pid_ > 0) ::kill(pid_, signal);
    }

    /// SIGTERM, and waits for the exit.
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }

private:
    pid_t pid_ = 0;
};

}  // namespace alation::auth::test
