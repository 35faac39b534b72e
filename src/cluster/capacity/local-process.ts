/**
 * LocalProcessProvider: a CapacityProvider that runs worker nodes as child processes of this
 * machine (`kiln node --roles worker ...`), for one-machine clusters and tests. remove() asks the
 * worker to drain (the injected `drain`, e.g. a NATS request to kiln.worker.<id>.drain), waits for
 * it to exit, and otherwise stops it: SIGTERM, then SIGKILL after `killAfterMs`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Logger } from "../../base/index.js";
import type { CapacityProvider } from "./provider.js";

export interface LocalProcessProviderOptions {
  command: string;
  args: (workerId: string) => string[];
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Worker ids are `<prefix>-<8 hex>` (default "worker"). */
  idPrefix?: string;
  /** Asks the worker to drain; without it, remove() sends SIGTERM at once (the node drains on it). */
  drain?: (workerId: string) => Promise<void>;
  /** How long a draining worker may take to exit by itself (default 16 min: the longest invocation and a margin). */
  drainTimeoutMs?: number;
  /** After SIGTERM, how long before SIGKILL (default 30 s). */
  killAfterMs?: number;
  /** Where the children's output goes (default: inherited). */
  stdio?: "inherit" | "ignore";
  /** Called once a worker process has exited (e.g. to remove its data directory). */
  onExit?: (workerId: string) => void;
}

export class LocalProcessProvider implements CapacityProvider {
  private readonly children = new Map<string, ChildProcess>();

  constructor(private readonly opts: LocalProcessProviderOptions) {}

  async list(): Promise<string[]> {
    return [...this.children.keys()];
  }

  async add(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `${this.opts.idPrefix ?? "worker"}-${randomBytes(4).toString("hex")}`;
      const child = spawn(this.opts.command, this.opts.args(id), { env: { ...process.env, ...this.opts.env }, stdio: ["ignore", this.opts.stdio ?? "inherit", this.opts.stdio ?? "inherit"] });
      this.children.set(id, child);
      child.once("exit", (code, signal) => {
        if (this.children.get(id) === child) this.children.delete(id);
        this.opts.log.info("worker process exited", { worker: id, code, signal });
        this.opts.onExit?.(id);
      });
      child.once("error", (e) => {
        if (this.children.get(id) === child) this.children.delete(id);
        this.opts.log.warn("worker process failed to start", { worker: id, error: String(e) });
      });
      ids.push(id);
    }
    return ids;
  }

  async remove(workerId: string): Promise<void> {
    const child = this.children.get(workerId);
    if (!child) return;
    const exited = exitOf(child);
    if (this.opts.drain) {
      await this.opts.drain(workerId).catch((e) => this.opts.log.warn("asking a worker to drain failed", { worker: workerId, error: String(e) }));
      if (await within(exited, this.opts.drainTimeoutMs ?? 16 * 60_000)) return;
    }
    child.kill("SIGTERM");
    if (await within(exited, this.opts.killAfterMs ?? 30_000)) return;
    child.kill("SIGKILL");
    await exited;
  }

  /** Stops every worker started here (SIGTERM, then SIGKILL), without draining. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(async (c) => {
        const exited = exitOf(c);
        c.kill("SIGTERM");
        if (!(await within(exited, this.opts.killAfterMs ?? 30_000))) {
          c.kill("SIGKILL");
          await exited;
        }
      }),
    );
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = await Promise.race([p.then(() => true as const), timeout]);
  clearTimeout(timer);
  return done;
}
