#!/usr/bin/env bash
# Installs what building and testing alation-auth needs on Debian 12, 13 and testing, or Ubuntu
# 24.04 and later, and nothing that is already there. Package names are chosen by what this
# machine's apt offers, so no release is named here.
# Usage: scripts/install-deps.sh [--tests] [--matrix]
#   --tests   also what the full test run needs: clang for the fuzzers, clang-tidy, the sanitizer
#             runtimes, and Python's requests for the benchmark baselines.
#   --matrix  also debootstrap, which scripts/matrix.sh makes the other Debian suites' roots with.
set -euo pipefail

tests=0 matrix=0
for arg in "$@"; do
    case $arg in
        --tests) tests=1 ;;
        --matrix) matrix=1 ;;
        *) echo "usage: $0 [--tests] [--matrix]" >&2; exit 2 ;;
    esac
done

sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
# The version apt would install (epoch and Debian revision dropped), or nothing.
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: \(.*:\)\{0,1\}\([0-9][^-+~]*\).*/\2/p'; }
# Whether dotted version $1 is at least $2.
at_least() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]; }

# apt's lists may be empty (a new container) or old; read them fresh once, when a name is missing.
updated=0
update_once() {
    [[ $updated == 1 ]] && return
    "${sudo[@]}" apt-get update -qq
    updated=1
}

# Boost >= 1.81 with Asio, Beast, JSON and URL. Where the unversioned packages are new enough
# (Debian 13 and later, Ubuntu 24.04 and later) they are the ones; Debian 12's libboost-dev is 1.74,
# so there the newest versioned libboostX.Y-dev of at least 1.81 is taken.
boost_minimum=1.81
boost_packages() {
    local version
    version=$(candidate libboost-dev)
    if [[ -n $version ]] && at_least "$version" "$boost_minimum"; then
        echo "libboost-dev libboost-json-dev libboost-url-dev"
        return
    fi
    version=$(apt-cache pkgnames libboost1. 2>/dev/null | sed -n 's/^libboost\(1\.[0-9]*\)-dev$/\1/p' | sort -V | tail -n1)
    if [[ -n $version ]] && at_least "$version" "$boost_minimum"; then
        echo "libboost$version-dev libboost-json$version-dev libboost-url$version-dev"
    fi
}

# The compiler-rt of the clang this machine has or will get: the sanitizers and libFuzzer.
clang_rt_package() {
    local major
    if command -v clang >/dev/null; then
        major=$(clang -dumpversion | cut -d. -f1)
    else
        major=$(candidate clang | cut -d. -f1)
    fi
    [[ -n $major ]] && echo "libclang-rt-$major-dev"
}

# Whether every name in $@ has an installation candidate.
available() {
    local p
    for p in "$@"; do [[ -n $(candidate "$p") ]] || return 1; done
}

choose_packages() {
    local boost
    boost=$(boost_packages)
    if [[ -z $boost ]]; then
        echo "install-deps: this machine's apt offers no Boost $boost_minimum or later (libboost-dev is" \
             "$(candidate libboost-dev || true); no libboost1.8x-dev). alation-auth needs Boost >= $boost_minimum:" \
             "install it by other means and configure with -DBoost_DIR=..." >&2
        return 1
    fi
    # tinyproxy-bin: the real forward proxy the integration and CLI tests start (also in --quick runs).
    # libhiredis-dev: the optional Redis token store (alation::auth_redis), found with pkg-config;
    # redis-server: its tests.
    packages=(g++ cmake ninja-build ccache clang-format git libssl-dev $boost catch2 tinyproxy-bin
              pkg-config libhiredis-dev redis-server)
    if [[ $tests == 1 ]]; then
        local rt
        rt=$(clang_rt_package)
        if [[ -z $rt ]]; then
            echo "install-deps: this machine's apt offers no clang: the full test run needs it" \
                 "(fuzzers, sanitizer runtimes)" >&2
            return 1
        fi
        packages+=(clang clang-tidy "$rt" python3 python3-requests)
    fi
    [[ $matrix == 1 ]] && packages+=(debootstrap)
    return 0
}

missing=()
find_missing() {
    missing=()
    local p
    for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
}

# Choose from the lists apt has; when they lack a name (never updated, or old), read them fresh.
if ! choose_packages 2>/dev/null; then
    update_once
    choose_packages
fi
find_missing
[[ ${#missing[@]} -eq 0 ]] && exit 0
if ! available "${missing[@]}"; then
    update_once
    choose_packages
    find_missing
fi

unavailable=()
for p in "${missing[@]}"; do [[ -n $(candidate "$p") ]] || unavailable+=("$p"); done
if [[ ${#unavailable[@]} -gt 0 ]]; then
    echo "install-deps: this machine's apt has no candidate for: ${unavailable[*]}" >&2
    echo "install-deps: on Debian enable the main component; on Ubuntu, universe" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
update_once
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
