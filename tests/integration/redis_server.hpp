// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Debian's redis-server, started for a test on a free loopback port with a generated config.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace alation::auth::test {

struct RedisServerOptions {
    /// When not empty, `requirepass` (the default user's password).
    std::string password;
    /// When not empty, an ACL user with all rights on all keys, and this password.
    std::string acl_user;
    std::string acl_password;
};

/// Runs `redis-server CONFIG` (foreground, no persistence: `save ""`, `appendonly no`, its dir a
/// temporary directory) on 127.0.0.1 until destruction.
///
/// Throws std::runtime_error, so the test fails with the reason, when the binary is missing or the
/// server does not come up: the tests are built only with the Redis component, and CI installs
/// redis-server with it (scripts/install-deps.sh).
class RedisServer {
public:
    explicit RedisServer(RedisServerOptions options = {}) : options_(std::move(options)) {
        dir_ = std::filesystem::temp_directory_path() /
               ("alation-redis-" + std::to_string(::getpid()) + "-" + std::to_string(instance_counter()++));
        std::filesystem::create_directories(dir_);
        // The free port we pick may be taken before redis-server binds it: try a few.
        for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
            port_ = free_port();
            start();
        }
        if (pid_ <= 0) throw std::runtime_error("redis-server did not start; its output:\n" + log());
    }

    ~RedisServer() {
        resume();
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    std::uint16_t port() const { return port_; }

    /// Everything redis-server logged.
    std::string log() const {
        std::ifstream in(dir_ / "redis.log");
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    /// Stops the server (SIGTERM: it closes every connection) and starts a new one, empty, on the
    /// same port.
    void restart() {
        resume();
        stop();
        start();
        if (pid_ <= 0) throw std::runtime_error("redis-server did not restart; its output:\n" + log());
    }
    /// Stops it for good (until restart()).
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }
    /// SIGSTOP: connections stay open and the kernel still accepts new ones, but nothing answers.
    void pause() {
        if (pid_ > 0 && !paused_) ::kill(pid_, SIGSTOP);
        paused_ = pid_ > 0;
    }
    /// SIGCONT.
    void resume() {
        if (pid_ > 0 && paused_) ::kill(pid_, SIGCONT);
        paused_ = false;
    }

private:
    static int& instance_counter() {
        static int n = 0;
        return n;
    }

    static std::uint16_t free_port() {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address_v4("127.0.0.1"), 0});
        return a.local_endpoint().port();
    }

    void write_config() const {
        std::ofstream conf(dir_ / "redis.conf", std::ios::trunc);
        conf << "bind 127.0.0.1\nport " << port_ << "\nsave \"\"\nappendonly no\ndaemonize no\n"
             << "dir " << dir_.string() << "\nlogfile \"\"\n";
        if (!options_.password.empty()) conf << "requirepass " << options_.password << "\n";
        if (!options_.acl_user.empty())
            conf << "user " << options_.acl_user << " on >" << options_.acl_password << " ~* &* +@all\n";
        if (!conf) throw std::runtime_error("cannot write the redis-server config in " + dir_.string());
    }

    void start() {
        write_config();
        const std::string conf = (dir_ / "redis.conf").string();
        const std::string log_path = (dir_ / "redis.log").string();
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        std::vector<std::string> args{"redis-server", conf};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        const int rc = ::posix_spawnp(&pid, "redis-server", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0)
            throw std::runtime_error(std::string("cannot run redis-server (") + std::strerror(rc) +
                                     "): install it with scripts/install-deps.sh (Debian package redis-server)");
        pid_ = pid;
        if (!wait_until_accepting()) stop();
    }

    // Polls until the port accepts (readiness, not timing: the bound is only a safety net), or
    // redis-server exits (its port was taken, or the config was refused).
    bool wait_until_accepting() {
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
            s.connect({boost::asio::ip::make_address_v4("127.0.0.1"), port_}, ec);
            if (!ec) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    RedisServerOptions options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = 0;
    bool paused_ = false;
};

}  // namespace alation::auth::test
