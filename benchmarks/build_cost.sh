#!/usr/bin/env bash
# bench_build_cost: CPU seconds to compile (-c, no link) translation units that use alation-auth,
# each next to the same TU without it, measured alternately, best and median of `runs`:
#   - build_cost/with_alation_auth.cpp (a GET through TokenProvider::send, and the Client and
#     provider built, from <alation/auth.hpp>) against build_cost/beast_only.cpp (the same GET
#     with Beast), header-only and with ALATION_AUTH_SEPARATE_COMPILATION (src.hpp compiled
#     elsewhere, once);
#   - build_cost/send_only.cpp (the same GET, the provider built in another file) against
#     beast_only.cpp, header-only: what each file of a service that sends requests pays;
#   - build_cost/authorize_only.cpp (try_authorize and authorize on a request) against
#     build_cost/request_only.cpp (the header set from a string), with separate compilation;
#   - for reference, no target: build_cost/library_only.cpp (<alation/auth/src.hpp>, the library
#     compiled once) against beast_only.cpp, which accounts for the header-only figure.
# CPU time (user + sys of the compiler) is the figure: on a shared machine it is the steadier one.
#
#   benchmarks/build_cost.sh [--smoke] [--runs N]   (--smoke: one compile each)
#
# CXX picks the compiler (default g++); ccache is not involved. BUILD_COST_TRACE=dir also writes
# clang's -ftime-trace of each TU there (CXX must be clang++): see benchmarks/time_trace_summary.py.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cxx="${CXX:-g++}"
runs=3
while [[ $# -gt 0 ]]; do
    case "$1" in
    --smoke) runs=1 ;;
    --runs) runs="$2"; shift ;;
    *) echo "usage: $0 [--smoke] [--runs N]" >&2; exit 2 ;;
    esac
    shift
done
flags=(-std=c++20 -O2 -I "$root/include" -c -o /dev/null)
separate=-DALATION_AUTH_SEPARATE_COMPILATION
# Each figure: "label|target ratio (- for none)|baseline unit|subject unit|subject's extra flag".
figures=(
    "TokenProvider::send and the Client built in the file, header-only|2.0|beast_only|with_alation_auth|"
    "TokenProvider::send and the Client built, separate compilation|1.15|beast_only|with_alation_auth|$separate"
    "TokenProvider::send, provider built in another file, header-only|2.0|beast_only|send_only|"
    "try_authorize + authorize only, separate compilation|1.1|request_only|authorize_only|$separate"
    "for reference: the library alone (src.hpp)|-|beast_only|library_only|$separate"
)

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Prints the CPU seconds (user + sys) of one compile of unit $1 with the extra flag $2.
compile_seconds() {
    local extra=()
    [[ -n "$2" ]] && extra=("$2")
    if ! /usr/bin/time -o "$log.time" -f '%U %S' "$cxx" "${flags[@]}" "${extra[@]}" \
        "$here/build_cost/$1.cpp" 2>"$log"; then
        cat "$log" >&2
        echo "build_cost.sh: $1.cpp does not compile" >&2
        exit 1
    fi
    read -r user sys <"$log.time"
    rm -f "$log.time"
    echo "$user + $sys" | bc
}

# The distinct compiles (unit and flag), each measured once per round, in turn.
declare -A cpu
compiles=()
for figure in "${figures[@]}"; do
    IFS='|' read -r _ _ baseline subject extra <<<"$figure"
    for key in "$baseline|" "$subject|$extra"; do
        [[ " ${compiles[*]} " == *" $key "* ]] || compiles+=("$key")
    done
done
for ((i = 0; i < runs; ++i)); do
    for key in "${compiles[@]}"; do
        IFS='|' read -r unit extra <<<"$key"
        if [[ -n "${BUILD_COST_TRACE:-}" && $i -eq 0 ]]; then
            # Not timed: the trace slows the compile. unit.json or unit-separate.json.
            mkdir -p "$BUILD_COST_TRACE"
            "$cxx" "${flags[@]:0:4}" ${extra:+"$extra"} -ftime-trace -ftime-trace-granularity=100 -c \
                -o "$BUILD_COST_TRACE/$unit${extra:+-separate}.o" "$here/build_cost/$unit.cpp"
        fi
        cpu[$key]+="$(compile_seconds "$unit" "$extra") "
    done
done

stat() {  # best and median of the samples
    printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f %.2f", v[1], v[int((NR + 1) / 2)] }'
}

echo
echo "## bench_build_cost: compile one TU ($("$cxx" --version | head -1), ${flags[*]:0:2}, CPU s, best and median of $runs)"
echo
echo "| figure | without alation-auth | with | ratio (best) | target | verdict |"
echo "|---|---:|---:|---:|---|---|"
for figure in "${figures[@]}"; do
    IFS='|' read -r label target baseline subject extra <<<"$figure"
    read -r base_best base_median <<<"$(stat "${cpu[$baseline|]}")"
    read -r with_best with_median <<<"$(stat "${cpu[$subject|$extra]}")"
    ratio=$(echo "scale=2; $with_best / $base_best" | bc)
    if [[ "$target" == - ]]; then
        echo "| $label | $base_best ($base_median) | $with_best ($with_median) | ${ratio}x | | |"
        continue
    fi
    verdict=$(echo "$ratio <= $target" | bc | sed 's/1/met/; s/0/MISSED/')
    echo "| $label | $base_best ($base_median) | $with_best ($with_median) | ${ratio}x | <= ${target}x | $verdict |"
done
