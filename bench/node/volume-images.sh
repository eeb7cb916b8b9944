#!/usr/bin/env bash
# What a writable volume adds to a cold start on the host: making a sparse ext4 image the way
# dev.kiln.node.volume.Ext4Images does (scratch: no journal; persistent: with one), and checking
# one the way PersistentVolumes does after an unclean stop (e2fsck -p). Medians of 5 runs.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
for size in 64 1000; do
  for journal in no yes; do
    opts=(-q -F -m 0 -E lazy_itable_init=1,lazy_journal_init=1,nodiscard)
    [ "$journal" = no ] && opts+=(-O ^has_journal)
    m=$(for _ in 1 2 3 4 5; do rm -f "$dir/v.img"; truncate -s "${size}M" "$dir/v.img"; ms mkfs.ext4 "${opts[@]}" "$dir/v.img"; done | median)
    used=$(du -k "$dir/v.img" | cut -f1)
    f=$(for _ in 1 2 3 4 5; do ms e2fsck -p "$dir/v.img"; done | median)
    echo "size ${size} MiB journal ${journal}: mkfs ${m} ms, host disk ${used} KiB, e2fsck -p ${f} ms"
  done
done
