#!/usr/bin/env bash
# Snapshot cold starts through the node on real QEMU (TCG where KVM does not work): for the sample
# (plain ASGI), a FastAPI app and a Node.js executable (runtime debian-12-node), cold start by boot
# (a node with snapshots off) vs by restore (a node with them on), alternating in one run; request
# sent -> first byte; medians and restore/boot ratios. The memory of N restored vs N booted VMs is
# measured at the VM layer by bench/vm/snapshot.sh. Results: docs/performance.md, "Snapshots
# through the node".
# Usage: bench/snapshot/run.sh [runs=5]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/bench/java-main.sh" node dev.kiln.node.SnapshotNodeBenchmark "${1:-5}"
