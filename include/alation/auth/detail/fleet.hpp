// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_FLEET_HPP
#define ALATION_AUTH_DETAIL_FLEET_HPP

// How a token source talks to a shared TokenStore: every call bounded in time, from a coroutine
// on the source's strand; and the shared access-token mint that both sources use.

#include <alation/auth/detail/fleet_rules.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/token_source.hpp>
#include <alation/auth/token_store.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>

namespace alation::auth::detail {

/// A TokenStore as a replica's token source uses it: the replica's identity and lease owner
/// name, and each call bounded by the provider's store_timeout. Calls must be awaited from a
/// coroutine on a strand (the source's), which the store's completion is taken back to.
class BoundedStore {
public:
    BoundedStore() = default;
    BoundedStore(std::shared_ptr<TokenStore> store, std::string identity, const ProviderOptions& options)
        : store_(std::move(store)),
          identity_(std::move(identity)),
          owner_(random_owner_name()),
          timeout_(options.store_timeout),
          lease_ttl_(options.lease_ttl) {}

    explicit operator bool() const noexcept { return store_ != nullptr; }
    [[nodiscard]] std::chrono::milliseconds lease_ttl() const noexcept { return lease_ttl_; }

    boost::asio::awaitable<std::tuple<error_code, std::optional<RefreshToken>>> load() {
        return bounded<std::optional<RefreshToken>>(
            [this](auto handler) { store_->async_load(identity_, std::move(handler)); });
    }
    boost::asio::awaitable<std::tuple<error_code, bool>> compare_and_swap(const Secret& expected,
                                                                          const RefreshToken& desired) {
        return bounded<bool>([this, &expected, &desired](auto handler) {
            store_->async_compare_and_swap(identity_, expected, desired, std::move(handler));
        });
    }
    boost::asio::awaitable<std::tuple<error_code, bool>> acquire_lease(std::string_view name) {
        return bounded<bool>([this, name](auto handler) {
            store_->async_acquire_lease(identity_, name, owner_, lease_ttl_, std::move(handler));
        });
    }
    /// A failed release is not reported: the lease expires by itself.
    boost::asio::awaitable<void> release_lease(std::string_view name) {
        co_await bounded<bool>([this, name](auto handler) {
            store_->async_release_lease(identity_, name, owner_, [handler = std::move(handler)](error_code ec) mutable {
                std::move(handler)(ec, true);
            });
        });
    }
    boost::asio::awaitable<std::tuple<error_code, std::optional<AccessToken>>> load_access_token() {
        return bounded<std::optional<AccessToken>>(
            [this](auto handler) { store_->async_load_access_token(identity_, std::move(handler)); });
    }
    boost::asio::awaitable<error_code> store_access_token(const AccessToken& token) {
        auto [ec, done] = co_await bounded<bool>([this, &token](auto handler) {
            store_->async_store_access_token(identity_, token, [handler = std::move(handler)](error_code ec) mutable {
                std::move(handler)(ec, !ec);
            });
        });
        co_return ec;
    }

private:
    // Where a call's result meets the coroutine waiting for it: the store may complete inside
    // the call, later from any thread, or (past the timeout) never in time.
    template <class Value>
    struct Rendezvous {
        explicit Rendezvous(const boost::asio::any_io_executor& executor) : timer(executor) {}
        std::mutex mutex;
        std::optional<std::tuple<error_code, Value>> result;
        boost::asio::steady_timer timer;
    };

    template <class Value, class Start>
    boost::asio::awaitable<std::tuple<error_code, Value>> bounded(Start start) {
        auto meeting = std::make_shared<Rendezvous<Value>>(co_await boost::asio::this_coro::executor);
        meeting->timer.expires_after(timeout_);
        start([meeting](error_code ec, Value value) {
            {
                std::lock_guard lock(meeting->mutex);
                if (meeting->result) return;
                meeting->result.emplace(ec, std::move(value));
            }
            // Wakes the coroutine on its strand, where the timer may be touched.
            boost::asio::post(meeting->timer.get_executor(), [meeting] { meeting->timer.cancel(); });
        });
        {
            std::lock_guard lock(meeting->mutex);
            if (meeting->result) co_return std::move(*meeting->result);
        }
        co_await meeting->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        std::lock_guard lock(meeting->mutex);
        if (!meeting->result) meeting->result.emplace(make_error_code(Error::timeout), Value{});
        co_return std::move(*meeting->result);
    }

    // Names this replica in leases: 128 random bits, so that identical replicas differ.
    static std::string random_owner_name() {
        std::random_device random;
        std::string name;
        for (int i = 0; i < 4; ++i) {
            char chunk[9];
            std::snprintf(chunk, sizeof chunk, "%08x", static_cast<unsigned>(random()));
            name += chunk;
        }
        return name;
    }

    std::shared_ptr<TokenStore> store_;
    std::string identity_;
    std::string owner_;
    std::chrono::milliseconds timeout_{};
    std::chrono::milliseconds lease_ttl_{};
};

/// Runs a source's coroutine `operation` on `strand` and completes `handler` (a TokenSource
/// handler) with its outcome; the provider's stop() reaches the coroutine's Client calls through
/// the handler's cancellation slot. Only bad_alloc can escape a coroutine: it is an error.
template <class Value, class Strand, class Handler>
void spawn_outcome(const Strand& strand, boost::asio::awaitable<std::tuple<error_code, Value>> operation,
                   Handler handler) {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    boost::asio::co_spawn(
        strand, std::move(operation),
        boost::asio::bind_cancellation_slot(
            slot, [handler = std::move(handler)](std::exception_ptr e, std::tuple<error_code, Value> outcome) mutable {
                auto& [ec, value] = outcome;
                if (e) ec = make_error_code(boost::asio::error::no_memory);
                std::move(handler)(ec, std::move(value));
            }));
}

/// Reports a failed store call of `source` as a token_store_failed event.
inline std::function<void(error_code)> store_failure_reporter(const TokenSource& source) {
    return [&source](error_code ec) {
        ProviderEvent event{ProviderEvent::Kind::token_store_failed};
        event.error = ec;
        source.report(std::move(event));
    };
}

/// The lease name for minting a shared access token, and how often a replica that waits for a
/// sibling's mint looks into the store.
inline constexpr std::string_view mint_lease = "mint";
inline constexpr std::chrono::milliseconds shared_mint_poll_interval{100};

/// A mint with access-token sharing: a sibling's token while at least half its life is left;
/// else this replica mints for all under the mint lease; while a sibling holds the lease, waits
/// for its token. The wait is bounded by the lease, not by the store timeout: a sibling whose
/// mint is merely slow (retries, a loaded server) must not make every waiter mint its own, which
/// would revoke tokens on a server that limits live ones; a sibling that died lets its lease
/// expire, and a waiter then takes it. Only past a lease's ttl does a waiter mint its own. A
/// store that fails is reported and minted around: sharing saves mints, it must never stop them. `replacing` is the
/// token the provider is replacing (the last one this source gave), updated to the one returned.
template <class Mint>
boost::asio::awaitable<std::tuple<error_code, AccessToken>> shared_mint(BoundedStore& store, Secret& replacing,
                                                                        const std::function<void(error_code)>& failed,
                                                                        Mint mint) {
    using Result = std::tuple<error_code, AccessToken>;
    const auto give_up_at = SteadyClock::now() + store.lease_ttl();
    auto take = [&](AccessToken token) -> Result {
        replacing = token.value;
        return {error_code{}, std::move(token)};
    };
    auto sibling_token = [&](const std::optional<AccessToken>& shared) {
        return shared && adopt_shared_access_token(*shared, replacing, WallClock::now());
    };
    for (;;) {
        auto [load_ec, shared] = co_await store.load_access_token();
        if (load_ec) {
            failed(load_ec);
            break;
        }
        if (sibling_token(shared)) co_return take(adopted(std::move(*shared), WallClock::now()));
        auto [lease_ec, leased] = co_await store.acquire_lease(mint_lease);
        if (lease_ec) {
            failed(lease_ec);
            break;
        }
        if (leased) {
            // A sibling may have stored its token between the look and the lease.
            auto [again_ec, again] = co_await store.load_access_token();
            if (!again_ec && sibling_token(again)) {
                co_await store.release_lease(mint_lease);
                co_return take(adopted(std::move(*again), WallClock::now()));
            }
            const auto sent_at = WallClock::now();
            auto [mint_ec, token] = co_await mint();
            if (!mint_ec) {
                const AccessToken shared_copy = shareable(token, sent_at);
                if (const auto store_ec = co_await store.store_access_token(shared_copy)) failed(store_ec);
                replacing = token.value;
            }
            co_await store.release_lease(mint_lease);
            co_return Result{mint_ec, std::move(token)};
        }
        // A sibling is minting: its token will be in the store in a moment, or its lease ends
        // (it finished, failed or died) and this replica takes it.
        if (SteadyClock::now() >= give_up_at) break;
        boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, shared_mint_poll_interval);
        co_await pause.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    auto [mint_ec, token] = co_await mint();
    if (!mint_ec) replacing = token.value;
    co_return Result{mint_ec, std::move(token)};
}

}  // namespace alation::auth::detail

#endif
