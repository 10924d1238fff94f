// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_REFRESH_TOKEN_SOURCE_HPP
#define ALATION_AUTH_DETAIL_REFRESH_TOKEN_SOURCE_HPP

#include <alation/auth/client.hpp>
#include <alation/auth/detail/fleet.hpp>
#include <alation/auth/detail/provider_front.hpp>
#include <alation/auth/token_source.hpp>
#include <alation/auth/token_store.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>

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
class RefreshTokenSource final : public TokenSource,
                                 public RefreshTokenHolder,
                                 public std::enable_shared_from_this<RefreshTokenSource> {
public:
    /// `expiry_known`: whether `token.expires_at` is the server's.
    ALATION_AUTH_DECL RefreshTokenSource(Client client, RefreshToken token, bool expiry_known,
                                         const ProviderOptions& options);

    ALATION_AUTH_DECL void async_mint(Diagnostics& diag, MintHandler handler) override;

    [[nodiscard]] bool renewable() const noexcept override { return true; }

    [[nodiscard]] std::optional<Timestamp> credential_expires_at() const override {
        std::lock_guard lock(mutex_);
        return expiry_known_ ? std::optional(token_.expires_at) : std::nullopt;
    }

    ALATION_AUTH_DECL void async_validate(Diagnostics& diag, RenewHandler handler) override;

    ALATION_AUTH_DECL void async_regenerate(Diagnostics& diag, RenewHandler handler) override;

    ALATION_AUTH_DECL void async_reload_credential(ReloadHandler handler) override;

    [[nodiscard]] ALATION_AUTH_DECL RefreshToken refresh_token() const override;

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

    ALATION_AUTH_DECL Outcome<AccessToken> mint_with_store(Diagnostics& diag);

    ALATION_AUTH_DECL Outcome<AccessToken> mint_at_server(Diagnostics& diag);

    ALATION_AUTH_DECL Outcome<RenewedCredential> validate(Diagnostics& diag);

    // With a store: under its lease, so that one replica of a fleet regenerates and the others
    // adopt. A store that cannot be reached or leased is a failure the provider backs off from:
    // a token regenerated where siblings cannot find it would lock them out.
    ALATION_AUTH_DECL Outcome<RenewedCredential> regenerate(Diagnostics& diag);

    ALATION_AUTH_DECL Outcome<RenewedCredential> regenerate_leased(Diagnostics& diag);

    ALATION_AUTH_DECL Outcome<RenewedCredential> regenerate_at_server(Diagnostics& diag);

    ALATION_AUTH_DECL boost::asio::awaitable<ReloadedCredential> reload();

    // Before each step: a regenerated token not saved yet goes to the store; a newer stored one
    // (a sibling's regeneration, a previous run's) is taken, and reported.
    ALATION_AUTH_DECL boost::asio::awaitable<void> sync_with_store();

    // Puts `token` in the store in place of `expected` (empty: nothing stored). Refused, it
    // tries again over what is there while that is older; a failure leaves it pending, to be
    // saved before the next step: a regenerated token is never lost.
    ALATION_AUTH_DECL boost::asio::awaitable<error_code> install(RefreshToken token, Secret expected);

    ALATION_AUTH_DECL boost::asio::awaitable<void> save_pending();

    ALATION_AUTH_DECL std::tuple<error_code, RenewedCredential> failed_store_step(error_code ec) const;

    ALATION_AUTH_DECL bool adopt_if_newer(const RefreshToken& stored);

    ALATION_AUTH_DECL void adopt(RefreshToken token);

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

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/refresh_token_source.ipp>
#endif

#endif
