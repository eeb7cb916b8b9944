#!/usr/bin/env bash
# VM boot benchmark: the raw QEMU command (QemuCommandLine started by hand) versus QemuLauncher,
# interleaved, on the guest kernel and the official minimal runtime (both built and cached on
# first use in ~/.cache/kiln-test). Prints medians and ranges; results in docs/vm.md.
# Usage: bench/vm/run.sh [runs=7]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. scripts/java-env.sh
mvn -q -B -ntp -pl vm -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
cd vm
exec java -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" \
    dev.kiln.vm.qemu.VmBootBenchmark "${1:-7}"
