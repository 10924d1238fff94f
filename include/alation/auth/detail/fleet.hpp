// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_FLEET_HPP
#define ALATION_AUTH_DETAIL_FLEET_HPP

// How a token source talks to a shared TokenStore: every call bounded in time, from a coroutine
// on the source's strand; and the shared access-token mint that both sources use.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/fleet_rules.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/token_source.hpp>
#include <alation/auth/token_store.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace alation::auth::detail {

/// A TokenStore as a replica's token source uses it: the replica's identity and lease owner
/// name, and each call bounded by the provider's store_timeout. Calls must be awaited from a
/// coroutine on a strand (the source's), which the store's completion is taken back to.
class BoundedStore {
public:
    BoundedStore() = default;
    ALATION_AUTH_DECL BoundedStore(std::shared_ptr<TokenStore> store, std::string identity,
                                   const ProviderOptions& options);

    explicit operator bool() const noexcept { return store_ != nullptr; }
    [[nodiscard]] std::chrono::milliseconds lease_ttl() const noexcept { return lease_ttl_; }

    ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, std::optional<RefreshToken>>> load();
    ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, bool>> compare_and_swap(
        const Secret& expected, const RefreshToken& desired);
    ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, bool>> acquire_lease(std::string_view name);
    /// A failed release is not reported: the lease expires by itself.
    ALATION_AUTH_DECL boost::asio::awaitable<void> release_lease(std::string_view name);
    ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, std::optional<AccessToken>>> load_access_token();
    ALATION_AUTH_DECL boost::asio::awaitable<error_code> store_access_token(const AccessToken& token);

private:
    template <class Value, class Start>
    boost::asio::awaitable<std::tuple<error_code, Value>> bounded(Start start);

    std::shared_ptr<TokenStore> store_;
    std::string identity_;
    std::string owner_;
    std::chrono::milliseconds timeout_{};
    std::chrono::milliseconds lease_ttl_{};
};

/// Carries a cancellation from the provider's slot to a coroutine on `strand`, as long as the
/// coroutine's operation lives: cancellation slots are not thread-safe, so the signal is emitted
/// on the coroutine's strand, and never after the operation completed.
template <class Strand>
struct ForwardCancellation {
    ForwardCancellation(Strand strand, std::weak_ptr<boost::asio::cancellation_signal> signal)
        : strand(std::move(strand)), signal(std::move(signal)) {}
    Strand strand;
    std::weak_ptr<boost::asio::cancellation_signal> signal;
    void operator()(boost::asio::cancellation_type type) const {
        boost::asio::post(strand, [signal = signal, type] {
            if (auto live = signal.lock()) live->emit(type);
        });
    }
};

/// Runs a source's coroutine `operation` on `strand` and completes `handler` (a TokenSource
/// handler) with its outcome; the provider's stop() reaches the coroutine's Client calls through
/// the handler's cancellation slot. The coroutine gets a signal of its own, which the handler
/// owns: Asio 1.81's co_spawn leaves its cancellation handler in the slot it was given after the
/// coroutine ends, and the provider's slot is emitted from another strand and outlives every
/// operation. Only bad_alloc can escape a coroutine: it is an error.
template <class Value, class Strand, class Handler>
void spawn_outcome(const Strand& strand, boost::asio::awaitable<std::tuple<error_code, Value>> operation,
                   Handler handler) {
    auto signal = std::make_shared<boost::asio::cancellation_signal>();
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.template emplace<ForwardCancellation<Strand>>(strand, signal);
    auto own_slot = signal->slot();
    boost::asio::co_spawn(
        strand, std::move(operation),
        boost::asio::bind_cancellation_slot(
            own_slot, [handler = std::move(handler), signal = std::move(signal)](
                          const std::exception_ptr& e, std::tuple<error_code, Value> outcome) mutable {
                auto& [ec, value] = outcome;
                if (e) ec = make_error_code(boost::asio::error::no_memory);
                std::move(handler)(ec, std::move(value));
            }));
}

/// Reports a failed store call of `source` as a token_store_failed event.
ALATION_AUTH_DECL std::function<void(error_code)> store_failure_reporter(const TokenSource& source);

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
/// store that fails is reported and minted around: sharing saves mints, it must never stop
/// them. `replacing` is the token the provider is replacing (the last one this source gave),
/// updated to the one returned.
using MintOperation = std::function<boost::asio::awaitable<std::tuple<error_code, AccessToken>>()>;
ALATION_AUTH_DECL boost::asio::awaitable<std::tuple<error_code, AccessToken>> shared_mint(
    BoundedStore& store, Secret& replacing, std::function<void(error_code)> failed, MintOperation mint);

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/fleet.ipp>
#endif

#endif
