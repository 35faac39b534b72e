#!/bin/busybox sh
# Kiln guest: the boot initramfs's /init. Loads the virtio modules (Debian's cloud kernel builds
# them as modules), mounts the read-only root image (the disk whose serial is kiln-root) and
# switches to it.
bb=/bin/busybox
$bb mount -t devtmpfs dev /dev
$bb mount -t sysfs sys /sys
for m in $($bb cat /modules.order); do $bb insmod /modules/$m.ko; done
root=
for i in 1 2 3 4 5 6 7 8 9 10; do
  for d in /sys/block/vd*; do [ "$($bb cat $d/serial 2>/dev/null)" = kiln-root ] && root=/dev/${d##*/}; done
  [ -n "$root" ] && break
  $bb usleep 20000
done
[ -n "$root" ] || { echo "kiln-init: no root disk"; $bb poweroff -f; }
$bb mkdir -p /newroot
$bb mount -t ext4 -o ro,noatime "$root" /newroot || { echo "kiln-init: cannot mount $root"; $bb poweroff -f; }
$bb umount /sys
$bb mount --move /dev /newroot/dev
exec $bb switch_root /newroot /sbin/init
