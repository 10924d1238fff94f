// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Debian's tinyproxy (1.11), a real forward proxy, started for a test on a free loopback port.
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

struct TinyproxyOptions {
    /// When not empty, tinyproxy requires these (BasicAuth) and answers 407 without them.
    std::string username;
    std::string password;
};

/// Runs `tinyproxy -d -c CONFIG` (foreground: no pid file, no daemon) until destruction. The
/// config listens on 127.0.0.1 and allows only 127.0.0.1, with no ConnectPort line, so CONNECT
/// may reach any port (tinyproxy 1.11 restricts ports only when ConnectPort is given). It writes
/// no User/Group: started as root, tinyproxy warns and keeps running as root, which our
/// loopback-only config makes harmless; started as anyone else it runs as that user.
///
/// Throws std::runtime_error, so the test fails with the reason, when the binary is missing or the
/// proxy does not come up. Never skips: CI must have it (scripts/install-deps.sh installs it).
class Tinyproxy {
public:
    explicit Tinyproxy(TinyproxyOptions options = {}) : options_(std::move(options)) {
        dir_ = std::filesystem::temp_directory_path() /
               ("alation-tinyproxy-" + std::to_string(::getpid()) + "-" + std::to_string(instance_counter()++));
        std::filesystem::create_directories(dir_);
        // The free port we pick may be taken before tinyproxy binds it: try a few.
        for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) start();
        if (pid_ <= 0) throw std::runtime_error("tinyproxy did not start; its output:\n" + log());
    }

    ~Tinyproxy() {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    Tinyproxy(const Tinyproxy&) = delete;
    Tinyproxy& operator=(const Tinyproxy&) = delete;

    unsigned short port() const { return port_; }
    /// "http://127.0.0.1:PORT", without credentials.
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    /// With the options' credentials (which the tests choose URL-safe).
    std::string url_with_credentials() const {
        if (options_.username.empty()) return url();
        return "http://" + options_.username + ":" + options_.password + "@127.0.0.1:" + std::to_string(port_);
    }

    /// Everything tinyproxy logged (LogLevel Connect: one line per connection and per request).
    std::string log() const {
        std::ifstream in(dir_ / "tinyproxy.log");
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    /// Requests tinyproxy has read (CONNECT or forwarded), whatever their outcome, from its log.
    std::size_t requests() const { return count_lines_with("]: Request (file descriptor"); }
    /// CONNECT requests among them.
    std::size_t connects() const { return count_lines_with("): CONNECT "); }

private:
    static int& instance_counter() {
        static int n = 0;
        return n;
    }

    static unsigned short free_port() {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address_v4("127.0.0.1"), 0});
        return a.local_endpoint().port();
    }

    std::size_t count_lines_with(const char* needle) const {
        const std::string text = log();
        std::size_t n = 0;
        for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
        return n;
    }

    void write_config() const {
        std::ofstream conf(dir_ / "tinyproxy.conf", std::ios::trunc);
        conf << "Listen 127.0.0.1\nPort " << port_ << "\nAllow 127.0.0.1\nTimeout 30\nMaxClients 50\n"
             << "LogLevel Connect\nDisableViaHeader Yes\n";
        if (!options_.username.empty()) conf << "BasicAuth " << options_.username << " " << options_.password << "\n";
        if (!conf) throw std::runtime_error("cannot write the tinyproxy config in " + dir_.string());
    }

    void start() {
        port_ = free_port();
        write_config();
        const std::string conf = (dir_ / "tinyproxy.conf").string();
        const std::string log_path = (dir_ / "tinyproxy.log").string();
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        std::vector<std::string> args{"tinyproxy", "-d", "-c", conf};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        const int rc = ::posix_spawnp(&pid, "tinyproxy", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0)
            throw std::runtime_error(std::string("cannot run tinyproxy (") + std::strerror(rc) +
                                     "): install it with scripts/install-deps.sh (Debian package tinyproxy-bin)");
        pid_ = pid;
        if (!wait_until_accepting()) stop();
    }

    // Polls until the port accepts (readiness, not timing: the bound is only a safety net), or
    // tinyproxy exits (its port was taken, or the config was refused).
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

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = 0;
    }

    TinyproxyOptions options_;
    std::filesystem::path dir_;
    unsigned short port_ = 0;
    pid_t pid_ = 0;
};

}  // namespace alation::auth::test
