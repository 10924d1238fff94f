// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Debian's redis-server, started for a test on a free loopback port with a generated config.
#pragma once

#include "server_process.hpp"

#include <signal.h>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>

namespace alation::auth::test {

/// TLS on the server's port, which then takes no plain connection: PEM files.
struct RedisServerTls {
    std::filesystem::path certificate;
    std::filesystem::path private_key;
    /// The CA that client certificates must be signed by.
    std::filesystem::path ca;
    /// `tls-auth-clients yes`: a client without a certificate is refused; else `optional`.
    bool require_client_certificate = false;
};

struct RedisServerOptions {
    /// When not empty, `requirepass` (the default user's password).
    std::string password;
    /// When not empty, an ACL user with all rights on all keys, and this password.
    std::string acl_user;
    std::string acl_password;
    std::optional<RedisServerTls> tls = std::nullopt;
};

/// Runs `redis-server CONFIG` (foreground, no persistence: `save ""`, `appendonly no`, its dir a
/// temporary directory) on 127.0.0.1 until destruction; with options.tls, `port()` is its
/// `tls-port` (Debian builds redis-server with TLS).
///
/// Throws std::runtime_error, so the test fails with the reason, when the binary is missing or the
/// server does not come up: the tests are built only with the Redis component, and CI installs
/// redis-server with it (scripts/install-deps.sh).
class RedisServer {
public:
    explicit RedisServer(RedisServerOptions options = {})
        : options_(std::move(options)), dir_(make_fixture_dir("redis")) {
        // The free port we pick may be taken before redis-server binds it: try a few.
        for (int attempt = 0; attempt < 3 && !process_.running(); ++attempt) {
            port_ = free_loopback_port();
            start();
        }
        if (!process_.running()) throw std::runtime_error("redis-server did not start; its output:\n" + log());
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
        if (!process_.running()) throw std::runtime_error("redis-server did not restart; its output:\n" + log());
    }
    /// Stops it for good (until restart()).
    void stop() { process_.stop(); }
    /// SIGSTOP: connections stay open and the kernel still accepts new ones, but nothing answers.
    void pause() {
        if (!paused_) process_.signal(SIGSTOP);
        paused_ = process_.running();
    }
    /// SIGCONT.
    void resume() {
        if (paused_) process_.signal(SIGCONT);
        paused_ = false;
    }

private:
    void write_config() const {
        std::ofstream conf(dir_ / "redis.conf", std::ios::trunc);
        conf << "bind 127.0.0.1\nsave \"\"\nappendonly no\ndaemonize no\n"
             << "dir " << dir_.string() << "\nlogfile \"\"\n";
        if (options_.tls) {
            const RedisServerTls& tls = *options_.tls;
            // A path prints quoted, as the config file wants it.
            conf << "port 0\ntls-port " << port_ << "\ntls-cert-file " << tls.certificate << "\ntls-key-file "
                 << tls.private_key << "\ntls-ca-cert-file " << tls.ca << "\ntls-auth-clients "
                 << (tls.require_client_certificate ? "yes" : "optional") << "\n";
        } else {
            conf << "port " << port_ << "\n";
        }
        if (!options_.password.empty()) conf << "requirepass " << options_.password << "\n";
        if (!options_.acl_user.empty())
            conf << "user " << options_.acl_user << " on >" << options_.acl_password << " ~* &* +@all\n";
        if (!conf) throw std::runtime_error("cannot write the redis-server config in " + dir_.string());
    }

    void start() {
        write_config();
        process_.start({"redis-server", (dir_ / "redis.conf").string()}, dir_ / "redis.log", "redis-server");
        process_.wait_until_accepting(port_);
    }

    RedisServerOptions options_;
    std::filesystem::path dir_;
    std::uint16_t port_ = 0;
    ServerProcess process_;
    bool paused_ = false;
};

}  // namespace alation::auth::test
