#!/usr/bin/env bash
# Network benchmark (issue 10), run as root in namespaces this script makes and removes:
#  1. cold start with vs without a NIC: boots the image N times each way, interleaved, to init1's
#     "ready on" marker, the NIC being a TAP made in a "node" namespace (as the node makes it);
#  2. HTTP download of a 100 MB file from a fake "internet" namespace through the node's NAT, by a
#     process in the node namespace (the baseline). The guest's side of (2) runs through the node
#     (the agent configures eth0 from a program's configuration): node's NetworkBenchmark test.
# Usage: bench/network/run.sh VMLINUX IMAGE.squashfs [-n RUNS]
set -euo pipefail
runs=5
kernel=${1:-}
image=${2:-}
[ "${3:-}" = "-n" ] && runs=${4:-5}
if [ -z "$kernel" ] || [ -z "$image" ]; then
  echo "usage: $0 VMLINUX IMAGE.squashfs [-n RUNS]" >&2
  exit 2
fi
[ "$(id -u)" = 0 ] || { echo "run as root: the benchmark makes network namespaces" >&2; exit 1; }
khz=$(awk -F: '/cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)
tag="kbn$$"
node="$tag-node"
inet="$tag-inet"
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  ip netns del "$node" 2>/dev/null || true
  ip netns del "$inet" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$node"
ip netns add "$inet"
ip -n "$node" link set lo up
ip -n "$inet" link set lo up
ip -n "$node" link add uplink type veth peer name wan netns "$inet"
ip -n "$node" addr add 198.51.100.1/24 dev uplink
ip -n "$node" link set uplink up
ip -n "$node" route add default via 198.51.100.254
ip -n "$inet" addr add 198.51.100.254/24 dev wan
ip -n "$inet" addr add 203.0.113.10/32 dev lo
ip -n "$inet" link set wan up
ip -n "$node" tuntap add dev kiln-0 mode tap
ip -n "$node" addr add 172.16.0.1/30 dev kiln-0
ip -n "$node" link set kiln-0 up

boot() { # "nic"|"none" -> "wall guest_kernel_phase" in seconds (to init1's ready marker), or "fail"
  local log="$work/console.log" pid i start end net=()
  rm -f "$log" "$work/guest.sock"
  [ "$1" = nic ] && net=(-netdev tap,id=net0,ifname=kiln-0,script=no,downscript=no
                         -device virtio-net-device,netdev=net0,mac=02:4b:4c:00:00:00)
  start=$(date +%s.%N)
  ip netns exec "$node" qemu-system-x86_64 -accel tcg -cpu max -machine microvm -nodefaults -no-user-config \
    -display none -no-reboot -m 256 -smp 1 -kernel "$kernel" \
    -append "console=ttyS0 quiet root=/dev/vda ro rootfstype=squashfs init=/sbin/init panic=-1 kiln.channel=/dev/vport0p1 tsc_early_khz=$khz tsc=reliable random.trust_cpu=on" \
    -chardev "file,id=console,path=$log" -serial chardev:console -device virtio-serial-device \
    -chardev "socket,id=kiln,path=$work/guest.sock,server=on,wait=off" -device virtserialport,chardev=kiln,name=kiln \
    -drive "id=root,if=none,format=raw,readonly=on,file=$image" -device virtio-blk-device,drive=root \
    "${net[@]}" >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 1 300); do
    grep -q "ready on" "$log" 2>/dev/null && break
    sleep 0.05
  done
  end=$(date +%s.%N)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -q "ready on" "$log" 2>/dev/null; then
    # the kernel phase (to init0's start marker, guest uptime) says whether the NIC's cost is the driver's
    echo "$(echo "$end - $start" | bc) $(awk '/kiln-init0: t=.* start/ {split($2, a, "="); print a[2]; exit}' "$log")"
  else
    echo fail
  fi
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

: > "$work/none"; : > "$work/nic"
for r in $(seq 1 "$runs"); do
  for kind in none nic; do
    t=$(boot "$kind")
    echo "run $r $kind: $t" >&2
    [ "$t" = fail ] || echo "$t" >> "$work/$kind"
  done
done
none=$(cut -d' ' -f1 "$work/none" | median)
nic=$(cut -d' ' -f1 "$work/nic" | median)
echo "guest kernel phase (to init0), median: without NIC $(cut -d' ' -f2 "$work/none" | median)s," \
     "with NIC $(cut -d' ' -f2 "$work/nic" | median)s"
echo "cold start to init1 ready, median of $runs (TCG): without NIC ${none}s, with NIC ${nic}s," \
     "ratio $(echo "scale=3; $nic / $none" | bc)" | sed -E "s/([0-9]+\.[0-9]{3})[0-9]*s/\1s/g"

# 2. the baseline download: a process in the node namespace, through the route the guests use
head -c 100000000 /dev/zero > "$work/big.bin"
ip netns exec "$inet" /usr/bin/python3 -m http.server 80 --bind 203.0.113.10 --directory "$work" >/dev/null 2>&1 &
server_pid=$!
for i in $(seq 1 100); do
  ip netns exec "$node" curl -s -o /dev/null http://203.0.113.10/ && break
  sleep 0.1
done
speed=$(ip netns exec "$node" curl -s -o /dev/null -w '%{speed_download}' http://203.0.113.10/big.bin)
echo "100 MB download by a process in the node namespace: $(echo "scale=1; $speed / 1000000" | bc) MB/s"
echo "100 MB download by a guest: see node's NetworkBenchmark (the guest's eth0 is configured by the node from the program's configuration)"
