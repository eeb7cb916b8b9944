#!/usr/bin/env bash
# Guest-API benchmark (issue 14): round trip of a read a program in a QEMU microVM makes through
# the guest API (its Unix socket -> the agent -> virtio-serial -> the node -> a stand-in aleph API
# on loopback) against the same read made directly from the host; /properties and a /cache GET
# too. Medians of per-run medians. Boots one VM: on a shared machine, run it when no other VM tests run.
# Usage: bench/guestapi/run.sh [runs=5] [requests per run=200]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/bench/java-main.sh" node dev.kiln.node.guestapi.GuestApiBenchmark "${1:-5}" "${2:-200}"
