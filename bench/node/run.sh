#!/usr/bin/env bash
# Node benchmark on real QEMU (TCG where KVM does not work): in one run, on the same kernel,
# default runtime and accelerator,
#   1. cold start: the sample program booted by hand with the node's own QEMU command line vs the
#      node's cold start (idle program -> first byte);
#   2. warm requests through the node (HTTP) vs directly over a guest channel;
#   3. N distinct programs requested at once vs N x one cold start.
# Kernel and runtime come from the test Kiln home (~/.cache/kiln-test, or -Dkiln.test.home via
# KILN_TEST_HOME), built on first use. Results: docs/performance.md, section "Node".
# Usage: bench/node/run.sh [cold runs=5] [concurrency=8] [seconds per warm run=5] [warm runs=3]
#                          [programs=4] [parallel runs=3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/bench/java-main.sh" node dev.kiln.node.NodeBenchmark "${1:-5}" "${2:-8}" "${3:-5}" "${4:-3}" "${5:-4}" "${6:-3}"
