#!/usr/bin/env bash
# VM boot benchmark: the raw QEMU command (QemuCommandLine started by hand) versus QemuLauncher,
# interleaved, on the guest kernel and the official minimal runtime (both built and cached on
# first use in ~/.cache/kiln-test). Prints medians and ranges; results in docs/vm.md.
# Usage: bench/vm/run.sh [runs=7]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/bench/java-main.sh" vm dev.kiln.vm.qemu.VmBootBenchmark "${1:-7}"
