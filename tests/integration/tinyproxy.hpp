// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Debian's tinyproxy (1.11), a real forward proxy, started for a test on a free loopback port.
#pragma once

#include "server_process.hpp"

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

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
    explicit Tinyproxy(TinyproxyOptions options = {})
        : options_(std::move(options)), dir_(make_fixture_dir("tinyproxy")) {
        // The free port we pick may be taken before tinyproxy binds it: try a few.
        for (int attempt = 0; attempt < 3 && !process_.running(); ++attempt) start();
        if (!process_.running()) throw std::runtime_error("tinyproxy did not start; its output:\n" + log());
    }

    ~Tinyproxy() {
        process_.stop();
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
        port_ = free_loopback_port();
        write_config();
        process_.start({"tinyproxy", "-d", "-c", (dir_ / "tinyproxy.conf").string()}, dir_ / "tinyproxy.log",
                       "tinyproxy-bin");
        process_.wait_until_accepting(port_);
    }

    TinyproxyOptions options_;
    std::filesystem::path dir_;
    unsigned short port_ = 0;
    ServerProcess process_;
};

}  // namespace alation::auth::test
