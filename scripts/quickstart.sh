#!/usr/bin/env bash
# Builds and runs examples/quickstart.cpp: a refresh token, an access token and an authorized call,
# against the embedded fake Alation, or a real catalog when ALATION_URL (and credentials) are set.
#
# Behind a forward proxy it needs no change: the library reads the proxy from the environment as
# curl does (HTTPS_PROXY for an https:// ALATION_URL; http_proxy for the embedded fake's
# http://127.0.0.1; NO_PROXY exempts hosts), and the example's own GET connects with
# Client::connect, through the same proxy and a CONNECT tunnel.
#
# The build tree is build/quickstart, or ALATION_AUTH_QUICKSTART_BUILD (scripts/matrix.sh's roots
# share the checkout).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh"
export CCACHE_BASEDIR=$root
build=${ALATION_AUTH_QUICKSTART_BUILD:-$root/build/quickstart}
if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
        -DALATION_AUTH_BUILD_TESTS=OFF -DALATION_AUTH_BUILD_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$build" --target quickstart -j "$(nproc)"
exec "$build/examples/quickstart"
