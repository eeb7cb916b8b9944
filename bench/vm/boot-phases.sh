#!/usr/bin/env bash
# Where a guest's boot time goes, from the uptime markers init0 and init1 print on the console:
# kernel start -> init0 start, init0 (mounts, overlay, pivot_root), init0's exec -> init1 ready.
# Boots each image N times, alternating between images so that host noise hits them alike, with
# the node's kernel command line under TCG, and prints the medians per image.
# Usage: bench/vm/boot-phases.sh VMLINUX IMAGE.squashfs [IMAGE2.squashfs ...] [-n RUNS]
set -euo pipefail
runs=5
images=()
kernel=
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    *) if [ -z "$kernel" ]; then kernel=$1; else images+=("$1"); fi; shift ;;
  esac
done
if [ -z "$kernel" ] || [ ${#images[@]} -eq 0 ]; then
  echo "usage: $0 VMLINUX IMAGE.squashfs [IMAGE2.squashfs ...] [-n RUNS]" >&2
  exit 2
fi
khz=$(awk -F: '/cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

boot() { # image -> "kernel init0 exec_to_ready" in seconds, or "fail"
  local log="$work/console.log" pid i
  rm -f "$log" "$work/guest.sock"
  qemu-system-x86_64 -accel tcg -cpu max -machine microvm -nodefaults -no-user-config -display none -no-reboot \
    -m 256 -smp 1 -kernel "$kernel" \
    -append "console=ttyS0 quiet root=/dev/vda ro rootfstype=squashfs init=/sbin/init panic=-1 kiln.channel=/dev/vport0p1 tsc_early_khz=$khz tsc=reliable random.trust_cpu=on" \
    -chardev "file,id=console,path=$log" -serial chardev:console -device virtio-serial-device \
    -chardev "socket,id=kiln,path=$work/guest.sock,server=on,wait=off" -device virtserialport,chardev=kiln,name=kiln \
    -drive "id=root,if=none,format=raw,readonly=on,file=$1" -device virtio-blk-device,drive=root \
    >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 150); do
    grep -q "ready on" "$log" 2>/dev/null && break
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk '/kiln-init0: t=.* start/ {split($2, a, "="); s = a[2]}
       /kiln-init0: t=.* exec/  {split($2, a, "="); e = a[2]}
       /kiln-init1: t=.* ready/ {split($2, a, "="); r = a[2]}
       END { if (r == "") print "fail"; else printf "%.2f %.2f %.2f\n", s, e - s, r - e }' "$log"
}

median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

for r in $(seq 1 "$runs"); do
  for i in "${!images[@]}"; do
    line=$(boot "${images[$i]}")
    echo "run $r image $((i + 1)): $line" >&2
    echo "$line" >> "$work/image$i"
  done
done
for i in "${!images[@]}"; do
  f="$work/image$i"
  printf '%s: kernel->init0 %s s, init0 %s s, init0 exec->init1 ready %s s (medians of %d, %d failed)\n' \
    "$(basename "$(dirname "${images[$i]}")")" \
    "$(grep -v fail "$f" | cut -d' ' -f1 | median)" "$(grep -v fail "$f" | cut -d' ' -f2 | median)" \
    "$(grep -v fail "$f" | cut -d' ' -f3 | median)" "$(grep -vc fail "$f")" "$(grep -c fail "$f" || true)"
done
