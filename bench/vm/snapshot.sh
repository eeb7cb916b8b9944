#!/usr/bin/env bash
# Snapshot benchmark: boot versus restore of the same VM, alternating, then host memory of N idle
# restored VMs versus N booted ones (SnapshotBenchmark; results in docs/performance.md).
# Usage: bench/vm/snapshot.sh [runs=5] [vms=10]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/bench/java-main.sh" vm dev.kiln.vm.qemu.SnapshotBenchmark "${1:-5}" "${2:-10}"
