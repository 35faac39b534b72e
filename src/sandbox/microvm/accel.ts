/**
 * Which accelerator the micro-VMs use, decided once at start-up by trying: KVM only where a test
 * guest really boots under it (the image's kernel and initramfs, init = `busybox poweroff -f`,
 * within a deadline). On nested-PVM hosts /dev/kvm exists but a stock kernel dies in KVM's
 * instruction emulator, so the probe fails and TCG (software emulation) is chosen.
 */
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import type { Accelerator } from "./qemu-args.js";

/**
 * A KVM host boots the probe guest to poweroff in well under a second; on nested-PVM hosts the
 * guest crawls through KVM's instruction emulator (or dies in it) and never gets there.
 */
export const PROBE_TIMEOUT_MS = 4_000;

export interface AcceleratorProbe {
  accel: Accelerator;
  /** Why KVM was not chosen (absent when it was). */
  reason?: string;
  probeMs: number;
}

/** Host TSC frequency in kHz (the guest cannot calibrate without a PIT): /proc/cpuinfo's cpu MHz. */
export async function hostTscKhz(): Promise<number> {
  const info = await readFile("/proc/cpuinfo", "utf8").catch(() => "");
  const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? "2000");
  return Math.round(mhz * 1000);
}

export async function probeAccelerator(o: { qemuBin: string; kernel: string; initrd: string; timeoutMs?: number; force?: Accelerator }): Promise<AcceleratorProbe> {
  const t0 = performance.now();
  const done = (accel: Accelerator, reason?: string): AcceleratorProbe => ({ accel, ...(reason ? { reason } : {}), probeMs: performance.now() - t0 });
  if (o.force) return done(o.force, o.force === "tcg" ? "forced by configuration" : undefined);
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
  } catch {
    return done("tcg", "/dev/kvm is not available");
  }
  const tsc = await hostTscKhz();
  const args = ["-M", "microvm,x-option-roms=off,pit=off,pic=off,rtc=off", "-accel", "kvm", "-cpu", "host,-arch-capabilities", "-m", "128M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", o.kernel, "-initrd", o.initrd, "-serial", "stdio", "-append", `console=ttyS0 quiet panic=-1 tsc_early_khz=${tsc} edd=off rdinit=/bin/busybox -- poweroff -f`];
  const ok = await new Promise<string | undefined>((resolve) => {
    const child = spawn(o.qemuBin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? PROBE_TIMEOUT_MS);
    child.on("error", (e) => resolve(e.message));
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0 && !/KVM internal error|emulation failure/i.test(out)) resolve(undefined);
      else resolve(`a test guest did not boot under KVM (${code === null ? "timed out" : `exit ${code}`}${/emulation failure/.test(out) ? ": emulation failure" : ""})`);
    });
  });
  return ok === undefined ? done("kvm") : done("tcg", ok);
}
