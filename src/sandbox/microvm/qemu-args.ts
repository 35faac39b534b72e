/**
 * The QEMU command line of one micro-VM sandbox. Pure: a plan in, argv out.
 *
 *   qemu-system-x86_64 -M microvm,x-option-roms=off,pit=off,pic=off,rtc=on -accel tcg -cpu max
 *     -m 192 -smp 1 -nodefaults -no-user-config -display none -no-reboot
 *     -kernel vmlinuz -initrd initrd.cpio -append "console=ttyS0 quiet tsc_early_khz=... rdinit=/init"
 *     -serial file:console.log
 *     -drive ...,readonly=on -device virtio-blk-device,drive=root,serial=kiln-root   (and tmp, task, runtime, opt)
 *     -netdev user,restrict=on,ipv6=off,guestfwd=tcp:10.0.2.100:9001-cmd:socat STDIO UNIX-CONNECT:<api socket>
 *     -device virtio-serial-device -chardev stdio,id=ctl -device virtserialport,chardev=ctl,name=kiln.ctl
 *     -qmp unix:qmp.sock,server=on,wait=off
 *
 * `rtc=on`: without an RTC the guest kernel waits 1 s twice for the CMOS clock (timekeeping init
 * and rtc_cmos): 1.6 s of a TCG boot here, far more than the RTC costs QEMU.
 * Network: QEMU's user-mode stack with `restrict=on` drops every guest packet that is not for a
 * forward; the only forward is the Runtime API (one `socat` per guest connection, to the worker's
 * unix socket). No DHCP, no DNS (the guest configures 10.0.2.15/24 itself and has no route).
 * Snapshots: RAM as a file-backed memory backend (`share=on` to build a snapshot, `share=off` for
 * clones: copy-on-write over the same file), `-incoming defer` for a clone.
 */
export type Accelerator = "kvm" | "tcg";

export interface QemuDisk {
  /** Virtio serial the guest finds the disk by (kiln-root, kiln-tmp, kiln-task, kiln-runtime, kiln-opt). */
  serial: string;
  file: string;
  readonly: boolean;
}

export interface QemuPlan {
  qemuBin: string;
  accel: Accelerator;
  kernel: string;
  initrd: string;
  /** Guest RAM in MB. */
  ramMB: number;
  disks: QemuDisk[];
  runtimeApiSocket: string;
  socatPath: string;
  qmpSocket: string;
  consoleLog: string;
  /** RAM backed by this file (snapshots): share=true writes through to it, false maps it privately. */
  memoryFile?: { path: string; share: boolean };
  /** Start paused, waiting for a migration stream over QMP (a clone). */
  incoming?: boolean;
  /** Kernel TSC frequency in kHz (microvm has no PIT to calibrate against). */
  tscKhz: number;
  extraAppend?: string;
}

/** The guest address the Runtime API forward answers on (the agent relays 127.0.0.1:9001 to it). */
export const GUEST_FORWARD = "10.0.2.100:9001";

const optValue = (s: string): string => s.replace(/,/g, ",,");

export function qemuArgs(p: QemuPlan): string[] {
  const args = ["-M", "microvm,x-option-roms=off,pit=off,pic=off,rtc=on" + (p.memoryFile ? ",memory-backend=mem" : "")];
  args.push("-accel", p.accel === "kvm" ? "kvm" : "tcg", "-cpu", p.accel === "kvm" ? "host,-arch-capabilities" : "max");
  args.push("-m", `${p.ramMB}M`, "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot");
  if (p.memoryFile) args.push("-object", `memory-backend-file,id=mem,size=${p.ramMB}M,mem-path=${optValue(p.memoryFile.path)},share=${p.memoryFile.share ? "on" : "off"}`);
  const append = ["console=ttyS0", "quiet", "loglevel=1", "edd=off", `tsc_early_khz=${p.tscKhz}`, "panic=-1", "rdinit=/init", "random.trust_cpu=on", "cryptomgr.notests", "8250.nr_uarts=1", "i8042.noaux", "i8042.nomux", "i8042.nopnp", "i8042.dumbkbd"];
  if (p.extraAppend) append.push(p.extraAppend);
  args.push("-kernel", p.kernel, "-initrd", p.initrd, "-append", append.join(" "), "-serial", `file:${p.consoleLog}`);
  p.disks.forEach((d, i) => {
    args.push("-drive", `id=d${i},file=${optValue(d.file)},format=raw,if=none,cache=unsafe,aio=threads${d.readonly ? ",readonly=on" : ""}`);
    args.push("-device", `virtio-blk-device,drive=d${i},serial=${d.serial}`);
  });
  const fwd = `guestfwd=tcp:${GUEST_FORWARD}-cmd:${p.socatPath} STDIO UNIX-CONNECT:${optValue(p.runtimeApiSocket)}`;
  args.push("-netdev", `user,id=n0,restrict=on,ipv6=off,${fwd}`, "-device", "virtio-net-device,netdev=n0");
  args.push("-device", "virtio-serial-device", "-chardev", "stdio,id=ctl,signal=off", "-device", "virtserialport,chardev=ctl,name=kiln.ctl");
  args.push("-qmp", `unix:${optValue(p.qmpSocket)},server=on,wait=off`);
  if (p.incoming) args.push("-incoming", "defer");
  return args;
}
