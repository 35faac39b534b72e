/**
 * One QEMU process: spawns it from a plan, connects the control channel to its stdio, and kills
 * it. The only `child_process` use of the driver besides image and disk builds.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { ControlChannel } from "./control.js";
import { qemuArgs, type QemuPlan } from "./qemu-args.js";

const SETPRIV = "/usr/bin/setpriv";

export class Vm {
  readonly channel: ControlChannel;
  /** Resolves when QEMU has exited (with its exit code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = "";
  private gone = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly plan: QemuPlan,
  ) {
    this.channel = new ControlChannel(child.stdout!, child.stdin!);
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (c: string) => (this.stderr = (this.stderr + c).slice(-4000)));
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        this.gone = true;
        resolve({ code, signal });
      }),
    );
  }

  static start(plan: QemuPlan): Promise<Vm> {
    // setpriv --pdeathsig: QEMU dies with the process that started it (a crashed server or test
    // leaves no VMs behind); it execs QEMU, so the pid is QEMU's.
    const child = existsSync(SETPRIV)
      ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", plan.qemuBin, ...qemuArgs(plan)], { stdio: ["pipe", "pipe", "pipe"], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } })
      : spawn(plan.qemuBin, qemuArgs(plan), { stdio: ["pipe", "pipe", "pipe"], env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
    const vm = new Vm(child, plan);
    return new Promise((resolve, reject) => {
      child.once("spawn", () => resolve(vm));
      child.once("error", reject);
    });
  }

  get pid(): number | undefined {
    return this.gone ? undefined : this.child.pid;
  }

  get alive(): boolean {
    return !this.gone;
  }

  /** QEMU's own complaints and the tail of the guest console, for error messages. */
  async diagnostics(): Promise<string> {
    const console = await readFile(this.plan.consoleLog, "utf8").catch(() => "");
    return [this.stderr.trim(), console.trim().split("\n").slice(-15).join("\n")].filter(Boolean).join("\n");
  }

  async kill(): Promise<void> {
    if (!this.gone) this.child.kill("SIGKILL");
    await this.exited;
  }
}
