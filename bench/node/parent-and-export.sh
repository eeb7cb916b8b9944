#!/usr/bin/env bash
# Host-side costs of issue 12's two image copies, done as dev.kiln.node.volume.ParentCopy and
# dev.kiln.node.export.DataExports do them: a persistent volume's first image from an ext4 parent
# (copy, e2fsck -f -p, resize2fs to size_mib), and reading an export image back (debugfs rdump;
# the zip itself is Java's and not included). Medians of 5 runs.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
mkdir -p "$dir/content"
for i in $(seq 1 100); do head -c 10240 /dev/urandom > "$dir/content/f$i"; done
head -c $((20 << 20)) /dev/urandom > "$dir/content/big"
truncate -s 64M "$dir/parent.ext4"
mkfs.ext4 -q -F -d "$dir/content" "$dir/parent.ext4"
copy() {
  cp "$dir/parent.ext4" "$dir/v.ext4" && truncate -s "$1M" "$dir/v.ext4" \
    && e2fsck -f -p "$dir/v.ext4" && resize2fs "$dir/v.ext4"
}
for size in 64 1000; do
  m=$(for _ in 1 2 3 4 5; do rm -f "$dir/v.ext4"; ms copy "$size"; done | median)
  echo "parent 64 MiB (20 MiB + 100 x 10 KiB used) -> volume ${size} MiB: ${m} ms"
done
dump() { rm -rf "$dir/out" && mkdir "$dir/out" && debugfs -R "rdump / $dir/out" "$dir/parent.ext4"; }
m=$(for _ in 1 2 3 4 5; do ms dump; done | median)
echo "export read-back (debugfs rdump of 101 files, 21 MiB): ${m} ms"
