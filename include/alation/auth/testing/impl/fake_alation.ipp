// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_ALATION_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_ALATION_IPP

// The fake Alation in layers, from the bottom up (each file includes those it builds on):
//   fake_state.ipp     the state model: records, clock, token values and their formatting
//   fake_oauth.ipp     OAuth's server side: form bodies, HTTP Basic, JWT signing
//   fake_requests.ipp  routing by the library's paths, answers, error shapes, field validation
//   fake_faults.ipp    injected faults as delivery plans, and response bytes
//   fake_server.ipp    FakeAlationImpl: the state and the decision for each request (no I/O)
//   fake_session.ipp   the acceptor and the connections that execute the decisions
//   this file          the public facade, FakeAlation
// testing/src.hpp lists only this file of them: it brings the others with it.

#include <alation/auth/testing/certificates.hpp>
#include <alation/auth/testing/fake_alation.hpp>
#include <alation/auth/testing/impl/fake_session.ipp>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>

namespace alation::auth::testing {

ALATION_AUTH_DECL FakeAlation::FakeAlation(boost::asio::any_io_executor executor, FakeAlationOptions options)
    : impl_(std::make_shared<detail::FakeAlationImpl>(std::move(executor), std::move(options))) {
    impl_->start_accepting();
}

ALATION_AUTH_DECL FakeAlation::~FakeAlation() {
    try {
        stop();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
        // stop() can only if a mutex cannot be locked.
    }
}

ALATION_AUTH_DECL void FakeAlation::stop() { impl_->stop(); }

ALATION_AUTH_DECL std::string FakeAlation::base_url() const {
    return (impl_->options_.tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(impl_->port_);
}

ALATION_AUTH_DECL unsigned short FakeAlation::port() const { return impl_->port_; }

ALATION_AUTH_DECL const std::string& FakeAlation::ca_certificate_pem() const {
    return TestCertificates::shared().ca_certificate_pem();
}

ALATION_AUTH_DECL std::string FakeAlation::write_ca_file(const std::filesystem::path& dir) const {
    const std::filesystem::path path = dir / ("fake-alation-ca-" + std::to_string(impl_->port_) + ".pem");
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << ca_certificate_pem();
    out.close();
    if (!out) throw std::runtime_error("FakeAlation: cannot write " + path.string());
    return path.string();
}

ALATION_AUTH_DECL std::int64_t FakeAlation::add_user(std::string username, std::string password, bool sso) {
    std::lock_guard lock(impl_->mutex_);
    if (impl_->users_.count(username) != 0) throw std::invalid_argument("FakeAlation: user exists: " + username);
    const std::int64_t id = impl_->next_user_id_++;
    impl_->users_.emplace(username, detail::UserRecord{id, username, std::move(password), sso});
    return id;
}

ALATION_AUTH_DECL RefreshToken FakeAlation::issue_refresh_token(std::int64_t user_id, std::string name,
                                                                std::optional<std::chrono::milliseconds> lifetime) {
    std::lock_guard lock(impl_->mutex_);
    const bool known = std::any_of(impl_->users_.begin(), impl_->users_.end(),
                                   [&](const auto& entry) { return entry.second.id == user_id; });
    if (!known) throw std::invalid_argument("FakeAlation: unknown user_id " + std::to_string(user_id));
    std::string value;
    const detail::RefreshRecord& r = impl_->new_refresh_token(
        user_id, std::move(name), lifetime.value_or(impl_->options_.refresh_token_lifetime), value);
    RefreshToken token;
    token.requested_at = SteadyClock::now();
    token.created_at = detail::to_timestamp(r.created_at);
    token.expires_at = detail::to_timestamp(r.expires_at);
    token.value = Secret(std::move(value));
    token.user_id = r.user_id;
    token.name = r.name;
    token.status = TokenStatus::active;
    return token;
}

ALATION_AUTH_DECL AccessToken FakeAlation::issue_access_token(const Secret& refresh_token,
                                                              std::optional<std::chrono::milliseconds> lifetime) {
    std::lock_guard lock(impl_->mutex_);
    const detail::RefreshRecord& r = impl_->refresh_record(refresh_token);
    std::string value;
    const detail::AccessRecord& a = impl_->new_access_token(std::string(refresh_token.reveal()), r.user_id,
                                                            lifetime.value_or(impl_->access_token_lifetime_), value);
    AccessToken token;
    token.requested_at = SteadyClock::now();
    token.created_at = detail::to_timestamp(a.created_at);
    token.expires_at = detail::to_timestamp(a.expires_at);
    token.value = Secret(std::move(value));
    token.user_id = a.user_id;
    token.status = detail::token_status(false, impl_->now() >= a.expires_at);
    return token;
}

ALATION_AUTH_DECL void FakeAlation::revoke_refresh_token(const Secret& refresh_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->refresh_record(refresh_token).revoked = true;
}

ALATION_AUTH_DECL void FakeAlation::expire_refresh_token(const Secret& refresh_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->refresh_record(refresh_token).expires_at = impl_->now();
}

ALATION_AUTH_DECL void FakeAlation::revoke_access_token(const Secret& access_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->access_record(access_token).revoked = true;
}

ALATION_AUTH_DECL void FakeAlation::expire_access_token(const Secret& access_token) {
    std::lock_guard lock(impl_->mutex_);
    impl_->access_record(access_token).expires_at = impl_->now();
}

ALATION_AUTH_DECL void FakeAlation::set_access_token_lifetime(std::chrono::milliseconds lifetime) {
    std::lock_guard lock(impl_->mutex_);
    impl_->access_token_lifetime_ = lifetime;
}

ALATION_AUTH_DECL void FakeAlation::add_oauth_client(std::string client_id, std::string client_secret,
                                                     std::chrono::seconds lifetime) {
    if (client_id.empty() || client_secret.empty())
        throw std::invalid_argument("FakeAlation::add_oauth_client: empty client id or secret");
    if (lifetime.count() <= 0) throw std::invalid_argument("FakeAlation::add_oauth_client: lifetime must be positive");
    std::lock_guard lock(impl_->mutex_);
    if (impl_->oauth_clients_.count(client_id) != 0)
        throw std::invalid_argument("FakeAlation: OAuth client exists: " + client_id);
    impl_->oauth_clients_.emplace(std::move(client_id), detail::OAuthClientRecord{std::move(client_secret), lifetime});
}

ALATION_AUTH_DECL Secret FakeAlation::issue_oauth_token(std::string_view client_id,
                                                        std::optional<std::chrono::seconds> lifetime) {
    std::lock_guard lock(impl_->mutex_);
    const auto it = impl_->oauth_clients_.find(client_id);
    if (it == impl_->oauth_clients_.end())
        throw std::invalid_argument("FakeAlation: unknown OAuth client " + std::string(client_id));
    return Secret(impl_->new_oauth_token(it->first, lifetime.value_or(it->second.lifetime)));
}

ALATION_AUTH_DECL void FakeAlation::expire_oauth_token(const Secret& jwt) {
    std::lock_guard lock(impl_->mutex_);
    const auto it = impl_->oauth_tokens_.find(std::string(jwt.reveal()));
    if (it == impl_->oauth_tokens_.end()) throw std::invalid_argument("FakeAlation: unknown OAuth token");
    it->second.expires_at = impl_->now();
}

ALATION_AUTH_DECL void FakeAlation::inject(std::string path, Fault fault, int times) {
    if (times < 1) throw std::invalid_argument("FakeAlation::inject: times must be at least 1");
    std::lock_guard lock(impl_->mutex_);
    impl_->faults_.push_back(detail::InjectedFault{std::move(path), std::move(fault), times});
}

ALATION_AUTH_DECL void FakeAlation::clear_faults() {
    std::lock_guard lock(impl_->mutex_);
    impl_->faults_.clear();
}

ALATION_AUTH_DECL std::size_t FakeAlation::request_count(std::string_view path) const {
    std::lock_guard lock(impl_->mutex_);
    const auto it = impl_->requests_.find(path);
    return it == impl_->requests_.end() ? 0 : it->second;
}

ALATION_AUTH_DECL std::size_t FakeAlation::access_tokens_minted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->access_tokens_minted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::refresh_tokens_created() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->refresh_tokens_created_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::connections_accepted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->connections_accepted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::oauth_tokens_minted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->oauth_tokens_minted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::protected_accepted() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->protected_accepted_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::protected_rejected() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->protected_rejected_;
}

ALATION_AUTH_DECL std::size_t FakeAlation::protected_rejected_expired() const {
    std::lock_guard lock(impl_->mutex_);
    return impl_->protected_rejected_expired_;
}

}  // namespace alation::auth::testing

#endif
