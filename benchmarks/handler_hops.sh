#!/usr/bin/env bash
# Counts what bench_refresh_under_load's three loops (fixed TOKEN, TokenProvider::send,
# try_authorize + write + read) make Asio do per request, from Asio's handler tracking: handlers
# created by kind, handlers invoked, and the socket calls with their outcome. Equal rows mean the
# loops do the same asynchronous work and differ only in the code inside the same handlers.
#
#   benchmarks/handler_hops.sh [threads]     (2 by default; BUILD_DIR overrides build/handler-hops)
#
# Builds its own copy of the benchmark with BOOST_ASIO_ENABLE_HANDLER_TRACKING, runs each loop
# alone in smoke mode, and divides by the requests served: half the sends, as the client writes
# each request and the fake each response in one send. The fake's work is in every row alike.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/handler-hops}"
threads="${1:-2}"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
    generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DALATION_AUTH_BUILD_BENCHMARKS=ON \
        -DCMAKE_CXX_FLAGS=-DBOOST_ASIO_ENABLE_HANDLER_TRACKING >/dev/null
fi
cmake --build "$build" --target bench_refresh_under_load -j2 >/dev/null

trace="$(mktemp)"
trap 'rm -f "$trace"' EXIT
echo "# per request, $threads client threads, from Asio's handler tracking"
for loop in fixed send try; do
    BENCH_ONLY=$loop BENCH_THREADS=$threads "$build/benchmarks/bench_refresh_under_load" --smoke >/dev/null 2>"$trace"
    echo "## $loop"
    # Tracking lines are @asio|time|action|description: "a*b" creates handler b, ">b" invokes
    # it, ".b" is an operation's system call; object addresses are dropped from descriptions.
    grep -a '^@asio|' "$trace" | awk -F'|' '
        $3 ~ /\*/ { d = $4; gsub(/@0x[0-9a-f]+/, "", d); created[d]++ }
        $3 ~ /^>/ { invoked++ }
        $3 ~ /^\./ { split($4, call, ",bytes"); calls[call[1]]++ }
        END {
            n = created["socket.async_send"] / 2
            printf "%9.3f handlers invoked (%d requests)\n", invoked / n, n
            for (d in created) if (created[d] / n >= 0.01) printf "%9.3f created: %s\n", created[d] / n, d
            for (c in calls) if (calls[c] / n >= 0.01) printf "%9.3f %s\n", calls[c] / n, c
        }' | sort -k2
done
