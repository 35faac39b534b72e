#!/bin/busybox sh
# Kiln guest: the root image's /sbin/init (PID 1 after switch_root). Mounts the sandbox's disks
# (found by their virtio serial), brings up the network for the Runtime API forward, then execs
# the agent. Disks: kiln-tmp (rw, /tmp), kiln-task (ro, /var/task), kiln-runtime (ro,
# /var/runtime), kiln-opt (ro, /opt; absent without layers).
export PATH=/usr/bin:/bin
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "+memory +pids" > /sys/fs/cgroup/cgroup.subtree_control
echo 1 > /proc/sys/vm/overcommit_memory
$bb mount -t tmpfs -o mode=0755,size=1m run /run
disk() { for d in /sys/block/vd*; do [ "$($bb cat $d/serial 2>/dev/null)" = "$1" ] && echo /dev/${d##*/}; done; }
t=$(disk kiln-tmp); [ -n "$t" ] && $bb mount -t ext4 -o nosuid,nodev,noatime "$t" /tmp
t=$(disk kiln-task); [ -n "$t" ] && $bb mount -t ext4 -o ro,nosuid,nodev,noatime "$t" /var/task
t=$(disk kiln-runtime); [ -n "$t" ] && $bb mount -t ext4 -o ro,nosuid,nodev,noatime "$t" /var/runtime
t=$(disk kiln-opt); [ -n "$t" ] && $bb mount -t ext4 -o ro,nosuid,nodev,noatime "$t" /opt
$bb ip link set lo up
$bb ip link set eth0 up 2>/dev/null && $bb ip addr add 10.0.2.15/24 dev eth0
exec /usr/bin/python3.11 -I -S -B /usr/lib/kiln/agent.py
