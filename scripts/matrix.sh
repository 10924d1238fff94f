#!/usr/bin/env bash
# Builds alation-auth and runs every ctest test, and the packaging consumers, on other Debian
# suites than the host's: each in a root that Debian's debootstrap makes from the mirror the host
# uses, with that suite's compilers, Boost, CMake, OpenSSL, Catch2, hiredis, Redis and tinyproxy.
# Warnings are errors there too (the ci preset). Run as root (chroot, mount); scripts/test.sh
# --matrix calls it.
#
# Usage: scripts/matrix.sh [SUITE:COMPILER[,COMPILER...] ...]
#   default: trixie:g++ testing:g++,clang++  (Debian 13 with g++; Debian testing with both)
#        scripts/matrix.sh --in SUITE COMMAND...
#   runs COMMAND with bash in the checkout inside SUITE's root (made and set up as above), e.g.
#   `scripts/matrix.sh --in testing scripts/test.sh` or benchmarks/toolchains.sh's builds.
# Environment:
#   ALATION_AUTH_ROOTS  where the roots are kept between runs (default: ~/.cache/alation-auth/roots;
#                       outside the checkout, which is mounted into each)
#   DEBIAN_MIRROR       the mirror (default: the first Debian URI in the host's apt sources)
#   CCACHE_DIR          shared with the roots, so that a second run is fast
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

inside=()
if [[ ${1:-} == --in ]]; then
    [[ $# -ge 3 ]] || { echo "usage: $0 --in SUITE COMMAND..." >&2; exit 2; }
    inside_suite=$2
    shift 2
    inside=("$@")
    set --
fi
runs=("$@")
[[ ${#runs[@]} -eq 0 ]] && runs=(trixie:g++ testing:g++,clang++)
if [[ $(id -u) -ne 0 ]]; then
    echo "matrix: needs root (debootstrap, chroot, mount); run it with sudo" >&2
    exit 2
fi
command -v debootstrap >/dev/null || scripts/install-deps.sh --matrix

roots=${ALATION_AUTH_ROOTS:-${XDG_CACHE_HOME:-$HOME/.cache}/alation-auth/roots}
ccache_dir=${CCACHE_DIR:-$(ccache -k cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")}
mkdir -p "$roots" "$ccache_dir"

host_mirror() {
    local uri
    uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list |
        grep -oE 'https?://[^ ]*/debian/?' | grep -v security | head -n1)
    echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${DEBIAN_MIRROR:-$(host_mirror)}

step() { printf '\n=== matrix: %s (%s)\n' "$1" "$(date +%T)"; }

# Every mount point below $1, innermost first: what a run that was killed may have left mounted.
mounted_below() {
    awk -v dir="$1/" 'index($2 "/", dir) == 1 { print $2 }' /proc/self/mounts | sort -r
}
unmount_below() {
    local point
    for point in $(mounted_below "$1"); do umount "$point" 2>/dev/null || umount -l "$point"; done
}
# Everything mounted into the roots is unmounted whatever happens: the checkout is one of them.
trap 'unmount_below "$roots"' EXIT
bind() {
    mkdir -p "$2"
    mount --bind "$1" "$2"
}

# make_root SUITE DIR: a minimal root of SUITE, made once. Testing and sid share debootstrap's sid
# script (it has none for a suite that has no release yet); testing's Release file may be past its
# Valid-Until on a machine whose mirror is a snapshot, so only inside the root is that not checked.
make_root() {
    local suite=$1 dir=$2 script=()
    [[ -f $dir/.alation-auth-root ]] && return
    # Never through a mount into the root (the checkout, /dev): enter() unmounted $dir already; a
    # killed debootstrap may have left $dir.partial mounted; and stay on this file system.
    unmount_below "$dir.partial"
    rm -rf --one-file-system "$dir" "$dir.partial"
    [[ -e /usr/share/debootstrap/scripts/$suite ]] || script=(/usr/share/debootstrap/scripts/sid)
    step "debootstrap $suite from $mirror"
    debootstrap --variant=minbase "$suite" "$dir.partial" "$mirror" "${script[@]}" >"$roots/$suite-debootstrap.log" 2>&1 || {
        tail -n 20 "$roots/$suite-debootstrap.log" >&2
        return 1
    }
    echo 'Acquire::Check-Valid-Until "false";' >"$dir.partial/etc/apt/apt.conf.d/99alation-auth"
    # No service starts inside the root: the tests start redis-server and tinyproxy themselves.
    printf '#!/bin/sh\nexit 101\n' >"$dir.partial/usr/sbin/policy-rc.d"
    chmod +x "$dir.partial/usr/sbin/policy-rc.d"
    mv "$dir.partial" "$dir"
    touch "$dir/.alation-auth-root"
}

# in_root DIR COMMAND: runs COMMAND with bash in the checkout inside the root.
in_root() {
    local dir=$1
    shift
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        CCACHE_DIR=/var/cache/alation-auth-ccache CCACHE_BASEDIR="$root" CTEST_OUTPUT_ON_FAILURE=1 \
        bash -euo pipefail -c "cd '$root' && $*"
}

# enter SUITE DIR: makes the root if need be, mounts what it needs and installs the dependencies.
enter() {
    local suite=$1 dir=$2 git_dir
    unmount_below "$dir"
    make_root "$suite" "$dir"
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    bind /proc "$dir/proc"
    bind /dev "$dir/dev"
    bind /dev/pts "$dir/dev/pts"
    bind "$root" "$dir$root"
    # A worktree's repository lives outside it.
    git_dir=$(cd "$(git rev-parse --git-common-dir)" && pwd)
    [[ $git_dir == "$root"/* ]] || bind "$git_dir" "$dir$git_dir"
    bind "$ccache_dir" "$dir/var/cache/alation-auth-ccache"

    step "$suite: scripts/install-deps.sh --tests"
    in_root "$dir" scripts/install-deps.sh --tests
    # The checkout belongs to the host's user, whom the root may not know.
    in_root "$dir" 'git config --global --add safe.directory "$PWD"'
    in_root "$dir" 'echo "Debian $(cat /etc/debian_version); $(cmake --version | head -n1); $(openssl version)"'
}

if [[ ${#inside[@]} -gt 0 ]]; then
    enter "$inside_suite" "$roots/$inside_suite"
    in_root "$roots/$inside_suite" "${inside[*]}"
    exit
fi

failed=()
for run in "${runs[@]}"; do
    suite=${run%%:*}
    IFS=, read -r -a compilers <<<"${run#*:}"
    dir=$roots/$suite
    enter "$suite" "$dir"

    for cxx in "${compilers[@]}"; do
        build=build/matrix/$suite-$cxx
        step "$suite, $cxx: build (warnings are errors) and every ctest test"
        in_root "$dir" "$cxx --version | head -n1 && CXX=$cxx cmake --preset ci -B $build >/dev/null &&" \
            "cmake --build $build -j $(nproc) && ctest --test-dir $build --no-tests=error" || failed+=("$suite/$cxx")
    done
    # The consumers check the suite's CMake and the installed package: once per suite is enough.
    step "$suite, ${compilers[0]}: consumers (add_subdirectory, FetchContent, find_package)"
    in_root "$dir" "CXX=${compilers[0]} JOBS=$(nproc) tests/consumers/run.sh" || failed+=("$suite consumers")
    unmount_below "$dir"
done

if [[ ${#failed[@]} -gt 0 ]]; then
    step "FAILED: ${failed[*]}"
    exit 1
fi
step "all passed: ${runs[*]}"
