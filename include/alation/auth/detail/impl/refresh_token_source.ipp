// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_REFRESH_TOKEN_SOURCE_IPP
#define ALATION_AUTH_DETAIL_IMPL_REFRESH_TOKEN_SOURCE_IPP

#include <alation/auth/detail/refresh_token_source.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>

// Compiled once (separate compilation), these coroutines keep lambdas in their frames, which
// GCC flags for a header's non-inline function although only this TU defines them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsubobject-linkage"
#endif

namespace alation::auth::detail {

ALATION_AUTH_DECL RefreshTokenSource::RefreshTokenSource(Client client, RefreshToken token, bool expiry_known,
                                                         const ProviderOptions& options)
    : client_(std::move(client)),
      strand_(boost::asio::make_strand(client_.get_executor())),
      store_(options.token_store ? BoundedStore(options.token_store, "user:" + std::to_string(token.user_id), options)
                                 : BoundedStore()),
      share_access_tokens_(options.share_access_tokens),
      token_(std::move(token)),
      expiry_known_(expiry_known) {}

ALATION_AUTH_DECL void RefreshTokenSource::async_mint(Diagnostics& diag, MintHandler handler) {
    if (!store_) {
        const auto rt = refresh_token();
        return client_.create_access_token(rt.value, rt.user_id, diag, on_client_executor(std::move(handler)));
    }
    spawn_outcome(strand_, mint_with_store(diag), std::move(handler));
}

ALATION_AUTH_DECL void RefreshTokenSource::async_validate(Diagnostics& diag, RenewHandler handler) {
    spawn_outcome(strand_, validate(diag), std::move(handler));
}

ALATION_AUTH_DECL void RefreshTokenSource::async_regenerate(Diagnostics& diag, RenewHandler handler) {
    spawn_outcome(strand_, regenerate(diag), std::move(handler));
}

ALATION_AUTH_DECL void RefreshTokenSource::async_reload_credential(ReloadHandler handler) {
    if (!store_) return std::move(handler)(ReloadedCredential{});
    boost::asio::co_spawn(strand_, reload(),
                          [handler = std::move(handler)](const std::exception_ptr& e, ReloadedCredential r) mutable {
                              if (e) r = ReloadedCredential{make_error_code(boost::asio::error::no_memory)};
                              std::move(handler)(r);
                          });
}

ALATION_AUTH_DECL RefreshToken RefreshTokenSource::refresh_token() const {
    std::lock_guard lock(mutex_);
    return token_;
}

ALATION_AUTH_DECL RefreshTokenSource::Outcome<AccessToken> RefreshTokenSource::mint_with_store(Diagnostics& diag) {
    auto self = shared_from_this();
    co_await sync_with_store();
    if (!share_access_tokens_) co_return co_await mint_at_server(diag);
    // Named, not temporaries in the co_await: GCC 12 destroys such a temporary twice.
    auto failed = store_failure_reporter(*this);
    MintOperation mint = [this, &diag] { return mint_at_server(diag); };
    co_return co_await shared_mint(store_, last_access_token_, std::move(failed), std::move(mint));
}

ALATION_AUTH_DECL RefreshTokenSource::Outcome<AccessToken> RefreshTokenSource::mint_at_server(Diagnostics& diag) {
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

ALATION_AUTH_DECL RefreshTokenSource::Outcome<RenewedCredential> RefreshTokenSource::validate(Diagnostics& diag) {
    auto self = shared_from_this();
    if (store_) co_await sync_with_store();
    const auto rt = refresh_token();
    auto [ec, validated] = co_await client_.validate_refresh_token(rt.value, rt.user_id, diag,
                                                                   boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return std::tuple{ec, RenewedCredential{static_cast<const TokenTimes&>(validated), {}}};
}

ALATION_AUTH_DECL RefreshTokenSource::Outcome<RenewedCredential> RefreshTokenSource::regenerate(Diagnostics& diag) {
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

ALATION_AUTH_DECL RefreshTokenSource::Outcome<RenewedCredential> RefreshTokenSource::regenerate_leased(
    Diagnostics& diag) {
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

ALATION_AUTH_DECL RefreshTokenSource::Outcome<RenewedCredential> RefreshTokenSource::regenerate_at_server(
    Diagnostics& diag) {
    const auto rt = refresh_token();
    auto [ec, fresh] = co_await client_.regenerate_refresh_token(rt.value, rt.user_id, diag,
                                                                 boost::asio::as_tuple(boost::asio::use_awaitable));
    RenewedCredential renewed{static_cast<const TokenTimes&>(fresh), {}};
    // In use from here on, whether or not the store takes it.
    if (!ec) adopt(std::move(fresh));
    co_return std::tuple{ec, renewed};
}

ALATION_AUTH_DECL boost::asio::awaitable<ReloadedCredential> RefreshTokenSource::reload() {
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

ALATION_AUTH_DECL boost::asio::awaitable<void> RefreshTokenSource::sync_with_store() {
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

ALATION_AUTH_DECL boost::asio::awaitable<error_code> RefreshTokenSource::install(RefreshToken token, Secret expected) {
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

ALATION_AUTH_DECL boost::asio::awaitable<void> RefreshTokenSource::save_pending() {
    if (!pending_save_) co_return;
    auto pending = std::move(*pending_save_);
    pending_save_.reset();
    co_await install(std::move(pending.token), std::move(pending.expected));
}

ALATION_AUTH_DECL std::tuple<error_code, RenewedCredential> RefreshTokenSource::failed_store_step(error_code ec) const {
    store_failure_reporter (*this)(ec);
    return {ec, RenewedCredential{}};
}

ALATION_AUTH_DECL bool RefreshTokenSource::adopt_if_newer(const RefreshToken& stored) {
    {
        std::lock_guard lock(mutex_);
        if (!is_newer_refresh_token(token_, expiry_known_, stored)) return false;
    }
    adopt(stored);
    return true;
}

ALATION_AUTH_DECL void RefreshTokenSource::adopt(RefreshToken token) {
    std::lock_guard lock(mutex_);
    token_ = std::move(token);
    expiry_known_ = true;
}

}  // namespace alation::auth::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
