/**
 * Lane scheduling: which functions' events the free pollers lease next. A small state machine over
 * plain data; time comes in as `now`.
 *
 * Algorithm: every function has a lane. Lanes with visible work take turns, one poller at a time,
 * starting one lane further on each round (round robin), so n busy lanes get about 1/n of the
 * pollers each and a long backlog in one lane never delays another lane's events by more than
 * one turn. A lane's concurrency adapts to throttling, the way TCP adapts to loss:
 * - throttled while the lane has other invocations running: the lane is capped at what is running
 *   (its share of the account's or function's concurrency, as it stands);
 * - throttled with nothing of the lane running: the lane pauses, 1x, 2x, 4x ... the backoff base,
 *   up to the backoff maximum;
 * - any other outcome ends the pause and raises the cap by one (gone once it reaches the fleet).
 * Throttles by the account's limit (shared by all of an account's functions) also rebalance: a
 * lane refused with nothing running is *starved*; the busiest other lane of the account gives up
 * one poller, no lane of the account grows while one is starved, and a starved lane's pause ends
 * as soon as another lane of its account finishes an invocation (a slot freed).
 * The scheduler learns of work from enqueues (`noteWork`), from the fleet's own retries (work
 * visible later) and from periodic queue scans; a lease that returns fewer events than asked
 * marks the lane drained.
 *
 * Worked example: 4 pollers; lane A has 100 events, lane B 2. Round 1 allocates A,B,A,B; B's lease
 * returns 2 events, A's 2: four run. When one of A's finishes, round 2 gives its poller to B if B
 * has work left, else to A. If A is throttled while 1 other A runs, A is capped at 1, and the
 * other 3 pollers serve B and any other lane. If instead B is refused by the account's limit
 * while A runs 2, A is capped at 1 and does not grow until B has run.
 *
 * Known caveats: fairness is per function within one process; the cluster mode needs the same
 * turn-taking across frontends (one consumer per lane). Caps are learned, not read from the
 * counting service, so the first invocations after a change of limits may be throttled.
 */

export interface LanePolicy {
  /** Size of the poller fleet: a cap at or above it means "uncapped". */
  pollers: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** How an invocation ended, as far as scheduling cares. */
export type SettleOutcome = "ok" | "throttled" | "throttled-account";

export interface LaneState {
  lane: string;
  /** Lanes of one account share its concurrency limit. */
  account: string;
  /** Believed to hold events visible now. */
  hasWork: boolean;
  /** Earliest known time more events become visible. */
  dueAt: number | undefined;
  /** Pollers working on this lane (allocated, leasing or invoking). */
  inFlight: number;
  /** Most pollers this lane may use; undefined = no cap. */
  cap: number | undefined;
  pausedUntil: number;
  pauseLevel: number;
  /** Refused by the account's limit with nothing running, and not run since. */
  starved: boolean;
  /** The scheduler's change counter when work was last noted here. */
  noted: number;
}

export class LaneScheduler {
  private readonly lanes = new Map<string, LaneState>();
  private order: string[] = [];
  private cursor = 0;
  private busy = 0;
  private changes = 0;

  constructor(private readonly policy: LanePolicy) {}

  /** Pollers allocated and not yet returned. */
  get inFlight(): number {
    return this.busy;
  }

  state(lane: string): Readonly<LaneState> | undefined {
    return this.lanes.get(lane);
  }

  private get(lane: string): LaneState {
    let s = this.lanes.get(lane);
    if (!s) {
      const slash = lane.indexOf("/");
      s = { lane, account: slash < 0 ? lane : lane.slice(0, slash), hasWork: false, dueAt: undefined, inFlight: 0, cap: undefined, pausedUntil: 0, pauseLevel: 0, starved: false, noted: 0 };
      this.lanes.set(lane, s);
      this.order.push(lane);
    }
    return s;
  }

  /** A mark to pass to `sync`: work noted after it survives a scan that started before it. */
  mark(): number {
    return this.changes;
  }

  /** Events of `lane` are (or become, at `at`) visible. */
  noteWork(lane: string, at: number, now: number): void {
    const s = this.get(lane);
    s.noted = ++this.changes;
    if (at <= now) s.hasWork = true;
    else s.dueAt = s.dueAt === undefined ? at : Math.min(s.dueAt, at);
  }

  /**
   * A queue scan's view, taken after `since` (a `mark()`): lanes not listed hold no events, except
   * for work noted after the mark, which the scan may have missed.
   */
  sync(seen: ReadonlyArray<{ lane: string; ready: number; nextVisibleAt?: number }>, now: number, since = Number.POSITIVE_INFINITY): void {
    const listed = new Map(seen.map((l) => [l.lane, l]));
    for (const l of seen) this.get(l.lane);
    for (const s of this.lanes.values()) {
      const l = listed.get(s.lane);
      const fresh = s.noted > since;
      s.hasWork = (l !== undefined && l.ready > 0) || (fresh && s.hasWork);
      const due = l?.nextVisibleAt;
      s.dueAt = fresh && s.dueAt !== undefined ? Math.min(s.dueAt, due ?? Infinity) : due;
    }
    this.forgetIdle(now);
  }

  /**
   * Hands out up to `free` pollers, one lane at a time in turn. Returns lane -> pollers; each is
   * counted in flight until `leased` returns what the lease did not use and `settled` the rest.
   */
  allocate(free: number, now: number): Map<string, number> {
    const out = new Map<string, number>();
    const n = this.order.length;
    if (n === 0 || free <= 0) return out;
    for (const s of this.lanes.values()) {
      if (s.dueAt !== undefined && s.dueAt <= now) {
        s.hasWork = true;
        s.dueAt = undefined;
      }
    }
    let progress = true;
    while (free > 0 && progress) {
      progress = false;
      for (let i = 0; i < n && free > 0; i++) {
        const s = this.lanes.get(this.order[(this.cursor + i) % n]!)!;
        const given = out.get(s.lane) ?? 0;
        if (!s.hasWork || now < s.pausedUntil || s.inFlight + given >= (s.cap ?? Infinity)) continue;
        out.set(s.lane, given + 1);
        free--;
        progress = true;
      }
    }
    this.cursor = (this.cursor + 1) % n;
    for (const [lane, k] of out) {
      this.lanes.get(lane)!.inFlight += k;
      this.busy += k;
    }
    return out;
  }

  /**
   * The lease for `lane` asked for `asked` events and got `got`: the rest of the pollers return.
   * Fewer than asked means the lane is drained, unless work was noted since `since` (a `mark()`
   * taken before the lease), which the lease may not have seen.
   */
  leased(lane: string, asked: number, got: number, since = Number.POSITIVE_INFINITY): void {
    const s = this.get(lane);
    const unused = Math.max(0, asked - got);
    s.inFlight -= unused;
    this.busy -= unused;
    if (got < asked && !(s.noted > since)) s.hasWork = false;
  }

  /** One event of `lane` was settled; throttles say whether the function's or the account's limit refused it. */
  settled(lane: string, outcome: SettleOutcome, now: number): void {
    const s = this.get(lane);
    s.inFlight = Math.max(0, s.inFlight - 1);
    this.busy = Math.max(0, this.busy - 1);
    if (outcome !== "ok") {
      if (s.inFlight > 0) {
        s.cap = Math.min(s.cap ?? Infinity, s.inFlight);
        return;
      }
      s.pauseLevel++;
      s.pausedUntil = now + Math.min(this.policy.backoffBaseMs * 2 ** Math.min(s.pauseLevel - 1, 40), this.policy.backoffMaxMs);
      s.cap = 1;
      if (outcome === "throttled-account") {
        s.starved = true;
        let hog: LaneState | undefined;
        for (const o of this.lanes.values()) if (o !== s && o.account === s.account && o.inFlight > 1 && (!hog || o.inFlight > hog.inFlight)) hog = o;
        if (hog) hog.cap = Math.min(hog.cap ?? Infinity, hog.inFlight - 1);
      }
      return;
    }
    s.pauseLevel = 0;
    s.pausedUntil = 0;
    s.starved = false;
    let waiting = false;
    for (const o of this.lanes.values()) {
      if (o === s || o.account !== s.account || !o.starved) continue;
      waiting = true;
      o.pausedUntil = Math.min(o.pausedUntil, now); // a slot of the account just freed
    }
    if (s.cap !== undefined && !waiting) s.cap = s.cap + 1 >= this.policy.pollers ? undefined : s.cap + 1;
  }

  /** When something may become eligible that is not eligible at `now` (undefined: nothing known). */
  nextWakeAt(now: number): number | undefined {
    let at: number | undefined;
    const consider = (t: number) => {
      if (t > now && (at === undefined || t < at)) at = t;
    };
    for (const s of this.lanes.values()) {
      if (s.dueAt !== undefined) consider(s.dueAt);
      if (s.hasWork && s.pausedUntil > now) consider(s.pausedUntil);
    }
    return at;
  }

  /** Drops lanes with nothing to remember, so the rotation stays short. */
  private forgetIdle(now: number): void {
    for (const s of [...this.lanes.values()]) {
      if (s.hasWork || s.dueAt !== undefined || s.inFlight > 0 || s.pausedUntil > now || s.cap !== undefined) continue;
      this.lanes.delete(s.lane);
    }
    if (this.lanes.size !== this.order.length) {
      this.order = this.order.filter((l) => this.lanes.has(l));
      this.cursor = this.order.length === 0 ? 0 : this.cursor % this.order.length;
    }
  }
}
