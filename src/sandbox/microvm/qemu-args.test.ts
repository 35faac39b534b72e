import { test } from "node:test";
import assert from "node:assert/strict";
import { qemuArgs, type QemuPlan } from "./qemu-args.js";

const plan: QemuPlan = {
  qemuBin: "/usr/bin/qemu-system-x86_64",
  accel: "tcg",
  kernel: "/img/vmlinuz",
  initrd: "/img/initrd.cpio",
  ramMB: 192,
  disks: [
    { serial: "kiln-root", file: "/img/rootfs.ext4", readonly: true },
    { serial: "kiln-tmp", file: "/run/a,b/tmp.ext4", readonly: false },
  ],
  runtimeApiSocket: "/sock/runtime.sock",
  socatPath: "/usr/bin/socat",
  qmpSocket: "/run/qmp.sock",
  consoleLog: "/run/console.log",
  tscKhz: 2_000_000,
};
const opt = (args: string[], flag: string): string[] => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));

test("qemuArgs(): microvm machine, TCG cpu, RAM, disks by serial, commas escaped", () => {
  const a = qemuArgs(plan);
  assert.deepEqual(opt(a, "-M"), ["microvm,x-option-roms=off,pit=off,pic=off,rtc=on"]);
  assert.deepEqual(opt(a, "-accel"), ["tcg"]);
  assert.deepEqual(opt(a, "-cpu"), ["max"]);
  assert.deepEqual(opt(a, "-m"), ["192M"]);
  assert.deepEqual(opt(a, "-device").filter((d) => d.startsWith("virtio-blk")), ["virtio-blk-device,drive=d0,serial=kiln-root", "virtio-blk-device,drive=d1,serial=kiln-tmp"]);
  assert.match(opt(a, "-drive")[0]!, /readonly=on/);
  assert.doesNotMatch(opt(a, "-drive")[1]!, /readonly/);
  assert.match(opt(a, "-drive")[1]!, /file=\/run\/a,,b\/tmp\.ext4,/);
  assert.match(opt(a, "-append")[0]!, /tsc_early_khz=2000000/);
  assert.equal(a.includes("-incoming"), false);
});

test("qemuArgs(): the network is restricted to the one Runtime API forward; KVM uses the host cpu", () => {
  const a = qemuArgs({ ...plan, accel: "kvm" });
  assert.deepEqual(opt(a, "-netdev"), ["user,id=n0,restrict=on,ipv6=off,guestfwd=tcp:10.0.2.100:9001-cmd:/usr/bin/socat STDIO UNIX-CONNECT:/sock/runtime.sock"]);
  assert.deepEqual(opt(a, "-cpu"), ["host,-arch-capabilities"]);
  assert.deepEqual(opt(a, "-accel"), ["kvm"]);
});

test("qemuArgs(): snapshot builds share the memory file, clones map it privately and wait for the state", () => {
  const build = qemuArgs({ ...plan, memoryFile: { path: "/s/memory", share: true } });
  assert.deepEqual(opt(build, "-object"), ["memory-backend-file,id=mem,size=192M,mem-path=/s/memory,share=on"]);
  assert.match(opt(build, "-M")[0]!, /memory-backend=mem$/);
  const clone = qemuArgs({ ...plan, memoryFile: { path: "/s/memory", share: false }, incoming: true });
  assert.deepEqual(opt(clone, "-object"), ["memory-backend-file,id=mem,size=192M,mem-path=/s/memory,share=off"]);
  assert.deepEqual(opt(clone, "-incoming"), ["defer"]);
});
