/**
 * The worker's pool of pre-initialized sandboxes ("zygotes", as in SOCK; Fission's pools): per pool
 * class (kind, memory size), jailed sandboxes whose runtime has booted with no function and waits
 * on its Runtime API for one. A cold start takes one (take()), and the worker specializes it for
 * good; the pool never gets a sandbox back. Kind "snapstart" boots Kiln's exec launcher instead of a
 * runtime (for SnapStart restores; kept only on demand), with a third private directory that
 * receives the snapshot; kind "restored:<snapshot>" boots Node from one version's snapshot ahead of
 * that version's cold starts (on demand only; it exists while the version has cold starts).
 *
 * Sizing is sizing.ts's decision over the cold starts recorded here (hits and misses) and the
 * memory free on the host; this file only carries it out: boot what is missing (at most
 * MAX_CONCURRENT_BOOTS at a time, so a burst of refills does not starve running functions of CPU),
 * trim idle sandboxes beyond the target (oldest first), and back off a class whose boots fail.
 * All of it runs off the invoke path: take() is synchronous and only schedules a refill.
 *
 * Life of a pooled sandbox: booting (spawned, runtime starting) -> idle (parked on the Kiln
 * specialization path) -> taken (the worker's now) | dead (crashed, trimmed, or the pool closed).
 * Idle ones are handed out oldest first, so none stays booted for long.
 */
import { chmod, chown, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { shortId, type Clock, type Logger } from "../../base/index.js";
import { RuntimeApiEndpoint } from "../../runtime-api/index.js";
import type { PooledSandbox, SandboxDriver, SandboxEvents, SandboxExit } from "../../sandbox/index.js";
import { poolBootEnvironment } from "../variables.js";
import { POOL_KINDS, isRestoredKind, type PoolKind } from "./eligibility.js";
import { poolTargets, type ColdStart, type PoolSizingConfig, type PoolTarget } from "./sizing.js";

/** Boots in flight at once, over all classes. */
export const MAX_CONCURRENT_BOOTS = 2;
/** A boot that does not reach the specialization wait within this long is abandoned. */
export const BOOT_TIMEOUT_MS = 15_000;
/** After a failed boot, a class is not booted again for this long. */
export const BOOT_BACKOFF_MS = 5_000;
/** How often the targets are recomputed without any cold start (they decay as the window passes). */
export const POOL_TICK_MS = 1_000;

export type PooledState = "booting" | "idle" | "taken" | "dead";

/** One pre-initialized sandbox. After take(), everything here belongs to the caller. */
export interface PooledEntry {
  readonly id: string;
  readonly kind: PoolKind;
  readonly memoryMB: number;
  /** The sandbox's own directory (tmp/, task/, opt/, and snapshot/ for kind snapstart) under the sandboxes dir. */
  readonly dir: string;
  /** The directory holding its Runtime API socket. */
  readonly socketDir: string;
  readonly endpoint: RuntimeApiEndpoint;
  sandbox: PooledSandbox | undefined;
  state: PooledState;
  readonly bootedAt: number;
  /** Where the sandbox's output and exit go; the taker points them at its environment. */
  route(events: SandboxEvents): void;
}

export interface PoolOptions {
  config: PoolSizingConfig;
  driver: SandboxDriver;
  sandboxesDir: string;
  /** Creates (once) and returns the directory holding per-sandbox socket directories. */
  socketRoot(): Promise<string>;
  clock: Clock;
  log: Logger;
  /** Memory sandboxes may still use according to the worker (its capacity minus what environments hold). */
  workerFreeMemoryMB(): number;
  sandboxUid?: number;
  sandboxGid?: number;
}

export interface PoolClassStats {
  kind: PoolKind;
  memoryMB: number;
  target: number;
  idle: number;
  booting: number;
}

export interface PoolStats {
  hits: number;
  misses: number;
  classes: PoolClassStats[];
}

const classKey = (runtime: string, memoryMB: number): string => `${runtime}/${memoryMB}`;

/** MemAvailable from /proc/meminfo in MB (Infinity where there is none). */
async function hostAvailableMB(): Promise<number> {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(await readFile("/proc/meminfo", "utf8"));
    return m ? Math.floor(Number(m[1]) / 1024) : Infinity;
  } catch {
    return Infinity;
  }
}

export class SandboxPool {
  private readonly entries = new Map<string, PooledEntry>();
  private readonly coldStarts: ColdStart[] = [];
  private readonly backoffUntil = new Map<string, number>();
  /** The snapshot each restored kind boots from (learnt from the cold starts that want one). */
  private readonly restoreBlobs = new Map<PoolKind, string>();
  private targets: PoolTarget[] = [];
  private booting = 0;
  private hits = 0;
  private misses = 0;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private closed = false;
  private readonly kinds: PoolKind[];

  constructor(private readonly opts: PoolOptions) {
    this.kinds = opts.driver.createPooled === undefined ? [] : [...POOL_KINDS];
  }

  get enabled(): boolean {
    return this.opts.config.max > 0 && this.kinds.length > 0;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.schedule(), POOL_TICK_MS);
    this.timer.unref();
    this.schedule();
  }

  /**
   * A cold start that may use any of `kinds` (in order): the oldest idle sandbox of the first kind
   * that has one, now the caller's (a hit), or undefined (a miss). The cold start counts toward the
   * demand of the first kind, and a refill is scheduled. `restoreBlob`: the snapshot a restored
   * kind among `kinds` boots from.
   */
  take(kinds: readonly PoolKind[], memoryMB: number, restoreBlob?: string): PooledEntry | undefined {
    const demand = kinds[0];
    if (!this.enabled || demand === undefined) return undefined;
    this.coldStarts.push({ at: this.opts.clock.now(), kind: demand, memoryMB });
    for (const k of kinds) if (isRestoredKind(k) && restoreBlob !== undefined) this.restoreBlobs.set(k, restoreBlob);
    let found: PooledEntry | undefined;
    for (const kind of kinds) {
      for (const e of this.entries.values()) {
        if (e.state === "idle" && e.kind === kind && e.memoryMB === memoryMB && e.endpoint.awaitingSpecialization && (!found || e.bootedAt < found.bootedAt)) found = e;
      }
      if (found) break;
    }
    if (found) {
      found.state = "taken";
      this.entries.delete(found.id);
      this.hits++;
    } else {
      this.misses++;
    }
    this.schedule();
    return found;
  }

  stats(): PoolStats {
    const classes = new Map<string, PoolClassStats>();
    const get = (kind: PoolKind, memoryMB: number): PoolClassStats => {
      const k = classKey(kind, memoryMB);
      let c = classes.get(k);
      if (!c) classes.set(k, (c = { kind, memoryMB, target: 0, idle: 0, booting: 0 }));
      return c;
    };
    for (const t of this.targets) get(t.kind, t.memoryMB).target = t.target;
    for (const e of this.entries.values()) {
      if (e.state === "idle") get(e.kind, e.memoryMB).idle++;
      else if (e.state === "booting") get(e.kind, e.memoryMB).booting++;
    }
    return { hits: this.hits, misses: this.misses, classes: [...classes.values()] };
  }

  /** Resolves once every class has its target idle (tests and benchmarks; rejects after `timeoutMs`). */
  async filled(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const s = this.stats();
      if (this.targets.length > 0 && s.classes.every((c) => c.idle >= c.target)) return;
      if (performance.now() > deadline) throw new Error(`the sandbox pool did not fill within ${timeoutMs} ms: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => this.destroy(e)));
  }

  /** Coalesces refill requests into one pass on the next turn of the event loop. */
  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.adjust().catch((e: unknown) => this.opts.log.warn("sandbox pool adjustment failed", { error: String(e) }));
    });
  }

  private async adjust(): Promise<void> {
    const now = this.opts.clock.now();
    const horizon = now - this.opts.config.windowMs;
    while (this.coldStarts.length > 0 && this.coldStarts[0]!.at <= horizon) this.coldStarts.shift();
    const freeMemoryMB = Math.min(this.opts.workerFreeMemoryMB(), await hostAvailableMB());
    if (this.closed) return;
    // Restored kinds exist while their version has cold starts in the window (and a snapshot to boot from).
    for (const k of [...this.restoreBlobs.keys()]) if (!this.coldStarts.some((c) => c.kind === k)) this.restoreBlobs.delete(k);
    const restored = [...this.restoreBlobs.keys()];
    this.targets = poolTargets({ now, coldStarts: this.coldStarts, freeMemoryMB, kinds: [...this.kinds, ...restored], floorless: ["snapstart", ...restored] }, this.opts.config);
    const wanted = new Map(this.targets.map((t) => [classKey(t.kind, t.memoryMB), t]));
    // Trim: idle sandboxes of classes over target (or no longer wanted), oldest first.
    const byClass = new Map<string, PooledEntry[]>();
    for (const e of this.entries.values()) {
      const k = classKey(e.kind, e.memoryMB);
      byClass.set(k, [...(byClass.get(k) ?? []), e]);
    }
    for (const [k, list] of byClass) {
      const target = wanted.get(k)?.target ?? 0;
      const idle = list.filter((e) => e.state === "idle").sort((a, b) => a.bootedAt - b.bootedAt);
      const excess = list.filter((e) => e.state === "idle" || e.state === "booting").length - target;
      for (const e of idle.slice(0, Math.max(0, excess))) {
        this.entries.delete(e.id);
        void this.destroy(e);
      }
    }
    // Refill, classes in the order sizing ranked them.
    for (const t of this.targets) {
      const k = classKey(t.kind, t.memoryMB);
      if ((this.backoffUntil.get(k) ?? 0) > now) continue;
      let have = (byClass.get(k) ?? []).filter((e) => this.entries.has(e.id) && (e.state === "idle" || e.state === "booting")).length;
      while (have < t.target && this.booting < MAX_CONCURRENT_BOOTS) {
        have++;
        void this.boot(t.kind, t.memoryMB);
      }
    }
  }

  private async boot(kind: PoolKind, memoryMB: number): Promise<void> {
    const runtime = kind === "snapstart" || isRestoredKind(kind) ? "nodejs20.x" : kind;
    const restoreBlob = isRestoredKind(kind) ? this.restoreBlobs.get(kind) : undefined;
    if (isRestoredKind(kind) && restoreBlob === undefined) return;
    this.booting++;
    const id = `pool-${shortId()}`;
    const dir = join(this.opts.sandboxesDir, id);
    const socketDir = join(await this.opts.socketRoot(), id.slice(0, 21));
    let target: SandboxEvents | undefined;
    let exited: SandboxExit | undefined;
    let parked: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => (parked = resolve));
    const endpoint = new RuntimeApiEndpoint(
      join(socketDir, "runtime.sock"),
      { onNext: () => undefined, onInitError: () => undefined, onAwaitingSpecialization: () => parked() },
      { pooled: true },
    );
    const entry: PooledEntry = {
      id,
      kind,
      memoryMB,
      dir,
      socketDir,
      endpoint,
      sandbox: undefined,
      state: "booting",
      bootedAt: this.opts.clock.monotonic(),
      route: (events) => (target = events),
    };
    this.entries.set(id, entry);
    const events: SandboxEvents = {
      onOutput: (chunk) => target?.onOutput(chunk),
      onExit: (exit) => {
        if (target) return target.onExit(exit);
        exited = exit;
        parked(); // a booting sandbox: boot() sees `exited` and cleans up
        if (entry.state === "idle" && this.entries.get(id) === entry) {
          this.entries.delete(id);
          this.opts.log.warn("a pre-initialized sandbox died while idle", { sandbox: id, kind, code: exit.code, signal: exit.signal });
          void this.destroy(entry).then(() => this.schedule());
        }
      },
    };
    try {
      await this.prepareDirs(dir, socketDir, kind === "snapstart");
      await endpoint.listen();
      const uid = this.opts.sandboxUid;
      if (uid !== undefined && process.getuid?.() === 0) await chown(endpoint.socketPath, uid, this.opts.sandboxGid ?? uid);
      entry.sandbox = await this.opts.driver.createPooled!(
        {
          id,
          runtime,
          taskDir: join(dir, "task"),
          optDir: join(dir, "opt"),
          ...(kind === "snapstart" ? { launcher: { snapshotDir: join(dir, "snapshot") } } : {}),
          ...(restoreBlob !== undefined ? { restore: { blob: restoreBlob } } : {}),
          tmpDir: join(dir, "tmp"),
          env: poolBootEnvironment(runtime),
          memoryMB,
          runtimeApiSocket: endpoint.socketPath,
        },
        events,
      );
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([waiting.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), BOOT_TIMEOUT_MS)))]);
      clearTimeout(timer);
      if (exited || timedOut) throw new Error(exited ? `the runtime exited while booting (code ${exited.code}, signal ${exited.signal})` : `the runtime did not boot within ${BOOT_TIMEOUT_MS} ms`);
      if (this.entries.get(id) !== entry || this.closed) throw new Error("the pool no longer wants this sandbox");
      entry.state = "idle";
    } catch (e) {
      if (this.entries.get(id) === entry) this.entries.delete(id);
      if (!this.closed && entry.state === "booting") {
        this.backoffUntil.set(classKey(kind, memoryMB), this.opts.clock.now() + BOOT_BACKOFF_MS);
        this.opts.log.warn("booting a pre-initialized sandbox failed", { kind, memoryMB, error: (e as Error).message });
      }
      entry.state = "dead";
      await this.destroy(entry);
    } finally {
      this.booting--;
      this.schedule();
    }
  }

  private async prepareDirs(dir: string, socketDir: string, launcher: boolean): Promise<void> {
    await mkdir(dir, { mode: 0o711 });
    const shared = ["task", "opt", ...(launcher ? ["snapshot"] : [])];
    await Promise.all([mkdir(join(dir, "tmp"), { mode: 0o700 }), mkdir(socketDir, { recursive: true, mode: 0o700 }), ...shared.map((d) => mkdir(join(dir, d), { mode: 0o755 }))]);
    await Promise.all(shared.map((d) => chmod(join(dir, d), 0o755)));
    const uid = this.opts.sandboxUid;
    const gid = this.opts.sandboxGid ?? uid;
    if (uid !== undefined && gid !== undefined && process.getuid?.() === 0) await Promise.all([chown(socketDir, uid, gid), chown(join(dir, "tmp"), uid, gid)]);
  }

  private async destroy(e: PooledEntry): Promise<void> {
    e.state = "dead";
    await Promise.allSettled([e.sandbox?.destroy(), e.endpoint.close()]);
    await Promise.allSettled([rm(e.dir, { recursive: true, force: true }), rm(e.socketDir, { recursive: true, force: true })]);
  }
}
