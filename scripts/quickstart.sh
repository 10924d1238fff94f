#!/usr/bin/env bash
# Builds and runs examples/quickstart.cpp: a refresh token, an access token and an authorized call,
# against the embedded fake Alation, or a real catalog when ALATION_URL (and credentials) are set.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh"
export CCACHE_BASEDIR=$root
build=$root/build/quickstart
if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
        -DALATION_AUTH_BUILD_TESTS=OFF -DALATION_AUTH_BUILD_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$build" --target quickstart -j "$(nproc)"
exec "$build/examples/quickstart"
