#!/bin/sh
# Kiln init0: PID 1 of a runtime, installed at /sbin/init by the runtime builder.
#
# The root filesystem is a read-only squashfs. This script mounts the kernel filesystems, puts a
# tmpfs overlay over the root so the program can write anywhere (nothing reaches the image),
# pivots into it, sets the hostname and execs init1 (the agent), which stays PID 1.
#
# Contract with the rest of Kiln (docs/guest-protocol.md):
# - the image has the directories /proc /sys /dev /run /tmp /mnt and the programs mount,
#   pivot_root and mkdir (util-linux and coreutils: Debian's essential set);
# - init1 (the package /root/kiln_init1) and a python3 exist (KILN_PYTHON on the kernel command line overrides the
#   interpreter, kiln.hostname= the hostname, kiln.channel= the agent's channel);
# - every step prints to the console; a failure prints "kiln-init0: FATAL: ..." and powers off,
#   because a PID 1 that exits makes the kernel panic with a message nobody can act on, and one
#   that hangs makes the node wait for its boot timeout.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022

say() {
    echo "kiln-init0: $*"
}

uptime_now() {
    t=
    if [ -r /proc/uptime ]; then
        read -r t _ < /proc/uptime
    fi
    echo "${t:-?}"
}

mark() {
    say "t=$(uptime_now) $*"
}

power_off() {
    # No reboot(2) from a shell: sysrq (CONFIG_MAGIC_SYSRQ) first, then a poweroff program.
    sync 2>/dev/null
    if [ -w /proc/sysrq-trigger ]; then
        echo o > /proc/sysrq-trigger 2>/dev/null
        sleep 5
    fi
    for p in /sbin/poweroff /usr/sbin/poweroff; do
        if [ -x "$p" ]; then
            "$p" -f
        fi
    done
    if [ -x /bin/busybox ]; then
        /bin/busybox poweroff -f
    fi
    say "cannot power off: exiting PID 1 (kernel panic follows; boot with panic=-1 to stop the VM)"
    exit 1
}

fatal() {
    say "FATAL: $*"
    power_off
}

need() {
    for tool in "$@"; do
        command -v "$tool" > /dev/null 2>&1 || fatal "'$tool' is missing from the runtime"
    done
}

is_mounted() {
    # $1 = mount point; reads /proc/mounts without grep or awk.
    [ -r /proc/mounts ] || return 1
    while read -r _ mnt _; do
        [ "$mnt" = "$1" ] && return 0
    done < /proc/mounts
    return 1
}

mount_once() {
    # $1 = type, $2 = mount point, $3 = options
    if ! is_mounted "$2"; then
        mount -t "$1" -o "$3" "$1" "$2" || fatal "cannot mount $1 on $2"
    fi
}

need mount pivot_root mkdir

mount_once proc /proc nosuid,noexec,nodev
KILN_INIT0_START=$(uptime_now)
export KILN_INIT0_START
mark "start"

# Options from the kernel command line (the node sets them; all optional).
hostname_arg=
channel_arg=
python_arg=
read -r cmdline < /proc/cmdline
for word in $cmdline; do
    case "$word" in
        kiln.hostname=*) hostname_arg=${word#kiln.hostname=} ;;
        kiln.channel=*) channel_arg=${word#kiln.channel=} ;;
        kiln.python=*) python_arg=${word#kiln.python=} ;;
    esac
done

# The overlay: the read-only root below, a tmpfs above, mounted at /run/kiln/root.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run || fatal "cannot mount a tmpfs on /run"
mkdir -p /run/kiln/upper /run/kiln/work /run/kiln/root || fatal "cannot create the overlay directories"
mount -t overlay -o lowerdir=/,upperdir=/run/kiln/upper,workdir=/run/kiln/work overlay /run/kiln/root \
    || fatal "cannot mount the overlay (is CONFIG_OVERLAY_FS built in?)"
mkdir -p /run/kiln/root/rom || fatal "cannot create /rom in the overlay"
cd /run/kiln/root || fatal "cannot enter the overlay"
pivot_root . rom || fatal "pivot_root into the overlay failed"
cd / || fatal "cannot enter the new root"

# /proc and the tmpfs holding the overlay's upper layer move into the new root; /sys and /dev
# are mounted only now, straight into it, as two moves would cost two more execs of mount
# (~115 ms each under TCG).
for m in /proc /run; do
    # The runtime already has these directories, and an exec of mkdir costs ~80 ms under TCG.
    [ -d "$m" ] || mkdir -p "$m"
    mount --move "/rom$m" "$m" || fatal "cannot move $m into the overlay"
done
mount_once sysfs /sys nosuid,noexec,nodev
mount_once devtmpfs /dev nosuid,mode=0755
mark "overlay ready"

mkdir -p /dev/pts /dev/shm
mount_once devpts /dev/pts nosuid,noexec,gid=5,mode=0620,ptmxmode=0666
mount_once tmpfs /dev/shm nosuid,nodev,mode=1777
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx

# No udev in a runtime: name the virtio-serial ports as udev would (/dev/virtio-ports/kiln ->
# ../vport0p1), since devtmpfs only creates /dev/vportNpM and the agent opens the port by name.
for port in /sys/class/virtio-ports/*; do
    [ -r "$port/name" ] || continue
    read -r port_name < "$port/name" || continue
    [ -n "$port_name" ] || continue
    [ -d /dev/virtio-ports ] || mkdir -p /dev/virtio-ports
    ln -sf "../${port##*/}" "/dev/virtio-ports/$port_name"
done

if [ -z "$hostname_arg" ] && [ -r /etc/hostname ]; then
    read -r hostname_arg < /etc/hostname
fi
echo "${hostname_arg:-kiln}" > /proc/sys/kernel/hostname || say "warning: cannot set the hostname"

python=${python_arg:-}
if [ -z "$python" ]; then
    for candidate in /usr/bin/python3 /usr/local/bin/python3 /bin/python3; do
        if [ -x "$candidate" ]; then
            python=$candidate
            break
        fi
    done
fi
if [ -z "$python" ] || [ ! -x "$python" ]; then
    fatal "no python3 in the runtime (looked in /usr/bin, /usr/local/bin, /bin)"
fi
[ -r /root/kiln_init1/__main__.py ] || fatal "/root/kiln_init1 (init1) is missing from the runtime"

KILN_INIT0_EXEC=$(uptime_now)
export KILN_INIT0_EXEC
mark "exec init1 ($python)"
# As a package from /root, not as a script: Python reads a script's source and compiles it on
# every start (hundreds of ms under emulation), while modules come from the .pyc files the runtime
# builder put in /root/kiln_init1/__pycache__. Without them it compiles, as a script would.
cd /root || fatal "cannot enter /root"
set -- -u -m kiln_init1
if [ -n "$channel_arg" ]; then
    set -- "$@" --channel "$channel_arg"
fi
# The interpreter was checked above: a failing exec makes sh exit, which would panic the kernel.
exec "$python" "$@"
