// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_FLEET_IPP
#define ALATION_AUTH_DETAIL_IMPL_FLEET_IPP

#include <alation/auth/detail/fleet.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <mutex>
#include <random>

// Compiled once (separate compilation), these coroutines keep lambdas in their frames, which
// GCC flags for a header's non-inline function although only this TU defines them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif

namespace alation::auth::detail {
namespace fleet {

// Names a replica in leases: 128 random bits, so that identical replicas differ.
inline std::string random_owner_name() {
    std::random_device random;
    std::string name;
    for (int i = 0; i < 4; ++i) {
        char chunk[9];
        std::snprintf(chunk, sizeof chunk, "%08x", static_cast<unsigned>(random()));
        name += chunk;
    }
    return name;
}

// Where a store call's result meets the coroutine waiting for it: the store may complete inside
// the call, later from any thread, or (past the timeout) never in time.
template <class Value>
struct Rendezvous {
    explicit Rendezvous(const boost::asio::any_io_executor& executor) : timer(executor) {}
    std::mutex mutex;
    std::optional<std::tuple<error_code, Value>> result;
    boost::asio::steady_timer timer;
};

}  // namespace fleet

ALATION_AUTH_DECL BoundedStore::BoundedStore(std::shared_ptr<TokenStore> store, std::string identity,
                                             const ProviderOptions& options)
    : store_(std::move(store)),
      identity_(std::move(identity)),
      owner_(fleet::random_owner_name()),
      timeout_(options.store_timeout),
      lease_ttl_(options.lease_ttl) {}

template <class Value, class Start>
boost::asio::awaitable<std::tuple<error_code, Value>> BoundedStore::bounded(Start start) {
    auto meeting = std::make_shared<fleet::Rendezvous<Value>>(co_await boost::asio::this_coro::executor);
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
    auto& result = meeting->result;
    {
        std::lock_guard lock(meeting->mutex);
        if (result) co_return std::move(*result);
    }
    co_await meeting->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    std::lock_guard lock(meeting->mutex);
    if (!result) result.emplace(make_error_code(Error::timeout), Value{});
    co_return std::move(*result);
}

ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, std::optional<RefreshToken>>> BoundedStore::load() {
    return bounded<std::optional<RefreshToken>>(
        [this](auto handler) { store_->async_load(identity_, std::move(handler)); });
}

ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, bool>> BoundedStore::compare_and_swap(
    const Secret& expected, const RefreshToken& desired) {
    return bounded<bool>([this, &expected, &desired](auto handler) {
        store_->async_compare_and_swap(identity_, expected, desired, std::move(handler));
    });
}

ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, bool>> BoundedStore::acquire_lease(
    std::string_view name) {
    return bounded<bool>([this, name](auto handler) {
        store_->async_acquire_lease(identity_, name, owner_, lease_ttl_, std::move(handler));
    });
}

ALATION_AUTH_DECL boost::asio::awaitable<void> BoundedStore::release_lease(std::string_view name) {
    co_await bounded<bool>([this, name](auto handler) {
        store_->async_release_lease(identity_, name, owner_, [handler = std::move(handler)](error_code ec) mutable {
            std::move(handler)(ec, true);
        });
    });
}

ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, std::optional<AccessToken>>>
BoundedStore::load_access_token() {
    return bounded<std::optional<AccessToken>>(
        [this](auto handler) { store_->async_load_access_token(identity_, std::move(handler)); });
}

ALATION_AUTH_DECL boost::asio::awaitable<error_code> BoundedStore::store_access_token(const AccessToken& token) {
    auto [ec, done] = co_await bounded<bool>([this, &token](auto handler) {
        store_->async_store_access_token(
            identity_, token, [handler = std::move(handler)](error_code ec) mutable { std::move(handler)(ec, !ec); });
    });
    co_return ec;
}

ALATION_AUTH_DECL std::function<void(error_code)> store_failure_reporter(const TokenSource& source) {
    return [&source](error_code ec) {
        ProviderEvent event{ProviderEvent::Kind::token_store_failed};
        event.error = ec;
        source.report(std::move(event));
    };
}

ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, AccessToken>> shared_mint(
    BoundedStore& store, Secret& replacing, std::function<void(error_code)> failed, MintOperation mint) {
    using Result = std::tuple<error_code, AccessToken>;
    const auto give_up_at = SteadyClock::now() + store.lease_ttl();
    auto take = [&](AccessToken token) -> Result {
        replacing = token.value;
        return {error_code{}, std::move(token)};
    };
    auto sibling_token = [&](const AccessToken& shared) {
        return adopt_shared_access_token(shared, replacing, WallClock::now());
    };
    for (;;) {
        auto [load_ec, shared] = co_await store.load_access_token();
        if (load_ec) {
            failed(load_ec);
            break;
        }
        if (shared && sibling_token(*shared)) co_return take(adopted(std::move(*shared), WallClock::now()));
        auto [lease_ec, leased] = co_await store.acquire_lease(mint_lease);
        if (lease_ec) {
            failed(lease_ec);
            break;
        }
        if (leased) {
            // A sibling may have stored its token between the look and the lease.
            auto [again_ec, again] = co_await store.load_access_token();
            if (!again_ec && again && sibling_token(*again)) {
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

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
