#!/usr/bin/env bash
# Installs what building and testing alation-auth needs on Debian 12 / Ubuntu, and nothing that
# is already there. Usage: scripts/install-deps.sh [--tests]
#   --tests  also what the full test run needs: clang for the fuzzers, clang-tidy, the sanitizer
#            runtimes, and Python's requests for the benchmark baselines.
set -euo pipefail

# tinyproxy-bin: the real forward proxy the integration and CLI tests start (also in --quick runs).
# libhiredis-dev: the optional Redis token store (alation::auth_redis); redis-server: its tests.
packages=(g++ cmake ninja-build ccache clang-format git libssl-dev
          libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev catch2 tinyproxy-bin
          libhiredis-dev redis-server)
if [[ ${1:-} == --tests ]]; then
    packages+=(clang clang-tidy libclang-rt-14-dev python3 python3-requests)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}"
sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
