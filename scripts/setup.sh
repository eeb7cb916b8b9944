#!/usr/bin/env bash
# Installs the system packages Kiln uses, only when one is missing (so it is instant after the
# first run). Debian/Ubuntu only; needs root or sudo for the first run.
set -euo pipefail

# What each package is for:
#   maven                      builds Kiln
#   shellcheck                 lints init0 (the guest's PID 1 shell script) in the tests
#   python3                    runs the guest agent (init1) in tests, as it runs inside VMs
#   qemu-system-x86            the VMM (microvm machine, PVH boot)
#   util-linux                 setpriv: a VMM gets SIGKILL when its node dies (docs/vm.md)
#   debootstrap squashfs-tools e2fsprogs zstd   build runtime images (debian-archive-keyring: debootstrap checks the archive's signature)
#   linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev cpio   build the guest kernel
#   iproute2 nftables          VM networking: TAP devices, the node's own nftables table (docs/network.md)
#   dnsmasq-base               the networking tests' stand-in DNS server for "the internet" namespace
#   chromium chromium-driver   the web console's browser test (headless; Selenium is pointed at them, never downloads one)
#   qemu-utils genisoimage openssh-client   instances: qcow2 overlay disks (qemu-img), the NoCloud seed ISO, the SSH test client
#   socat                      instances' guest API: QEMU's guestfwd runs it per connection to reach the node's socket
#   redis-server               the guest API's Redis-backed cache test (a real server on a loopback port)
#   fdisk grub-pc-bin          qemu-disk-image builds: the partition table (sfdisk) and GRUB for BIOS (grub-mkimage, boot.img)
PACKAGES=(maven shellcheck python3 qemu-system-x86 util-linux debootstrap debian-archive-keyring squashfs-tools e2fsprogs zstd
          linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev cpio
          iproute2 nftables dnsmasq-base chromium chromium-driver qemu-utils genisoimage openssh-client redis-server socat
          fdisk grub-pc-bin)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "kiln setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
