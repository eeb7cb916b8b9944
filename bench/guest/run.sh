#!/usr/bin/env bash
# Guest channel micro-benchmark: requests/s and p50/p99 latency of a trivial ASGI app called
# through GuestConnection + init1 over a Unix socket, versus the same app on the same Python
# called directly over localhost TCP. Prints medians of several runs and the ratio.
# Usage: bench/guest/run.sh [concurrency=16] [seconds per run=5] [runs=5]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/bench/java-main.sh" guest dev.kiln.guest.GuestChannelBenchmark "$root/bench/guest" "${1:-16}" "${2:-5}" "${3:-5}"
