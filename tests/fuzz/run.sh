#!/usr/bin/env bash
# Usage: tests/fuzz/run.sh SECONDS
#
# Builds the libFuzzer targets with clang (in $ALATION_AUTH_FUZZ_BUILD_DIR, default build-fuzz)
# if needed, then runs each for SECONDS on a scratch copy of its seed corpus, so the committed
# corpus stays as it is. Fails when any target crashes, leaks, trips a sanitizer or hangs; the
# input that did it is kept in <build dir>/fuzz-artifacts/.
set -euo pipefail

seconds=${1:?usage: $0 SECONDS}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${ALATION_AUTH_FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=(fuzz_token_response fuzz_timestamp fuzz_error_body fuzz_oauth_token_response fuzz_jwt_payload)

if [[ ! -f $build/CMakeCache.txt ]]; then
    generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    CXX=${CXX:-clang++} cmake -S "$root" -B "$build" "${generator[@]}" "${launcher[@]}" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALATION_AUTH_BUILD_FUZZERS=ON -DALATION_AUTH_BUILD_TESTS=OFF \
        -DALATION_AUTH_BUILD_EXAMPLES=OFF -DALATION_AUTH_BUILD_BENCHMARKS=OFF
fi
cmake --build "$build" --target "${targets[@]}" -j "${JOBS:-2}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

failed=0
for target in "${targets[@]}"; do
    corpus=$scratch/$target
    mkdir -p "$corpus"
    cp "$here/corpus/$target/"* "$corpus/"
    options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
             -artifact_prefix="$artifacts/$target-")
    [[ -f $here/$target.dict ]] && options+=(-dict="$here/$target.dict")
    log=$scratch/$target.log
    if "$build/tests/fuzz/$target" "${options[@]}" "$corpus" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "ok   $target: $runs runs in ${seconds} s ($((runs / (seconds > 0 ? seconds : 1))) exec/s)," \
             "corpus $(ls "$corpus" | wc -l) inputs"
    else
        echo "FAIL $target (inputs kept in $artifacts):"
        tail -n 40 "$log"
        failed=1
    fi
done
exit $failed
