// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_DETAIL_PROVIDER_IMPL_HPP
#define ALATION_AUTH_DETAIL_PROVIDER_IMPL_HPP

#include <alation/auth/detail/adapted_handler.hpp>
#include <alation/auth/detail/coarse_clock.hpp>
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
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

namespace alation::auth::detail {

/// The shared state behind a TokenProvider: it executes what the ProviderMachine decides, with
/// the TokenSource doing the requests. Everything but the published snapshot lives on the
/// strand; no lock is held while user code runs.
class ProviderImpl : public std::enable_shared_from_this<ProviderImpl> {
public:
    using TokenPtr = std::shared_ptr<const CachedToken>;
    using WaitHandler = boost::asio::any_completion_handler<void(error_code, TokenPtr)>;

    ProviderImpl(const boost::asio::any_io_executor& executor, std::shared_ptr<TokenSource> source,
                 ProviderOptions options)
        : executor_(executor),
          strand_(boost::asio::make_strand(executor)),
          timer_(strand_),
          options_(std::move(options)),
          source_(std::move(source)),
          random_(std::random_device{}()),
          machine_(options_.refresh, source_->renewable(), credential_local_expiry(source_->credential_expires_at()),
                   draw()) {}

    /// Starts the first operation (a mint, or the credential's validation), after the start-up
    /// jitter unless access tokens are shared (siblings then find each other's token instead).
    void start() {
        source_->reporter_ = [weak = weak_from_this()](ProviderEvent event) {
            if (auto self = weak.lock())
                boost::asio::post(self->strand_, [self, event = std::move(event)]() mutable {
                    self->on_source_report(std::move(event));
                });
        };
        boost::asio::post(strand_, [self = shared_from_this()] {
            if (!self->options_.share_access_tokens)
                self->machine_.hold_until(self->now() + std::chrono::duration_cast<TimePoint::duration>(
                                                            self->options_.refresh.first_mint_jitter * self->draw()));
            self->poll();
        });
    }

    [[nodiscard]] boost::asio::strand<boost::asio::any_io_executor> get_executor() const { return strand_; }

    /// The provider's clock: the injected one, else the coarse monotonic clock. Every decision
    /// has seconds of slack, so the coarse clock's millisecond ticks cost nothing, and reading it
    /// is three times cheaper than steady_clock on the hot path.
    [[nodiscard]] TimePoint now() const { return options_.clock ? options_.clock() : coarse_steady_now(); }

    /// The hot path, from any thread: the published token if it may be used at `now`, else
    /// null. Once the machine has work due (a refresh past the margin, a retry after a backoff)
    /// it asks the strand, once, to start it: the timer does the same, but a late timer or an
    /// injected clock must not hold a refresh back.
    ///
    /// The pointer is borrowed from the calling thread's cache of the snapshot: it stays valid
    /// until this thread's next call into any provider. Copy the result to keep it longer.
    const CachedToken* usable_token(TimePoint now) {
        if (now.time_since_epoch().count() >= work_due_at_.load(std::memory_order_relaxed)) nudge();
        const TokenPtr& token = published();
        if (!token || now >= token->usable_until) return nullptr;
        return token.get();
    }

    /// As usable_token, but owning: for an operation that keeps the token across suspensions.
    TokenPtr usable_token_owned(TimePoint now) { return usable_token(now) ? published() : nullptr; }

    /// Queues a waiter for the next token (or completes it at once if one is usable by the time
    /// the strand looks). `diag`, when not null, receives the failure's diagnostics.
    void async_wait(WaitHandler handler, Diagnostics* diag) {
        const auto id = next_waiter_id_.fetch_add(1, std::memory_order_relaxed);
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) slot.template emplace<CancelWaiter>(weak_from_this(), id);
        boost::asio::post(strand_, [self = shared_from_this(), id, diag, handler = std::move(handler)]() mutable {
            auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler, self->executor_),
                                            boost::asio::execution::outstanding_work.tracked);
            self->add_waiter(id, Waiter{std::move(handler), diag, std::move(work)});
        });
    }

    /// The server rejected `value`: drop it at once from the published snapshot, then let the
    /// strand drop it from the machine and mint a replacement.
    void invalidate(const Secret& value) {
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

    void stop() {
        boost::asio::post(strand_, [self = shared_from_this()] { self->do_stop(); });
    }

    [[nodiscard]] const ProviderOptions& options() const noexcept { return options_; }

    /// Completes `handler` with `args` on its associated executor, never inside the caller.
    template <class Handler, class... Args>
    void post_completion(Handler handler, Args... args) {
        auto executor = boost::asio::get_associated_executor(handler, executor_);
        boost::asio::post(std::move(executor), [handler = std::move(handler), args...]() mutable {
            std::move(handler)(std::move(args)...);
        });
    }

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

    void nudge() {
        if (nudged_.exchange(true, std::memory_order_acq_rel)) return;
        boost::asio::post(strand_, [self = shared_from_this()] {
            self->nudged_.store(false, std::memory_order_release);
            self->poll();
        });
    }

    void add_waiter(std::uint64_t id, Waiter waiter) {
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

    void cancel_waiter(std::uint64_t id) {
        auto it = waiters_.find(id);
        if (it == waiters_.end()) return;  // already completed
        auto waiter = std::move(it->second);
        waiters_.erase(it);
        finish(std::move(waiter), boost::asio::error::operation_aborted, nullptr);
    }

    void finish(Waiter waiter, error_code ec, TokenPtr token) {
        if (ec && waiter.diagnostics && ec != boost::asio::error::operation_aborted)
            *waiter.diagnostics = machine_.last_diagnostics();
        // The waiter's cancellation slot is cleared on the handler's own executor, where the
        // slot may be touched, just before the handler runs. The waiter has long left its
        // initiating function, so Asio's usual dispatch to the handler's executor applies.
        auto executor = boost::asio::get_associated_executor(waiter.handler, executor_);
        boost::asio::dispatch(
            std::move(executor),
            boost::asio::append(
                adapt_handler(std::move(waiter.handler),
                              [work = std::move(waiter.work)](WaitHandler handler, error_code ec, TokenPtr token) {
                                  auto slot = boost::asio::get_associated_cancellation_slot(handler);
                                  if (slot.is_connected()) slot.clear();
                                  std::move(handler)(ec, std::move(token));
                              }),
                ec, std::move(token)));
    }

    void finish_all(error_code ec, const TokenPtr& token) {
        auto waiters = std::exchange(waiters_, {});
        for (auto& [id, waiter] : waiters) finish(std::move(waiter), ec, token);
    }

    void publish(TokenPtr token) {
        std::lock_guard lock(snapshot_mutex_);
        snapshot_ = std::move(token);
        snapshot_version_.store(next_publication(), std::memory_order_release);
    }

    // Every publication of every provider gets its own number, so a number names one snapshot.
    static std::uint64_t next_publication() noexcept {
        static std::atomic<std::uint64_t> counter{0};
        return counter.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    // The current snapshot as this thread last saw it: while no new one was published, reading
    // it costs one atomic load of a line nobody writes, instead of a lock and two reference
    // count updates that every thread would fight over. A thread keeps its copy (and the token
    // in it) until it next calls in.
    const TokenPtr& published() {
        struct ThreadCopy {
            std::uint64_t version = 0;
            TokenPtr token;
        };
        thread_local ThreadCopy copy;
        if (copy.version != snapshot_version_.load(std::memory_order_acquire)) {
            std::lock_guard lock(snapshot_mutex_);
            copy.token = snapshot_;
            copy.version = snapshot_version_.load(std::memory_order_relaxed);
        }
        return copy.token;
    }

    double draw() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

    // Starts whatever the machine says is due, then sets the timer for the next decision.
    void poll() {
        switch (machine_.poll(now())) {
        case Work::mint: start_mint(); break;
        case Work::validate: start_validation(); break;
        case Work::regenerate: start_regeneration(); break;
        case Work::none: break;
        }
        schedule();
    }

    void schedule() {
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

    void start_mint() {
        call_source<AccessToken>(&TokenSource::async_mint, &ProviderImpl::on_minted);
        emit(ProviderEvent{ProviderEvent::Kind::refresh_started});
    }

    void on_minted(error_code ec, AccessToken token, TimePoint sent_at, const Diagnostics& diag) {
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
        emit(std::move(event));
    }

    void start_validation() {
        call_source<RenewedCredential>(&TokenSource::async_validate, &ProviderImpl::on_validated);
    }

    // Validation reports no event of its own: a rejection shows in the failures of the callers.
    void on_validated(error_code ec, RenewedCredential validated, TimePoint /*sent_at*/, const Diagnostics& diag) {
        if (!ec)
            machine_.validation_succeeded(validated.times.expires_at, now(), std::chrono::system_clock::now(), draw());
        else
            act_on(machine_.validation_failed(ec, diag, now(), draw()), ec);
        poll();
    }

    void start_regeneration() {
        call_source<RenewedCredential>(&TokenSource::async_regenerate, &ProviderImpl::on_regenerated);
    }

    void on_regenerated(error_code ec, RenewedCredential fresh, TimePoint sent_at, const Diagnostics& diag) {
        ProviderEvent event{ec ? ProviderEvent::Kind::refresh_token_regeneration_failed
                               : ProviderEvent::Kind::refresh_token_regenerated,
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
        emit(std::move(event));
    }

    // Carries out the machine's answer to a failure.
    void act_on(const AfterFailure& after, error_code ec) {
        if (after.reload_credential) return reload_credential();
        if (!after.fail_waiters) return;
        publish(nullptr);
        finish_all(ec, nullptr);
    }

    // The server rejected the credential: another replica sharing the source's storage may have
    // renewed it, which revokes ours. The waiters wait for the answer: the adopted credential's
    // first token, else the rejection. One look at a time; callers arriving meanwhile share it.
    void reload_credential() {
        if (reloading_) return;
        reloading_ = true;
        source_->async_reload_credential([self = shared_from_this()](ReloadedCredential reloaded) {
            boost::asio::post(self->strand_, [self, reloaded] { self->on_reloaded(reloaded); });
        });
    }

    void on_reloaded(const ReloadedCredential& reloaded) {
        reloading_ = false;
        if (machine_.stopped()) return;
        if (machine_.reload_result(reloaded.error)) {
            ProviderEvent event{ProviderEvent::Kind::token_store_failed};
            event.error = reloaded.error;
            emit(std::move(event));
        }
        if (!reloaded.replaced) {
            if (!machine_.usable(now())) publish(nullptr);
            return finish_all(machine_.last_error(), nullptr);
        }
        credential_replaced(reloaded.expires_at);
    }

    void credential_replaced(Timestamp expires_at) {
        machine_.credential_replaced(credential_local_expiry(expires_at), draw());
        poll();
        ProviderEvent event{ProviderEvent::Kind::refresh_token_reloaded};
        event.expires_at = expires_at;
        emit(std::move(event));
    }

    // What the source reports from its own work: a store failure to pass on, or a credential it
    // adopted from its storage before a step, which changes when the next regeneration is due.
    void on_source_report(ProviderEvent event) {
        if (machine_.stopped()) return;
        if (event.kind == ProviderEvent::Kind::refresh_token_reloaded) return credential_replaced(event.expires_at);
        emit(std::move(event));
    }

    [[nodiscard]] std::optional<TimePoint> credential_local_expiry(std::optional<Timestamp> expires_at) const {
        if (!expires_at) return std::nullopt;
        return estimate_local_expiry(*expires_at, now(), std::chrono::system_clock::now());
    }

    void do_stop() {
        if (machine_.stopped()) return;
        machine_.stop();
        work_due_at_.store(never, std::memory_order_relaxed);
        ++timer_generation_;
        timer_.cancel();
        cancel_.emit(boost::asio::cancellation_type::terminal);
        publish(nullptr);
        finish_all(Error::provider_stopped, nullptr);
    }

    // Called last in each strand handler, with the state settled and no lock held.
    void emit(ProviderEvent event) const {
        if (options_.on_event) options_.on_event(event);
    }

    boost::asio::any_io_executor executor_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    boost::asio::steady_timer timer_;
    std::uint64_t timer_generation_ = 0;
    boost::asio::cancellation_signal cancel_;
    ProviderOptions options_;
    std::shared_ptr<TokenSource> source_;
    std::mt19937_64 random_;
    ProviderMachine machine_;
    std::unordered_map<std::uint64_t, Waiter> waiters_;
    bool reloading_ = false;

    std::mutex snapshot_mutex_;
    TokenPtr snapshot_;
    std::atomic<std::uint64_t> snapshot_version_{0};
    // When the machine next has work to start (TimePoint ticks), for the hot path's nudge.
    static constexpr TimePoint::rep never = std::numeric_limits<TimePoint::rep>::max();
    std::atomic<TimePoint::rep> work_due_at_{never};
    std::atomic<bool> nudged_{false};
    std::atomic<std::uint64_t> next_waiter_id_{0};
};

}  // namespace alation::auth::detail

#endif
