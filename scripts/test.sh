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
#
# Build trees go to build/<preset> (CMakePresets.json) and are reused, so a second run is fast.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
quick=0
[[ ${1:-} == --quick ]] && quick=1

if [[ $quick == 1 ]]; then scripts/install-deps.sh; else scripts/install-deps.sh --tests; fi

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
[[ $quick == 1 ]] && exit 0

# Two TUs hold every .ipp of the library and of the fake: checking them checks all their code.
step "clang-tidy (.clang-tidy) on the library and the fake (tests/support/compiled*.cpp), and the Redis store"
clang-tidy -p build/ci --quiet --warnings-as-errors='*' tests/support/compiled.cpp tests/support/compiled_testing.cpp \
    tests/integration/test_redis_store.cpp

# The sanitizer builds leave the examples and benchmarks out: the same library code runs in the tests.
without_programs=(-DALATION_AUTH_BUILD_EXAMPLES=OFF -DALATION_AUTH_BUILD_BENCHMARKS=OFF)

step "AddressSanitizer + UndefinedBehaviorSanitizer: every test"
cmake --preset asan "${without_programs[@]}" >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan

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

step "all passed"
