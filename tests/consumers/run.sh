#!/usr/bin/env bash
# Builds and runs the three consumer projects (add_subdirectory, FetchContent, find_package after
# `cmake --install` into a temporary prefix), each header-only and with separate compilation, in
# build directories of their own, and checks that
# find_package rejects incompatible versions. Exits non-zero if anything fails.
#
# Usage: tests/consumers/run.sh [WORK_DIR]
#   WORK_DIR  where build trees, the install prefix and logs go (default: a temporary directory,
#             removed afterwards unless something failed).
# Environment: JOBS (default 2), CXX, CMAKE_GENERATOR (default Ninja when available).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
jobs=${JOBS:-2}

if [[ $# -ge 1 ]]; then
    work=$1
    mkdir -p "$work"
    keep_work=1
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/alation-auth-consumers.XXXXXX")
    keep_work=0
fi

configure_args=()
if [[ -z ${CMAKE_GENERATOR:-} ]] && command -v ninja >/dev/null; then
    configure_args+=(-G Ninja)
fi
if command -v ccache >/dev/null; then
    configure_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

failures=0

# step NAME COMMAND...: runs COMMAND with its output in $work/NAME.log; prints the log's tail on failure.
step() {
    local name=$1
    shift
    local start=$SECONDS
    if "$@" >"$work/$name.log" 2>&1; then
        echo "ok    $name ($((SECONDS - start)) s)"
        return 0
    fi
    echo "FAIL  $name ($((SECONDS - start)) s), log: $work/$name.log"
    tail -n 40 "$work/$name.log" | sed 's/^/      /'
    return 1
}

# consumer NAME CONFIGURE_ARGS...: configures, builds and runs tests/consumers/NAME, once
# header-only and once with separate compilation, so that both modes keep working.
consumer() {
    local name=$1
    shift
    local mode separate
    for mode in header-only separate; do
        separate=OFF
        [[ $mode == separate ]] && separate=ON
        local run="$name-$mode" build="$work/build-$name-$mode"
        rm -rf "$build"
        step "$run-configure" cmake -S "$here/$name" -B "$build" "${configure_args[@]}" \
                -DCONSUMER_SEPARATE_COMPILATION=$separate "$@" &&
            step "$run-build" cmake --build "$build" -j "$jobs" &&
            step "$run-run" timeout 60 "$build/consumer" && sed 's/^/      /' "$work/$run-run.log" ||
            failures=$((failures + 1))
    done
}

prefix="$work/prefix"
rm -rf "$prefix" "$work/build-install"
if step install-configure cmake -S "$root" -B "$work/build-install" "${configure_args[@]}" \
        -DCMAKE_INSTALL_PREFIX="$prefix" -DALATION_AUTH_BUILD_TESTS=OFF \
        -DALATION_AUTH_BUILD_EXAMPLES=OFF -DALATION_AUTH_BUILD_BENCHMARKS=OFF &&
    step install cmake --install "$work/build-install"; then
    consumer find_package -DCMAKE_PREFIX_PATH="$prefix"
    # Before 1.0 only the same minor version is compatible; 1.x is never satisfied by 0.x.
    for version in 0.2 1.0; do
        log="$work/find_package-rejects-$version.log"
        if cmake -S "$here/find_package" -B "$work/build-reject-$version" "${configure_args[@]}" \
                -DCMAKE_PREFIX_PATH="$prefix" -DALATION_AUTH_REQUIRED_VERSION="$version" >"$log" 2>&1 ||
            ! grep -q 'compatible with requested version' "$log"; then
            echo "FAIL  find_package-rejects-$version: not rejected as incompatible, log: $log"
            failures=$((failures + 1))
        else
            echo "ok    find_package-rejects-$version"
        fi
    done
else
    failures=$((failures + 1))
fi
consumer add_subdirectory -DALATION_AUTH_SOURCE_DIR="$root"
consumer fetch_content -DALATION_AUTH_SOURCE_DIR="$root"

if [[ $failures -ne 0 ]]; then
    echo "$failures consumer check(s) failed; logs in $work"
    exit 1
fi
if [[ $keep_work -eq 0 ]]; then
    rm -rf "$work"
fi
echo "all consumer checks passed"
