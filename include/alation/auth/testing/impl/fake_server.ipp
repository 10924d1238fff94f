// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
#ifndef ALATION_AUTH_TESTING_IMPL_FAKE_SERVER_IPP
#define ALATION_AUTH_TESTING_IMPL_FAKE_SERVER_IPP

// The fake server's state and its decisions: FakeAlationImpl decides the answer to each request
// under its mutex (handle) and executes nothing; its acceptor and connections are in
// fake_session.ipp. Part of fake_alation.ipp.

#include <alation/auth/detail/config.hpp>
#include <alation/auth/detail/oauth.hpp>
#include <alation/auth/detail/protocol.hpp>
#include <alation/auth/testing/fake_alation.hpp>
#include <alation/auth/testing/impl/fake_faults.ipp>
#include <alation/auth/testing/impl/fake_oauth.ipp>
#include <alation/auth/testing/impl/fake_requests.ipp>
#include <alation/auth/testing/impl/fake_state.ipp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace alation::auth::testing::detail {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

class SessionBase {
public:
    virtual ~SessionBase() = default;
    virtual void start() = 0;
    // Closes the connection at once, from any thread.
    virtual void close() = 0;
};

class FakeAlationImpl : public std::enable_shared_from_this<FakeAlationImpl> {
public:
    ALATION_AUTH_DECL FakeAlationImpl(asio::any_io_executor executor, FakeAlationOptions options);

    ALATION_AUTH_DECL void start_accepting();
    ALATION_AUTH_DECL void stop();
    // Decides the answer to one request. Locks the state; does no I/O.
    ALATION_AUTH_DECL Plan handle(http::verb method, std::string_view target, std::string_view content_type,
                                  std::string_view token_header, std::string_view authorization, std::string_view body);

    ServerTime now() const { return std::chrono::system_clock::now() + options_.server_clock_offset; }
    const FakeAlationOptions& options() const noexcept { return options_; }

private:
    // The public FakeAlation is the state's other user.
    friend class testing::FakeAlation;

    // Used under mutex_, also by FakeAlation's members.
    ALATION_AUTH_DECL RefreshRecord& new_refresh_token(std::int64_t user_id, std::string name,
                                                       std::chrono::milliseconds lifetime, std::string& value);
    ALATION_AUTH_DECL AccessRecord& new_access_token(const std::string& refresh_token, std::int64_t user_id,
                                                     std::chrono::milliseconds lifetime, std::string& value);
    ALATION_AUTH_DECL RefreshRecord& refresh_record(const Secret& token);
    ALATION_AUTH_DECL AccessRecord& access_record(const Secret& token);
    ALATION_AUTH_DECL std::string new_oauth_token(const std::string& client_id, std::chrono::seconds lifetime);

    const FakeAlationOptions options_;
    const std::shared_ptr<asio::ssl::context> ssl_context_;
    unsigned short port_ = 0;

    mutable std::mutex mutex_;
    std::chrono::milliseconds access_token_lifetime_;
    std::map<std::string, UserRecord, std::less<>> users_;
    std::unordered_map<std::string, RefreshRecord> refresh_tokens_;
    std::unordered_map<std::string, AccessRecord> access_tokens_;
    std::map<std::string, OAuthClientRecord, std::less<>> oauth_clients_;
    std::unordered_map<std::string, OAuthTokenRecord> oauth_tokens_;
    JwtKey jwt_key_{};
    std::int64_t next_user_id_ = 1;
    std::int64_t next_refresh_id_ = 1;
    std::deque<InjectedFault> faults_;
    std::map<std::string, std::size_t, std::less<>> requests_;
    std::size_t access_tokens_minted_ = 0;
    std::size_t refresh_tokens_created_ = 0;
    std::size_t connections_accepted_ = 0;
    std::size_t oauth_tokens_minted_ = 0;
    std::uint64_t next_serial_ = 0;
    std::size_t protected_accepted_ = 0;
    std::size_t protected_rejected_ = 0;
    std::size_t protected_rejected_expired_ = 0;
    bool stopped_ = false;
    std::vector<std::weak_ptr<SessionBase>> sessions_;

    void accept();
    void on_accept(error_code ec, tcp::socket socket);

    std::optional<Fault> take_fault(std::string_view path);
    Answer dispatch(Endpoint endpoint, const json::object& body);
    Answer protected_endpoint(std::string_view token_header);
    Answer oauth_dispatch(Endpoint endpoint, std::string_view content_type, std::string_view authorization,
                          std::string_view body);
    // Who the request authenticates as (RFC 6749 §2.3.1: HTTP Basic or the body, not both); the
    // error answer when it cannot.
    std::optional<Answer> authenticate_client(const FormParameters& form, std::string_view authorization,
                                              std::string& client_id) const;
    json::object oauth_claims(const OAuthTokenRecord& r) const;
    // Finds the refresh token named by the body; an error answer when it is missing or unknown.
    std::optional<Answer> find_refresh(const json::object& body, std::string& value, RefreshRecord*& record);
    std::string refresh_status(const RefreshRecord& r) const;
    std::string access_status(const AccessRecord& r) const;
    json::object refresh_json(const std::string& value, const RefreshRecord& r) const;
    json::object access_json(const std::string& value, const AccessRecord& r) const;

    asio::any_io_executor executor_;
    tcp::acceptor acceptor_;
};

ALATION_AUTH_DECL std::optional<Fault> FakeAlationImpl::take_fault(std::string_view path) {
    const auto it = std::ranges::find_if(faults_, [&](const InjectedFault& f) { return f.path == path; });
    if (it == faults_.end()) return std::nullopt;
    Fault fault = it->fault;
    if (--it->remaining == 0) faults_.erase(it);
    return fault;
}

ALATION_AUTH_DECL Plan FakeAlationImpl::handle(http::verb method, std::string_view target,
                                               std::string_view content_type, std::string_view token_header,
                                               std::string_view authorization, std::string_view body) {
    const std::string_view path = target.substr(0, target.find('?'));
    std::lock_guard lock(mutex_);
    if (auto it = requests_.find(path); it != requests_.end()) {
        ++it->second;
    } else {
        requests_.emplace(std::string(path), 1);
    }

    Plan plan;
    const std::optional<Fault> fault = take_fault(path);
    if (fault) {
        plan.delay = fault->delay;
        switch (fault->kind) {
        case Fault::Kind::respond: plan.answer = fault_answer(*fault); return plan;
        case Fault::Kind::reset_before_response: plan.delivery = Delivery::reset_before; return plan;
        case Fault::Kind::never_answer: plan.delivery = Delivery::silent; return plan;
        case Fault::Kind::reset_during_response: plan.delivery = Delivery::reset_during; break;
        case Fault::Kind::truncated_body: plan.delivery = Delivery::truncated; break;
        case Fault::Kind::drip: plan.delivery = Delivery::drip; break;
        case Fault::Kind::close_after_response: plan.delivery = Delivery::close_after; break;
        case Fault::Kind::oversized_body: break;
        }
    }

    const auto not_allowed = [&](std::string allow) {
        Answer a = json_error(405, "Method \"" + std::string(http::to_string(method)) + "\" not allowed.", "405000");
        a.allow = std::move(allow);
        return a;
    };
    const std::optional<Endpoint> token_api = token_api_endpoint(path);
    const std::optional<Endpoint> oauth = oauth_endpoint(path);
    if (path == path_protected) {
        plan.answer = method == http::verb::get ? protected_endpoint(token_header) : not_allowed("GET");
    } else if (oauth) {
        plan.answer = method == http::verb::post ? oauth_dispatch(*oauth, content_type, authorization, body)
                                                 : not_allowed("POST");
    } else if (token_api) {
        if (method != http::verb::post) {
            plan.answer = not_allowed("POST");
        } else if (!auth::detail::is_json_content_type(content_type)) {
            plan.answer = json_error(400, "Content-Type must be application/json.", "400000");
        } else {
            error_code ec;
            const json::value parsed = json::parse(body, ec);
            if (ec) {
                plan.answer = json_error(400, "JSON parse error.", "400001");
            } else if (!parsed.is_object()) {
                plan.answer = json_error(400, "Invalid data. Expected a dictionary.", "400001");
            } else {
                plan.answer = dispatch(*token_api, parsed.get_object());
            }
        }
    } else {
        plan.answer = json_error(404, "Not found.", "404000");
    }

    if (fault && fault->kind == Fault::Kind::oversized_body && plan.answer.body.size() < fault->size) {
        // Trailing whitespace keeps the JSON valid: only the size is wrong.
        plan.answer.body.resize(fault->size, ' ');
    }
    return plan;
}

ALATION_AUTH_DECL Answer FakeAlationImpl::protected_endpoint(std::string_view token_header) {
    if (token_header.empty()) {
        ++protected_rejected_;
        return json_error(403, "Authentication credentials were not provided.", "403000");
    }
    // A JWT has dots; an opaque API access token has none.
    const bool jwt = token_header.find('.') != std::string_view::npos;
    bool unrevoked = false;  // issued by the fake and not revoked
    bool live = false;
    const auto look_up = [&](const auto& tokens) {
        const auto it = tokens.find(std::string(token_header));
        unrevoked = it != tokens.end() && !it->second.revoked;
        live = unrevoked && now() < it->second.expires_at;
    };
    if (jwt) {
        look_up(oauth_tokens_);
    } else {
        look_up(access_tokens_);
    }
    if (!live) {
        ++protected_rejected_;
        if (unrevoked) ++protected_rejected_expired_;
        if (jwt) {
            Answer a;
            a.status = 401;
            a.body = json::serialize(json::object{{"detail", "Authentication failed: invalid bearer token."}});
            return a;
        }
        const unsigned status = options_.protected_rejection_status;
        return json_error(status, "Invalid or expired API access token.", std::to_string(status * 1000));
    }
    ++protected_accepted_;
    Answer a;
    a.body = "[]";
    return a;
}

ALATION_AUTH_DECL std::optional<Answer> FakeAlationImpl::find_refresh(const json::object& body, std::string& value,
                                                                      RefreshRecord*& record) {
    std::int64_t user_id = 0;
    if (auto error = get_string(body, "refresh_token", value)) return error;
    if (auto error = get_user_id(body, options_.accept_user_id_as_string, user_id)) return error;
    const auto it = refresh_tokens_.find(value);
    if (it == refresh_tokens_.end() || it->second.user_id != user_id)
        return json_error(401, "Refresh token provided is invalid.", "401000");
    record = &it->second;
    return std::nullopt;
}

ALATION_AUTH_DECL std::string FakeAlationImpl::refresh_status(const RefreshRecord& r) const {
    return status_text(r.revoked ? "REVOKED" : now() >= r.expires_at ? "EXPIRED" : "ACTIVE", options_.status_case);
}

ALATION_AUTH_DECL std::string FakeAlationImpl::access_status(const AccessRecord& r) const {
    return status_text(r.revoked ? "REVOKED" : now() >= r.expires_at ? "EXPIRED" : "ACTIVE", options_.status_case);
}

ALATION_AUTH_DECL json::object FakeAlationImpl::refresh_json(const std::string& value, const RefreshRecord& r) const {
    return json::object{{"refresh_token", value},
                        {"user_id", r.user_id},
                        {"created_at", format_timestamp(r.created_at, options_.timestamps)},
                        {"name", r.name},
                        {"token_expires_at", format_timestamp(r.expires_at, options_.timestamps)},
                        {"token_status", refresh_status(r)}};
}

ALATION_AUTH_DECL json::object FakeAlationImpl::access_json(const std::string& value, const AccessRecord& r) const {
    return json::object{{"api_access_token", value},
                        {"user_id", r.user_id},
                        {"created_at", format_timestamp(r.created_at, options_.timestamps)},
                        {"token_expires_at", format_timestamp(r.expires_at, options_.timestamps)},
                        {"token_status", access_status(r)}};
}

ALATION_AUTH_DECL Answer FakeAlationImpl::dispatch(Endpoint endpoint, const json::object& body) {
    Answer ok;
    Answer expired_or_revoked = json_error(401, "Refresh token provided is expired or revoked.", "401000");

    if (endpoint == Endpoint::create_refresh_token) {
        std::string username, password, name;
        if (auto error = get_string(body, "username", username)) return *error;
        if (auto error = get_string(body, "password", password)) return *error;
        if (auto error = get_string(body, "name", name)) return *error;
        const auto user = users_.find(username);
        const bool password_matches = user != users_.end() && user->second.password == password;
        Secret::wipe(password);
        if (user != users_.end() && user->second.sso) {
            // SSO users have no password Alation could check.
            const unsigned status = options_.sso_rejection_status;
            return json_error(status, "Users who sign in with SSO must create refresh tokens in the Alation UI.",
                              std::to_string(status * 1000));
        }
        if (!password_matches) return json_error(401, "Invalid username or password.", "401000");
        std::string value;
        const RefreshRecord& r = new_refresh_token(user->second.id, name, options_.refresh_token_lifetime, value);
        ++refresh_tokens_created_;
        ok.body = json::serialize(refresh_json(value, r));
        return ok;
    }

    if (endpoint == Endpoint::validate_access_token) {
        std::string value;
        std::int64_t user_id = 0;
        if (auto error = get_string(body, "api_access_token", value)) return *error;
        if (auto error = get_user_id(body, options_.accept_user_id_as_string, user_id)) return *error;
        const auto it = access_tokens_.find(value);
        if (it == access_tokens_.end() || it->second.user_id != user_id)
            return json_error(401, "API Access Token provided is invalid.", "401000");
        ok.body = json::serialize(access_json(value, it->second));
        return ok;
    }

    // The other endpoints take {"refresh_token","user_id"}.
    std::string value;
    RefreshRecord* record = nullptr;
    if (auto error = find_refresh(body, value, record)) return *error;
    const bool usable = !record->revoked && now() < record->expires_at;

    if (endpoint == Endpoint::validate_refresh_token) {
        if (!usable && !options_.expired_refresh_validates_as_200) return expired_or_revoked;
        json::object o = refresh_json(value, *record);
        o["last_used_at"] = record->last_used_at
                                ? json::value(format_timestamp(*record->last_used_at, options_.timestamps))
                                : json::value(nullptr);
        ok.body = json::serialize(o);
        return ok;
    }
    if (!usable) return expired_or_revoked;

    if (endpoint == Endpoint::regenerate_refresh_token) {
        const std::int64_t user_id = record->user_id;
        const std::string name = record->name;
        record->revoked = true;
        std::string new_value;
        const RefreshRecord& r = new_refresh_token(user_id, name, options_.refresh_token_lifetime, new_value);
        ++refresh_tokens_created_;
        ok.body = json::serialize(refresh_json(new_value, r));
        return ok;
    }
    if (endpoint == Endpoint::create_access_token) {
        record->last_used_at = now();
        const std::int64_t user_id = record->user_id;
        std::string access_value;
        const AccessRecord& a = new_access_token(value, user_id, access_token_lifetime_, access_value);
        ++access_tokens_minted_;
        ok.body = json::serialize(access_json(access_value, a));
        return ok;
    }
    // revokeAPIAccessTokens
    for (auto& [token, access] : access_tokens_)
        if (access.refresh_token == value) access.revoked = true;
    ok.body = json::serialize(json::object{{"detail", "Revoked active access tokens for refresh token: '" +
                                                          record->name + "' with id: " + std::to_string(record->id)}});
    return ok;
}

ALATION_AUTH_DECL std::optional<Answer> FakeAlationImpl::authenticate_client(const FormParameters& form,
                                                                             std::string_view authorization,
                                                                             std::string& client_id) const {
    const bool basic = !authorization.empty();
    const auto invalid_client = [&](std::string description) {
        Answer a = oauth_error(401, "invalid_client", std::move(description), options_.oauth_invalid_client_code);
        // RFC 6749 §5.2: a client that tried Basic is told the scheme.
        if (basic) a.www_authenticate = R"(Basic realm="oauth")";
        return a;
    };
    const std::string* body_id = form.find("client_id");
    const std::string* body_secret = form.find("client_secret");
    if (!basic) {
        if (body_id == nullptr || body_secret == nullptr) return invalid_client("Client authentication failed.");
        client_id = *body_id;
        const auto it = oauth_clients_.find(client_id);
        if (it == oauth_clients_.end() || it->second.secret != *body_secret)
            return invalid_client("Client authentication failed.");
        return std::nullopt;
    }
    std::string secret;
    const bool decoded = parse_basic_credentials(authorization, client_id, secret);
    const auto it = oauth_clients_.find(client_id);
    const bool matches = decoded && it != oauth_clients_.end() && it->second.secret == secret;
    Secret::wipe(secret);
    if (!decoded) return invalid_client("Malformed HTTP Basic client credentials.");
    if (body_secret != nullptr || (body_id != nullptr && *body_id != client_id))
        return oauth_error(400, "invalid_request",
                           "Client credentials must be sent one way: HTTP Basic or the body, not both.");
    if (!matches) return invalid_client("Client authentication failed.");
    return std::nullopt;
}

ALATION_AUTH_DECL json::object FakeAlationImpl::oauth_claims(const OAuthTokenRecord& r) const {
    const std::int64_t iat = std::chrono::floor<std::chrono::seconds>(r.created_at).time_since_epoch().count();
    return json::object{{"iat", iat},
                        {"exp", iat + r.lifetime.count()},
                        {"sub", r.client_id},
                        {"client_id", r.client_id},
                        {"jti", r.jti}};
}

ALATION_AUTH_DECL Answer FakeAlationImpl::oauth_dispatch(Endpoint endpoint, std::string_view content_type,
                                                         std::string_view authorization, std::string_view body) {
    if (!auth::detail::is_media_type(content_type, auth::detail::form_media_type))
        return oauth_error(400, "invalid_request",
                           "Content-Type must be " + std::string(auth::detail::form_media_type) + ".");
    FormParameters form;
    if (std::string problem = form.parse(body); !problem.empty())
        return oauth_error(400, "invalid_request", std::move(problem));
    const std::string_view required = endpoint == Endpoint::oauth_token ? "grant_type" : "token";
    const std::string* value = form.find(required);
    if (value == nullptr)
        return oauth_error(400, "invalid_request", "Missing parameter " + std::string(required) + ".");
    if (endpoint == Endpoint::oauth_token && *value != "client_credentials")
        return oauth_error(400, "unsupported_grant_type", "Grant type " + *value + " is not supported.");
    std::string client_id;
    if (auto refused = authenticate_client(form, authorization, client_id)) return *refused;

    Answer ok;
    if (endpoint == Endpoint::oauth_introspect) {
        const auto it = oauth_tokens_.find(*value);
        const bool active = it != oauth_tokens_.end() && it->second.client_id == client_id && !it->second.revoked &&
                            now() < it->second.expires_at;
        json::object o{{"active", active}};
        if (active) {
            for (auto& [key, claim] : oauth_claims(it->second)) o[key] = claim;
            o["token_type"] = "Bearer";
            if (!options_.oauth_scope.empty()) o["scope"] = options_.oauth_scope;
        }
        ok.body = json::serialize(o);
        return ok;
    }
    const std::chrono::seconds lifetime = oauth_clients_.at(client_id).lifetime;
    const std::string jwt = new_oauth_token(client_id, lifetime);
    ++oauth_tokens_minted_;
    json::object o{{"access_token", jwt}, {"token_type", "Bearer"}};
    if (options_.oauth_expires_in) o["expires_in"] = lifetime.count();
    if (!options_.oauth_scope.empty()) o["scope"] = options_.oauth_scope;
    if (options_.oauth_created_at)
        o["created_at"] = format_timestamp(oauth_tokens_.at(jwt).created_at, options_.timestamps);
    ok.body = json::serialize(o);
    return ok;
}

ALATION_AUTH_DECL std::string FakeAlationImpl::new_oauth_token(const std::string& client_id,
                                                               std::chrono::seconds lifetime) {
    OAuthTokenRecord r;
    r.client_id = client_id;
    r.jti = random_token(22);
    r.created_at = now();
    r.lifetime = lifetime;
    r.expires_at = r.created_at + lifetime;
    r.serial = next_serial_++;
    std::string jwt = sign_jwt(json::serialize(oauth_claims(r)), jwt_key_);
    oauth_tokens_.insert_or_assign(jwt, std::move(r));
    revoke_beyond(oauth_tokens_, options_.max_live_access_tokens, now(),
                  [&](const OAuthTokenRecord& t) { return t.client_id == client_id; });
    return jwt;
}

ALATION_AUTH_DECL RefreshRecord& FakeAlationImpl::new_refresh_token(std::int64_t user_id, std::string name,
                                                                    std::chrono::milliseconds lifetime,
                                                                    std::string& value) {
    RefreshRecord r;
    r.id = next_refresh_id_++;
    r.user_id = user_id;
    r.name = std::move(name);
    r.created_at = now();
    r.expires_at = r.created_at + lifetime;
    value = random_token(refresh_token_chars);
    return refresh_tokens_.insert_or_assign(value, std::move(r)).first->second;
}

ALATION_AUTH_DECL AccessRecord& FakeAlationImpl::new_access_token(const std::string& refresh_token,
                                                                  std::int64_t user_id,
                                                                  std::chrono::milliseconds lifetime,
                                                                  std::string& value) {
    AccessRecord a;
    a.user_id = user_id;
    a.refresh_token = refresh_token;
    a.created_at = now();
    a.expires_at = a.created_at + lifetime;
    a.serial = next_serial_++;
    value = random_token(access_token_chars);
    AccessRecord& record = access_tokens_.insert_or_assign(value, std::move(a)).first->second;
    revoke_beyond(access_tokens_, options_.max_live_access_tokens, now(),
                  [&](const AccessRecord& t) { return t.refresh_token == refresh_token; });
    return record;
}

ALATION_AUTH_DECL RefreshRecord& FakeAlationImpl::refresh_record(const Secret& token) {
    const auto it = refresh_tokens_.find(std::string(token.reveal()));
    if (it == refresh_tokens_.end()) throw std::invalid_argument("FakeAlation: unknown refresh token");
    return it->second;
}

ALATION_AUTH_DECL AccessRecord& FakeAlationImpl::access_record(const Secret& token) {
    const auto it = access_tokens_.find(std::string(token.reveal()));
    if (it == access_tokens_.end()) throw std::invalid_argument("FakeAlation: unknown access token");
    return it->second;
}

}  // namespace alation::auth::testing::detail

#endif
