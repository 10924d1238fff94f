#include <alation/auth/token_store.hpp>

#include "catch.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace alation::auth;
using alation::auth::test::TempDir;
using alation::auth::test::write_file;
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

Secret secret(std::string_view value) { return Secret(value); }

Timestamp at(sys_days day, microseconds since_midnight) { return Timestamp(day) + since_midnight; }

RefreshToken sample_token(
    std::string_view value = "rt-9f8e7d6c5b4a39281706f5e4d3c2b1a0-9f8e7d6c5b4a39281706f5e4d3c2b1a0-Zz") {
    RefreshToken t;
    t.value = secret(value);
    t.user_id = 42;
    t.name = "etl \"nightly\" \\ ü\ttab";
    t.created_at = at(2026y / 11 / 1, hours(1) + minutes(4) + seconds(47) + microseconds(35'000));
    t.expires_at = at(2026y / 12 / 31, hours(23) + minutes(59) + seconds(59) + microseconds(116'496));
    t.status = TokenStatus::active;
    t.last_used_at = at(2026y / 11 / 27, hours(8) + microseconds(1));
    return t;
}

void require_same(const RefreshToken& a, const RefreshToken& b) {
    CHECK(a.value == b.value);
    CHECK(a.user_id == b.user_id);
    CHECK(a.name == b.name);
    CHECK(a.created_at == b.created_at);
    CHECK(a.expires_at == b.expires_at);
    CHECK(a.status == b.status);
    CHECK(a.last_used_at == b.last_used_at);
}

mode_t mode_of(const fs::path& p) {
    struct stat st = {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

std::vector<fs::path> entries(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    return out;
}

// Restores the process umask when a test that changed it ends, even by a failed REQUIRE.
class UmaskGuard {
public:
    explicit UmaskGuard(mode_t m) : old_(::umask(m)) {}
    ~UmaskGuard() { ::umask(old_); }

private:
    mode_t old_;
};

// The store's asynchronous operations, waited for: they may complete inline or on another thread.
template <class... Values, class Start>
std::tuple<error_code, Values...> wait_for(Start start) {
    std::promise<std::tuple<error_code, Values...>> result;
    start([&result](error_code ec, Values... values) { result.set_value({ec, std::move(values)...}); });
    return result.get_future().get();
}

std::tuple<error_code, std::optional<RefreshToken>> load(TokenStore& store, std::string_view identity = "user:42") {
    return wait_for<std::optional<RefreshToken>>([&](auto h) { store.async_load(identity, std::move(h)); });
}

std::tuple<error_code, bool> swap(TokenStore& store, std::string_view expected, const RefreshToken& desired,
                                  std::string_view identity = "user:42") {
    return wait_for<bool>(
        [&](auto h) { store.async_compare_and_swap(identity, Secret(expected), desired, std::move(h)); });
}

std::tuple<error_code, bool> lease(TokenStore& store, std::string_view owner, milliseconds ttl) {
    return wait_for<bool>(
        [&](auto h) { store.async_acquire_lease("user:42", "regenerate", owner, ttl, std::move(h)); });
}

void release(TokenStore& store, std::string_view owner) {
    wait_for<>([&](auto h) { store.async_release_lease("user:42", "regenerate", owner, std::move(h)); });
}

}  // namespace

TEST_CASE("InMemoryTokenStore: load, and a compare-and-swap that installs only over the expected token") {
    InMemoryTokenStore store;
    auto [ec, loaded] = load(store);
    CHECK_FALSE(ec);
    CHECK_FALSE(loaded.has_value());

    // Nothing stored: any expectation installs.
    CHECK(swap(store, "", sample_token()) == std::tuple{error_code{}, true});
    std::tie(ec, loaded) = load(store);
    REQUIRE(loaded.has_value());
    require_same(*loaded, sample_token());

    // Over a different token: refused, nothing changes.
    CHECK(swap(store, "rt-stale", sample_token("rt-second")) == std::tuple{error_code{}, false});
    CHECK(std::get<1>(load(store))->value == sample_token().value);
    // Over the stored one: swapped.
    CHECK(swap(store, sample_token().value.reveal(), sample_token("rt-second")) == std::tuple{error_code{}, true});
    CHECK(std::get<1>(load(store))->value == secret("rt-second"));

    // Identities are apart.
    CHECK_FALSE(std::get<1>(load(store, "user:7")).has_value());
}

TEST_CASE("InMemoryTokenStore: an initial token is every identity's until swapped") {
    InMemoryTokenStore store(sample_token());
    CHECK(std::get<1>(load(store, "user:42"))->value == sample_token().value);
    CHECK(swap(store, "rt-other", sample_token("rt-x")) == std::tuple{error_code{}, false});
    CHECK(swap(store, sample_token().value.reveal(), sample_token("rt-x")) == std::tuple{error_code{}, true});
    CHECK(store.stored("user:42")->value == secret("rt-x"));
}

TEST_CASE("InMemoryTokenStore: a lease is one owner's until released or expired") {
    InMemoryTokenStore store;
    CHECK(lease(store, "replica-a", 1h) == std::tuple{error_code{}, true});
    CHECK(lease(store, "replica-b", 1h) == std::tuple{error_code{}, false});
    // Taken again by its holder: still its own (a retried step).
    CHECK(lease(store, "replica-a", 1h) == std::tuple{error_code{}, true});
    // Released by another: nothing happens.
    release(store, "replica-b");
    CHECK(lease(store, "replica-b", 1h) == std::tuple{error_code{}, false});
    release(store, "replica-a");
    CHECK(lease(store, "replica-b", 0ms) == std::tuple{error_code{}, true});
    // An expired lease (ttl 0: expired at once) goes to whoever asks.
    CHECK(lease(store, "replica-a", 1h) == std::tuple{error_code{}, true});
}

TEST_CASE("InMemoryTokenStore shares an access token until it expires") {
    InMemoryTokenStore store;
    REQUIRE(store.shares_access_tokens());
    auto load_shared = [&] {
        return wait_for<std::optional<AccessToken>>(
            [&](auto h) { store.async_load_access_token("oauth:svc", std::move(h)); });
    };
    CHECK_FALSE(std::get<1>(load_shared()).has_value());

    AccessToken token;
    token.value = secret("at-shared");
    token.created_at = time_point_cast<microseconds>(system_clock::now());
    token.expires_at = token.created_at + 1h;
    wait_for<>([&](auto h) { store.async_store_access_token("oauth:svc", token, std::move(h)); });
    auto [ec, shared] = load_shared();
    CHECK_FALSE(ec);
    REQUIRE(shared.has_value());
    CHECK(shared->value == secret("at-shared"));

    token.expires_at = token.created_at - 1s;
    wait_for<>([&](auto h) { store.async_store_access_token("oauth:svc", token, std::move(h)); });
    CHECK_FALSE(std::get<1>(load_shared()).has_value());
}

TEST_CASE("TokenStore's defaults: leases always granted, no access-token sharing") {
    struct Minimal final : TokenStore {
        void async_load(std::string_view, LoadHandler h) override { std::move(h)(error_code{}, std::nullopt); }
        void async_compare_and_swap(std::string_view, const Secret&, const RefreshToken&, ExchangeHandler h) override {
            std::move(h)(error_code{}, true);
        }
    } store;
    CHECK(lease(store, "a", 1h) == std::tuple{error_code{}, true});
    CHECK(lease(store, "b", 1h) == std::tuple{error_code{}, true});
    CHECK_FALSE(store.shares_access_tokens());
    auto [ec, shared] =
        wait_for<std::optional<AccessToken>>([&](auto h) { store.async_load_access_token("user:1", std::move(h)); });
    CHECK(ec == boost::asio::error::operation_not_supported);
}

TEST_CASE("FileTokenStore's asynchronous operations: off the caller's thread, a swap only over what is expected") {
    TempDir dir;
    FileTokenStore store(dir.path() / "token.json");
    const auto caller = std::this_thread::get_id();
    std::thread::id ran_on;
    wait_for<std::optional<RefreshToken>>([&](auto h) {
        store.async_load("user:42", [&ran_on, h = std::move(h)](error_code ec, std::optional<RefreshToken> t) mutable {
            ran_on = std::this_thread::get_id();
            std::move(h)(ec, std::move(t));
        });
    });
    CHECK(ran_on != caller);

    CHECK(swap(store, "", sample_token()) == std::tuple{error_code{}, true});
    CHECK(swap(store, "rt-stale", sample_token("rt-second")) == std::tuple{error_code{}, false});
    auto [ec, loaded] = load(store);
    CHECK_FALSE(ec);
    REQUIRE(loaded.has_value());
    require_same(*loaded, sample_token());
    CHECK(swap(store, sample_token().value.reveal(), sample_token("rt-second")) == std::tuple{error_code{}, true});
    CHECK(std::get<1>(load(store))->value == secret("rt-second"));

    // A file that cannot be read is not "nothing stored": a swap must not overwrite it.
    ::chmod((dir.path() / "token.json").c_str(), 0644);
    CHECK(swap(store, "", sample_token("rt-third")) == std::tuple{make_error_code(Error::insecure_token_file), false});
}

TEST_CASE("FileTokenStore: a missing file is no token, not an error") {
    TempDir dir;
    error_code ec = Error::timeout;
    FileTokenStore store(dir.path() / "token.json");
    CHECK_FALSE(store.load(ec).has_value());
    CHECK_FALSE(ec);

    FileTokenStore in_missing_dir(dir.path() / "nowhere" / "token.json");
    CHECK_FALSE(in_missing_dir.load(ec).has_value());
    CHECK_FALSE(ec);
}

TEST_CASE("FileTokenStore round-trips every field") {
    TempDir dir;
    FileTokenStore store(dir.path() / "token.json");
    error_code ec;

    // A value with characters JSON must escape, to prove the escaping is undone on load.
    RefreshToken token = sample_token("rt-\"quoted\"\\back\x01slash-0123456789");
    store.save(token, ec);
    REQUIRE_FALSE(ec);
    auto loaded = store.load(ec);
    REQUIRE_FALSE(ec);
    REQUIRE(loaded.has_value());
    require_same(*loaded, token);

    SECTION("without last_used_at, and with another status") {
        token.last_used_at.reset();
        token.status = TokenStatus::expired;
        store.save(token, ec);
        REQUIRE_FALSE(ec);
        loaded = store.load(ec);
        REQUIRE_FALSE(ec);
        REQUIRE(loaded.has_value());
        require_same(*loaded, token);
    }
    SECTION("a second save replaces the first") {
        const RefreshToken next = sample_token("rt-next");
        store.save(next, ec);
        REQUIRE_FALSE(ec);
        loaded = store.load(ec);
        REQUIRE(loaded.has_value());
        require_same(*loaded, next);
        // Only the target is left: no temporary file survives a successful save.
        CHECK(entries(dir.path()) == std::vector<fs::path>{dir.path() / "token.json"});
    }
}

TEST_CASE("FileTokenStore writes the file with mode 0600 whatever the umask") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    FileTokenStore store(path);
    error_code ec;
    {
        const UmaskGuard permissive(0);
        store.save(sample_token(), ec);
    }
    REQUIRE_FALSE(ec);
    CHECK(mode_of(path) == 0600);
}

TEST_CASE("FileTokenStore refuses a file other users can read or write") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    FileTokenStore store(path);
    error_code ec;
    store.save(sample_token(), ec);
    REQUIRE_FALSE(ec);

    const mode_t mode = GENERATE(mode_t(0644), mode_t(0640), mode_t(0620), mode_t(0604), mode_t(0602));
    CAPTURE(mode);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    CHECK_FALSE(store.load(ec).has_value());
    CHECK(ec == Error::insecure_token_file);

    // Owner-only modes other than 0600 are fine.
    REQUIRE(::chmod(path.c_str(), 0400) == 0);
    CHECK(store.load(ec).has_value());
    CHECK_FALSE(ec);
}

TEST_CASE("FileTokenStore refuses a symbolic link, even to a good token file") {
    TempDir dir;
    const fs::path real = dir.path() / "real.json";
    error_code ec;
    FileTokenStore(real).save(sample_token(), ec);
    REQUIRE_FALSE(ec);
    const fs::path link = dir.path() / "token.json";
    fs::create_symlink(real, link);

    FileTokenStore store(link);
    CHECK_FALSE(store.load(ec).has_value());
    CHECK(ec == Error::insecure_token_file);

    SECTION("save replaces the link itself, never writing through it") {
        const RefreshToken next = sample_token("rt-next");
        store.save(next, ec);
        REQUIRE_FALSE(ec);
        CHECK_FALSE(fs::is_symlink(link));
        auto loaded = store.load(ec);
        REQUIRE(loaded.has_value());
        CHECK(loaded->value == secret("rt-next"));
        // The link's old target is untouched.
        loaded = FileTokenStore(real).load(ec);
        REQUIRE(loaded.has_value());
        CHECK(loaded->value == sample_token().value);
    }
}

TEST_CASE("FileTokenStore refuses what is not a regular file") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    SECTION("a directory") { fs::create_directory(path); }
    SECTION("a FIFO, without blocking on it") { REQUIRE(::mkfifo(path.c_str(), 0600) == 0); }
    error_code ec;
    CHECK_FALSE(FileTokenStore(path).load(ec).has_value());
    CHECK(ec == Error::insecure_token_file);
}

TEST_CASE("FileTokenStore rejects contents that are not a stored token") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    const std::string good_rest = R"("user_id":42,"name":"etl","created_at":"2026-11-01T01:04:47.035Z",)"
                                  R"("token_expires_at":"2026-12-31T01:04:47.035Z","token_status":"ACTIVE"})";
    const std::string contents = GENERATE_COPY(
        std::string(), std::string("not json"), std::string("[]"), std::string("{}"), std::string("null"),
        std::string(R"({"refresh_token":"rt-1",)") + good_rest.substr(0, good_rest.size() / 2),  // truncated
        "{" + good_rest,                                                                         // no token
        std::string(R"({"refresh_token":42,)") + good_rest,                                      // wrong type
        std::string(R"({"refresh_token":"rt-1","user_id":"forty-two",)") + good_rest.substr(13),
        std::string(R"({"refresh_token":"rt-1","user_id":42,"name":"etl","created_at":"yesterday",)"
                    R"("token_expires_at":"2026-12-31T01:04:47.035Z","token_status":"ACTIVE"})"),
        std::string(R"({"refresh_token":"rt-1","user_id":42,"name":"etl","created_at":"2026-11-01T01:04:47Z",)"
                    R"("token_status":"ACTIVE"})"),  // no expiry
        std::string(std::size_t{70} * 1024, ' '));   // larger than any token file
    CAPTURE(contents.substr(0, 80));
    write_file(path, contents);
    error_code ec;
    CHECK_FALSE(FileTokenStore(path).load(ec).has_value());
    CHECK(ec == Error::malformed_token_file);
}

TEST_CASE("FileTokenStore accepts a file it did not write, in the server's own shape") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    write_file(path, R"({"refresh_token":"rt-1","user_id":7,"name":"etl","created_at":"2021-12-31T01:04:47.035Z",)"
                     R"("token_expires_at":"2022-03-01T01:04:47.035Z","token_status":"ACTIVE","extra":[1,2]})");
    error_code ec;
    const auto loaded = FileTokenStore(path).load(ec);
    REQUIRE_FALSE(ec);
    REQUIRE(loaded.has_value());
    CHECK(loaded->value == secret("rt-1"));
    CHECK(loaded->user_id == 7);
    CHECK(loaded->status == TokenStatus::active);
    CHECK(loaded->created_at == at(2021y / 12 / 31, hours(1) + minutes(4) + seconds(47) + milliseconds(35)));
    CHECK_FALSE(loaded->last_used_at.has_value());
}

TEST_CASE("FileTokenStore loads a revoked token as it is: deciding what to do with it is the caller's job") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    write_file(path, R"({"refresh_token":"rt-1","user_id":7,"name":"etl","created_at":"2021-12-31T01:04:47Z",)"
                     R"("token_expires_at":"2022-03-01T01:04:47Z","token_status":"REVOKED","last_used_at":null})");
    error_code ec;
    const auto loaded = FileTokenStore(path).load(ec);
    REQUIRE_FALSE(ec);
    REQUIRE(loaded.has_value());
    CHECK(loaded->status == TokenStatus::revoked);
    CHECK_FALSE(loaded->last_used_at.has_value());
}

TEST_CASE("FileTokenStore: a crash before the rename leaves the old token") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    FileTokenStore store(path);
    error_code ec;
    const RefreshToken old_token = sample_token("rt-old");
    store.save(old_token, ec);
    REQUIRE_FALSE(ec);

    // The first half of a save of a new token, then the "crash": no rename.
    std::string contents = detail::format_token_file(sample_token("rt-new"));
    const fs::path temp = detail::write_temp_file(path, contents, ec);
    REQUIRE_FALSE(ec);
    CHECK(temp != path);
    CHECK(temp.parent_path() == path.parent_path());
    CHECK(fs::is_regular_file(temp));
    CHECK(mode_of(temp) == 0600);

    auto loaded = store.load(ec);
    REQUIRE_FALSE(ec);
    REQUIRE(loaded.has_value());
    require_same(*loaded, old_token);

    // The leftover temporary file breaks neither a later save nor a later load.
    const RefreshToken newer = sample_token("rt-newer");
    store.save(newer, ec);
    REQUIRE_FALSE(ec);
    loaded = store.load(ec);
    REQUIRE(loaded.has_value());
    require_same(*loaded, newer);
    CHECK(fs::exists(temp));

    SECTION("completing the interrupted save installs its token") {
        detail::commit_temp_file(temp, path, ec);
        REQUIRE_FALSE(ec);
        CHECK_FALSE(fs::exists(temp));
        loaded = store.load(ec);
        REQUIRE(loaded.has_value());
        CHECK(loaded->value == secret("rt-new"));
    }
    SECTION("each save gets a temporary file of its own") {
        const fs::path other = detail::write_temp_file(path, contents, ec);
        REQUIRE_FALSE(ec);
        CHECK(other != temp);
        CHECK(other != path);
    }
    Secret::wipe(contents);
}

TEST_CASE("FileTokenStore: a save removes the temporary files that crashes left behind, and nothing else") {
    TempDir dir;
    const fs::path path = dir.path() / "token.json";
    FileTokenStore store(path);
    error_code ec;
    std::string contents = detail::format_token_file(sample_token("rt-crashed"));
    const fs::path abandoned = detail::write_temp_file(path, contents, ec);
    REQUIRE_FALSE(ec);
    const fs::path in_progress = detail::write_temp_file(path, contents, ec);
    REQUIRE_FALSE(ec);
    Secret::wipe(contents);
    const auto long_ago = fs::file_time_type::clock::now() - detail::abandoned_temp_file_age - minutes(1);
    fs::last_write_time(abandoned, long_ago);
    // Look-alikes that are not ours to remove, however old: a link, a directory, another file's temp.
    const fs::path link = fs::path(path.string() + ".tmp.1.link");
    fs::create_symlink(abandoned, link);
    const fs::path directory = fs::path(path.string() + ".tmp.2.dir");
    fs::create_directory(directory);
    const fs::path other = dir.path() / "other.json.tmp.3.0000000000000000";
    std::ofstream(other) << "x";
    fs::last_write_time(other, long_ago);

    store.save(sample_token("rt-new"), ec);
    REQUIRE_FALSE(ec);
    CHECK_FALSE(fs::exists(abandoned));
    CHECK(fs::exists(in_progress));  // recent: it may belong to a save still running elsewhere
    CHECK(fs::is_symlink(link));
    CHECK(fs::is_directory(directory));
    CHECK(fs::exists(other));
    auto loaded = store.load(ec);
    REQUIRE(loaded.has_value());
    CHECK(loaded->value == secret("rt-new"));
}

TEST_CASE("FileTokenStore reports OS errors with their system codes") {
    TempDir dir;
    error_code ec;
    FileTokenStore(dir.path() / "nowhere" / "token.json").save(sample_token(), ec);
    CHECK(ec == boost::system::errc::no_such_file_or_directory);
    CHECK(entries(dir.path()).empty());
}

TEST_CASE("The token file's contents and errors never leak the token elsewhere") {
    const RefreshToken token = sample_token("rt-SECRET-VALUE-0123456789");
    std::string contents = detail::format_token_file(token);
    // The value is in the file (that is the point) exactly once, and nowhere in an error.
    CHECK(contents.find("rt-SECRET-VALUE-0123456789") != std::string::npos);
    CHECK(contents.find("rt-SECRET-VALUE-0123456789") == contents.rfind("rt-SECRET-VALUE-0123456789"));
    Diagnostics diag;
    error_code ec;
    const std::string broken = contents.substr(0, contents.size() - 3);
    CHECK_FALSE(detail::parse_token_file(broken, diag, ec).has_value());
    CHECK(ec == Error::malformed_token_file);
    CHECK(diag.to_string().find("SECRET") == std::string::npos);
    CHECK(ec.message().find("SECRET") == std::string::npos);

    // The diagnostics name the field at fault, without its value.
    diag.clear();
    std::string without_token = contents;
    without_token.replace(without_token.find("refresh_token"), 13, "refresh_tokex");
    CHECK_FALSE(detail::parse_token_file(without_token, diag, ec).has_value());
    CHECK(ec == Error::malformed_token_file);
    CHECK(diag.field() == "refresh_token");
    CHECK(diag.to_string().find("SECRET") == std::string::npos);
    Secret::wipe(without_token);
    Secret::wipe(contents);
}
