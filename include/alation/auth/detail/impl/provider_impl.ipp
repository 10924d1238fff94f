// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_IMPL_PROVIDER_IMPL_IPP
#define ALATION_AUTH_DETAIL_IMPL_PROVIDER_IMPL_IPP

#include <alation/auth/detail/provider_impl.hpp>

namespace alation::auth::detail {

ALATION_AUTH_DECL ProviderImpl::ProviderImpl(const boost::asio::any_io_executor& executor,
                                             std::shared_ptr<TokenSource> source, ProviderOptions options)
    : ProviderFront(executor, std::move(options)),
      timer_(strand_),
      source_(std::move(source)),
      random_(std::random_device{}()),
      machine_(options_.refresh, source_->renewable(), credential_local_expiry(source_->credential_expires_at()),
               draw()) {}

ALATION_AUTH_DECL void ProviderImpl::start() {
    source_->reporter_ = [weak = weak_from_this()](ProviderEvent event) {
        if (auto self = weak.lock())
            boost::asio::post(self->strand_, [self, event = std::move(event)] { self->on_source_report(event); });
    };
    boost::asio::post(strand_, [self = shared_from_this()] {
        if (!self->options_.share_access_tokens)
            self->machine_.hold_until(self->now() + std::chrono::duration_cast<TimePoint::duration>(
                                                        self->options_.refresh.first_mint_jitter * self->draw()));
        self->poll();
    });
}

ALATION_AUTH_DECL void ProviderImpl::async_wait(WaitHandler handler, Diagnostics* diag) {
    const auto id = next_waiter_id_.fetch_add(1, std::memory_order_relaxed);
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.template emplace<CancelWaiter>(weak_from_this(), id);
    boost::asio::post(strand_, [self = shared_from_this(), id, diag, handler = std::move(handler)]() mutable {
        auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler, self->executor_),
                                        boost::asio::execution::outstanding_work.tracked);
        self->add_waiter(id, Waiter{std::move(handler), diag, std::move(work)});
    });
}

ALATION_AUTH_DECL void ProviderImpl::invalidate(const Secret& value) {
    {
        std::lock_guard lock(snapshot_mutex_);
        if (snapshot_ && snapshot_->token.value == value) {
            snapshot_.reset();
            snapshot_version_.store(next_publication(), std::memory_order_release);
        }
    }
    boost::asio::post(strand_, [self = shared_from_this(), value = value] {
        if (!self->machine_.invalidate(value)) return;
        self->poll();
        self->emit(ProviderEvent{ProviderEvent::Kind::token_invalidated});
    });
}

ALATION_AUTH_DECL void ProviderImpl::stop() {
    boost::asio::post(strand_, [self = shared_from_this()] { self->do_stop(); });
}

ALATION_AUTH_DECL void ProviderImpl::nudge() {
    if (nudged_.exchange(true, std::memory_order_acq_rel)) return;
    boost::asio::post(strand_, [self = shared_from_this()] {
        self->nudged_.store(false, std::memory_order_release);
        self->poll();
    });
}

ALATION_AUTH_DECL void ProviderImpl::add_waiter(std::uint64_t id, Waiter waiter) {
    switch (machine_.admit(now())) {
    case Admission::serve: return finish(std::move(waiter), {}, machine_.current());
    case Admission::stopped: return finish(std::move(waiter), Error::provider_stopped, nullptr);
    case Admission::fail: return finish(std::move(waiter), machine_.last_error(), nullptr);
    case Admission::reload_credential: waiters_.emplace(id, std::move(waiter)); return reload_credential();
    case Admission::wait: break;
    }
    waiters_.emplace(id, std::move(waiter));
    poll();
}

ALATION_AUTH_DECL void ProviderImpl::cancel_waiter(std::uint64_t id) {
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;  // already completed
    auto waiter = std::move(it->second);
    waiters_.erase(it);
    finish(std::move(waiter), boost::asio::error::operation_aborted, nullptr);
}

ALATION_AUTH_DECL void ProviderImpl::finish(Waiter waiter, error_code ec, TokenPtr token) {
    if (ec && waiter.diagnostics && ec != boost::asio::error::operation_aborted)
        *waiter.diagnostics = machine_.last_diagnostics();
    // The waiter's cancellation slot is cleared on the handler's own executor, where the
    // slot may be touched, just before the handler runs. The waiter has long left its
    // initiating function, so Asio's usual dispatch to the handler's executor applies.
    auto executor = boost::asio::get_associated_executor(waiter.handler, executor_);
    boost::asio::dispatch(
        executor,
        boost::asio::append(
            adapt_handler(std::move(waiter.handler),
                          [work = std::move(waiter.work)](WaitHandler handler, error_code ec, TokenPtr token) {
                              auto slot = boost::asio::get_associated_cancellation_slot(handler);
                              if (slot.is_connected()) slot.clear();
                              std::move(handler)(ec, std::move(token));
                          }),
            ec, std::move(token)));
}

ALATION_AUTH_DECL void ProviderImpl::finish_all(error_code ec, const TokenPtr& token) {
    auto waiters = std::exchange(waiters_, {});
    for (auto& [id, waiter] : waiters) finish(std::move(waiter), ec, token);
}

ALATION_AUTH_DECL void ProviderImpl::publish(TokenPtr token) {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = std::move(token);
    snapshot_version_.store(next_publication(), std::memory_order_release);
}

ALATION_AUTH_DECL void ProviderImpl::poll() {
    switch (machine_.poll(now())) {
    case Work::mint: start_mint(); break;
    case Work::validate: start_validation(); break;
    case Work::regenerate: start_regeneration(); break;
    case Work::none: break;
    }
    schedule();
}

ALATION_AUTH_DECL void ProviderImpl::schedule() {
    const auto wake = machine_.next_wakeup();
    work_due_at_.store(wake ? wake->time_since_epoch().count() : never, std::memory_order_relaxed);
    ++timer_generation_;
    if (!wake) return (void)timer_.cancel();
    // The injectable clock decides; the real timer only waits out the same distance.
    timer_.expires_after(std::max(TimePoint::duration::zero(), *wake - now()));
    timer_.async_wait([self = shared_from_this(), generation = timer_generation_](error_code ec) {
        if (!ec && generation == self->timer_generation_) self->poll();
    });
}

ALATION_AUTH_DECL void ProviderImpl::start_mint() {
    call_source<AccessToken>(&TokenSource::async_mint, &ProviderImpl::on_minted);
    emit(ProviderEvent{ProviderEvent::Kind::refresh_started});
}

ALATION_AUTH_DECL void ProviderImpl::on_minted(error_code ec, AccessToken token, TimePoint sent_at,
                                               const Diagnostics& diag) {
    ProviderEvent event{ec ? ProviderEvent::Kind::refresh_failed : ProviderEvent::Kind::refresh_succeeded, ec};
    if (!ec) {
        event.expires_at = token.expires_at;
        machine_.mint_succeeded(std::move(token), sent_at, draw());
        publish(machine_.current());
        finish_all({}, machine_.current());
    } else {
        event.diagnostics = diag;
        const auto after = machine_.mint_failed(ec, diag, now(), draw());
        event.retry_in = after.retry_in;
        act_on(after, ec);
    }
    poll();
    emit(event);
}

ALATION_AUTH_DECL void ProviderImpl::start_validation() {
    call_source<RenewedCredential>(&TokenSource::async_validate, &ProviderImpl::on_validated);
}

ALATION_AUTH_DECL void ProviderImpl::on_validated(error_code ec, RenewedCredential validated, TimePoint /*sent_at*/,
                                                  const Diagnostics& diag) {
    if (!ec)
        machine_.validation_succeeded(validated.times.expires_at, now(), std::chrono::system_clock::now(), draw());
    else
        act_on(machine_.validation_failed(ec, diag, now(), draw()), ec);
    poll();
}

ALATION_AUTH_DECL void ProviderImpl::start_regeneration() {
    call_source<RenewedCredential>(&TokenSource::async_regenerate, &ProviderImpl::on_regenerated);
}

ALATION_AUTH_DECL void ProviderImpl::on_regenerated(error_code ec, RenewedCredential fresh, TimePoint sent_at,
                                                    const Diagnostics& diag) {
    ProviderEvent event{
        ec ? ProviderEvent::Kind::refresh_token_regeneration_failed : ProviderEvent::Kind::refresh_token_regenerated,
        ec};
    if (!ec) {
        event.expires_at = fresh.times.expires_at;
        event.error = fresh.save_error;
        machine_.regeneration_succeeded(fresh.times, sent_at, draw());
    } else {
        event.diagnostics = diag;
        const auto after = machine_.regeneration_failed(ec, diag, now(), draw());
        event.retry_in = after.retry_in;
        act_on(after, ec);
    }
    poll();
    emit(event);
}

ALATION_AUTH_DECL void ProviderImpl::act_on(const AfterFailure& after, error_code ec) {
    if (after.reload_credential) return reload_credential();
    if (!after.fail_waiters) return;
    publish(nullptr);
    finish_all(ec, nullptr);
}

ALATION_AUTH_DECL void ProviderImpl::reload_credential() {
    if (reloading_) return;
    reloading_ = true;
    source_->async_reload_credential([self = shared_from_this()](ReloadedCredential reloaded) {
        boost::asio::post(self->strand_, [self, reloaded] { self->on_reloaded(reloaded); });
    });
}

ALATION_AUTH_DECL void ProviderImpl::on_reloaded(const ReloadedCredential& reloaded) {
    reloading_ = false;
    if (machine_.stopped()) return;
    if (machine_.reload_result(reloaded.error)) {
        ProviderEvent event{ProviderEvent::Kind::token_store_failed};
        event.error = reloaded.error;
        emit(event);
    }
    if (!reloaded.replaced) {
        if (!machine_.usable(now())) publish(nullptr);
        return finish_all(machine_.last_error(), nullptr);
    }
    credential_replaced(reloaded.expires_at);
}

ALATION_AUTH_DECL void ProviderImpl::credential_replaced(Timestamp expires_at) {
    machine_.credential_replaced(credential_local_expiry(expires_at), draw());
    poll();
    ProviderEvent event{ProviderEvent::Kind::refresh_token_reloaded};
    event.expires_at = expires_at;
    emit(event);
}

ALATION_AUTH_DECL void ProviderImpl::on_source_report(const ProviderEvent& event) {
    if (machine_.stopped()) return;
    if (event.kind == ProviderEvent::Kind::refresh_token_reloaded) return credential_replaced(event.expires_at);
    emit(event);
}

ALATION_AUTH_DECL std::optional<TimePoint> ProviderImpl::credential_local_expiry(
    std::optional<Timestamp> expires_at) const {
    if (!expires_at) return std::nullopt;
    return estimate_local_expiry(*expires_at, now(), std::chrono::system_clock::now());
}

ALATION_AUTH_DECL void ProviderImpl::do_stop() {
    if (machine_.stopped()) return;
    machine_.stop();
    work_due_at_.store(never, std::memory_order_relaxed);
    ++timer_generation_;
    timer_.cancel();
    cancel_.emit(boost::asio::cancellation_type::terminal);
    publish(nullptr);
    finish_all(Error::provider_stopped, nullptr);
}

ALATION_AUTH_DECL void ProviderImpl::emit(const ProviderEvent& event) const {
    if (options_.on_event) options_.on_event(event);
}

}  // namespace alation::auth::detail

#endif
