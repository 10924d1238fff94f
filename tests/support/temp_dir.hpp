// Copyright (c) 2026 alation-auth developers. Distributed under the Boost Software License 1.0.
// Files and directories for tests that touch the file system.
#ifndef ALATION_AUTH_TESTS_TEMP_DIR_HPP
#define ALATION_AUTH_TESTS_TEMP_DIR_HPP

#include "catch.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace alation::auth::test {

// A fresh private directory, removed with everything in it at the end of the test.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "alation-auth-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Writes `contents` to `p`, replacing it, and gives it `mode` whatever the umask.
inline void write_file(const std::filesystem::path& p, const std::string& contents, mode_t mode = 0600) {
    {
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out << contents;
        REQUIRE(out.good());
    }
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

}  // namespace alation::auth::test

#endif
