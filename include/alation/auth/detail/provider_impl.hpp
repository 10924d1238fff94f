// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_PROVIDER_IMPL_HPP
#define ALATION_AUTH_DETAIL_PROVIDER_IMPL_HPP

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/provider_front.hpp>
#include <alation/auth/detail/provider_machine.hpp>
#include <alation/auth/provider_options.hpp>
#include <alation/auth/token_source.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

namespace alation::auth::detail {

/// The shared state behind a TokenProvider: it executes what the ProviderMachine decides, with
/// the TokenSource doing the requests. Everything but the published snapshot lives on the
/// strand; no lock is held while user code runs. Non-template, so that it is compiled once.
class ProviderImpl final : public ProviderFront, public std::enable_shared_from_this<ProviderImpl> {
public:
    ALATION_AUTH_DECL ProviderImpl(const boost::asio::any_io_executor& executor, std::shared_ptr<TokenSource> source,
                                   ProviderOptions options);

    /// Starts the first operation (a mint, or the credential's validation), after the start-up
    /// jitter unless access tokens are shared (siblings then find each other's token instead).
    ALATION_AUTH_DECL void start();

    ALATION_AUTH_DECL void async_wait(WaitHandler handler, Diagnostics* diag) override;
    ALATION_AUTH_DECL void invalidate(const Secret& value) override;
    ALATION_AUTH_DECL void stop() override;

private:
    struct Waiter {
        WaitHandler handler;
        Diagnostics* diagnostics;
        // Keeps the handler's execution context running while the waiter waits.
        boost::asio::any_completion_executor work;
    };

    // Installed in a waiter's cancellation slot: any cancellation type ends that waiter alone;
    // the shared refresh goes on for the others.
    struct CancelWaiter {
        CancelWaiter(std::weak_ptr<ProviderImpl> impl, std::uint64_t id) : impl(std::move(impl)), id(id) {}
        std::weak_ptr<ProviderImpl> impl;
        std::uint64_t id;
        void operator()(boost::asio::cancellation_type type) const {
            if (type == boost::asio::cancellation_type::none) return;
            if (auto self = impl.lock()) boost::asio::post(self->strand_, [self, id = id] { self->cancel_waiter(id); });
        }
    };

    ALATION_AUTH_DECL void nudge() override;

    ALATION_AUTH_DECL void add_waiter(std::uint64_t id, Waiter waiter);

    ALATION_AUTH_DECL void cancel_waiter(std::uint64_t id);

    ALATION_AUTH_DECL void finish(Waiter waiter, error_code ec, TokenPtr token);

    ALATION_AUTH_DECL void finish_all(error_code ec, const TokenPtr& token);

    ALATION_AUTH_DECL void publish(TokenPtr token);

    double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

    // Starts whatever the machine says is due, then sets the timer for the next decision.
    ALATION_AUTH_DECL void poll();

    ALATION_AUTH_DECL void schedule();

    // Starts `operation` on the source with a handler that stop() cancels, that takes the result
    // to the strand from wherever the source completes it, and that drops it once stopped.
    template <class Result, class Operation, class Done>
    void call_source(Operation operation, Done done) {
        auto diag = std::make_shared<Diagnostics>();
        const auto sent_at = now();
        ((*source_).*operation)(
            *diag, boost::asio::bind_cancellation_slot(cancel_.slot(), [self = shared_from_this(), diag, sent_at, done](
                                                                           error_code ec, Result result) {
                boost::asio::post(self->strand_, [self, diag, sent_at, done, ec, result = std::move(result)]() mutable {
                    if (self->machine_.stopped()) return;
                    (self.get()->*done)(ec, std::move(result), sent_at, *diag);
                });
            }));
    }

    ALATION_AUTH_DECL void start_mint();

    ALATION_AUTH_DECL void on_minted(error_code ec, AccessToken token, TimePoint sent_at, const Diagnostics& diag);

    ALATION_AUTH_DECL void start_validation();

    // Validation reports no event of its own: a rejection shows in the failures of the callers.
    ALATION_AUTH_DECL void on_validated(error_code ec, RenewedCredential validated, TimePoint /*sent_at*/,
                                        const Diagnostics& diag);

    ALATION_AUTH_DECL void start_regeneration();

    ALATION_AUTH_DECL void on_regenerated(error_code ec, RenewedCredential fresh, TimePoint sent_at,
                                          const Diagnostics& diag);

    // Carries out the machine's answer to a failure.
    ALATION_AUTH_DECL void act_on(const AfterFailure& after, error_code ec);

    // The server rejected the credential: another replica sharing the source's storage may have
    // renewed it, which revokes ours. The waiters wait for the answer: the adopted credential's
    // first token, else the rejection. One look at a time; callers arriving meanwhile share it.
    ALATION_AUTH_DECL void reload_credential();

    ALATION_AUTH_DECL void on_reloaded(const ReloadedCredential& reloaded);

    ALATION_AUTH_DECL void credential_replaced(Timestamp expires_at);

    // What the source reports from its own work: a store failure to pass on, or a credential it
    // adopted from its storage before a step, which changes when the next regeneration is due.
    ALATION_AUTH_DECL void on_source_report(const ProviderEvent& event);

    [[nodiscard]] ALATION_AUTH_DECL std::optional<TimePoint> credential_local_expiry(
        std::optional<Timestamp> expires_at) const;

    ALATION_AUTH_DECL void do_stop();

    // Called last in each strand handler, with the state settled and no lock held.
    ALATION_AUTH_DECL void emit(const ProviderEvent& event) const;

    boost::asio::steady_timer timer_;
    std::uint64_t timer_generation_ = 0;
    boost::asio::cancellation_signal cancel_;
    std::shared_ptr<TokenSource> source_;
    std::mt19937_64 random_;
    ProviderMachine machine_;
    std::unordered_map<std::uint64_t, Waiter> waiters_;
    bool reloading_ = false;

    std::atomic<bool> nudged_{false};
    std::atomic<std::uint64_t> next_waiter_id_{0};
};

}  // namespace alation::auth::detail

#ifndef ALATION_AUTH_SEPARATE_COMPILATION
#include <alation/auth/detail/impl/provider_impl.ipp>
#endif

#endif
