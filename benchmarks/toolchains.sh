#!/usr/bin/env bash
# bench_hot_path and bench_round_trip built with this machine's toolchain and with Debian testing's
# (in scripts/matrix.sh's root: the newest Boost, g++ and OpenSSL), then run alternately on this
# machine, ROUNDS times each: whether the newest toolchain keeps the figures. Run as root.
#
#   benchmarks/toolchains.sh [--smoke]     (ROUNDS, default 3; SUITE, default testing)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
rounds=${ROUNDS:-3}
suite=${SUITE:-testing}
programs=(bench_hot_path bench_round_trip)

versions() { echo "g++ $(g++ -dumpfullversion), Boost $(grep -m1 '#define BOOST_LIB_VERSION' /usr/include/boost/version.hpp | cut -d'"' -f2)"; }

# Both trees Release, as benchmarks/run_all.sh builds them.
build_commands() {
    echo "cmake -S . -B $1 -G Ninja -DCMAKE_BUILD_TYPE=Release -DALATION_AUTH_BUILD_TESTS=OFF" \
        "-DALATION_AUTH_BUILD_EXAMPLES=OFF >/dev/null && cmake --build $1 -j $(nproc) --target ${programs[*]}"
}
echo "=== host: building"
bash -c "$(build_commands build/bench-host)"
echo "=== $suite: building"
scripts/matrix.sh --in "$suite" "$(build_commands "build/bench-$suite")"

for ((round = 1; round <= rounds; round++)); do
    for program in "${programs[@]}"; do
        echo "=== round $round, $program, host: $(versions)"
        "build/bench-host/benchmarks/$program" "$@"
        scripts/matrix.sh --in "$suite" "$(declare -f versions);" \
            "echo \"=== round $round, $program, $suite: \$(versions)\"; build/bench-$suite/benchmarks/$program $*" |
            grep -v '^=== matrix:'
    done
done
