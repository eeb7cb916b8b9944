#!/usr/bin/env bash
# Message trigger benchmark on real QEMU (TCG where KVM does not work), one subscribed program:
#   1. delivery latency to an idle program (the message boots it), median of IDLE runs;
#   2. delivery latency to the warm program, one message at a time, median of WARM messages;
#   3. messages/s delivered to the warm program: BURST messages posted by POSTERS clients at once,
#      first post -> last delivery, median of BURST_RUNS bursts.
# Latency is the node's record of each delivery (arrival -> the handler's answer, sent on entry).
# Kernel and runtime come from the test Kiln home (~/.cache/kiln-test, or KILN_TEST_HOME).
# Results: docs/performance.md, section "Message triggers".
# Usage: bench/events/run.sh [idle=5] [warm=30] [burst=300] [burst runs=3] [posters=8]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/bench/java-main.sh" node dev.kiln.node.EventsBenchmark "${1:-5}" "${2:-30}" "${3:-300}" "${4:-3}" "${5:-8}"
