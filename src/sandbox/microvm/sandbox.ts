/**
 * One micro-VM sandbox: a QEMU process whose guest agent runs the runtime tree. The runtime
 * restarts inside the same guest (so /tmp, a disk, survives and `pid`, QEMU's, stays); destroy()
 * kills QEMU. States: running -> destroyed, plus "vm-dead" when QEMU stops on its own (the guest
 * panicked or was killed): the runtime's exit is reported once and restarts are refused.
 */
import type { Sandbox, SandboxEvents, SandboxExit, SandboxStats } from "../contract.js";
import { SandboxError } from "../errors.js";
import type { AgentMessage, HostMessage } from "./control.js";
import type { Vm } from "./vm.js";

const MB = 1024 * 1024;

export class MicroVmSandbox implements Sandbox {
  private state: "running" | "vm-dead" | "destroyed" = "running";
  private restarting: Promise<void> | undefined;
  private destroying: Promise<void> | undefined;
  /** Whether a runtime is running in the guest (an exit not yet reported). */
  private runtimeUp = true;
  private peakMB = 0;
  /** performance.now() when the agent reported ready / the first runtime started. */
  readonly timings: { spawned: number; ready?: number; started?: number } = { spawned: performance.now() };

  constructor(
    readonly id: string,
    readonly vm: Vm,
    private readonly events: SandboxEvents,
    private readonly teardown: () => Promise<void>,
  ) {
    vm.channel.on((m) => this.onMessage(m));
    void vm.exited.then(async () => {
      if (this.state !== "running") return;
      this.state = "vm-dead";
      const why = await vm.diagnostics();
      events.onOutput(Buffer.from(`kiln: the micro-VM stopped${why ? `:\n${why}` : ""}\n`));
      if (this.runtimeUp) {
        this.runtimeUp = false;
        events.onExit({ code: null, signal: "SIGKILL", oomKilled: false });
      }
    });
  }

  get pid(): number | undefined {
    return this.state === "destroyed" ? undefined : this.vm.pid;
  }

  private onMessage(m: AgentMessage): void {
    if (this.state === "destroyed") return;
    switch (m.t) {
      case "ready":
        this.timings.ready ??= performance.now();
        break;
      case "started":
        this.timings.started ??= performance.now();
        this.runtimeUp = true;
        break;
      case "out":
        this.events.onOutput(Buffer.from(m.d, "base64"));
        break;
      case "exit": {
        this.runtimeUp = false;
        const exit: SandboxExit = { code: m.code, signal: m.signal as NodeJS.Signals | null, oomKilled: m.oom };
        this.events.onExit(exit);
        break;
      }
      default:
        break;
    }
  }

  send(m: HostMessage): void {
    this.vm.channel.send(m);
  }

  async stats(): Promise<SandboxStats> {
    if (this.state === "running") {
      const r = await this.vm.channel.request<Extract<AgentMessage, { t: "stats" }>>((id) => ({ t: "stats", id }), 10_000).catch(() => undefined);
      if (r) this.peakMB = Math.max(this.peakMB, Math.ceil(r.peak / MB));
    }
    return { maxMemoryUsedMB: this.peakMB };
  }

  restartRuntime(): Promise<void> {
    if (this.state === "destroyed") return Promise.reject(new SandboxError("destroyed", this.id, "restartRuntime() after destroy()"));
    if (this.state === "vm-dead") return Promise.reject(new SandboxError("spawn-failed", this.id, "the micro-VM has stopped; it cannot restart its runtime"));
    this.restarting ??= (async () => {
      const started = this.vm.channel.next("started", 120_000);
      this.vm.channel.send({ t: "restart" });
      await Promise.race([started, this.vm.exited.then(() => Promise.reject(new SandboxError("spawn-failed", this.id, "the micro-VM stopped during a restart")))]);
      this.peakMB = 0;
    })().finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      this.state = "destroyed";
      try {
        await this.vm.kill();
      } finally {
        await this.teardown();
      }
    })();
    return this.destroying;
  }
}
