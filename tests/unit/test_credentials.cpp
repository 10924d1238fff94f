#include <alation/auth/credentials.hpp>

#include "catch.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace alation::auth;
using alation::auth::test::TempDir;
using alation::auth::test::write_file;
namespace fs = std::filesystem;

namespace {

using Values = std::map<std::string, std::string>;

// A Secret volume as the kubelet writes it: the values in a timestamped directory, `..data` a
// link to that directory, and each key a link `key -> ..data/key`. update() swaps `..data` the
// way the kubelet does (a new directory, a new link renamed over the old one, the old directory
// removed), so a reader sees the old values or the new ones, never a mix.
class KubeletMount {
public:
    explicit KubeletMount(fs::path directory, const Values& values, mode_t mode = 0400)
        : directory_(std::move(directory)) {
        fs::create_directories(directory_);
        update(values, mode);
    }

    void update(const Values& values, mode_t mode = 0400) {
        const std::string name = "..2026_12_01_21_30_00." + std::to_string(++generation_);
        fs::create_directory(directory_ / name);
        for (const auto& [key, value] : values) write_file(directory_ / name / key, value, mode);
        fs::create_directory_symlink(name, directory_ / "..data_tmp");
        fs::rename(directory_ / "..data_tmp", directory_ / "..data");
        for (const auto& [key, value] : values) {
            if (!fs::is_symlink(fs::symlink_status(directory_ / key)))
                fs::create_symlink(fs::path("..data") / key, directory_ / key);
        }
        if (!current_.empty()) fs::remove_all(directory_ / current_);
        current_ = name;
    }

    [[nodiscard]] const fs::path& directory() const { return directory_; }
    // The timestamped directory `..data` leads to.
    [[nodiscard]] fs::path data() const { return directory_ / current_; }
    [[nodiscard]] MountedSecret mount() const { return MountedSecret{directory_}; }

private:
    fs::path directory_;
    std::string current_;
    int generation_ = 0;
};

const std::string token_value = "rt-0f1e2d3c4b5a69788796a5b4c3d2e1f0-SECRETVALUE";

Values refresh_values(std::string token = token_value + "\n", std::string user_id = "42\n") {
    return {{"refresh_token", std::move(token)}, {"user_id", std::move(user_id)}};
}

// Loads from `mount` and expects `expected` (an Error, or an errc for a system error), checking that the diagnostics
// name `file` and that neither they nor the exception reveal the token.
template <class Expected>
void require_refused(const MountedSecret& mount, Expected expected, const fs::path& file) {
    Diagnostics diag;
    error_code ec;
    const auto loaded = refresh_token_from_mount(mount, diag, ec);
    CHECK(ec == expected);
    CHECK(loaded.value.empty());
    CHECK(diag.field() == file.string());
    CHECK_FALSE(diag.message().empty());
    CHECK(diag.to_string().find("SECRETVALUE") == std::string::npos);
    try {
        (void)refresh_token_from_mount(mount);
        FAIL("no exception");
    } catch (const ErrorWithDiagnostics& e) {
        CHECK(e.code() == expected);
        CHECK(e.diagnostics() == diag);
        CHECK(std::string(e.what()).find("SECRETVALUE") == std::string::npos);
    }
}

RefreshTokenCredentials require_loaded(const MountedSecret& mount) {
    Diagnostics diag;
    error_code ec = Error::timeout;
    auto loaded = refresh_token_from_mount(mount, diag, ec);
    INFO(diag.to_string());
    REQUIRE_FALSE(ec);
    return loaded;
}

bool running_as_root() { return ::geteuid() == 0; }

// Sets or unsets environment variables for one test, and restores them at its end.
class EnvGuard {
public:
    EnvGuard(std::initializer_list<std::pair<std::string, std::optional<std::string>>> values) {
        for (const auto& [name, value] : values) {
            const char* old = std::getenv(name.c_str());
            saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
            if (value)
                REQUIRE(::setenv(name.c_str(), value->c_str(), 1) == 0);
            else
                REQUIRE(::unsetenv(name.c_str()) == 0);
        }
    }
    EnvGuard(const EnvGuard&) = delete;
    EnvGuard& operator=(const EnvGuard&) = delete;
    ~EnvGuard() {
        for (const auto& [name, value] : saved_) {
            if (value)
                ::setenv(name.c_str(), value->c_str(), 1);
            else
                ::unsetenv(name.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace

TEST_CASE("check_credential drops one trailing newline and refuses what no credential holds", "[credentials]") {
    auto check = [](std::string value, bool trim) {
        const std::string_view fault = detail::check_credential(value, trim);
        return std::pair(std::string(fault), value);
    };
    CHECK(check("rt-1\n", true) == std::pair(std::string(), std::string("rt-1")));
    CHECK(check("rt-1\r\n", true) == std::pair(std::string(), std::string("rt-1")));
    CHECK(check("rt-1", true) == std::pair(std::string(), std::string("rt-1")));
    CHECK(check("two words", true).first.empty());

    CHECK(check("rt-1\n\n", true).first.find("control") != std::string::npos);
    CHECK(check("rt-1\n", false).first.find("control") != std::string::npos);
    CHECK(check("", true).first == "empty");
    CHECK(check("\n", true).first == "empty");
    CHECK(check("\r\n", true).first == "empty");
    CHECK_FALSE(check("rt\t1", true).first.empty());
    CHECK_FALSE(check(std::string("rt\0001", 4), true).first.empty());
    CHECK_FALSE(check("rt\x7f", true).first.empty());
    CHECK_FALSE(check("\x1b[2Jrt", true).first.empty());
    CHECK(check(" rt-1", true).first.find("space") != std::string::npos);
    CHECK(check("rt-1 \n", true).first.find("space") != std::string::npos);
    // Bytes above ASCII are not control characters: UTF-8 passes.
    CHECK(check("r\xc3\xa9sum\xc3\xa9", true).first.empty());
}

TEST_CASE("parse_user_id takes a positive decimal number and nothing else", "[credentials]") {
    CHECK(detail::parse_user_id("42") == 42);
    CHECK(detail::parse_user_id("1") == 1);
    CHECK(detail::parse_user_id("9223372036854775807") == INT64_MAX);
    for (const char* bad :
         {"", "0", "00", "-1", "-0", "+1", " 42", "42 ", "42x", "0x2a", "4.2", "9223372036854775808"}) {
        INFO(bad);
        CHECK_FALSE(detail::parse_user_id(bad).has_value());
    }
}

TEST_CASE("A refresh token loads from a kubelet-style Secret mount", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values());
    auto loaded = require_loaded(secret.mount());
    CHECK(loaded.value == Secret(token_value));
    CHECK(loaded.user_id == 42);

    SECTION("without trailing newlines, and with \\r\\n") {
        secret.update(refresh_values(token_value, "42"));
        CHECK(require_loaded(secret.mount()).value == Secret(token_value));
        secret.update(refresh_values(token_value + "\r\n", "7\r\n"));
        loaded = require_loaded(secret.mount());
        CHECK(loaded.value == Secret(token_value));
        CHECK(loaded.user_id == 7);
    }
    SECTION("through a mount directory given by a symbolic link") {
        fs::create_directory_symlink(secret.directory(), tmp.path() / "link-to-mount");
        CHECK(require_loaded(MountedSecret{tmp.path() / "link-to-mount"}).user_id == 42);
    }
    SECTION("group-readable, for a group of ours (fsGroup)") {
        secret.update(refresh_values(), 0440);
        REQUIRE(::chown((secret.data() / "refresh_token").c_str(), ::geteuid(), ::getegid()) == 0);
        CHECK(require_loaded(secret.mount()).user_id == 42);
    }
}

TEST_CASE("A Secret mount's keys can be renamed, and plain files work too", "[credentials]") {
    TempDir tmp;
    write_file(tmp.path() / "alation-refresh-token", token_value + "\n");
    write_file(tmp.path() / "alation-user", "1234\n", 0400);
    MountedSecret mount{tmp.path()};
    mount.refresh_token_key = "alation-refresh-token";
    mount.user_id_key = "alation-user";
    const auto loaded = require_loaded(mount);
    CHECK(loaded.value == Secret(token_value));
    CHECK(loaded.user_id == 1234);

    mount.user_id_key = "user_id";
    require_refused(mount, boost::system::errc::no_such_file_or_directory, tmp.path() / "user_id");
}

TEST_CASE("Re-reading a Secret mount after the kubelet swaps ..data gives the new values", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values());
    const fs::path first_data = secret.data();
    CHECK(require_loaded(secret.mount()).value == Secret(token_value));

    secret.update(refresh_values("rt-rotated\n", "43\n"));
    REQUIRE_FALSE(fs::exists(first_data));
    const auto loaded = require_loaded(secret.mount());
    CHECK(loaded.value == Secret("rt-rotated"));
    CHECK(loaded.user_id == 43);
}

TEST_CASE("A Secret mount's symbolic links may not lead out of it", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values());
    const fs::path entry = secret.directory() / "refresh_token";
    // A well-kept file outside the mount: refused for where it is, not for what it is.
    write_file(tmp.path() / "elsewhere", token_value + "\n", 0400);

    SECTION("an absolute link") {
        fs::remove(entry);
        fs::create_symlink(tmp.path() / "elsewhere", entry);
    }
    SECTION("a relative link") {
        fs::remove(entry);
        fs::create_symlink("../elsewhere", entry);
    }
    SECTION("a link inside the data directory") {
        fs::remove(secret.data() / "refresh_token");
        fs::create_symlink("../../elsewhere", secret.data() / "refresh_token");
    }
    SECTION("..data itself") {
        fs::create_directory(tmp.path() / "data-outside");
        write_file(tmp.path() / "data-outside" / "refresh_token", token_value, 0400);
        fs::remove(secret.directory() / "..data");
        fs::create_directory_symlink(tmp.path() / "data-outside", secret.directory() / "..data");
    }
    SECTION("the mount directory itself") {
        fs::remove(entry);
        fs::create_directory_symlink(".", entry);
    }
    const std::string message = [&] {
        Diagnostics diag;
        error_code ec;
        (void)refresh_token_from_mount(secret.mount(), diag, ec);
        return diag.message();
    }();
    CHECK(message.find("out of the mount") != std::string::npos);
    require_refused(secret.mount(), Error::insecure_token_file, entry);
}

TEST_CASE("A Secret mount's key must name a file of the directory", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values());
    write_file(tmp.path() / "refresh_token", token_value, 0400);
    MountedSecret mount = secret.mount();
    for (const std::string key : {"", ".", "..", "../refresh_token", "..data/refresh_token", "/etc/passwd"}) {
        INFO(key);
        mount.refresh_token_key = key;
        require_refused(mount, Error::invalid_argument, secret.directory() / key);
    }
}

TEST_CASE("A Secret mount's files must be private enough", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values());
    const fs::path entry = secret.directory() / "refresh_token";
    const fs::path file = secret.data() / "refresh_token";

    SECTION("world-readable (Kubernetes' default 0644): only when allowed") {
        secret.update(refresh_values(), 0644);
        require_refused(secret.mount(), Error::insecure_token_file, entry);
        MountedSecret allowed = secret.mount();
        allowed.allow_world_readable = true;
        CHECK(require_loaded(allowed).value == Secret(token_value));
    }
    for (const mode_t mode : {0420, 0402, 0660, 0606, 0666}) {
        DYNAMIC_SECTION("writable by others, mode 0" << std::oct << mode) {
            REQUIRE(::chmod(file.c_str(), mode) == 0);
            MountedSecret mount = secret.mount();
            mount.allow_world_readable = true;  // still refused
            require_refused(mount, Error::insecure_token_file, entry);
        }
    }
    SECTION("not a regular file") {
        fs::remove(file);
        SECTION("a directory") { fs::create_directory(file); }
        SECTION("a FIFO") { REQUIRE(::mkfifo(file.c_str(), 0400) == 0); }
        require_refused(secret.mount(), Error::insecure_token_file, entry);
    }
    SECTION("owned by another user, or group-readable by a group not ours") {
        if (!running_as_root()) {
            WARN("not root: cannot give files to another user; skipped");
            return;
        }
        constexpr uid_t stranger = 4242;
        SECTION("the file") { REQUIRE(::chown(file.c_str(), stranger, ::getegid()) == 0); }
        SECTION("the link") { REQUIRE(::lchown(entry.c_str(), stranger, ::getegid()) == 0); }
        SECTION("group-readable by another group") {
            REQUIRE(::chown(file.c_str(), 0, stranger) == 0);
            REQUIRE(::chmod(file.c_str(), 0440) == 0);
        }
        require_refused(secret.mount(), Error::insecure_token_file, entry);
    }
    SECTION("world-readable when allowed, whatever its group (Kubernetes' default, root:root 0644)") {
        if (!running_as_root()) {
            WARN("not root: cannot give files to another group; skipped");
            return;
        }
        REQUIRE(::chown(file.c_str(), 0, 4242) == 0);
        REQUIRE(::chmod(file.c_str(), 0644) == 0);
        require_refused(secret.mount(), Error::insecure_token_file, entry);
        MountedSecret allowed = secret.mount();
        allowed.allow_world_readable = true;
        CHECK(require_loaded(allowed).value == Secret(token_value));
    }
}

TEST_CASE("A Secret mount that is missing a key or a value is refused with the file's name", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values());
    const fs::path entry = secret.directory() / "refresh_token";

    SECTION("no mount") {
        const MountedSecret missing{tmp.path() / "nowhere"};
        require_refused(missing, boost::system::errc::no_such_file_or_directory, missing.directory / "refresh_token");
    }
    SECTION("no such key") {
        fs::remove(secret.directory() / "user_id");
        require_refused(secret.mount(), boost::system::errc::no_such_file_or_directory, secret.directory() / "user_id");
    }
    SECTION("a dangling link") {
        fs::remove(secret.data() / "refresh_token");
        require_refused(secret.mount(), boost::system::errc::no_such_file_or_directory, entry);
    }
    SECTION("unreadable") {
        if (running_as_root()) {
            WARN("root reads any file; skipped");
            return;
        }
        REQUIRE(::chmod((secret.data() / "refresh_token").c_str(), 0) == 0);
        require_refused(secret.mount(), boost::system::errc::permission_denied, entry);
    }
}

TEST_CASE("A Secret mount's values are checked", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values());
    const fs::path token_entry = secret.directory() / "refresh_token";
    const fs::path user_entry = secret.directory() / "user_id";

    const std::vector<std::string> bad_tokens = {"",
                                                 "\n",
                                                 "SECRETVALUE\n\n",
                                                 "SECRETVALUE\tx",
                                                 " SECRETVALUE",
                                                 "SECRETVALUE \n",
                                                 std::string("SECRET\0VALUE", 12)};
    for (const std::string& bad : bad_tokens) {
        secret.update(refresh_values(bad));
        require_refused(secret.mount(), Error::malformed_token_file, token_entry);
    }
    for (const std::string bad : {"", "\n", "0", "forty-two", "-42", "42 people", "0x2a", "99999999999999999999"}) {
        INFO(bad);
        secret.update(refresh_values(token_value, bad));
        require_refused(secret.mount(), Error::malformed_token_file, user_entry);
    }
}

TEST_CASE("A Secret mount's files are bounded in size", "[credentials]") {
    TempDir tmp;
    const std::size_t limit = std::size_t{64} * 1024;
    KubeletMount secret(tmp.path() / "alation", refresh_values(std::string(limit, 'x')));
    CHECK(require_loaded(secret.mount()).value.size() == limit);

    // With its newline the file is one byte over: the newline would be dropped, but the file is
    // not read whole.
    secret.update(refresh_values(std::string(limit, 'x') + "\n"));
    require_refused(secret.mount(), Error::malformed_token_file, secret.directory() / "refresh_token");
    secret.update(refresh_values(std::string(std::size_t{4} << 20, 'x')));
    require_refused(secret.mount(), Error::malformed_token_file, secret.directory() / "refresh_token");
}

TEST_CASE("A refresh token loads from the environment", "[credentials]") {
    SECTION("both set") {
        EnvGuard env{{"ALATION_REFRESH_TOKEN", token_value}, {"ALATION_USER_ID", "42"}};
        const auto loaded = refresh_token_from_environment();
        REQUIRE(loaded.has_value());
        CHECK(loaded->value == Secret(token_value));
        CHECK(loaded->user_id == 42);
    }
    SECTION("under other names") {
        EnvGuard env{
            {"ALATION_REFRESH_TOKEN", std::nullopt}, {"MY_ALATION_TOKEN", "rt-mine"}, {"MY_ALATION_USER", "7"}};
        CredentialVariables names;
        names.refresh_token = "MY_ALATION_TOKEN";
        names.user_id = "MY_ALATION_USER";
        const auto loaded = refresh_token_from_environment(names);
        REQUIRE(loaded.has_value());
        CHECK(loaded->value == Secret("rt-mine"));
        CHECK(loaded->user_id == 7);
    }
    SECTION("neither set, or set empty: nothing, and no error") {
        EnvGuard env{{"ALATION_REFRESH_TOKEN", std::nullopt}, {"ALATION_USER_ID", ""}};
        Diagnostics diag;
        error_code ec = Error::timeout;
        CHECK_FALSE(refresh_token_from_environment({}, diag, ec).has_value());
        CHECK_FALSE(ec);
        CHECK(diag == Diagnostics{});
        CHECK_FALSE(refresh_token_from_environment().has_value());
    }
}

TEST_CASE("Bad credentials in the environment are refused with the variable's name", "[credentials]") {
    auto refused = [](const std::string& field) {
        Diagnostics diag;
        error_code ec;
        CHECK_FALSE(refresh_token_from_environment({}, diag, ec).has_value());
        CHECK(ec == Error::invalid_argument);
        CHECK(diag.field() == field);
        CHECK_FALSE(diag.message().empty());
        CHECK(diag.to_string().find("SECRETVALUE") == std::string::npos);
        CHECK_THROWS_AS(refresh_token_from_environment(), ErrorWithDiagnostics);
    };
    SECTION("the token without the user id") {
        EnvGuard env{{"ALATION_REFRESH_TOKEN", token_value}, {"ALATION_USER_ID", std::nullopt}};
        refused("ALATION_USER_ID");
    }
    SECTION("the user id without the token") {
        EnvGuard env{{"ALATION_REFRESH_TOKEN", ""}, {"ALATION_USER_ID", "42"}};
        refused("ALATION_REFRESH_TOKEN");
    }
    SECTION("a user id that is not one") {
        EnvGuard env{{"ALATION_REFRESH_TOKEN", token_value}, {"ALATION_USER_ID", "42\n"}};
        refused("ALATION_USER_ID");
    }
    for (const std::string bad : {"SECRETVALUE\n", " SECRETVALUE", "SECRET\x1bVALUE"}) {
        DYNAMIC_SECTION("a token with a control character or a space: " << bad.size() << " bytes") {
            EnvGuard env{{"ALATION_REFRESH_TOKEN", bad}, {"ALATION_USER_ID", "42"}};
            refused("ALATION_REFRESH_TOKEN");
        }
    }
}

TEST_CASE("OAuth client credentials load from a Secret mount with the same checks", "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation",
                        {{"client_id", "reporting-service\n"}, {"client_secret", "cs-SECRETVALUE\n"}});
    Diagnostics diag;
    error_code ec = Error::timeout;
    auto loaded = client_credentials_from_mount(secret.mount(), diag, ec);
    REQUIRE_FALSE(ec);
    CHECK(loaded.client_id == "reporting-service");
    CHECK(loaded.client_secret == Secret("cs-SECRETVALUE"));

    SECTION("after the kubelet swaps ..data") {
        secret.update({{"client_id", "reporting-service"}, {"client_secret", "cs-rotated"}});
        CHECK(client_credentials_from_mount(secret.mount()).client_secret == Secret("cs-rotated"));
    }
    SECTION("under other key names") {
        write_file(secret.directory() / "..data" / "id", "other-client", 0400);
        fs::create_symlink("..data/id", secret.directory() / "id");
        MountedSecret mount = secret.mount();
        mount.client_id_key = "id";
        CHECK(client_credentials_from_mount(mount).client_id == "other-client");
        mount.client_secret_key = "secret";
        loaded = client_credentials_from_mount(mount, diag, ec);
        CHECK(ec == boost::system::errc::no_such_file_or_directory);
        CHECK(diag.field() == (secret.directory() / "secret").string());
    }
    SECTION("a bad secret, an insecure file") {
        secret.update({{"client_id", "reporting-service"}, {"client_secret", "cs-SECRETVALUE\n\n"}});
        loaded = client_credentials_from_mount(secret.mount(), diag, ec);
        CHECK(ec == Error::malformed_token_file);
        CHECK(diag.field() == (secret.directory() / "client_secret").string());
        CHECK(loaded.client_secret.empty());

        secret.update({{"client_id", "reporting-service"}, {"client_secret", "cs-SECRETVALUE"}}, 0606);
        loaded = client_credentials_from_mount(secret.mount(), diag, ec);
        CHECK(ec == Error::insecure_token_file);
        CHECK(diag.to_string().find("SECRETVALUE") == std::string::npos);
        CHECK_THROWS_AS(client_credentials_from_mount(secret.mount()), ErrorWithDiagnostics);
    }
}

TEST_CASE("OAuth client credentials load from the environment", "[credentials]") {
    Diagnostics diag;
    error_code ec = Error::timeout;
    SECTION("both set") {
        EnvGuard env{{"ALATION_CLIENT_ID", "reporting-service"}, {"ALATION_CLIENT_SECRET", "cs-1"}};
        const auto loaded = client_credentials_from_environment();
        REQUIRE(loaded.has_value());
        CHECK(loaded->client_id == "reporting-service");
        CHECK(loaded->client_secret == Secret("cs-1"));
    }
    SECTION("under other names") {
        EnvGuard env{{"MY_CLIENT", "mine"}, {"MY_SECRET", "cs-mine"}};
        CredentialVariables names;
        names.client_id = "MY_CLIENT";
        names.client_secret = "MY_SECRET";
        CHECK(client_credentials_from_environment(names)->client_secret == Secret("cs-mine"));
    }
    SECTION("neither set") {
        EnvGuard env{{"ALATION_CLIENT_ID", std::nullopt}, {"ALATION_CLIENT_SECRET", std::nullopt}};
        CHECK_FALSE(client_credentials_from_environment({}, diag, ec).has_value());
        CHECK_FALSE(ec);
    }
    SECTION("the id without the secret") {
        EnvGuard env{{"ALATION_CLIENT_ID", "reporting-service"}, {"ALATION_CLIENT_SECRET", std::nullopt}};
        CHECK_FALSE(client_credentials_from_environment({}, diag, ec).has_value());
        CHECK(ec == Error::invalid_argument);
        CHECK(diag.field() == "ALATION_CLIENT_SECRET");
    }
    SECTION("a secret with a line break") {
        EnvGuard env{{"ALATION_CLIENT_ID", "reporting-service"}, {"ALATION_CLIENT_SECRET", "cs-SECRETVALUE\n"}};
        CHECK_FALSE(client_credentials_from_environment({}, diag, ec).has_value());
        CHECK(ec == Error::invalid_argument);
        CHECK(diag.field() == "ALATION_CLIENT_SECRET");
        CHECK(diag.to_string().find("SECRETVALUE") == std::string::npos);
    }
}

TEST_CASE("Two keys are read from one version of the Secret, even when the kubelet swaps between them",
          "[credentials]") {
    TempDir tmp;
    KubeletMount secret(tmp.path() / "alation", refresh_values("rt-old\n", "41\n"));
    int swaps = 0;
    // The swap lands after the token is read and before the user id is.
    auto swap_once = [&] {
        if (swaps++ == 0) secret.update(refresh_values("rt-new\n", "42\n"));
    };
    Secret token;
    Secret user_id;
    Diagnostics diag;
    error_code ec;
    REQUIRE(detail::read_mounted_pair(secret.mount(), "refresh_token", "user_id", token, user_id, diag, ec, swap_once));
    CHECK(swaps == 2);
    CHECK(token == Secret("rt-new"));
    CHECK(user_id == Secret("42"));

    SECTION("plain files in a plain directory are read once") {
        TempDir plain;
        write_file(plain.path() / "refresh_token", "rt-plain");
        write_file(plain.path() / "user_id", "7");
        swaps = 1;
        REQUIRE(detail::read_mounted_pair(MountedSecret{plain.path()}, "refresh_token", "user_id", token, user_id, diag,
                                          ec, swap_once));
        CHECK(swaps == 2);
        CHECK(token == Secret("rt-plain"));
    }
}
