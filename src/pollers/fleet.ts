/**
 * The poller fleet: drains the async event queue. Each round, the lane scheduler hands the free
 * pollers to the functions with work; each poller leases an event, invokes it through the
 * frontend's synchronous path, lets the retry decisions say what happens next, and settles the
 * event in one queue transaction together with its follow-ups (destination records, dead letters)
 * and counters. An event is acknowledged only once that transaction is on disk; a poller that
 * never settles (a crash) leaves a lease that expires, and the event runs again.
 *
 * The fleet learns of work from `accept` (the frontend's Event invokes), from its own retries and
 * follow-ups, and from a queue scan at start and every `rescanMs`. It sleeps when nothing is
 * eligible, until woken or until the next due time (at most MAX_SLEEP_MS, so a clock moved by a
 * test is noticed).
 */
import { requestId as newRequestId, type Clock, type Logger } from "../base/index.js";
import { DEFAULT_MAXIMUM_EVENT_AGE_S, DEFAULT_MAXIMUM_RETRY_ATTEMPTS, parseFunctionRef } from "../control/index.js";
import { laneOf, type AsyncEventQueue, type CounterName, type EventTarget, type LaneStats, type LeasedEvent, type NewEvent } from "../queue/index.js";
import type { EventInvoker, InvocationResult } from "./invoker.js";
import { LaneScheduler, type SettleOutcome } from "./lanes.js";
import { AgeWindow, type AgeSummary } from "./metrics.js";
import type { AsyncOptions } from "./options.js";
import { errorSummary, invocationRecord, type RecordCondition } from "./record.js";
import { afterAttempt, beforeAttempt, type Decision, type ErrorHandling, type RetryPolicy } from "./retry.js";

/** Longest idle sleep: the fleet re-checks the clock at least this often. */
export const MAX_SLEEP_MS = 250;

/** A function's async settings as the pollers need them (its event invoke config, defaults filled in). */
export interface AsyncSettings {
  /** Qualified ARN of the function as invoked (…:$LATEST when unqualified), for invocation records. */
  functionArn: string;
  maximumRetryAttempts: number;
  maximumEventAgeMs: number;
  /** Function ARNs. */
  onSuccess?: string;
  onFailure?: string;
  deadLetter?: string;
}

/** The settings of an event's function; undefined when the function no longer exists. */
export type SettingsSource = (target: EventTarget) => Promise<AsyncSettings | undefined>;

export interface FleetDeps {
  queue: AsyncEventQueue;
  invoke: EventInvoker;
  settings: SettingsSource;
  clock: Clock;
  log: Logger;
  region: string;
  options: AsyncOptions;
}

/** An Invoke with InvocationType Event, as the frontend accepted it. */
export interface AcceptedEvent {
  requestId: string;
  accountId: string;
  functionName: string;
  qualifier?: string;
  payload: Buffer;
}

export interface FunctionAsyncStats {
  queue: LaneStats;
  /** AsyncEventAge over the recent attempts. */
  age?: AgeSummary;
  /** Pollers working on this function now. */
  running: number;
  /** Learned concurrency cap after throttles, if any. */
  cap?: number;
  /** Paused after throttles until this time, if paused. */
  pausedUntil?: number;
  now: number;
}

const FALLBACK_HANDLING: ErrorHandling = { maximumRetryAttempts: DEFAULT_MAXIMUM_RETRY_ATTEMPTS, maximumEventAgeMs: DEFAULT_MAXIMUM_EVENT_AGE_S * 1000 };

export class PollerFleet {
  private readonly scheduler: LaneScheduler;
  private readonly policy: RetryPolicy;
  private readonly ages = new AgeWindow();
  private readonly tasks = new Set<Promise<void>>();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  private closing = false;
  private lastScan = Number.NEGATIVE_INFINITY;

  constructor(private readonly d: FleetDeps) {
    const o = d.options;
    this.scheduler = new LaneScheduler({ pollers: o.pollers, backoffBaseMs: o.backoffBaseMs, backoffMaxMs: o.backoffMaxMs });
    this.policy = { retryDelaysMs: o.retryDelaysMs, backoffBaseMs: o.backoffBaseMs, backoffMaxMs: o.backoffMaxMs };
  }

  /** Scans the queue (events left by an earlier run included) and starts polling. */
  async start(): Promise<void> {
    await this.scan();
    this.loop = this.run();
  }

  /** Stores an accepted event durably (the 202 waits for this), then wakes the pollers. */
  async accept(a: AcceptedEvent): Promise<void> {
    const target: EventTarget = { accountId: a.accountId, functionName: a.functionName, ...(a.qualifier !== undefined ? { qualifier: a.qualifier } : {}) };
    const now = this.d.clock.now();
    await this.d.queue.enqueue([{ id: a.requestId, target, payload: a.payload, receivedAt: now, source: "invoke" }]);
    this.scheduler.noteWork(laneOf(target), now, this.d.clock.now());
    this.wake();
  }

  wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  /** Replaces what the scheduler believes with what the queue holds. */
  async scan(): Promise<void> {
    const now = this.d.clock.now();
    const mark = this.scheduler.mark();
    this.scheduler.sync(await this.d.queue.lanes(now), now, mark);
    this.lastScan = performance.now();
  }

  /** One round: leases events for the free pollers and starts them. Returns the pollers it handed out. */
  async dispatch(): Promise<number> {
    if (this.closing) return 0;
    const now = this.d.clock.now();
    const alloc = this.scheduler.allocate(this.d.options.pollers - this.scheduler.inFlight, now);
    const mark = this.scheduler.mark();
    let handed = 0;
    const leases = await Promise.all(
      [...alloc].map(async ([lane, n]) => {
        handed += n;
        let got: LeasedEvent[] = [];
        try {
          got = await this.d.queue.lease(lane, n, now, this.d.options.leaseMs);
        } catch (e) {
          this.d.log.error("leasing async events failed", { lane, error: String(e) });
        }
        this.scheduler.leased(lane, n, got.length, mark);
        return got;
      }),
    );
    for (const got of leases) for (const e of got) this.track(this.process(e));
    return handed;
  }

  /** Resolves once every started invocation has been settled. */
  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }

  async stats(accountId: string, functionName: string): Promise<FunctionAsyncStats> {
    const lane = laneOf({ accountId, functionName });
    const now = this.d.clock.now();
    const s = this.scheduler.state(lane);
    const out: FunctionAsyncStats = { queue: await this.d.queue.stats(lane, now), running: s?.inFlight ?? 0, now };
    const age = this.ages.summary(lane);
    if (age) out.age = age;
    if (s?.cap !== undefined) out.cap = s.cap;
    if (s && s.pausedUntil > now) out.pausedUntil = s.pausedUntil;
    return out;
  }

  /** Stops leasing; waits up to `graceMs` for running invocations (the rest are recovered at the next start). */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    this.wake();
    await this.loop;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      try {
        if (performance.now() - this.lastScan >= this.d.options.rescanMs) await this.scan();
        if ((await this.dispatch()) === 0) await this.sleep();
      } catch (e) {
        this.d.log.error("poller round failed", { error: String(e) });
        await this.sleep();
      }
    }
  }

  private sleep(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    const now = this.d.clock.now();
    const at = this.scheduler.nextWakeAt(now);
    const ms = at === undefined ? MAX_SLEEP_MS : Math.max(1, Math.min(at - now, MAX_SLEEP_MS));
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wakeUp = done;
    });
  }

  private track(p: Promise<void>): void {
    this.tasks.add(p);
    void p.finally(() => {
      this.tasks.delete(p);
      this.wake();
    });
  }

  private async process(e: LeasedEvent): Promise<void> {
    let outcome: SettleOutcome = "ok";
    try {
      outcome = await this.attempt(e);
    } catch (err) {
      this.d.log.error("settling an async event failed; its lease will expire and it will run again", { requestId: e.id, error: String(err) });
    } finally {
      this.scheduler.settled(e.lane, outcome, this.d.clock.now());
    }
  }

  /** Runs one attempt of `e` and settles it; says whether (and by which limit) it was throttled. */
  private async attempt(e: LeasedEvent): Promise<SettleOutcome> {
    const started = this.d.clock.now();
    let settings: AsyncSettings | undefined;
    try {
      settings = await this.d.settings(e.target);
    } catch (err) {
      const result: InvocationResult = { kind: "platform-error", error: `reading the async settings failed: ${String(err)}` };
      await this.settle(e, afterAttempt(e, "platform-error", FALLBACK_HANDLING, this.policy, started), undefined, result);
      return "ok";
    }
    if (!settings) {
      await this.settle(e, { action: "drop", reason: "FunctionNotFound", attempts: e.attempts }, undefined, { kind: "gone", error: "the function no longer exists" });
      return "ok";
    }
    const handling: ErrorHandling = { maximumRetryAttempts: settings.maximumRetryAttempts, maximumEventAgeMs: settings.maximumEventAgeMs };
    const pre = beforeAttempt(e, handling, started);
    if (pre.action === "fail") {
      await this.settle(e, pre, settings, undefined);
      return "ok";
    }
    this.ages.record(e.lane, started - e.receivedAt);
    let result: InvocationResult;
    try {
      result = await this.d.invoke(e);
    } catch (err) {
      result = { kind: "platform-error", error: String(err) };
    }
    await this.settle(e, afterAttempt(e, result.kind, handling, this.policy, this.d.clock.now()), settings, result);
    if (result.kind !== "throttled") return "ok";
    return result.reason === "ReservedFunctionConcurrentInvocationLimitExceeded" ? "throttled" : "throttled-account";
  }

  private async settle(e: LeasedEvent, d: Decision, settings: AsyncSettings | undefined, result: InvocationResult | undefined): Promise<void> {
    const now = this.d.clock.now();
    const functionErrors = result?.kind === "function-error" ? 1 : 0;
    let ok: boolean;
    let followUps: NewEvent[] = [];
    switch (d.action) {
      case "ack": {
        if (settings?.onSuccess) followUps = this.record(e, settings.onSuccess, "Success", d.attempts, settings, result, now);
        ok = await this.d.queue.ack(e, { followUps, counters: { succeeded: 1, destinationDeliveries: followUps.length } });
        break;
      }
      case "retry": {
        const change = { attempts: d.attempts, backoffs: d.backoffs, ...(result ? { lastError: lastError(result) } : {}) };
        ok = await this.d.queue.retryAt(e, d.at, change, { counters: { [d.counter]: 1, functionErrors } });
        this.scheduler.noteWork(e.lane, d.at, now);
        break;
      }
      case "fail": {
        const records = settings?.onFailure ? this.record(e, settings.onFailure, d.condition, d.attempts, settings, result, now) : [];
        // A dead letter that fails is not dead-lettered again: two functions naming each other would loop.
        const letters = settings?.deadLetter && e.source !== "dead-letter" ? this.letter(e, settings.deadLetter, now) : [];
        followUps = [...records, ...letters];
        const counters: Partial<Record<CounterName, number>> = {
          dropped: 1,
          [`dropped${d.condition}`]: 1,
          functionErrors,
          destinationDeliveries: records.length,
          deadLetterDeliveries: letters.length,
        };
        ok = await this.d.queue.dead(e, d.condition, now, { followUps, counters, attempts: d.attempts });
        break;
      }
      case "drop": {
        const reason = d.reason === "FunctionNotFound" ? "FunctionNotFound" : `Rejected: ${result ? lastError(result) : "unknown"}`;
        ok = await this.d.queue.dead(e, reason, now, { attempts: d.attempts, counters: { dropped: 1, [d.reason === "FunctionNotFound" ? "droppedFunctionNotFound" : "droppedRejected"]: 1 } });
        break;
      }
    }
    if (!ok) {
      this.d.log.warn("an async event's lease had expired before it was settled; it ran again elsewhere", { requestId: e.id });
      return;
    }
    for (const f of followUps) this.scheduler.noteWork(laneOf(f.target), now, now);
    if (followUps.length > 0) this.wake();
  }

  /** The invocation record for a destination function, if the ARN names one this account may use. */
  private record(e: LeasedEvent, arn: string, condition: RecordCondition, attempts: number, s: AsyncSettings, result: InvocationResult | undefined, now: number): NewEvent[] {
    const target = this.targetOf(arn, e.target.accountId);
    if (!target) return [];
    const payload = invocationRecord({
      requestId: e.id,
      functionArn: s.functionArn,
      condition,
      approximateInvokeCount: attempts,
      requestPayload: e.payload,
      timestamp: now,
      ...(result && "payload" in result
        ? { response: { payload: result.payload, executedVersion: result.executedVersion, ...(result.functionError ? { functionError: result.functionError } : {}) } }
        : {}),
    });
    return [{ id: newRequestId(), target, payload, receivedAt: now, source: "destination" }];
  }

  /** The original event for a dead-letter function: what an SQS dead-letter queue would hold. */
  private letter(e: LeasedEvent, arn: string, now: number): NewEvent[] {
    const target = this.targetOf(arn, e.target.accountId);
    return target ? [{ id: newRequestId(), target, payload: e.payload, receivedAt: now, source: "dead-letter" }] : [];
  }

  /** Destinations stay in the event's own account and region. */
  private targetOf(arn: string, accountId: string): EventTarget | undefined {
    try {
      const ref = parseFunctionRef(arn, "destination");
      if ((ref.region !== undefined && ref.region !== this.d.region) || (ref.accountId !== undefined && ref.accountId !== accountId)) {
        this.d.log.warn("ignoring a destination in another account or region", { destination: arn });
        return undefined;
      }
      return { accountId, functionName: ref.name, ...(ref.qualifier !== undefined ? { qualifier: ref.qualifier } : {}) };
    } catch {
      this.d.log.warn("ignoring a destination that is not a function ARN", { destination: arn });
      return undefined;
    }
  }
}

function lastError(r: InvocationResult): string {
  return "payload" in r ? errorSummary(r.payload) : r.error;
}
