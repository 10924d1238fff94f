#!/usr/bin/env bash
# Runs every benchmark in full mode and prints their tables (the figures of BENCHMARKS.md):
# configures a Release build in build/bench if there is none, builds the programs, runs each,
# then the Python baselines against fake_alation_server (plain HTTP and TLS), then build_cost.sh.
#
#   benchmarks/run_all.sh [--smoke]     (BUILD_DIR overrides build/bench)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/bench}"
programs=(bench_hot_path bench_round_trip bench_single_flight bench_refresh_under_load bench_proxy bench_fleet)

if [[ ! -f "$build/CMakeCache.txt" ]]; then
    generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
        -DALATION_AUTH_BUILD_BENCHMARKS=ON -DALATION_AUTH_BUILD_EXAMPLES=ON
fi
cmake --build "$build" --target "${programs[@]}" fake_alation_server -j2

if ! /usr/bin/python3 -c 'import requests' 2>/dev/null; then
    sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    "${sudo[@]}" apt-get install -y python3-requests
fi

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# alation-auth benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), commit $commit"
echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for program in "${programs[@]}"; do
    "$build/benchmarks/$program" "$@"
done

# The Python baselines talk to the fake server as a separate process.
server_out="$(mktemp)"
server_pid=
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -f "$server_out"
}
trap cleanup EXIT
for tls in "" --tls; do
    : >"$server_out"
    "$build/examples/fake_alation_server" $tls >"$server_out" 2>/dev/null &
    server_pid=$!
    lines=1
    [[ -n "$tls" ]] && lines=2
    for _ in $(seq 100); do
        [[ $(wc -l <"$server_out") -ge $lines ]] && break
        sleep 0.05
    done
    url="$(sed -n 1p "$server_out")"
    ca=()
    [[ -n "$tls" ]] && ca=(--ca-file "$(sed -n 2p "$server_out")")
    /usr/bin/python3 "$root/benchmarks/baseline_requests.py" "$url" "${ca[@]}" "$@"
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
done

"$root/benchmarks/build_cost.sh" "$@"
