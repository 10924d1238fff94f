// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_REFRESH_TOKEN_SOURCE_HPP
#define ALATION_AUTH_DETAIL_REFRESH_TOKEN_SOURCE_HPP

#include <alation/auth/client.hpp>
#include <alation/auth/detail/adapted_handler.hpp>
#include <alation/auth/detail/fleet.hpp>
#include <alation/auth/detail/provider_machine.hpp>
#include <alation/auth/token_source.hpp>
#include <alation/auth/token_store.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace alation::auth::detail {

/// Mints with a refresh token (createAPIAccessToken), validates and regenerates it, and, with a
/// TokenStore, keeps it there for a restart and for the siblings of a fleet (see
/// ProviderOptions::token_store): before each step it adopts a newer stored token; it
/// regenerates under the store's lease and installs the result with a compare-and-swap; and it
/// may share access tokens. Without a store each operation is one Client call.
class RefreshTokenSource final : public TokenSource, public std::enable_shared_from_this<RefreshTokenSource> {
public:
    /// `expiry_known`: whether `token.expires_at` is the server's.
    RefreshTokenSource(Client client, RefreshToken token, bool expiry_known, const ProviderOptions& options)
        : client_(std::move(client)),
          strand_(boost::asio::make_strand(client_.get_executor())),
          store_(options.token_store
                     ? BoundedStore(options.token_store, "user:" + std::to_string(token.user_id), options)
                     : BoundedStore()),
          share_access_tokens_(options.share_access_tokens),
          token_(std::move(token)),
          expiry_known_(expiry_known) {}

    void async_mint(Diagnostics& diag, MintHandler handler) override {
        if (!store_) {
            const auto rt = refresh_token();
            return client_.create_access_token(rt.value, rt.user_id, diag, on_client_executor(std::move(handler)));
        }
        spawn_outcome(strand_, mint_with_store(diag), std::move(handler));
    }

    [[nodiscard]] bool renewable() const noexcept override { return true; }

    [[nodiscard]] std::optional<Timestamp> credential_expires_at() const override {
        std::lock_guard lock(mutex_);
        return expiry_known_ ? std::optional(token_.expires_at) : std::nullopt;
    }

    void async_validate(Diagnostics& diag, RenewHandler handler) override {
        spawn_outcome(strand_, validate(diag), std::move(handler));
    }

    void async_regenerate(Diagnostics& diag, RenewHandler handler) override {
        spawn_outcome(strand_, regenerate(diag), std::move(handler));
    }

    void async_reload_credential(ReloadHandler handler) override {
        if (!store_) return std::move(handler)(ReloadedCredential{});
        boost::asio::co_spawn(strand_, reload(),
                              [handler = std::move(handler)](std::exception_ptr e, ReloadedCredential r) mutable {
                                  if (e) r = ReloadedCredential{make_error_code(boost::asio::error::no_memory)};
                                  std::move(handler)(r);
                              });
    }

    /// A copy; callable from any thread.
    [[nodiscard]] RefreshToken refresh_token() const {
        std::lock_guard lock(mutex_);
        return token_;
    }

private:
    template <class Value>
    using Outcome = boost::asio::awaitable<std::tuple<error_code, Value>>;
    static constexpr std::string_view regeneration_lease = "regenerate";
    // A compare-and-swap refused while holding the lease (a sibling re-seeded an emptied store
    // meanwhile) is tried again against what is there now, this many times.
    static constexpr int install_attempts = 3;

    // The Client completes on the handler's executor, which must be a real one: the provider's
    // handler takes itself to the strand from wherever it runs.
    template <class Handler>
    boost::asio::executor_binder<Handler, Client::executor_type> on_client_executor(Handler handler) const {
        return boost::asio::bind_executor(client_.get_executor(), std::move(handler));
    }

    Outcome<AccessToken> mint_with_store(Diagnostics& diag) {
        auto self = shared_from_this();
        co_await sync_with_store();
        if (!share_access_tokens_) co_return co_await mint_at_server(diag);
        const auto failed = store_failure_reporter(*this);
        co_return co_await shared_mint(store_, last_access_token_, failed,
                                       [this, &diag] { return mint_at_server(diag); });
    }

    Outcome<AccessToken> mint_at_server(Diagnostics& diag) {
        const auto rt = refresh_token();
        auto [ec, token] = co_await client_.create_access_token(rt.value, rt.user_id, diag,
                                                                boost::asio::as_tuple(boost::asio::use_awaitable));
        // The store was found empty (a Redis without persistence restarted): a mint has just
        // proved this token good, so it is the one siblings and restarts should find.
        if (!ec && store_empty_ && credential_expires_at()) {
            Secret nothing_stored;
            co_await install(rt, std::move(nothing_stored));
        }
        co_return std::tuple{ec, std::move(token)};
    }

    Outcome<RenewedCredential> validate(Diagnostics& diag) {
        auto self = shared_from_this();
        if (store_) co_await sync_with_store();
        const auto rt = refresh_token();
        auto [ec, validated] = co_await client_.validate_refresh_token(
            rt.value, rt.user_id, diag, boost::asio::as_tuple(boost::asio::use_awaitable));
        co_return std::tuple{ec, RenewedCredential{static_cast<const TokenTimes&>(validated), {}}};
    }

    // With a store: under its lease, so that one replica of a fleet regenerates and the others
    // adopt. A store that cannot be reached or leased is a failure the provider backs off from:
    // a token regenerated where siblings cannot find it would lock them out.
    Outcome<RenewedCredential> regenerate(Diagnostics& diag) {
        auto self = shared_from_this();
        if (!store_) co_return co_await regenerate_at_server(diag);
        co_await save_pending();
        auto [lease_ec, leased] = co_await store_.acquire_lease(regeneration_lease);
        if (lease_ec) co_return failed_store_step(lease_ec);
        if (!leased) co_return std::tuple{make_error_code(Error::regeneration_in_progress), RenewedCredential{}};
        auto outcome = co_await regenerate_leased(diag);
        co_await store_.release_lease(regeneration_lease);
        co_return outcome;
    }

    Outcome<RenewedCredential> regenerate_leased(Diagnostics& diag) {
        auto [load_ec, stored] = co_await store_.load();
        if (load_ec) co_return failed_store_step(load_ec);
        // A sibling regenerated it in this window already: that is the renewal.
        if (stored && adopt_if_newer(*stored))
            co_return std::tuple{error_code{}, RenewedCredential{remaining_life(*stored, WallClock::now()), {}}};
        auto outcome = co_await regenerate_at_server(diag);
        auto& [ec, renewed] = outcome;
        // Named, not temporaries in the co_await: GCC 12 destroys such a temporary twice.
        if (!ec) {
            Secret replaced = stored ? stored->value : Secret{};
            RefreshToken fresh = refresh_token();
            renewed.save_error = co_await install(std::move(fresh), std::move(replaced));
        }
        co_return outcome;
    }

    Outcome<RenewedCredential> regenerate_at_server(Diagnostics& diag) {
        const auto rt = refresh_token();
        auto [ec, fresh] = co_await client_.regenerate_refresh_token(rt.value, rt.user_id, diag,
                                                                     boost::asio::as_tuple(boost::asio::use_awaitable));
        RenewedCredential renewed{static_cast<const TokenTimes&>(fresh), {}};
        // In use from here on, whether or not the store takes it.
        if (!ec) adopt(std::move(fresh));
        co_return std::tuple{ec, renewed};
    }

    boost::asio::awaitable<ReloadedCredential> reload() {
        auto self = shared_from_this();
        co_await save_pending();
        ReloadedCredential result;
        auto [ec, stored] = co_await store_.load();
        result.error = ec;
        if (ec || !stored || !is_replacement_refresh_token(refresh_token(), *stored)) co_return result;
        result.replaced = true;
        result.expires_at = stored->expires_at;
        adopt(std::move(*stored));
        co_return result;
    }

    // Before each step: a regenerated token not saved yet goes to the store; a newer stored one
    // (a sibling's regeneration, a previous run's) is taken, and reported.
    boost::asio::awaitable<void> sync_with_store() {
        co_await save_pending();
        auto [ec, stored] = co_await store_.load();
        if (ec) {
            store_failure_reporter (*this)(ec);
            co_return;
        }
        store_empty_ = !stored;
        if (!stored || !adopt_if_newer(*stored)) co_return;
        ProviderEvent event{ProviderEvent::Kind::refresh_token_reloaded};
        event.expires_at = stored->expires_at;
        report(std::move(event));
    }

    // Puts `token` in the store in place of `expected` (empty: nothing stored). Refused, it
    // tries again over what is there while that is older; a failure leaves it pending, to be
    // saved before the next step: a regenerated token is never lost.
    boost::asio::awaitable<error_code> install(RefreshToken token, Secret expected) {
        for (int attempt = 0; attempt < install_attempts; ++attempt) {
            auto [ec, swapped] = co_await store_.compare_and_swap(expected, token);
            if (ec) {
                pending_save_ = PendingSave{std::move(token), std::move(expected)};
                store_failure_reporter (*this)(ec);
                co_return ec;
            }
            if (swapped) break;
            auto [load_ec, stored] = co_await store_.load();
            if (load_ec || !stored || stored->expires_at >= token.expires_at) break;
            expected = stored->value;
        }
        pending_save_.reset();
        store_empty_ = false;
        co_return error_code{};
    }

    boost::asio::awaitable<void> save_pending() {
        if (!pending_save_) co_return;
        auto pending = std::move(*pending_save_);
        pending_save_.reset();
        co_await install(std::move(pending.token), std::move(pending.expected));
    }

    std::tuple<error_code, RenewedCredential> failed_store_step(error_code ec) const {
        store_failure_reporter (*this)(ec);
        return {ec, RenewedCredential{}};
    }

    bool adopt_if_newer(const RefreshToken& stored) {
        {
            std::lock_guard lock(mutex_);
            if (!is_newer_refresh_token(token_, expiry_known_, stored)) return false;
        }
        adopt(stored);
        return true;
    }

    void adopt(RefreshToken token) {
        std::lock_guard lock(mutex_);
        token_ = std::move(token);
        expiry_known_ = true;
    }

    struct PendingSave {
        RefreshToken token;
        Secret expected;
    };

    Client client_;
    boost::asio::strand<Client::executor_type> strand_;
    BoundedStore store_;
    const bool share_access_tokens_;
    // On the strand: what the store was last found to hold, and what it must still be given.
    bool store_empty_ = false;
    std::optional<PendingSave> pending_save_;
    Secret last_access_token_;
    mutable std::mutex mutex_;
    RefreshToken token_;
    bool expiry_known_;
};

}  // namespace alation::auth::detail

#endif
