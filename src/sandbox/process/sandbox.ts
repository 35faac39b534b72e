/**
 * One sandbox of the process driver: runs the lifecycle (lifecycle.ts) over successive runtime
 * trees (tree.ts). Restarts and destroys are coalesced: concurrent calls share one operation.
 */
import type { Sandbox, SandboxEvents, SandboxStats } from "../contract.js";
import { SandboxError } from "../errors.js";
import { transition, type SandboxEvent, type SandboxState } from "./lifecycle.js";
import type { RuntimeTree, TreeFactory } from "./tree.js";

const MB = 1024 * 1024;

export class ProcessSandbox implements Sandbox {
  private state: SandboxState = "running";
  private restarting: Promise<void> | undefined;
  private destroying: Promise<void> | undefined;
  private peakMB = 0;

  private constructor(
    readonly id: string,
    private tree: RuntimeTree,
    private spawnTree: TreeFactory,
    private readonly events: SandboxEvents,
    private readonly teardown: () => Promise<void>,
  ) {
    this.watch(tree);
  }

  /** Spawns the first runtime tree; `teardown` runs once, last, on destroy (and if the first spawn fails). */
  static async start(id: string, spawnTree: TreeFactory, events: SandboxEvents, teardown: () => Promise<void> = async () => undefined): Promise<ProcessSandbox> {
    let tree: RuntimeTree;
    try {
      tree = await spawnTree((chunk) => events.onOutput(chunk));
    } catch (e) {
      await teardown().catch(() => undefined);
      throw e;
    }
    return new ProcessSandbox(id, tree, spawnTree, events, teardown);
  }

  /**
   * From now on, restarts spawn trees with `factory` (a pre-initialized sandbox, once specialized,
   * restarts as a fresh spawn of its function). The running tree is left alone.
   */
  respawnWith(factory: TreeFactory): void {
    this.spawnTree = factory;
  }

  get pid(): number | undefined {
    return this.state === "destroyed" ? undefined : this.tree.pid;
  }

  async stats(): Promise<SandboxStats> {
    if (this.state !== "destroyed") {
      const tree = this.tree;
      const bytes = await tree.peakBytes().catch(() => 0);
      if (tree === this.tree) this.peakMB = Math.max(this.peakMB, Math.ceil(bytes / MB));
    }
    return { maxMemoryUsedMB: this.peakMB };
  }

  restartRuntime(): Promise<void> {
    if (this.state === "destroyed") return Promise.reject(new SandboxError("destroyed", this.id, "restartRuntime() after destroy()"));
    this.restarting ??= this.restart().finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      this.move("destroy");
      await this.restarting?.catch(() => undefined);
      try {
        await this.tree.kill();
        await this.tree.release();
      } finally {
        await this.teardown();
      }
    })();
    return this.destroying;
  }

  private async restart(): Promise<void> {
    this.move("restart");
    let tree: RuntimeTree;
    try {
      await this.tree.kill();
      await this.tree.release();
      if (this.destroyed()) return;
      tree = await this.spawnTree((chunk) => this.events.onOutput(chunk));
    } catch (e) {
      this.move("respawn-failed");
      throw e;
    }
    if (this.destroyed()) {
      // destroy() arrived while spawning: it waits for us, so the new tree is ours to kill.
      await tree.kill();
      await tree.release();
      return;
    }
    this.tree = tree;
    this.peakMB = 0;
    this.watch(tree);
    this.move("respawned");
  }

  /** A method, not a field test, so TypeScript does not narrow the state across awaits. */
  private destroyed(): boolean {
    return this.state === "destroyed";
  }

  private watch(tree: RuntimeTree): void {
    void tree.exited.then((exit) => {
      if (tree !== this.tree) return;
      if (this.move("exit")) this.events.onExit(exit);
    });
  }

  /** Applies an event; returns whether an exit is to be reported. */
  private move(event: SandboxEvent): boolean {
    const t = transition(this.state, event);
    if (t === undefined) throw new SandboxError("destroyed", this.id, `${event} is not allowed while ${this.state}`);
    this.state = t.next;
    return t.reportExit;
  }
}
