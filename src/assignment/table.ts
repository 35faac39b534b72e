/**
 * The assignment table: every execution environment, by function configuration, with its state.
 *
 * Algorithm: an invocation takes the most recently used idle environment of its configuration
 * (LIFO keeps a hot core warm and lets the rest age out), else a cold start adds a new
 * environment as busy. Release returns it to idle unless it is draining or broken. Reaping
 * removes environments idle for longer than the keep-alive. Draining (configuration changed or
 * function deleted) destroys idle environments at once and busy ones when they finish: in-flight
 * invocations complete on the old configuration, new ones never reach it.
 *
 * Worked example: f idle [e1 (t=0), e2 (t=5)]; invoke -> e2 busy; invoke -> e1 busy; invoke ->
 * none idle -> cold start e3. e2 released at t=9 -> idle. keep-alive 10, now 16: e2 not expired.
 *
 * Provisioned environments (provisioned concurrency) are flagged: an invocation takes an idle
 * provisioned one before any on-demand one, and the keep-alive never reaps them; demoting one
 * (its configuration was removed) makes it an ordinary on-demand environment.
 *
 * Replication (cluster mode): `onChange` is called after every mutation with the environment's
 * new entry (undefined once removed), so a partition leader can journal it; `restore` loads a
 * replayed journal into an empty table. Standalone mode sets neither.
 *
 * Known caveats: one invocation per environment at a time (Lambda's model). The table is in
 * memory: in standalone mode a restart loses it along with the sandboxes themselves.
 */

export type EnvironmentState = "initializing" | "idle" | "busy" | "draining" | "dead";

export interface EnvironmentEntry {
  id: string;
  workerId: string;
  configKey: string;
  state: EnvironmentState;
  createdAt: number;
  lastUsedAt: number;
  /** Kept initialized by a provisioned concurrency configuration. */
  provisioned?: boolean;
}

/** Called after every change of one environment: its entry now, or undefined once removed. */
export type TableObserver = (id: string, entry: EnvironmentEntry | undefined) => void;

export class EnvironmentTable {
  /** Observer of every mutation (cluster mode journals through it). */
  onChange: TableObserver | undefined;
  private readonly entries = new Map<string, EnvironmentEntry>();
  /** Idle environment ids per configuration, most recently used last (on-demand, and provisioned). */
  private readonly idle = new Map<string, string[]>();
  private readonly idleProvisioned = new Map<string, string[]>();

  private idleOf(e: EnvironmentEntry): Map<string, string[]> {
    return e.provisioned ? this.idleProvisioned : this.idle;
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): EnvironmentEntry | undefined {
    return this.entries.get(id);
  }

  all(): EnvironmentEntry[] {
    return [...this.entries.values()];
  }

  countOf(configKey: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.configKey === configKey) n++;
    return n;
  }

  /** Environments on one worker, per configuration. */
  onWorker(workerId: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries.values()) if (e.workerId === workerId && e.state !== "dead") out.set(e.configKey, (out.get(e.configKey) ?? 0) + 1);
    return out;
  }

  idleCount(configKey?: string): number {
    if (configKey !== undefined) return (this.idle.get(configKey)?.length ?? 0) + (this.idleProvisioned.get(configKey)?.length ?? 0);
    let n = 0;
    for (const ids of this.idle.values()) n += ids.length;
    for (const ids of this.idleProvisioned.values()) n += ids.length;
    return n;
  }

  /** Provisioned environments of a configuration, by state. */
  provisionedOf(configKey: string): { initializing: number; idle: string[]; busy: string[] } {
    const out = { initializing: 0, idle: [] as string[], busy: [] as string[] };
    for (const e of this.entries.values()) {
      if (!e.provisioned || e.configKey !== configKey) continue;
      if (e.state === "initializing") out.initializing++;
      else if (e.state === "idle") out.idle.push(e.id);
      else if (e.state === "busy") out.busy.push(e.id);
    }
    return out;
  }

  /** Makes a provisioned environment an ordinary on-demand one (kept while warm, then reaped). */
  demote(id: string, now: number): void {
    const e = this.entries.get(id);
    if (!e || !e.provisioned) return;
    const wasIdle = e.state === "idle";
    if (wasIdle) this.unlistIdle(e);
    e.provisioned = false;
    if (wasIdle) {
      e.lastUsedAt = now;
      this.listIdle(e);
    }
    this.changed(id, e);
  }

  private changed(id: string, e: EnvironmentEntry | undefined): void {
    this.onChange?.(id, e);
  }

  /**
   * Replaces the table's content with replayed entries (a new partition leader). Idle ones are
   * listed by last use, so the most recently used is handed out first as before. Not observed.
   */
  restore(entries: Iterable<EnvironmentEntry>): void {
    this.entries.clear();
    this.idle.clear();
    this.idleProvisioned.clear();
    const list = [...entries].map((e) => ({ ...e })).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    for (const e of list) {
      this.entries.set(e.id, e);
      if (e.state === "idle") this.listIdle(e);
    }
  }

  private listIdle(e: EnvironmentEntry): void {
    const map = this.idleOf(e);
    const ids = map.get(e.configKey) ?? [];
    ids.push(e.id);
    map.set(e.configKey, ids);
  }

  private unlistIdle(e: EnvironmentEntry): void {
    const map = this.idleOf(e);
    const ids = map.get(e.configKey);
    if (!ids) return;
    const i = ids.indexOf(e.id);
    if (i >= 0) ids.splice(i, 1);
    if (ids.length === 0) map.delete(e.configKey);
  }

  /** The most recently used idle environment of this configuration (provisioned ones first), now busy; or undefined. */
  takeIdle(configKey: string, now: number): EnvironmentEntry | undefined {
    const map = this.idleProvisioned.has(configKey) ? this.idleProvisioned : this.idle;
    const ids = map.get(configKey);
    const id = ids?.pop();
    if (ids && ids.length === 0) map.delete(configKey);
    if (id === undefined) return undefined;
    const e = this.entries.get(id)!;
    e.state = "busy";
    e.lastUsedAt = now;
    this.changed(id, e);
    return e;
  }

  /** A new environment being created for an invocation (cold start), or to be kept provisioned. */
  addInitializing(id: string, workerId: string, configKey: string, now: number, provisioned = false): EnvironmentEntry {
    const e: EnvironmentEntry = { id, workerId, configKey, state: "initializing", createdAt: now, lastUsedAt: now, ...(provisioned ? { provisioned } : {}) };
    this.entries.set(id, e);
    this.changed(id, e);
    return e;
  }

  markBusy(id: string): void {
    const e = this.entries.get(id);
    if (e && e.state === "initializing") {
      e.state = "busy";
      this.changed(id, e);
    }
  }

  /**
   * The invocation on `id` finished. Returns "idle" when the environment is ready for more work,
   * "destroy" when the caller must destroy it (draining, or not healthy).
   */
  release(id: string, now: number, healthy: boolean): "idle" | "destroy" | "unknown" {
    const e = this.entries.get(id);
    if (!e) return "unknown";
    if (!healthy || e.state === "draining" || e.state === "dead") {
      this.remove(id);
      return "destroy";
    }
    e.state = "idle";
    e.lastUsedAt = now;
    this.listIdle(e);
    this.changed(id, e);
    return "idle";
  }

  remove(id: string): EnvironmentEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    if (e.state === "idle") this.unlistIdle(e);
    e.state = "dead";
    this.changed(id, undefined);
    return e;
  }

  /** Drains every environment whose configuration matches: returns the idle ones, removed, to destroy now. */
  drain(matches: (configKey: string) => boolean): EnvironmentEntry[] {
    const destroyNow: EnvironmentEntry[] = [];
    for (const e of [...this.entries.values()]) {
      if (!matches(e.configKey)) continue;
      if (e.state === "idle") destroyNow.push(this.remove(e.id)!);
      else if (e.state === "busy" || e.state === "initializing") {
        e.state = "draining";
        this.changed(e.id, e);
      }
    }
    return destroyNow;
  }

  /** Removes and returns environments idle since before `now - keepAliveMs`. */
  expired(now: number, keepAliveMs: number): EnvironmentEntry[] {
    const out: EnvironmentEntry[] = [];
    for (const e of [...this.entries.values()]) {
      if (e.state === "idle" && !e.provisioned && now - e.lastUsedAt >= keepAliveMs) out.push(this.remove(e.id)!);
    }
    return out;
  }
}
