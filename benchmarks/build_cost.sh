#!/usr/bin/env bash
# bench_build_cost: seconds to compile (-c, no link) a translation unit that uses a TokenProvider
# with alation-auth header-only (no separate compilation), next to one that includes only Beast
# and does the same HTTP request; same flags, best of 3 (and the median), measured alternately.
# Both wall time and CPU time (user + sys of the compiler) are reported: on a shared machine the
# CPU time is the steadier figure.
#
#   benchmarks/build_cost.sh [--smoke]      (--smoke: one compile each, to check that both build)
#
# CXX picks the compiler (default g++); ccache is not involved.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cxx="${CXX:-g++}"
runs=3
[[ "${1:-}" == "--smoke" ]] && runs=1
flags=(-std=c++20 -O2 -I "$root/include" -c -o /dev/null)
units=(beast_only with_alation_auth)

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Prints "wall cpu" seconds of one compile.
compile_seconds() {
    if ! /usr/bin/time -o "$log.time" -f '%e %U %S' "$cxx" "${flags[@]}" "$here/build_cost/$1.cpp" 2>"$log"; then
        cat "$log" >&2
        echo "build_cost.sh: $1.cpp does not compile" >&2
        exit 1
    fi
    read -r wall user sys <"$log.time"
    rm -f "$log.time"
    echo "$wall $(echo "$user + $sys" | bc)"
}

declare -A wall cpu
for ((i = 0; i < runs; ++i)); do
    for unit in "${units[@]}"; do
        result="$(compile_seconds "$unit")"
        read -r w c <<<"$result"
        wall[$unit]+="$w "
        cpu[$unit]+="$c "
    done
done

stat() {  # best and median of the samples
    printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f", v[1], v[int((NR + 1) / 2)] }'
}
read -r beast_wall beast_wall_median <<<"$(stat "${wall[beast_only]}")"
read -r auth_wall auth_wall_median <<<"$(stat "${wall[with_alation_auth]}")"
read -r beast_cpu beast_cpu_median <<<"$(stat "${cpu[beast_only]}")"
read -r auth_cpu auth_cpu_median <<<"$(stat "${cpu[with_alation_auth]}")"
wall_ratio=$(echo "scale=2; $auth_wall / $beast_wall" | bc)
cpu_ratio=$(echo "scale=2; $auth_cpu / $beast_cpu" | bc)

echo
echo "## bench_build_cost: compile one TU ($("$cxx" --version | head -1), ${flags[*]:0:2}, best of $runs)"
echo
echo "| figure | best | median | unit | target | verdict |"
echo "|---|---:|---:|---|---|---|"
row() { echo "| $1 | $2 | $3 | s |  | $4 |"; }
row "Beast only, one HTTP GET from a coroutine: wall" "$beast_wall" "$beast_wall_median" ""
row "<alation/auth.hpp> header-only, TokenProvider::send: wall" "$auth_wall" "$auth_wall_median" \
    "${wall_ratio}x Beast only"
row "Beast only: CPU (user + sys)" "$beast_cpu" "$beast_cpu_median" ""
row "<alation/auth.hpp> header-only: CPU (user + sys)" "$auth_cpu" "$auth_cpu_median" "${cpu_ratio}x Beast only"
