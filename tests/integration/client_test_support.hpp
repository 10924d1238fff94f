// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Helpers shared by test_client.cpp and test_fault_matrix.cpp.
#pragma once

// GCC before 14 warns about designated initializers that leave members to their defaults, which is
// how these tests spell a Fault or FakeAlationOptions.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 14
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

#include <alation/auth/client.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/testing/fake_alation.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <unistd.h>
#include <chrono>
#include <exception>
#include <filesystem>
#include <string>

namespace alation::auth::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::FakeAlation;
using testing::FakeAlationOptions;
using testing::Fault;

inline const std::string password = "pw-Secret-0123456789";

/// Short timeouts and tiny backoffs, so the fault tests take milliseconds.
/// A TokenProvider's options for tests: no start-up jitter, so that the first mint starts at
/// once (and a manual clock need not move for it).
inline ProviderOptions provider_options() {
    ProviderOptions options;
    options.refresh.first_mint_jitter = {};
    return options;
}

inline ClientOptions fast_options() {
    ClientOptions o;
    o.connect_timeout = 2s;
    o.request_timeout = 500ms;
    o.retry.max_attempts = 3;
    o.retry.initial_backoff = 1ms;
    o.retry.max_backoff = 5ms;
    o.retry.max_retry_after = 2s;
    o.retry.total_budget = 10s;
    return o;
}

/// Runs `io` until `done()` holds, for at most `limit`. io.run() would not return: the fake
/// serving on the same io_context always has work.
template <class Predicate>
void run_until(asio::io_context& io, Predicate done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
    if (!done()) throw std::runtime_error("test did not finish in time");
}

/// Runs the coroutine `f` (returning awaitable<void>) on `io` until it finishes; rethrows its exception.
template <class F>
void run(asio::io_context& io, F f) {
    std::exception_ptr failure;
    bool finished = false;
    asio::co_spawn(io, std::move(f), [&](std::exception_ptr e) {
        failure = e;
        finished = true;
    });
    run_until(io, [&] { return finished; });
    if (failure) std::rethrow_exception(failure);
}

/// A fake Alation with one user, the client's io_context, and a temporary directory for CA files.
struct Fixture {
    asio::io_context io;
    FakeAlation fake;
    std::int64_t user_id;
    std::filesystem::path dir;

    explicit Fixture(FakeAlationOptions options = {})
        : fake(io.get_executor(), options), user_id(fake.add_user("alice", password)) {
        dir = std::filesystem::temp_directory_path() /
              ("alation-client-test-" + std::to_string(::getpid()) + "-" + std::to_string(fake.port()));
        std::filesystem::create_directories(dir);
    }
    ~Fixture() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }

    Credentials credentials(std::string pw = password) const { return {"alice", Secret(pw), "etl"}; }
    RefreshToken refresh_token() { return fake.issue_refresh_token(user_id, "etl"); }

    ClientOptions tls_options(ClientOptions o = fast_options()) {
        o.ca_file = fake.write_ca_file(dir);
        return o;
    }
    Client client(ClientOptions o = fast_options()) { return Client(io.get_executor(), fake.base_url(), o); }
};

inline std::string access_path() { return std::string(detail::path(detail::Endpoint::create_access_token)); }
inline std::string create_refresh_path() { return std::string(detail::path(detail::Endpoint::create_refresh_token)); }

}  // namespace alation::auth::test
