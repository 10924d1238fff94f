// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_REFRESH_TOKEN_SOURCE_HPP
#define ALATION_AUTH_DETAIL_REFRESH_TOKEN_SOURCE_HPP

#include <alation/auth/client.hpp>
#include <alation/auth/detail/adapted_handler.hpp>
#include <alation/auth/detail/provider_machine.hpp>
#include <alation/auth/token_source.hpp>
#include <alation/auth/token_store.hpp>

#include <boost/asio/bind_executor.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace alation::auth::detail {

/// Mints with a refresh token (createAPIAccessToken), validates and regenerates it, keeps the
/// regenerated one in the TokenStore, and after a rejection adopts another replica's from there.
class RefreshTokenSource final : public TokenSource {
public:
    /// `expiry_known`: whether `token.expires_at` is the server's. When `store` holds a token for
    /// the same user that is a better choice (see prefer_stored_refresh_token), it is used: a
    /// restart picks up the token a previous run regenerated. A load error is ignored.
    RefreshTokenSource(Client client, RefreshToken token, bool expiry_known, std::shared_ptr<TokenStore> store)
        : client_(std::move(client)), store_(std::move(store)), token_(std::move(token)), expiry_known_(expiry_known) {
        if (!store_) return;
        error_code ec;
        auto stored = store_->load(ec);
        if (ec || !stored || !prefer_stored_refresh_token(token_, expiry_known_, *stored)) return;
        token_ = std::move(*stored);
        expiry_known_ = true;
    }

    void async_mint(Diagnostics& diag, MintHandler handler) override {
        const auto rt = refresh_token();
        client_.create_access_token(rt.value, rt.user_id, diag, on_client_executor(std::move(handler)));
    }

    [[nodiscard]] bool renewable() const noexcept override { return true; }

    [[nodiscard]] std::optional<Timestamp> credential_expires_at() const override {
        std::lock_guard lock(mutex_);
        return expiry_known_ ? std::optional(token_.expires_at) : std::nullopt;
    }

    void async_validate(Diagnostics& diag, RenewHandler handler) override {
        const auto rt = refresh_token();
        client_.validate_refresh_token(
            rt.value, rt.user_id, diag,
            adapt_handler(on_client_executor(std::move(handler)), [](auto h, error_code ec, RefreshToken validated) {
                std::move(h)(ec, RenewedCredential{static_cast<const TokenTimes&>(validated), {}});
            }));
    }

    void async_regenerate(Diagnostics& diag, RenewHandler handler) override {
        const auto rt = refresh_token();
        client_.regenerate_refresh_token(
            rt.value, rt.user_id, diag,
            adapt_handler(on_client_executor(std::move(handler)), [this](auto h, error_code ec, RefreshToken fresh) {
                RenewedCredential renewed{static_cast<const TokenTimes&>(fresh), {}};
                if (!ec) adopt_regenerated(std::move(fresh), renewed.save_error);
                std::move(h)(ec, renewed);
            }));
    }

    ReloadedCredential reload_credential() override {
        ReloadedCredential result;
        if (!store_) return result;
        auto stored = store_->load(result.error);
        if (result.error || !stored) return result;
        std::lock_guard lock(mutex_);
        if (!is_replacement_refresh_token(token_, *stored)) return result;
        token_ = std::move(*stored);
        expiry_known_ = true;
        result.replaced = true;
        result.expires_at = token_.expires_at;
        return result;
    }

    /// A copy; callable from any thread.
    [[nodiscard]] RefreshToken refresh_token() const {
        std::lock_guard lock(mutex_);
        return token_;
    }

private:
    // The Client completes on the handler's executor, which must be a real one: the provider's
    // handler takes itself to the strand from wherever it runs.
    template <class Handler>
    boost::asio::executor_binder<Handler, Client::executor_type> on_client_executor(Handler handler) const {
        return boost::asio::bind_executor(client_.get_executor(), std::move(handler));
    }

    // The new token is in use whether or not it could be saved; a failed save is reported.
    void adopt_regenerated(RefreshToken fresh, error_code& save_error) {
        if (store_) store_->save(fresh, save_error);
        std::lock_guard lock(mutex_);
        token_ = std::move(fresh);
        expiry_known_ = true;
    }

    Client client_;
    std::shared_ptr<TokenStore> store_;
    mutable std::mutex mutex_;
    RefreshToken token_;
    bool expiry_known_;
};

}  // namespace alation::auth::detail

#endif
