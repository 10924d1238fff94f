#!/usr/bin/env bash
# Builds alation-auth and runs every test: what CI runs. Installs what is missing first.
#
#   scripts/test.sh          everything: a format check; the build with warnings as errors and all ctest tests
#                            (unit, integration over HTTP and TLS, CLI, examples, packaging,
#                            benchmark smoke runs); clang-tidy on the library's code; the whole
#                            suite under AddressSanitizer and UndefinedBehaviorSanitizer; the
#                            concurrency tests under ThreadSanitizer; each fuzzer for FUZZ_SECONDS
#                            (default 45); the three consumer projects (add_subdirectory,
#                            FetchContent, find_package).
#   scripts/test.sh --quick  the format check, the build and ctest only.
#   --matrix                 then the same build with warnings as errors, every ctest test and the
#                            consumers on Debian 13 (g++) and Debian testing (g++ and clang), each
#                            in a root made with debootstrap (scripts/matrix.sh; needs root). CI
#                            runs `scripts/test.sh --matrix`.
#
# Build trees go to build/<preset> (CMakePresets.json) and are reused, so a second run is fast.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
quick=0 matrix=0
for arg in "$@"; do
    case $arg in
        --quick) quick=1 ;;
        --matrix) matrix=1 ;;
        *) echo "usage: $0 [--quick] [--matrix]" >&2; exit 2 ;;
    esac
done

deps=()
[[ $quick == 0 ]] && deps+=(--tests)
[[ $matrix == 1 ]] && deps+=(--matrix)
scripts/install-deps.sh "${deps[@]}"

# ccache keys on paths relative to the checkout, so clones elsewhere share the cache.
export CCACHE_BASEDIR=$root
export CTEST_OUTPUT_ON_FAILURE=1
jobs=$(nproc)
step() { printf '\n=== %s (%s)\n' "$1" "$(date +%T)"; }

step "format: clang-format --dry-run on every C++ file"
git ls-files '*.hpp' '*.ipp' '*.cpp' | xargs clang-format --dry-run --Werror

step "build (warnings are errors) and every ctest test"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
ctest --preset ci

if [[ $quick == 0 ]]; then
    # Two TUs hold every .ipp of the library and of the fake: checking them checks all their code.
    # The presets set CMAKE_CXX_STANDARD, so that the compile commands name C++20 even where it is
    # the compiler's default (g++ 16), which clang-tidy's is not.
    step "clang-tidy (.clang-tidy) on the library and the fake (tests/support/compiled*.cpp), and the Redis store"
    clang-tidy -p build/ci --quiet --warnings-as-errors='*' tests/support/compiled.cpp tests/support/compiled_testing.cpp \
        tests/integration/test_redis_store.cpp

    # The sanitizer builds leave the examples and benchmarks out: the same library code runs in the tests.
    without_programs=(-DALATION_AUTH_BUILD_EXAMPLES=OFF -DALATION_AUTH_BUILD_BENCHMARKS=OFF)

    # The packaging tests build consumers without the sanitizers: the main build ran them.
    step "AddressSanitizer + UndefinedBehaviorSanitizer: every test but packaging"
    cmake --preset asan "${without_programs[@]}" >/dev/null
    cmake --build --preset asan -j "$jobs"
    ctest --preset asan --label-exclude packaging

    step "ThreadSanitizer: the concurrency tests"
    cmake --preset tsan "${without_programs[@]}" >/dev/null
    cmake --build --preset tsan --target integration_tests redis_tests -j "$jobs"
    for tests in integration_tests redis_tests; do
        TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp build/tsan/tests/$tests '[concurrency]'
    done

    step "fuzzers, ${FUZZ_SECONDS:-45} s each"
    ALATION_AUTH_FUZZ_BUILD_DIR=$root/build/fuzz tests/fuzz/run.sh "${FUZZ_SECONDS:-45}"

    step "consumers: add_subdirectory, FetchContent, find_package"
    tests/consumers/run.sh
fi

if [[ $matrix == 1 ]]; then
    step "the toolchain matrix: Debian 13 and Debian testing (scripts/matrix.sh)"
    scripts/matrix.sh
fi

step "all passed"
